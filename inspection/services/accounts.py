"""Accounts: password hashing (argon2id), sign-in checks and user creation."""
from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import func, select

from ..extensions import db
from ..models import AdminUnit, AuditEvent, Role, User
from ..models.base import utcnow
from .errors import ServiceError, ValidationFailed
from .text import clean_text, over_limit

# Failed sign-ins allowed per username, and per client address, within the window.
THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USERNAME = 5
MAX_FAILURES_PER_ADDRESS = 30


class TooManyAttempts(ServiceError):
    status = 429
    code = "too_many_requests"

    def __init__(self, retry_after: int):
        minutes = max(1, round(retry_after / 60))
        super().__init__(f"Đăng nhập sai quá nhiều lần. Hãy thử lại sau {minutes} phút.",
                         f"Too many failed sign-ins. Try again in {minutes} minutes.")
        self.retry_after = retry_after

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD_LENGTH = 8


def _hasher() -> PasswordHasher:
    cfg = current_app.config
    return PasswordHasher(time_cost=cfg["ARGON2_TIME_COST"], memory_cost=cfg["ARGON2_MEMORY_COST"])


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    return _hasher().hash(password)


def throttle_key(username: str | None) -> str:
    """The name failures are counted under: the whole username, normalised (NFC, trimmed, lower
    case). One that does not fit the audit column is replaced by its SHA-256, so a long name is
    counted under one key however it is cut, and two long names never share one."""
    name = unicodedata.normalize("NFC", username or "").strip().lower()
    limit = AuditEvent.__table__.c.object_id.type.length
    if len(name) <= limit:
        return name
    return "sha256:" + hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:limit - 7]


def check_throttle(username: str, address: str | None) -> None:
    """Refuse (TooManyAttempts) when this username or address failed too often recently.

    Failures are audit events in the database, so every worker and host sees the same count.
    """
    username = throttle_key(username)
    since = utcnow() - THROTTLE_WINDOW
    failures = select(AuditEvent.at).where(AuditEvent.action == "user.login_failed", AuditEvent.at >= since)
    for column, value, limit in ((AuditEvent.object_id, username, MAX_FAILURES_PER_USERNAME),
                                 (AuditEvent.device_id, address, MAX_FAILURES_PER_ADDRESS)):
        if value is None:
            continue
        recent = db.session.scalars(failures.where(column == value).order_by(AuditEvent.at.desc())
                                    .limit(limit)).all()
        if len(recent) >= limit:
            oldest = min(recent)
            oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=since.tzinfo)
            raise TooManyAttempts(max(1, int((oldest + THROTTLE_WINDOW - utcnow()).total_seconds())))


def record_failed_login(username: str, address: str | None) -> None:
    """Remember a failed sign-in (for throttling and for the audit trail)."""
    db.session.add(AuditEvent(action="user.login_failed", object_type="users",
                              object_id=throttle_key(username), device_id=(address or None) and address[:100],
                              details={}))


def sign_in(username: str, password: str, address: str | None) -> User | None:
    """Check the throttle, then the password; records failures. Raises TooManyAttempts."""
    # No account name holds a NUL, and PostgreSQL refuses one in a query: such a name is unknown.
    username = (username or "").replace("\x00", "\ufffd")
    check_throttle(username, address)
    user = authenticate(username, password)
    if user is None:
        record_failed_login(username, address)
    return user


def authenticate(username: str, password: str) -> User | None:
    """The active user with this username and password, or None.

    Unknown users cost the same hash verification as wrong passwords, so response time does
    not reveal which usernames exist.
    """
    username = (username or "").strip().lower()
    user = db.session.scalar(select(User).where(User.username == username))
    hasher = _hasher()
    stored = user.password_hash if user is not None else _dummy_hash()
    try:
        hasher.verify(stored, password or "")
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    return user


_DUMMY: dict[tuple, str] = {}


def _dummy_hash() -> str:
    key = (current_app.config["ARGON2_TIME_COST"], current_app.config["ARGON2_MEMORY_COST"])
    if key not in _DUMMY:
        _DUMMY[key] = _hasher().hash("not-a-real-password")
    return _DUMMY[key]


def create_user(
    username: str,
    password: str,
    full_name: str,
    role: Role | str,
    position: str = "",
    unit: AdminUnit | None = None,
) -> User:
    """Create an account after checking every field; raises ValidationFailed listing problems."""
    errors: dict[str, list[str]] = {}
    username = (username or "").strip().lower()
    full_name = clean_text(full_name, single_line=True, field="full_name").strip()
    position = clean_text(position, single_line=True, field="position").strip()
    if not USERNAME_RE.match(username):
        errors["username"] = ["Tên đăng nhập 2–64 ký tự: chữ thường không dấu, số, . _ -"]
    elif db.session.scalar(select(func.count()).select_from(User).where(User.username == username)):
        errors["username"] = ["Tên đăng nhập đã tồn tại."]
    if len(password or "") < MIN_PASSWORD_LENGTH:
        errors["password"] = [f"Mật khẩu cần ít nhất {MIN_PASSWORD_LENGTH} ký tự."]
    if not full_name:
        errors["full_name"] = ["Cần nhập họ và tên."]
    elif limit := over_limit(full_name, User.full_name):
        errors["full_name"] = [f"Họ và tên dài quá {limit} ký tự."]
    if limit := over_limit(position, User.position):
        errors["position"] = [f"Chức vụ dài quá {limit} ký tự."]
    try:
        role = Role(role)
    except ValueError:
        errors["role"] = ["Vai trò không hợp lệ (admin, leader, inspector, unitrep)."]
    else:
        if role == Role.unitrep and unit is None:
            errors["unit"] = ["Đại diện đơn vị phải gắn với một đơn vị."]
    if errors:
        raise ValidationFailed(
            "Không tạo được tài khoản: " + " ".join(m for ms in errors.values() for m in ms),
            "The account could not be created: " + ", ".join(sorted(errors)) + " invalid.",
            errors,
        )
    user = User(
        username=username,
        password_hash=hash_password(password),
        full_name=full_name,
        role=role,
        position=position,
        unit=unit if role == Role.unitrep else None,
    )
    db.session.add(user)
    db.session.flush()
    return user
