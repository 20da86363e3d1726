"""The app's edges against hostile input and load, fixed once for every route.

- Bodies: a size limit per endpoint (small for sign-in; config BODY_LIMITS), read in full before
  any database work (so a slow client never holds a lock), JSON parsed by ``jsonload`` (bounded
  nesting: 400, never RecursionError).
- Text: form and query values pass the text rule (services/text.py) before any view runs.
- Proxies: TRUSTED_PROXIES reverse proxies in front (ProxyFix), so per-address sign-in limits
  see real client addresses.
- Caching: ``Cache-Control: no-store`` on every API answer and every page shown to a signed-in
  person; static files, photos and the field-app shell keep their own rules.
- SQLite under concurrency: a transaction takes the write lock up front (BEGIN IMMEDIATE, before
  its first write), retrying with backoff while another writer holds it; a database still busy
  after DATABASE_BUSY_WAIT seconds answers 503 with Retry-After, never 500. PostgreSQL keeps its
  row locks, waited for at most DATABASE_BUSY_WAIT seconds (lock_timeout); its lock timeouts
  and deadlocks answer 503 too.
"""
from __future__ import annotations

import random
import threading
import time
from contextlib import contextmanager

from flask import Flask, current_app, has_app_context, render_template, request
from flask.json.provider import DefaultJSONProvider
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import Pool
from werkzeug.exceptions import RequestTimeout
from werkzeug.middleware.proxy_fix import ProxyFix

from . import jsonload
from .errors import DatabaseBusy, error_payload, language, wants_json
from .services.text import check_text

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Endpoints whose body is streamed by the view itself (tus chunks go straight to disk).
STREAMED_ENDPOINTS = {"api_uploads.UploadResource"}
# Endpoints whose answers set their own Cache-Control (photos, the field app's shell, files).
OWN_CACHE_RULES = {"static", "fieldapp.shell", "fieldapp.service_worker", "fieldapp.manifest"}
BUSY_RETRY_AFTER = 2  # seconds


class SafeJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider reading through ``jsonload`` (bounded nesting)."""

    def loads(self, s, **kwargs):
        """Parse a JSON body, refusing nesting deeper than jsonload allows."""
        return jsonload.loads(s, **kwargs)


def init_edge(app: Flask) -> None:
    """Install the body limits, JSON loader, text check, proxy fix, cache rule and busy answers.

    Called before the other before_request hooks are registered, so the body is read (and its
    size checked) before anything touches the session or the database."""
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
    app.json = SafeJSONProvider(app)
    app.before_request(read_body_within_limit)
    app.before_request(refuse_bad_text_in_forms)
    app.after_request(no_store_for_private_answers)
    app.register_error_handler(jsonload.JSONTooDeep, _json_too_deep)
    app.register_error_handler(DatabaseBusy, _busy)
    app.register_error_handler(OperationalError, _operational_error)


def bound_lock_waits(app: Flask) -> None:
    """PostgreSQL: keep the row locks, but wait for one at most DATABASE_BUSY_WAIT seconds
    (lock_timeout), then answer 503 like SQLite. Called before the engine is made."""
    if not str(app.config["SQLALCHEMY_DATABASE_URI"]).startswith("postgresql"):
        return
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    connect_args = dict(options.get("connect_args") or {})
    wait_ms = int(float(app.config.get("DATABASE_BUSY_WAIT", 30)) * 1000)
    connect_args["options"] = (connect_args.get("options", "") +
                               f" -c lock_timeout={wait_ms}").strip()
    options["connect_args"] = connect_args
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def body_limit(endpoint: str | None) -> int:
    """The largest body (bytes) the endpoint accepts."""
    config = current_app.config
    if endpoint == "api_uploads.UploadResource":  # one tus chunk can be the whole file
        from .services import paper_minutes, photos

        return max(photos.max_bytes(), paper_minutes.max_bytes()) + 64 * 1024
    return int(config["BODY_LIMITS"].get(endpoint, config["BODY_LIMIT"]))


def read_body_within_limit():
    """Refuse a body over the endpoint's limit (413) and read the rest in full now, within
    BODY_READ_TIMEOUT seconds under gevent workers (408 after that)."""
    request.max_content_length = body_limit(request.endpoint)
    if request.method in WRITE_METHODS and request.endpoint not in STREAMED_ENDPOINTS:
        with _read_deadline(float(current_app.config.get("BODY_READ_TIMEOUT", 60))):
            request.get_data(cache=True)  # 413 when too large; forms are parsed from this copy


@contextmanager
def _read_deadline(seconds: float):
    """Under gevent, a client that trickles its body is cut off after ``seconds`` (408)."""
    from gevent import monkey

    if not monkey.is_module_patched("socket"):
        yield
        return
    import gevent

    try:
        with gevent.Timeout(seconds):
            yield
    except gevent.Timeout:
        raise RequestTimeout() from None


def refuse_bad_text_in_forms():
    """The text rule on every form field and query parameter (422 naming the field)."""
    sources = [request.args]
    if request.method in WRITE_METHODS and request.endpoint not in STREAMED_ENDPOINTS:
        sources.append(request.form)
    for source in sources:
        for key, value in source.items(multi=True):
            check_text(key, "(tên trường / field name)")
            check_text(value, key)


def no_store_for_private_answers(response):
    """API answers and signed-in pages must not stay in a shared tablet's HTTP cache."""
    if request.endpoint in OWN_CACHE_RULES or "Cache-Control" in response.headers:
        return response
    if request.path.startswith("/api/") or (
            response.mimetype == "text/html" and _signed_in()):
        response.headers["Cache-Control"] = "no-store"
    return response


