"""Browser tests of the field app: a live server with the demo data, driven through Playwright
with Debian's Chromium (see /work/shared/reference/tooling.md §1).

Each test gets its own server and database (`live_server`), so tests never see each other's
observations or photos; starting one takes well under a second. Tests check the server's state
through the Flask app object (`live_server.app` with an app context), not through routes.
"""
from __future__ import annotations

import io
import os
import random
import shutil
import threading
from dataclasses import dataclass

import pytest
from flask import Flask
from flask_migrate import upgrade
from werkzeug.serving import WSGIRequestHandler, make_server

from inspection import create_app
from inspection.extensions import db

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "demo1234"


def pytest_collection_modifyitems(config, items):
    """Run the browser tests last. Playwright's sync API keeps an asyncio loop running in the main
    thread until the session ends, and code that calls asyncio.run() itself (pyHanko's signing)
    cannot run after that; at the end of the run nothing else needs the main thread's loop."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # The tablet the app is made for: a 10-inch screen in landscape.
    return {**browser_context_args, "service_workers": "allow",
            "viewport": {"width": 1280, "height": 800}}


@dataclass
class LiveServer:
    """A running server: its base URL and the Flask app behind it."""

    url: str
    app: Flask

    def query(self, fn):
        """Run fn() inside an app context (a fresh session) and return its result."""
        with self.app.app_context():
            try:
                return fn()
            finally:
                db.session.remove()


class QuietHandler(WSGIRequestHandler):
    """No access log lines: a test run is not a server log."""

    def log_request(self, *args, **kwargs):
        pass


def make_app(instance: str, database: str) -> Flask:
    """The app on the SQLite file `database`, with fast password hashing, over plain http."""
    return create_app({
        "TESTING": False,
        "SECRET_KEY": "browser-test-secret",
        "SQLALCHEMY_DATABASE_URI": "sqlite:///" + database,
        "MEDIA_ROOT": os.path.join(instance, "media"),
        "SESSION_COOKIE_SECURE": False,
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 1024,
    }, instance_path=instance)


def seed_database(instance: str) -> str:
    """A SQLite file with the schema (from the migrations) and the demo data; returns its path."""
    from inspection.services.demo import seed_demo

    database = os.path.join(instance, "seeded.db")
    app = make_app(instance, database)
    with app.app_context():
        upgrade()
        seed_demo()
        db.session.commit()
        db.session.remove()
        db.engine.dispose()  # closes the last connection: SQLite folds the WAL into the file
    return database


def start_server(instance: str, seeded: str | None = None) -> tuple[LiveServer, object, threading.Thread]:
    """Serve the app on a free port, on a copy of the seeded database (seeded here if not given)."""
    database = os.path.join(instance, "test.db")
    shutil.copyfile(seeded or seed_database(instance), database)
    app = make_app(instance, database)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return LiveServer(f"http://127.0.0.1:{server.server_port}", app), server, thread


@pytest.fixture(scope="session")
def seeded_database(tmp_path_factory) -> str:
    """The demo database, built once per run; every live server works on its own copy."""
    return seed_database(str(tmp_path_factory.mktemp("seeded")))


@pytest.fixture
def live_server(tmp_path, seeded_database):
    """A live server of its own for one test (demo data: Hạ Lang, inspector1, inspector2…)."""
    live, server, thread = start_server(str(tmp_path), seeded_database)
    yield live
    server.shutdown()
    thread.join(5)
    with live.app.app_context():
        db.engine.dispose()


@pytest.fixture
def camera_jpeg():
    """Factory: a noisy JPEG like a phone camera's (default 1600×1200, quality 92), as bytes."""

    def make(width: int = 1600, height: int = 1200, quality: int = 92, seed: int = 1) -> bytes:
        return noisy_jpeg(width, height, quality, seed)

    return make


def noisy_jpeg(width: int, height: int, quality: int = 92, seed: int = 1) -> bytes:
    """A photo-like JPEG: a colour gradient with noise, so it compresses like a real picture."""
    from PIL import Image

    rng = random.Random(seed)
    noise = Image.frombytes("L", (width, height), rng.randbytes(width * height))
    gradient = Image.linear_gradient("L").resize((width, height))
    image = Image.merge("RGB", (gradient, noise, Image.blend(gradient, noise, 0.5)))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


@pytest.fixture
def sign_in(live_server):
    """Factory: open /app/ in `context`, sign in as `username` and wait until the app is
    controlled by its service worker and shows the assignment list. Returns the page."""

    def do(context, username: str = "inspector1"):
        page = context.new_page()
        page.goto(live_server.url + "/app/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("a.assignment")
        page.wait_for_function("() => navigator.serviceWorker.controller !== null")
        # The first sync (session, assignments) has finished when the last-sync time appears.
        page.wait_for_function("() => /\\d:\\d/.test(document.querySelector('#sync-last')?.textContent)")
        return page

    return do
