"""One time zone for every date a person reads: Asia/Ho_Chi_Minh (UTC+7, no daylight saving).

The database stores moments in UTC. PostgreSQL gives them back timezone-aware; SQLite gives
them back naive (still UTC). Every page (the ``vndate``/``vndatetime`` filters), PDF and export
turns a stored moment into Vietnam time through these functions only, so a date printed at
00:30 in Hà Nội is that day, never the day before in UTC.
"""
from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

VIETNAM_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def local_moment(value: datetime) -> datetime:
    """A stored moment in Vietnam time (a naive value is read as UTC, as the database stores it)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(VIETNAM_TZ)


def local_date(value: date | datetime | None) -> date | None:
    """The calendar day in Vietnam of a moment; a plain date stays as it is."""
    if value is None:
        return None
    return local_moment(value).date() if isinstance(value, datetime) else value


def format_date(value: date | datetime | None) -> str:
    """04/12/2026: a date, or the Vietnamese calendar day of a moment; "" for none."""
    day = local_date(value)
    return f"{day.day:02d}/{day.month:02d}/{day.year}" if day else ""


def format_datetime(value: datetime | None, seconds: bool = False) -> str:
    """04/12/2026 15:38 in Vietnam time; "" for none."""
    if value is None:
        return ""
    return local_moment(value).strftime("%d/%m/%Y %H:%M:%S" if seconds else "%d/%m/%Y %H:%M")


def iso_local(value: date | datetime | None) -> str | None:
    """ISO 8601 for exports: a moment in Vietnam time with its offset (2026-12-04T15:38:00+07:00),
    a date as 2026-12-04."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return local_moment(value).isoformat(timespec="seconds")
    return value.isoformat()
