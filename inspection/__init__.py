"""CCHC field inspections: an offline-first Flask app with signed inspection minutes."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, request, session
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.routing import IntegerConverter

from . import edge  # noqa: F401  (SQLite transaction events, before any engine exists)
from .config import Defaults, from_environment, secret_key_from_instance
from .extensions import babel, csrf, db, login_manager, migrate
from .models.base import MAX_ID

PACKAGE_DIR = Path(__file__).resolve().parent
STATIC_DIR = PACKAGE_DIR.parent / "static"


def create_app(test_config: dict | None = None, instance_path: str | None = None) -> Flask:
    """Build the application: defaults → instance/config.py → environment → test_config.

    The instance folder (config, secret key, SQLite file, media) is ./instance unless the
    INSPECTION_INSTANCE_PATH environment variable or `instance_path` names another.
    """
    app = Flask(__name__, instance_relative_config=True, static_folder=str(STATIC_DIR),
                static_url_path="/static",
                instance_path=instance_path or os.environ.get("INSPECTION_INSTANCE_PATH"))
    os.makedirs(app.instance_path, exist_ok=True)

    # Ids in URLs fit the database's integer columns; a larger number is a 404, not an overflow.
    app.url_map.converters["int"] = DatabaseInteger
    app.config.from_object(Defaults)
    database = os.path.join(app.instance_path, "inspection.db")
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + database
    app.config["MEDIA_ROOT"] = os.path.join(app.instance_path, "media")
    app.config.from_pyfile("config.py", silent=True)
    app.config.update(from_environment())
    if test_config:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secret_key_from_instance(app.instance_path)

    edge.bound_lock_waits(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PACKAGE_DIR / "migrations"),
                     render_as_batch=True, compare_type=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)

    from . import models  # noqa: F401  (registers the tables)
    from .api import init_api
    from .cli import register_cli
    from .edge import init_edge
    from .security import init_security
    from .web import init_web

    init_edge(app)  # first: bodies are read and checked before anything touches the database
    init_security(app)
    init_api(app)
    init_web(app)
    register_cli(app)
    return app


class DatabaseInteger(IntegerConverter):
    """`<int:…>` bounded to PostgreSQL's INTEGER (also within SQLite's 64-bit integers)."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def select_locale() -> str:
    """Vietnamese unless the person chose English (cookie) or their client asks for it."""
    from flask import current_app

    languages = current_app.config["LANGUAGES"]
    # The field app sends its own language choice with every API request: its messages are shown
    # to the person as they come, so that choice wins over the office pages' cookie.
    asked = (request.accept_languages.best_match(languages)
             if request.path.startswith("/api/") else None)
    chosen = request.cookies.get("lang") or session.get("lang")
    if asked:
        return asked
    if chosen in languages:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """SQLite: enforce foreign keys and use WAL so readers never block the writer."""
    import sqlite3

    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        # No waiting inside SQLite: a writer waits for the lock in Python (edge._sqlite_write_lock).
        cursor.execute("PRAGMA busy_timeout=0")
        cursor.close()
