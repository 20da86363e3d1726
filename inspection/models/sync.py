"""Sync bookkeeping: ops already applied (idempotency), the change feed, resumable uploads."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import created_at_column


class AppliedOp(db.Model):
    """Every op a device sent, by its client UUID, with the answer it got.

    A retry of the same op_id gets status "duplicate" and changes nothing.
    """

    __tablename__ = "applied_ops"

    op_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    device_id: Mapped[str] = mapped_column(String(100))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    inspection_id: Mapped[int | None] = mapped_column(ForeignKey("inspections.id"))
    type: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))
    result: Mapped[dict] = mapped_column(JSON)
    received_at: Mapped[datetime] = created_at_column()


class ChangeLog(db.Model):
    """The change feed: its id is the cursor devices pull from."""

    __tablename__ = "change_log"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"),
                                               index=True)
    kind: Mapped[str] = mapped_column(String(40))  # observation | photo | inspection
    payload: Mapped[dict] = mapped_column(JSON)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = created_at_column()


class Upload(db.Model):
    """A resumable (tus 1.0) upload in progress: a photo, or (meta kind "minutes-scan") the scan
    of minutes signed on paper."""

    __tablename__ = "uploads"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"))
    length: Mapped[int] = mapped_column(BigInteger)
    offset: Mapped[int] = mapped_column(BigInteger, default=0)
    meta: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = created_at_column()
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    photo_id: Mapped[int | None] = mapped_column(ForeignKey("photos.id"))
    # A self-assessment evidence file (metadata kind=evidence) once complete.
    evidence_id: Mapped[int | None] = mapped_column(
        ForeignKey("self_assessment_evidence.id", ondelete="SET NULL"))
