"""Minutes (biên bản) revisions and their signatures; a signed revision is never rewritten."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import created_at_column
from .users import User


class MinutesRevision(db.Model):
    """One compiled PDF of the minutes, for an inspection or a whole trip."""

    __tablename__ = "minutes_revisions"
    __table_args__ = (UniqueConstraint("inspection_id", "trip_id", "revision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int | None] = mapped_column(ForeignKey("inspections.id"))
    trip_id: Mapped[int | None] = mapped_column(ForeignKey("trips.id"))
    revision: Mapped[int] = mapped_column(Integer)
    document_number: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(20), default="final")  # final | signed | superseded
    sha256: Mapped[str] = mapped_column(String(64))  # of the unsigned final PDF
    signed_sha256: Mapped[str | None] = mapped_column(String(64))  # of the latest signed file
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()

    signatures: Mapped[list[Signature]] = relationship(
        back_populates="revision", order_by="Signature.id"
    )


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
