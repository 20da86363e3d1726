"""Column helpers shared by the models."""
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


def created_at_column() -> Mapped[datetime]:
    """A non-null timezone-aware creation time, set to now on insert."""
    return mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
