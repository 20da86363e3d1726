"""Browser tests of the field app: a live server with the demo data, driven through Playwright
with Debian's Chromium (see /work/shared/reference/tooling.md §1), and through Selenium with
WebKit (Debian's WebKitWebDriver and MiniBrowser under Xvfb: `webkit_driver.py`). How to write
either kind of test: tests/browser/README.md.

Each test gets its own server and database (`live_server`), so tests never see each other's
observations or photos; starting one takes well under a second. Tests check the server's state
through the Flask app object (`live_server.app` with an app context), not through routes.
`live_server.stop()` / `.start()` take the server away and bring it back on the same port.

WebKit fixtures: `webkit` (a fresh browser on the test's live server, a `WebKitPage`),
`new_webkit` (a factory for more browsers in one test, e.g. two inspectors) and
`webkit_sign_in` (sign in to /app/ and wait for the first sync). Each browser has its own
ephemeral storage. They skip, with the reason, only when WebKitWebDriver, MiniBrowser or Xvfb
is not installed (scripts/test.sh installs them as root); under CI (CI set) that is a failure.
Mark WebKit tests `browser` and `webkit`. A failed WebKit test reports a screenshot of its window.
"""
from __future__ import annotations

import io
import os
import random
import shutil
import socket
import threading
from dataclasses import dataclass, field

import pytest
from flask import Flask
from flask_migrate import upgrade
from webkit_driver import WebKitInstall, WebKitPage, Xvfb, find_webkit, quit_webkit, start_webkit
from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

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
    """A running server: its base URL and the Flask app behind it. `stop()` and `start()` take it
    away and bring it back on the same port and database (the tablet loses the server and finds
    it again: WebKit has no offline switch, so its tests do this)."""

    url: str
    app: Flask
    server: ThreadedWSGIServer | None = field(default=None, repr=False)
    thread: threading.Thread | None = field(default=None, repr=False)

    def query(self, fn):
        """Run fn() inside an app context (a fresh session) and return its result."""
        with self.app.app_context():
            try:
                return fn()
            finally:
                db.session.remove()

    @property
    def port(self) -> int:
        """The port it listens on, kept across stop() and start()."""
        return int(self.url.rsplit(":", 1)[1])

    def start(self) -> None:
        """Serve again (after stop()) on the same port, the same app and database."""
        if self.server is None:
            self.server, self.thread = serve(self.app, self.port)

    def stop(self) -> None:
        """Stop serving: the port refuses connections and open keep-alive connections are cut,
        so a browser gets a network error as on a tablet with no signal. The data stays."""
        if self.server is None:
            return
        self.server.shutdown()
        self.server.server_close()
        self.server.close_connections()
        self.thread.join(5)
        self.server, self.thread = None, None


class QuietHandler(WSGIRequestHandler):
    """No access log lines: a test run is not a server log."""

    def log_request(self, *args, **kwargs):
        pass


