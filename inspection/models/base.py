"""Column helpers and the state-machine error shared by the models."""
import enum
from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import DateTime
from sqlalchemy.orm import Mapped, mapped_column

# The largest id or counter an INTEGER column holds on PostgreSQL (and so on every database);
# API inputs are bounded by it, so a huge number is a clear 4xx, never an overflow.
MAX_ID = 2**31 - 1
# The largest BIGINT (the change feed's cursor).
MAX_BIG = 2**63 - 1

# Vietnam time (UTC+7, no daylight saving): device clocks without a zone are read as this.
VIETNAM = timezone(timedelta(hours=7))


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC (stored as UTC everywhere)."""
    return datetime.now(UTC)


def iso_utc(value: datetime | None) -> str | None:
    """ISO 8601 of a stored time, with its offset (SQLite gives stored UTC times back without
    one)."""
    if value is None:
        return None
    return (value.replace(tzinfo=UTC) if value.tzinfo is None else value).isoformat()


def created_at_column() -> Mapped[datetime]:
    """A non-null timezone-aware creation time, set to now on insert."""
    return mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)


class InvalidTransition(Exception):
    """A move a record's state machine does not allow (an inspection, minutes revision,
    recommendation or late submission)."""

    def __init__(self, action: str, state: enum.StrEnum, what: str = "an inspection"):
        super().__init__(f"cannot {action} {what} that is {getattr(state, 'value', state)}")
        self.action = action
        self.state = state
        self.what = what


def next_state(transitions: dict, action: str, state: enum.StrEnum, what: str) -> enum.StrEnum:
    """The state `action` leads to from `state` in `transitions` (action -> (sources,
    target)); raises InvalidTransition when the move is not allowed."""
    sources, target = transitions[action]
    if state not in sources:
        raise InvalidTransition(action, state, what)
    return target