def _signed_in() -> bool:
    try:
        return bool(current_user.is_authenticated)
    except Exception:  # noqa: BLE001 — an answer must not fail over its cache header
        return False


def _answer(status: int, code: str, vi: str, en: str, headers: dict | None = None):
    message = en if language() == "en" else vi
    if wants_json():
        return error_payload(status, message, code=code), status, headers or {}
    return render_template("error.html", status=status, message=message), status, headers or {}


def _json_too_deep(exc: jsonload.JSONTooDeep):
    return _answer(400, "json_too_deep",
                   f"Nội dung JSON lồng nhau quá sâu (tối đa {exc.limit} cấp).",
                   f"The JSON body is nested too deeply (at most {exc.limit} levels).")


def _busy(exc: DatabaseBusy):
    from .extensions import db

    db.session.rollback()
    return _answer(503, exc.code, exc.message_vi, exc.message_en,
                   {"Retry-After": str(exc.retry_after)})


# SQLite says "database is locked" / "database table is locked"; PostgreSQL's lock timeout,
# deadlock and serialization failure (SQLSTATE 55P03, 40P01, 40001) are the same situation.
BUSY_SQLSTATES = {"55P03", "40P01", "40001"}


def is_busy_error(exc: OperationalError) -> bool:
    """Whether a database error means "locked by others right now" (worth retrying)."""
    orig = getattr(exc, "orig", None)
    if getattr(orig, "sqlstate", None) in BUSY_SQLSTATES:
        return True
    return _locked(str(orig or exc))


def _locked(message: str) -> bool:
    message = message.lower()
    return "database is locked" in message or "database table is locked" in message


def _operational_error(exc: OperationalError):
    if not is_busy_error(exc):
        raise exc
    return _busy(DatabaseBusy(BUSY_RETRY_AFTER))


# ---------------------------------------------------------------------------------------------
# SQLite transactions

# Statements that write: the first of them in a transaction takes the write lock.
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "SAVEPOINT")


@event.listens_for(Engine, "connect")
def _sqlite_manual_transactions(dbapi_connection, connection_record):
    """SQLite: pysqlite opens no transaction by itself; ``_sqlite_write_lock`` does."""
    import sqlite3

    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.isolation_level = None


@event.listens_for(Engine, "before_cursor_execute")
def _sqlite_write_lock(connection, cursor, statement, parameters, context, executemany):
    """SQLite: before a transaction's first write, BEGIN IMMEDIATE, retried with backoff while
    another writer holds the lock; DatabaseBusy (503) after DATABASE_BUSY_WAIT seconds.

    Reads before it run outside a transaction, as with pysqlite's default; the transaction that
    writes starts with the write lock, so it never has to upgrade a read snapshot (which SQLite
    refuses at once, "database is locked", when another writer committed in between). The wait
    is a Python sleep, not SQLite's busy handler (busy_timeout 0): under gevent workers a sleep
    in C would stall every request of the process, the lock holder's included. A SAVEPOINT
    counts as a write, so savepoints always sit inside a real transaction.
    """
    if connection.dialect.name != "sqlite":
        return
    raw = connection.connection.dbapi_connection
    if raw.in_transaction or not statement.lstrip()[:9].upper().startswith(_WRITES):
        return
    import sqlite3

    wait = float(current_app.config.get("DATABASE_BUSY_WAIT", 30)) if has_app_context() else 30.0
    deadline = time.monotonic() + wait
    # Writers of this process queue here first (first come, first served), so only one per
    # process competes for SQLite's lock and none is starved by luckier ones.
    if not _PROCESS_WRITER.acquire(timeout=wait):
        raise DatabaseBusy(BUSY_RETRY_AFTER)
    connection.connection.info["writer"] = True
    delay = 0.002
    while True:
        try:
            raw.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if not _locked(str(exc)) or time.monotonic() + delay > deadline:
                _release_writer(connection.connection.info)
                if _locked(str(exc)):
                    raise DatabaseBusy(BUSY_RETRY_AFTER) from exc
                raise
        time.sleep(delay * (0.5 + random.random()))  # jitter: processes do not wake in step
        delay = min(delay * 2, 0.05)


# Created when the app is imported: in a gevent worker, after gunicorn patched threading.
_PROCESS_WRITER = threading.Lock()


def _release_writer(info) -> None:
    if info.pop("writer", False):
        _PROCESS_WRITER.release()


@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "rollback")
def _sqlite_transaction_ends(connection) -> None:
    """The transaction ends (its COMMIT or ROLLBACK follows at once): the next writer may go."""
    if connection.dialect.name == "sqlite":
        _release_writer(connection.connection.info)


@event.listens_for(Pool, "reset")
def _sqlite_connection_returned(dbapi_connection, connection_record, reset_state) -> None:
    """A connection handed back to the pool never keeps the process's writer turn."""
    _release_writer(connection_record.info)
