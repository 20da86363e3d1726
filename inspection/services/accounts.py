"""Accounts: password hashing (argon2id) and strength, sign-in checks, and the lifecycle:
create, edit, deactivate and reactivate, set or change the password, end every session.

Every change is audited, and every change but creation ends the account's sessions (the
session generation, `inspection/sessions.py`), except the one the person changes their own
password from.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import func, select
from zxcvbn import zxcvbn

from ..errors import Conflict, PermissionDenied, ServiceError, ValidationFailed
from ..extensions import db
from ..models import AdminUnit, AuditEvent, Role, User
from ..models.base import utcnow
from ..models.users import InvalidAccountChange
from . import audit
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
MAX_PASSWORD_LENGTH = 128
# zxcvbn's score: 3 is "safely unguessable" (about 10^8 guesses or more).
MIN_PASSWORD_SCORE = 3
# Words anyone would try against this application's accounts.
GUESSABLE_WORDS = ["cchc", "kiemtra", "kiểm tra", "matkhau", "mật khẩu", "sonoivu", "sở nội vụ",
                   "caobang", "cao bằng", "halang", "hạ lang", "ubnd", "admin", "demo"]


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
    failures = select(AuditEvent.at).where(AuditEvent.action == "user.login_failed",
                                           AuditEvent.at >= since)
    for column, value, limit in ((AuditEvent.object_id, username, MAX_FAILURES_PER_USERNAME),
                                 (AuditEvent.device_id, address, MAX_FAILURES_PER_ADDRESS)):
        if value is None:
            continue
        recent = db.session.scalars(failures.where(column == value).order_by(AuditEvent.at.desc())
                                    .limit(limit)).all()
        if len(recent) >= limit:
            oldest = min(recent)
            oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=since.tzinfo)
            raise TooManyAttempts(max(1,
                                      int((oldest + THROTTLE_WINDOW - utcnow()).total_seconds())))


def record_failed_login(username: str, address: str | None) -> None:
    """Remember a failed sign-in (for throttling and for the audit trail)."""
    db.session.add(AuditEvent(action="user.login_failed", object_type="users",
                              object_id=throttle_key(username),
                              device_id=(address or None) and address[:100],
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


def _fold(text: str) -> str:
    """Lower case without diacritics or spaces: "Nguyễn Văn An" → "nguyenvanan"."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in text if not unicodedata.combining(ch) and not ch.isspace()).lower()


def password_problems(password: str, username: str = "", full_name: str = "") -> list[str]:
    """Why the password is too weak (Vietnamese), [] when it is strong enough: 8 to 128
    characters, and not guessable from the person's names, common words or patterns (zxcvbn
    score 3 or more)."""
    password = password or ""
    if len(password) < MIN_PASSWORD_LENGTH:
        return [f"Mật khẩu cần ít nhất {MIN_PASSWORD_LENGTH} ký tự."]
    if len(password) > MAX_PASSWORD_LENGTH:
        return [f"Mật khẩu dài quá {MAX_PASSWORD_LENGTH} ký tự."]
    names = [username, full_name, _fold(full_name), *full_name.split(), *GUESSABLE_WORDS]
    if zxcvbn(password, user_inputs=[n for n in names if n])["score"] < MIN_PASSWORD_SCORE:
        return ["Mật khẩu quá dễ đoán (tên, tên đăng nhập, dãy số hay từ thông dụng). Hãy dùng "
                "một câu ngắn dễ nhớ, ví dụ “Cô Ngân mùa lúa 2021!”."]
    return []


def _profile(full_name: str, position: str, role: Role | str, unit: AdminUnit | None,
             errors: dict[str, list[str]]) -> dict:
    """The checked name, position, role and unit of an account; problems go into `errors`."""
    full_name = clean_text(full_name, single_line=True, field="full_name").strip()
    position = clean_text(position, single_line=True, field="position").strip()
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
    return {"full_name": full_name, "position": position, "role": role,
            "unit": unit if role == Role.unitrep else None}


def _refuse(errors: dict[str, list[str]], what_vi: str, what_en: str) -> None:
    if errors:
        raise ValidationFailed(
            f"{what_vi}: " + " ".join(m for ms in errors.values() for m in ms),
            f"{what_en}: " + ", ".join(sorted(errors)) + " invalid.", errors)


def create_user(
    username: str,
    password: str,
    full_name: str,
    role: Role | str,
    position: str = "",
    unit: AdminUnit | None = None,
    by: User | None = None,
    check_strength: bool = True,
) -> User:
    """Create an account after checking every field; raises ValidationFailed listing problems.

    `check_strength=False` keeps only the length rule: the demo and generated data use the
    shared demo password."""
    errors: dict[str, list[str]] = {}
    username = (username or "").strip().lower()
    if not USERNAME_RE.match(username):
        errors["username"] = ["Tên đăng nhập 2–64 ký tự: chữ thường không dấu, số, . _ -"]
    elif db.session.scalar(select(func.count()).select_from(User).where(User.username == username)):
        errors["username"] = ["Tên đăng nhập đã tồn tại."]
    profile = _profile(full_name, position, role, unit, errors)
    if check_strength:
        weak = password_problems(password, username, profile["full_name"])
    else:
        weak = [] if len(password or "") >= MIN_PASSWORD_LENGTH else [
            f"Mật khẩu cần ít nhất {MIN_PASSWORD_LENGTH} ký tự."]
    if weak:
        errors["password"] = weak
    _refuse(errors, "Không tạo được tài khoản", "The account could not be created")
    user = User(username=username, password_hash=hash_password(password), **profile)
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", user, by, role=user.role.value,
                 unit=user.unit.code if user.unit else None)
    return user


