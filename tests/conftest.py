"""Test fixtures: the app on SQLite (and on PostgreSQL when TEST_POSTGRES_URL is set), a clean
database per test, clients signed in as each demo role, and factories."""
from __future__ import annotations

import os

import pytest
from database_states import forget_states, load_demo
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import text

from inspection import create_app
from inspection.extensions import db

# Every backend available, or those named in TEST_BACKENDS (scripts/test.sh runs the SQLite half
# and the PostgreSQL half in two processes at once).
BACKENDS = (os.environ["TEST_BACKENDS"].split(",") if os.environ.get("TEST_BACKENDS") else
            ["sqlite"] + (["postgresql"] if os.environ.get("TEST_POSTGRES_URL") else []))
FAST_HASH = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024}


def make_config(url: str, instance: str) -> dict:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "test-secret",
        "SESSION_COOKIE_SECURE": False,
        "MEDIA_ROOT": os.path.join(instance, "media"),
        **FAST_HASH,
    }


def pytest_collection_modifyitems(config, items):
    """scripts/test.sh runs the suite in two processes at once, named by TEST_HALF:
    "postgresql" keeps the tests that run on a database (TEST_BACKENDS=postgresql) and the WebKit
    browser tests; "sqlite" keeps everything else (the database tests on SQLite, Chromium,
    JavaScript, pure functions). Without TEST_HALF every test is kept."""
    half = os.environ.get("TEST_HALF")
    if half not in ("sqlite", "postgresql"):
        return

    def keep(item) -> bool:
        if "database_url" in getattr(item, "fixturenames", ()):
            return True
        webkit = item.get_closest_marker("webkit") is not None
        return webkit if half == "postgresql" else not webkit

    kept = [item for item in items if keep(item)]
    config.hook.pytest_deselected(items=[item for item in items if item not in kept])
    items[:] = kept


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, tmp_path_factory):
    """One database per backend for the whole run; the schema comes from the migrations."""
    if request.param == "sqlite":
        url = "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.db")
    else:
        url = os.environ["TEST_POSTGRES_URL"]
    instance = str(tmp_path_factory.mktemp("instance"))
    app = create_app(make_config(url, instance), instance_path=instance)
    with app.app_context():
        if request.param == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()
        db.engine.dispose()
    return url


class IsolatedClient(FlaskClient):
    """Each request runs in its own app context, as in production: `g`, the signed-in user and
    the database session are not shared with the test body or with other clients."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        db.session.expire_all()  # the test body then sees what the request committed
        return response


@pytest.fixture
def app(database_url, tmp_path):
    """The application bound to a clean database."""
    app = create_app(make_config(database_url, str(tmp_path)), instance_path=str(tmp_path))
    app.test_client_class = IsolatedClient
    with app.app_context():
        yield app
        db.session.remove()
        _empty_all_tables()
        db.engine.dispose()


def _empty_all_tables():
    tables = [t for t in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t.name}"' for t in tables)
                              + " RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def demo(app):
    """The demo data of DESIGN §6, loaded through the same code as `flask seed-demo` (once per
    backend and run; later tests get the same rows back: `database_state`)."""
    load_demo(app)
    return app


def pytest_sessionfinish(session):
    forget_states()


@pytest.fixture
def login(app):
    """Factory: a test client signed in through the API as `username`, with its CSRF token."""

    def sign_in(username: str, password: str = "demo1234"):
        client = app.test_client()
        response = client.post("/api/v1/auth/login",
                               json={"username": username, "password": password})
        assert response.status_code == 200, response.get_json()
        client.csrf = response.get_json()["csrf_token"]
        return client

    return sign_in


@pytest.fixture
def form_token():
    """Factory: the CSRF token embedded in a page's form."""
    import re

    def token(client, url: str) -> str:
        html = client.get(url).get_data(as_text=True)
        match = re.search(r'name="csrf_token" value="([^"]+)"', html)
        assert match, f"no CSRF token on {url}"
        return match.group(1)

    return token


@pytest.fixture(scope="session")
def demo_pki_folder(tmp_path_factory):
    """The demo CA, time-stamping authority and the demo people's keys, made once per run and
    copied into the instance folder of the tests that sign (RSA keys take time to generate)."""
    from inspection.services.demo_pki import ensure_demo_pki

    folder = tmp_path_factory.mktemp("pki")
    ensure_demo_pki(folder)
    return folder


@pytest.fixture
def instance_pki(app, demo_pki_folder):
    """The session's demo PKI as this test's instance/pki (what the server signs with in demo
    mode, and the only CA it trusts then)."""
    import shutil
    from pathlib import Path

    from inspection.services.demo_pki import DemoPKI

    target = Path(app.instance_path) / "pki"
    shutil.copytree(demo_pki_folder, target, dirs_exist_ok=True)
    return DemoPKI(target)
