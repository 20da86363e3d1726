"""Signing in from the field app, and the CSRF token that guards every write."""
import pytest


def test_login_returns_user_and_csrf_token(demo, client):
    response = client.post("/api/v1/auth/login",
                           json={"username": "inspector1", "password": "demo1234"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["user"]["username"] == "inspector1"
    assert body["user"]["role"] == "inspector"
    assert body["csrf_token"]
    assert "password" not in str(body)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_wrong_password_and_unknown_user_get_the_same_answer(demo, client):
    wrong = client.post("/api/v1/auth/login", json={"username": "leader", "password": "nope-nope"})
    unknown = client.post("/api/v1/auth/login",
                          json={"username": "nobody", "password": "nope-nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json() == unknown.get_json()
    assert wrong.get_json() == {"code": "invalid_credentials",
                                "message": "Sai tên đăng nhập hoặc mật khẩu."}


def test_messages_follow_the_requested_language(demo, client):
    response = client.post("/api/v1/auth/login", json={"username": "x", "password": "y"},
                           headers={"Accept-Language": "en"})
    assert response.get_json()["message"] == "Wrong username or password."


@pytest.mark.parametrize("body,kwargs", [
    (None, {"data": "{not json", "content_type": "application/json"}),
    (None, {"json": {"username": "leader"}}),
    (None, {"json": {"username": "", "password": ""}}),
    (None, {"json": ["leader", "demo1234"]}),
    (None, {"json": {"username": "leader", "password": "demo1234", "extra": 1}}),
])
def test_malformed_login_requests_are_refused_clearly(demo, client, body, kwargs):
    response = client.post("/api/v1/auth/login", **kwargs)
    assert 400 <= response.status_code < 500
    payload = response.get_json()
    assert payload["code"] in {"invalid", "bad_request"}
    assert payload["message"]


def test_me_requires_a_session(demo, client, login):
    assert client.get("/api/v1/auth/me").status_code == 401
    signed_in = login("leader")
    assert signed_in.get("/api/v1/auth/me").get_json()["user"]["username"] == "leader"


def test_logout_needs_the_csrf_header(demo, login):
    client = login("inspector2")
    refused = client.post("/api/v1/auth/logout")
    assert refused.status_code == 400
    assert refused.get_json()["code"] == "csrf_failed"
    assert client.get("/api/v1/auth/me").status_code == 200  # still signed in
    assert client.post("/api/v1/auth/logout",
                       headers={"X-CSRF-Token": client.csrf}).status_code == 204
    assert client.get("/api/v1/auth/me").status_code == 401


def test_a_token_from_another_session_is_refused(demo, login):
    first, second = login("inspector1"), login("inspector2")
    response = first.post("/api/v1/auth/logout", headers={"X-CSRF-Token": second.csrf})
    assert response.status_code == 400


def test_inactive_accounts_cannot_sign_in(demo, client):
    from inspection.extensions import db
    from inspection.models import User

    user = db.session.query(User).filter_by(username="inspector3").one()
    user.active = False
    db.session.commit()
    response = client.post("/api/v1/auth/login",
                           json={"username": "inspector3", "password": "demo1234"})
    assert response.status_code == 401


def test_repeated_failures_lock_the_username_for_a_while(demo, client):
    for _ in range(5):
        assert client.post("/api/v1/auth/login",
                           json={"username": "leader", "password": "wrong"}).status_code == 401
    locked = client.post("/api/v1/auth/login", json={"username": "leader", "password": "demo1234"})
    assert locked.status_code == 429
    assert locked.get_json()["code"] == "too_many_requests"
    assert "Hãy thử lại sau 15 phút" in locked.get_json()["message"]
    assert 800 < int(locked.headers["Retry-After"]) <= 900
    # Another account is not affected by someone guessing the leader's password.
    assert client.post("/api/v1/auth/login",
                       json={"username": "inspector1", "password": "demo1234"}).status_code == 200


def test_failures_from_one_address_are_limited_across_usernames(demo, client):
    for n in range(30):
        client.post("/api/v1/auth/login", json={"username": f"guess{n}", "password": "x"})
    assert client.post("/api/v1/auth/login",
                       json={"username": "inspector2", "password": "demo1234"}).status_code == 429
    other = client.post("/api/v1/auth/login",
                        json={"username": "inspector2", "password": "demo1234"},
                        environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other.status_code == 200


def test_the_login_form_is_throttled_too(demo, client, form_token):
    for _ in range(5):
        client.post("/login",
                    data={"username": "admin", "password": "nope",
                          "csrf_token": form_token(client, "/login")})
    response = client.post("/login", data={"username": "admin", "password": "demo1234",
                                           "csrf_token": form_token(client, "/login")})
    assert response.status_code == 429
    assert "Đăng nhập sai quá nhiều lần" in response.get_data(as_text=True)


def test_an_answer_in_flight_cannot_undo_signing_out(demo, login):
    """Answers do not re-send the session cookie unless the session changed, so a request that
    started before sign-out (the old cookie) cannot put the session back when it ends."""
    client = login("inspector1")
    for url in ("/static/css/office.css", "/api/v1/auth/me", "/"):
        response = client.get(url)
        response.close()
        assert "Set-Cookie" not in response.headers, url
    assert client.post("/api/v1/auth/logout",
                       headers={"X-CSRF-Token": client.csrf}).status_code == 204
    assert client.get("/api/v1/auth/me").status_code == 401
