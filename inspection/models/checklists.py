"""Checklist templates, their immutable published versions, sections and items."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
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
from .base import created_at_column


class VersionStatus(enum.StrEnum):
    draft = "draft"
    published = "published"


class ChecklistTemplate(db.Model):
    """A named checklist (e.g. commune, 2-level model) that exists in successive versions."""

    __tablename__ = "checklist_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(80), unique=True)
    title_vi: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    unit_level: Mapped[str] = mapped_column(String(20))  # district | commune
    era: Mapped[str] = mapped_column(String(10))  # 3cap | 2cap

    versions: Mapped[list[ChecklistVersion]] = relationship(
        back_populates="template", order_by="ChecklistVersion.id"
    )


class ChecklistVersion(db.Model):
    """One version of a template; the JSON document is the source of truth and never changes
    once published, so an inspection scored today scores the same in ten years."""

    __tablename__ = "checklist_versions"
    __table_args__ = (UniqueConstraint("template_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("checklist_templates.id"))
    version: Mapped[str] = mapped_column(String(40))
    status: Mapped[VersionStatus] = mapped_column(
        Enum(VersionStatus, native_enum=False, length=20), default=VersionStatus.draft
    )
    document: Mapped[dict] = mapped_column(JSON)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = created_at_column()
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The published version this one extends (document["extends"]); kept so a base version
    # cannot disappear under its extensions.
    base_version_id: Mapped[int | None] = mapped_column(ForeignKey("checklist_versions.id"))

    template: Mapped[ChecklistTemplate] = relationship(back_populates="versions")
    base_version: Mapped[ChecklistVersion | None] = relationship(remote_side=[id])
    sections: Mapped[list[ChecklistSection]] = relationship(
        back_populates="version", order_by="ChecklistSection.position", cascade="all, delete-orphan"
    )
    items: Mapped[list[ChecklistItem]] = relationship(
        back_populates="version", order_by="ChecklistItem.position", cascade="all, delete-orphan"
    )

    @property
    def is_published(self) -> bool:
        """Whether the version is published (usable for new inspections)."""
        return self.status == VersionStatus.published

    def document_items(self) -> list[dict]:
        """Every item of the document, in checklist order."""
        return [item for section in self.document["sections"] for item in section["items"]]


class ChecklistSection(db.Model):
    __tablename__ = "checklist_sections"
    __table_args__ = (UniqueConstraint("version_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("checklist_versions.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(Integer)
    title_vi: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    max_points: Mapped[float | None] = mapped_column(Float)

    version: Mapped[ChecklistVersion] = relationship(back_populates="sections")
    items: Mapped[list[ChecklistItem]] = relationship(
        back_populates="section", order_by="ChecklistItem.position"
    )


class ChecklistItem(db.Model):
    """One criterion; observations refer to it by its stable code (TTHC.25)."""

    __tablename__ = "checklist_items"
    __table_args__ = (UniqueConstraint("version_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("checklist_versions.id", ondelete="CASCADE"))
    section_id: Mapped[int] = mapped_column(ForeignKey("checklist_sections.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(Integer)
    title_vi: Mapped[str] = mapped_column(String(500))
    title_en: Mapped[str] = mapped_column(String(500))
    max_points: Mapped[float | None] = mapped_column(Float)

    version: Mapped[ChecklistVersion] = relationship(back_populates="items")
    section: Mapped[ChecklistSection] = relationship(back_populates="items")


class UploadStatus(enum.StrEnum):
    imported = "imported"
    refused = "refused"


class ChecklistUpload(db.Model):
    """A checklist file someone uploaded on the admin pages, kept with what became of it: the
    version it was imported as, or every problem that refused it. A refused file is kept, so
    nothing the secretariat sent is lost and the problems can be read again later."""

    __tablename__ = "checklist_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))  # of the bytes in the media store
    size: Mapped[int] = mapped_column(Integer)
    file_format: Mapped[str] = mapped_column(String(10))  # xlsx | json | other
    status: Mapped[UploadStatus] = mapped_column(Enum(UploadStatus, native_enum=False, length=20))
    problems: Mapped[list] = mapped_column(JSON, default=list)
    version_id: Mapped[int | None] = mapped_column(
        ForeignKey("checklist_versions.id", ondelete="SET NULL"))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = created_at_column()

    version: Mapped[ChecklistVersion | None] = relationship()
