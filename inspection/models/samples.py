"""Samples of repeat groups: one record per sampled dossier (or procedure, meeting …)."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import created_at_column, utcnow


class Sample(db.Model):
    """One sample of a repeat group of an inspection, made on a device under a client UUID.

    ``values`` holds the group's fields by code (``{"HS.TRA": "2025-08-15"}``); like an
    observation, ``field_versions`` records per field the version at which it last changed and
    its writers (``"<user id>:<device id>"``), so edits merge field by field. A deletion is a
    tombstone (``deleted_at``): the sample keeps its id, values and versions, so a late edit
    cannot bring it back unnoticed (DESIGN §4, "Samples of repeat groups").
    """

    __tablename__ = "samples"
    __table_args__ = (UniqueConstraint("inspection_id", "client_uuid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"),
                                               index=True)
    group_code: Mapped[str] = mapped_column(String(40))
    client_uuid: Mapped[uuid.UUID] = mapped_column(Uuid)
    values: Mapped[dict] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)
    field_versions: Mapped[dict] = mapped_column(JSON, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    @property
    def deleted(self) -> bool:
        """Whether the sample is a tombstone."""
        return self.deleted_at is not None

    def delete(self, by_id: int | None) -> None:
        """Make the sample a tombstone (its values and versions stay)."""
        self.version += 1
        self.deleted_at = utcnow()
        self.deleted_by_id = by_id
        self.updated_by_id = by_id
        self.updated_at = self.deleted_at

    def restore(self, by_id: int | None) -> None:
        """The leader took an edit over a deletion: the sample counts again."""
        self.version += 1
        self.deleted_at = None
        self.deleted_by_id = None
        self.updated_by_id = by_id
        self.updated_at = utcnow()