def make_app(instance: str, database: str) -> Flask:
    """The demo app on the SQLite file `database`, with fast password hashing, over plain http."""
    return create_app({
        "TESTING": False,
        "DEMO": True,  # the demo data's minutes are signed with the demo CA, trusted in demo mode
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


class LiveWSGIServer(ThreadedWSGIServer):
    """Werkzeug's threaded server that remembers its open connections, so stopping it also ends
    the keep-alive connections a browser holds (otherwise they would go on being answered)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()

    def get_request(self):
        """Accept a connection and remember it."""
        connection, address = super().get_request()
        with self.connections_lock:
            self.connections.add(connection)
        return connection, address

    def shutdown_request(self, request):
        """Forget a connection the server closes itself."""
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Cut every connection still open."""
        with self.connections_lock:
            connections, self.connections = list(self.connections), set()
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed by the other side


def serve(app: Flask, port: int = 0) -> tuple[LiveWSGIServer, threading.Thread]:
    """Serve `app` on 127.0.0.1:`port` (0: any free port) in a daemon thread."""
    server = LiveWSGIServer("127.0.0.1", port, app, handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread


def start_server(instance: str, seeded: str | None = None) -> LiveServer:
    """Serve the app on a free port, on a copy of the seeded database (seeded here if not given)."""
    database = os.path.join(instance, "test.db")
    seeded = seeded or seed_database(instance)
    shutil.copyfile(seeded, database)
    # The seeded minutes' files and the demo CA that signed them, so that they verify.
    for folder in ("media", "pki"):
        source = os.path.join(os.path.dirname(seeded), folder)
        if os.path.isdir(source) and os.path.dirname(seeded) != instance:
            shutil.copytree(source, os.path.join(instance, folder), dirs_exist_ok=True)
    app = make_app(instance, database)
    server, thread = serve(app)
    return LiveServer(f"http://127.0.0.1:{server.server_port}", app, server, thread)


@pytest.fixture(scope="session")
def seeded_database(tmp_path_factory) -> str:
    """The demo database, built once per run; every live server works on its own copy."""
    return seed_database(str(tmp_path_factory.mktemp("seeded")))


@pytest.fixture
def live_server(tmp_path, seeded_database):
    """A live server of its own for one test (demo data: Hạ Lang, inspector1, inspector2…)."""
    live = start_server(str(tmp_path), seeded_database)
    yield live
    live.stop()
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
        page.wait_for_function(
            "() => /\\d:\\d/.test(document.querySelector('#sync-last')?.textContent)")
        return page

    return do


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """When a WebKit test fails, save what its windows show and name the files in the report."""
    report = yield
    pages = item.funcargs.get("new_webkit") if report.when == "call" and report.failed else None
    if pages:
        for number, page in enumerate(pages.opened, 1):
            shot = page.artifacts / f"webkit-{number}.png"
            try:
                page.screenshot(shot)
                where = page.driver.current_url
            except Exception as err:  # noqa: BLE001 - the browser may be what failed
                report.sections.append(("WebKit", f"no screenshot: {err}"))
                continue
            log = page.artifacts / "webkitdriver.log"
            report.sections.append(("WebKit", f"window {number} at {where}: {shot}; log {log}"))
    return report


@pytest.fixture(scope="session")
def webkit_install() -> WebKitInstall:
    """The installed WebKitWebDriver, MiniBrowser and Xvfb; skips (fails under CI) without."""
    found = find_webkit()
    if isinstance(found, str):
        if os.environ.get("CI"):
            pytest.fail(f"WebKit tests cannot run: {found}")
        pytest.skip(f"WebKit tests skipped: {found}")
    return found


@pytest.fixture(scope="session")
def webkit_display(webkit_install):
    """One virtual X display for every WebKit window of the run."""
    xvfb = Xvfb(webkit_install.xvfb)
    yield xvfb.display
    xvfb.stop()


class WebKitBrowsers:
    """Factory of WebKit browsers on one live server; all quit when the test ends."""

    def __init__(self, install: WebKitInstall, display: str, base_url: str, artifacts):
        self.install, self.display, self.base_url, self.artifacts = (
            install, display, base_url, artifacts)
        self.opened: list[WebKitPage] = []

    def __call__(self) -> WebKitPage:
        """A new browser (own storage, own service worker) on the live server."""
        folder = self.artifacts / f"webkit-{len(self.opened) + 1}"
        folder.mkdir()
        page = WebKitPage(start_webkit(self.install, self.display, folder / "webkitdriver.log"),
                          self.base_url, folder)
        self.opened.append(page)
        return page

    def quit_all(self) -> None:
        """Quit every browser this factory opened."""
        for page in self.opened:
            quit_webkit(page.driver)


@pytest.fixture
def new_webkit(webkit_install, webkit_display, live_server, tmp_path):
    """Factory: `new_webkit()` opens another WebKit browser on the test's live server."""
    browsers = WebKitBrowsers(webkit_install, webkit_display, live_server.url, tmp_path)
    yield browsers
    browsers.quit_all()


@pytest.fixture
def webkit(new_webkit) -> WebKitPage:
    """A WebKit browser (MiniBrowser through WebKitWebDriver) on the test's live server."""
    return new_webkit()


@pytest.fixture
def webkit_sign_in():
    """Factory: open /app/ in a WebKit `page`, sign in as `username` and wait until the service
    worker controls the page and the first sync (session, assignments) has finished."""

    def do(page: WebKitPage, username: str = "inspector1") -> WebKitPage:
        page.goto("/app/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for("a.assignment")
        page.wait_until("return navigator.serviceWorker.controller !== null")
        page.wait_until("return /\\d:\\d/.test(document.querySelector('#sync-last')?.textContent)")
        return page

    return do
