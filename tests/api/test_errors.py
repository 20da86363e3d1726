"""Every API error is JSON {code, message, errors?}; pages get HTML."""


def test_unknown_api_route_is_json_404(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.is_json
    assert response.get_json() == {"code": "not_found", "message": "Không tìm thấy."}


def test_wrong_method_is_json_405_with_allow(client):
    response = client.delete("/api/v1/auth/login")
    assert response.status_code == 405
    assert response.get_json()["code"] == "method_not_allowed"
    assert "POST" in response.headers["Allow"]


def test_validation_errors_list_the_fields(demo, login):
    client = login("leader")
    response = client.post("/api/v1/inspections/1/transitions", json={"action": "explode"},
                           headers={"X-CSRF-Token": client.csrf})
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "invalid"
    assert "action" in body["errors"]["json"]


def test_unknown_page_is_html(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "Không tìm thấy" in response.get_data(as_text=True)
