"""Minutes (biên bản) revisions, their signatures and the scans of their wet-signed paper copies;
a signed revision is never rewritten, and a stored scan is never replaced."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import created_at_column, next_state
from .users import User


class MinutesStatus(enum.StrEnum):
    final = "final"  # compiled; being signed
    signed = "signed"  # every box signed
    superseded = "superseded"  # a newer revision was built, or the inspection reopened


# action -> (states it may start from, state it leads to)
MINUTES_TRANSITIONS: dict[str, tuple[frozenset[MinutesStatus], MinutesStatus]] = {
    "complete": (frozenset({MinutesStatus.final}), MinutesStatus.signed),
    "supersede": (frozenset({MinutesStatus.final, MinutesStatus.signed}), MinutesStatus.superseded),
}


class MinutesRevision(db.Model):
    """One compiled PDF of the minutes, for an inspection or a whole trip:
    ``final → signed``; either is superseded by the next build or a reopening."""

    __tablename__ = "minutes_revisions"
    __table_args__ = (UniqueConstraint("inspection_id", "trip_id", "revision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int | None] = mapped_column(ForeignKey("inspections.id"))
    trip_id: Mapped[int | None] = mapped_column(ForeignKey("trips.id"))
    revision: Mapped[int] = mapped_column(Integer)
    document_number: Mapped[str] = mapped_column(String(80))
    status: Mapped[MinutesStatus] = mapped_column(
        Enum(MinutesStatus, native_enum=False, length=20), default=MinutesStatus.final)
    sha256: Mapped[str] = mapped_column(String(64))  # of the unsigned final PDF
    signed_sha256: Mapped[str | None] = mapped_column(String(64))  # of the latest signed file
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()

    signatures: Mapped[list[Signature]] = relationship(
        back_populates="revision", order_by="Signature.id"
    )

    def can(self, action: str) -> bool:
        """Whether the state machine allows this action now."""
        return self.status in MINUTES_TRANSITIONS[action][0]

    def _move(self, action: str) -> None:
        self.status = next_state(MINUTES_TRANSITIONS, action, self.status, "minutes")

    @property
    def is_superseded(self) -> bool:
        """Whether a later revision replaced this one."""
        return self.status == MinutesStatus.superseded

    def mark_signed(self) -> None:
        """final → signed: the last box was signed."""
        self._move("complete")

    def supersede(self) -> None:
        """final or signed → superseded: a newer revision replaces it, or the inspection was
        reopened."""
        self._move("supersede")


class Signature(db.Model):
    __tablename__ = "signatures"

    id: Mapped[int] = mapped_column(primary_key=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("minutes_revisions.id"))
    signer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    role: Mapped[str] = mapped_column(String(20))  # leader | unitrep
    signed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    certificate_subject: Mapped[str] = mapped_column(String(500))
    certificate_sha256: Mapped[str] = mapped_column(String(64))
    file_sha256: Mapped[str] = mapped_column(String(64))

    revision: Mapped[MinutesRevision] = relationship(back_populates="signatures")
    signer: Mapped[User] = relationship()


class PaperMinutes(db.Model):
    """The scan of a printed, wet-signed and stamped copy of one minutes revision (the paper
    fallback), stored by SHA-256 as one PDF. Each upload is its own row: a later scan is a new
    record beside the earlier ones, never a replacement."""

    __tablename__ = "paper_minutes"

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id"), index=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("minutes_revisions.id"))
    sha256: Mapped[str] = mapped_column(String(64))  # of the stored PDF
    size: Mapped[int] = mapped_column(BigInteger)
    pages: Mapped[int] = mapped_column(Integer)
    source_type: Mapped[str] = mapped_column(String(50))  # what was sent: PDF, JPEG or PNG
    dpi: Mapped[float] = mapped_column(Float)  # the lowest resolution measured on a page
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()

    revision: Mapped[MinutesRevision] = relationship()
    uploaded_by: Mapped[User] = relationship()
