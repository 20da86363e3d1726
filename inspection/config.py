"""Configuration: defaults here, then `instance/config.py`, then environment variables."""
from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path


class Defaults:
    """Settings every deployment starts from; override in instance/config.py or the environment."""

    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SQLALCHEMY_TRACK_MODIFICATIONS = False

    # Sessions: the field app works offline for days, so the session outlives a working week.
    PERMANENT_SESSION_LIFETIME = timedelta(days=14)
    # The cookie is sent when the session changes, not with every answer: otherwise an answer
    # still on its way when someone signs out (a picture, a page) would put the old session back.
    SESSION_REFRESH_EACH_REQUEST = False
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"

    # CSRF tokens must stay valid as long as the session: a tablet offline for hours still
    # has to push its outbox with the token it received at login.
    WTF_CSRF_TIME_LIMIT = None
    WTF_CSRF_CHECK_DEFAULT = False

    BABEL_DEFAULT_LOCALE = "vi"
    BABEL_DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
    LANGUAGES = ("vi", "en")

    # argon2id parameters (RFC 9106 "second recommended option" is heavier; these are
    # argon2-cffi's defaults, about 50 ms on the target server).
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 65536

    API_TITLE = "CCHC field inspections"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api"
    OPENAPI_JSON_PATH = "openapi.json"

    MAX_CONTENT_LENGTH = 32 * 1024 * 1024
    # Request bodies, per endpoint (bytes); anything not listed takes BODY_LIMIT. Larger bodies
    # get 413 before they are read. The tus upload takes MAX_PHOTO_BYTES plus a little.
    BODY_LIMIT = 256 * 1024
    BODY_LIMITS = {
        "api_auth.Login": 4 * 1024, "auth.login": 8 * 1024,
        "api_auth.Logout": 4 * 1024, "auth.logout": 8 * 1024,
        "api_sync.Push": 8 * 1024 * 1024,  # 500 ops; a tablet sends 100 at a time
        "api_minutes.inspection_upload": 31 * 1024 * 1024,
        "api_minutes.trip_upload": 31 * 1024 * 1024,
        "api_minutes.inspection_paper": 31 * 1024 * 1024,  # MAX_SCAN_BYTES, the service says
        "api_minutes.verify": 31 * 1024 * 1024,
        "minutes.act": 31 * 1024 * 1024, "minutes.verify": 31 * 1024 * 1024,
        "admin.checklists": 6 * 1024 * 1024,  # a 5 MB workbook or JSON (the service says more)
        # A unit's report on a recommendation: a note and a few evidence pictures (each within
        # MAX_PHOTO_BYTES; the service says more).
        "overview.recommendation_done": 31 * 1024 * 1024,
    }
    # Seconds a client may take to send a (non-streamed) body under gevent workers (then 408).
    BODY_READ_TIMEOUT = 60
    # How long (seconds) a write waits for a lock held by others before the answer is 503 with
    # Retry-After: SQLite's write lock, or a PostgreSQL row lock (its lock_timeout).
    DATABASE_BUSY_WAIT = 30
    # Photos decoded at once by all workers of this instance (each up to ~160 MB while a
    # 40-megapixel image is checked), and how long a completed upload waits for a place (503).
    PHOTO_DECODE_SLOTS = 1
    PHOTO_DECODE_WAIT = 120
    # How many reverse proxies (nginx) stand in front of the app and append X-Forwarded-For /
    # X-Forwarded-Proto. 0: none, the socket's address is the client's. Behind one nginx set 1,
    # otherwise every client shares the proxy's address and the sign-in limit per address.
    TRUSTED_PROXIES = 0
    DEMO = False
    # The address people open the app at, e.g. https://cchc.caobang.gov.vn: printed as the QR
    # code of the minutes. Unset, the address of the request that builds them is used.
    PUBLIC_URL = None
    # Tablets forget an inspection this many days after its minutes were signed (once nothing of
    # it is unsent); GET /assignments tells them the number and no longer lists such inspections.
    DEVICE_RETENTION_DAYS = 30
    # The minutes sum up the criteria without a result in one line per area; True lists each
    # as a "Chưa đánh giá" row of the area's table instead.
    MINUTES_LIST_UNASSESSED = False


ENV_KEYS = {
    "DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "SECRET_KEY": "SECRET_KEY",
    "MEDIA_ROOT": "MEDIA_ROOT",
    "SESSION_COOKIE_SECURE": "SESSION_COOKIE_SECURE",
    "INSPECTION_DEMO": "DEMO",
    "PUBLIC_URL": "PUBLIC_URL",
    "TRUSTED_PROXIES": "TRUSTED_PROXIES",
    "DEVICE_RETENTION_DAYS": "DEVICE_RETENTION_DAYS",
    "MINUTES_LIST_UNASSESSED": "MINUTES_LIST_UNASSESSED",
}
BOOLEAN_KEYS = {"SESSION_COOKIE_SECURE", "DEMO", "MINUTES_LIST_UNASSESSED"}
# Whole numbers ≥ 0; anything else stops the start with a message naming the variable.
COUNT_KEYS = {"TRUSTED_PROXIES", "DEVICE_RETENTION_DAYS"}


def secret_key_from_instance(instance_path: str) -> str:
    """Return the secret key kept in instance/secret_key, creating it on first run."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip()


def from_environment(environ=os.environ) -> dict:
    """Settings given as environment variables, with booleans and whole numbers parsed."""
    found = {}
    for env_name, key in ENV_KEYS.items():
        if env_name in environ:
            value = environ[env_name]
            if key in BOOLEAN_KEYS:
                value = value.strip().lower() in {"1", "true", "yes", "on"}
            elif key in COUNT_KEYS:
                value = value.strip()
                if not (value.isascii() and value.isdigit()):
                    raise ValueError(f"{env_name} must be a whole number ≥ 0, not {value!r}")
                value = int(value)
            found[key] = value
    return found
