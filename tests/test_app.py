"""Application set-up: configuration sources, secrets, headers and the OpenAPI document."""
import os

import pytest

from inspection import create_app
from inspection.config import from_environment


def test_secret_key_is_generated_into_instance_once(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    instance = tmp_path / "instance"
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}, instance_path=str(instance))
    key_file = instance / "secret_key"
    assert app.config["SECRET_KEY"] == key_file.read_text().strip()
    assert len(app.config["SECRET_KEY"]) == 64
    assert oct(os.stat(key_file).st_mode & 0o777) == "0o600"
    again = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}, instance_path=str(instance))
    assert again.config["SECRET_KEY"] == app.config["SECRET_KEY"]


def test_instance_config_file_is_read(tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text("API_TITLE = 'Sở Nội vụ'\nSECRET_KEY = 'from-file'\n")
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}, instance_path=str(instance))
    assert app.config["API_TITLE"] == "Sở Nội vụ"
    assert app.config["SECRET_KEY"] == "from-file"


def test_environment_overrides_and_booleans():
    found = from_environment({"DATABASE_URL": "postgresql+psycopg://x/y",
                              "SESSION_COOKIE_SECURE": "0", "INSPECTION_DEMO": "yes"})
    assert found == {"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://x/y",
                     "SESSION_COOKIE_SECURE": False, "DEMO": True}


def test_device_retention_days_from_the_environment_must_be_a_whole_number():
    assert from_environment({"DEVICE_RETENTION_DAYS": " 45 "}) == {"DEVICE_RETENTION_DAYS": 45}
    for bad in ("-1", "30 ngày", "2.5", ""):
        with pytest.raises(ValueError, match="DEVICE_RETENTION_DAYS"):
            from_environment({"DEVICE_RETENTION_DAYS": bad})


def test_session_cookie_is_secure_by_default(tmp_path, monkeypatch):
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"}, str(tmp_path))
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_pages_carry_security_headers(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_openapi_document_is_published(client):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/auth/login" in spec["paths"]
    assert "/api/v1/inspections/{inspection_id}/transitions" in spec["paths"]
    assert spec["components"]["schemas"]["Error"]["properties"]["code"]["type"] == "string"
