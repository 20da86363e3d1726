"""Accounts: password hashing (argon2id), sign-in checks and user creation."""
from __future__ import annotations

import re
import unicodedata

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import func, select

from ..extensions import db
from ..models import AdminUnit, Role, User
from .errors import ValidationFailed

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD_LENGTH = 8


def _hasher() -> PasswordHasher:
    cfg = current_app.config
    return PasswordHasher(time_cost=cfg["ARGON2_TIME_COST"], memory_cost=cfg["ARGON2_MEMORY_COST"])


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    return _hasher().hash(password)


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
    full_name = unicodedata.normalize("NFC", (full_name or "").strip())
    if not USERNAME_RE.match(username):
        errors["username"] = ["Tên đăng nhập 2–64 ký tự: chữ thường không dấu, số, . _ -"]
    elif db.session.scalar(select(func.count()).select_from(User).where(User.username == username)):
        errors["username"] = ["Tên đăng nhập đã tồn tại."]
    if len(password or "") < MIN_PASSWORD_LENGTH:
        errors["password"] = [f"Mật khẩu cần ít nhất {MIN_PASSWORD_LENGTH} ký tự."]
    if not full_name:
        errors["full_name"] = ["Cần nhập họ và tên."]
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
        position=unicodedata.normalize("NFC", position.strip()),
        unit=unit if role == Role.unitrep else None,
    )
    db.session.add(user)
    db.session.flush()
    return user