def update_user(user: User, by: User, full_name: str, position: str, role: Role | str,
                unit: AdminUnit | None) -> list[str]:
    """Change an account's name, position, role and unit (secretariat); returns the fields
    changed. A change ends the account's sessions; audited. One's own role stays admin."""
    errors: dict[str, list[str]] = {}
    profile = _profile(full_name, position, role, unit, errors)
    if user.id == by.id and profile.get("role") != Role.admin and "role" not in errors:
        errors["role"] = ["Không thể tự bỏ vai trò quản trị của chính mình."]
    _refuse(errors, "Không sửa được tài khoản", "The account could not be changed")
    before = {"full_name": user.full_name, "position": user.position, "role": user.role.value,
              "unit": user.unit.code if user.unit else None,
              "unit_valid_from": user.unit.valid_from.isoformat() if user.unit else None}
    user.full_name, user.position = profile["full_name"], profile["position"]
    user.role, user.unit = profile["role"], profile["unit"]
    after = {"full_name": user.full_name, "position": user.position, "role": user.role.value,
             "unit": user.unit.code if user.unit else None,
             "unit_valid_from": user.unit.valid_from.isoformat() if user.unit else None}
    changed = [key for key in before if before[key] != after[key]]
    if changed:
        user.end_sessions()
        audit.record("user.update", user, by, **{key: [before[key], after[key]] for key in changed})
    db.session.flush()
    return changed


def set_password(user: User, password: str, by: User | None) -> None:
    """Give the account a new password (the secretariat's reset, or `flask set-password`):
    strength checked; ends every session; audited."""
    problems = password_problems(password, user.username, user.full_name)
    _refuse({"password": problems} if problems else {}, "Không đặt được mật khẩu",
            "The password could not be set")
    user.password_hash = hash_password(password)
    user.end_sessions()
    audit.record("user.password_reset", user, by)


def change_own_password(user: User, current: str, new: str, confirm: str,
                        address: str | None = None) -> None:
    """The person's own change: the current password is required (a wrong one counts as a
    failed sign-in), the new one is strength checked. Ends every other session (the caller
    keeps the one it came from, `sessions.keep_session`); audited."""
    check_throttle(user.username, address)
    try:
        _hasher().verify(user.password_hash, current or "")
    except (VerificationError, InvalidHashError):
        record_failed_login(user.username, address)
        raise ValidationFailed("Mật khẩu hiện tại không đúng.",
                               "The current password is wrong.",
                               {"current_password": ["Mật khẩu hiện tại không đúng."]}) from None
    errors: dict[str, list[str]] = {}
    if problems := password_problems(new, user.username, user.full_name):
        errors["new_password"] = problems
    elif new == current:
        errors["new_password"] = ["Mật khẩu mới phải khác mật khẩu hiện tại."]
    if new != confirm:
        errors["confirm_password"] = ["Hai lần nhập mật khẩu mới không khớp."]
    _refuse(errors, "Không đổi được mật khẩu", "The password could not be changed")
    user.password_hash = hash_password(new)
    user.end_sessions()
    audit.record("user.password_change", user, user)


def deactivate_user(user: User, by: User | None) -> None:
    """Refuse every sign-in and end every session (a lost tablet, someone who left); audited.
    Nobody deactivates their own account."""
    if by is not None and by.id == user.id:
        raise PermissionDenied("Không thể tự khóa tài khoản của chính mình.",
                               "You cannot deactivate your own account.")
    try:
        user.deactivate()
    except InvalidAccountChange as exc:
        raise Conflict("Tài khoản này đã bị khóa.", "The account is already deactivated.") from exc
    audit.record("user.deactivate", user, by)


def activate_user(user: User, by: User | None) -> None:
    """Allow sign-ins again; sessions from before stay ended; audited."""
    try:
        user.activate()
    except InvalidAccountChange as exc:
        raise Conflict("Tài khoản này đang hoạt động.", "The account is already active.") from exc
    audit.record("user.activate", user, by)


def end_all_sessions(user: User, by: User) -> None:
    """Sign the account out everywhere (the caller keeps its own session when it is the
    account's); audited."""
    user.end_sessions()
    audit.record("user.end_sessions", user, by)


def user_by_username(username: str) -> User | None:
    """The account with this username (any case), or None."""
    return db.session.scalar(select(User).where(User.username == (username or "").strip().lower()))
