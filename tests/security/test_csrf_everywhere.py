"""Every state-changing route refuses a request made with the session cookie but without the
session's CSRF token — the route list comes from the app itself, so a new route is covered the
day it is added. The two sign-in endpoints are the only exceptions (they create the session)."""
import re
import uuid

import pytest

from inspection.security import CSRF_EXEMPT_ENDPOINTS, UNSAFE_METHODS

SAMPLE_ARGUMENTS = {"action": "sign", "upload_id": str(uuid.UUID(int=1)), "code": "vi",
                    "table": "inspections", "fmt": "csv", "filename": "css/office.css"}


def unsafe_routes(app):
    """(method, url) for every rule accepting an unsafe method, with sample path arguments."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in CSRF_EXEMPT_ENDPOINTS:
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: SAMPLE_ARGUMENTS.get(m.group(1), "1"),
                      rule.rule)
        found += [(method, path) for method in sorted(rule.methods & UNSAFE_METHODS)]
    return found


def test_the_list_covers_the_writes_we_know_of(app):
    assert CSRF_EXEMPT_ENDPOINTS == {"api_auth.Login", "auth.login"}  # widening it needs a reason
    routes = unsafe_routes(app)
    assert ("POST", "/api/v1/sync/push") in routes
    assert ("PATCH", f"/api/v1/uploads/{uuid.UUID(int=1)}") in routes
    assert ("POST", "/inspections/1/findings") in routes
    assert ("POST", "/api/v1/inspections/1/minutes/paper") in routes
    assert ("PUT", "/api/v1/inspections/1/self-assessment/1") in routes
    assert ("POST", "/logout") in routes
    assert len(routes) >= 30


@pytest.mark.parametrize("token", ["missing", "from another session"])
def test_every_write_without_the_sessions_token_is_refused(demo, login, token):
    admin = login("admin")
    other = login("leader").csrf
    refused = []
    for method, path in unsafe_routes(admin.application):
        headers = {} if token == "missing" else {"X-CSRF-Token": other}
        for kind in ("json", "form"):
            data = {"json": {}} if kind == "json" else {"data": {"csrf_token": headers.get(
                "X-CSRF-Token", "")}}
            response = admin.open(path, method=method, headers=headers, **data)
            if response.status_code != 400:
                refused.append((method, path, kind, response.status_code))
                continue
            if path.startswith("/api/"):
                assert response.get_json()["code"] == "csrf_failed", path
            else:
                assert "Biểu mẫu đã cũ hoặc phiên đăng nhập đã hết hạn" in response.get_data(
                    as_text=True), path
    assert refused == []
    # The session itself still works: the same client with its own token is let through.
    assert admin.post("/api/v1/auth/logout",
                      headers={"X-CSRF-Token": admin.csrf}).status_code == 204
