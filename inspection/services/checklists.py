"""Checklist versions in the database: import, publish, and choose one for an inspection."""
from __future__ import annotations

import hashlib
import json
from datetime import date

from sqlalchemy import select

from ..extensions import db
from ..models import AdminUnit, ChecklistItem, ChecklistSection, ChecklistTemplate, ChecklistVersion
from ..models.base import utcnow
from ..models.checklists import VersionStatus
from ..models.units import UnitLevel
from ..schemas.checklist import TemplateError, load_template_json, validate_template
from .errors import Conflict, NotFound, ValidationFailed

# Districts were abolished on 1/7/2025; communes since then work in the 2-level model.
TWO_LEVEL_FROM = date(2025, 7, 1)


def document_sha256(document: dict) -> str:
    """A stable fingerprint of a template document (canonical JSON)."""
    canonical = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def import_checklist(raw: bytes | str | dict, publish: bool = False) -> tuple[ChecklistVersion, bool]:
    """Validate a template document and store it as a new draft (or published) version.

    Returns (version, created). Importing the identical document again is a no-op; a different
    document under a published version number is refused, because published versions never change.
    """
    try:
        document = validate_template(raw) if isinstance(raw, dict) else load_template_json(raw)
    except TemplateError as exc:
        where = [e["path"] or "(document)" for e in exc.errors]
        raise ValidationFailed(
            "Mẫu danh mục không hợp lệ:\n" + "\n".join(
                f"{w}: {e.get('message_vi') or e['message']}" for w, e in zip(where, exc.errors)),
            "The checklist template is not valid:\n" + "\n".join(
                f"{w}: {e['message']}" for w, e in zip(where, exc.errors)),
            exc.errors) from exc
    digest = document_sha256(document)
    template = db.session.scalar(select(ChecklistTemplate).where(ChecklistTemplate.code == document["code"]))
    if template is None:
        template = ChecklistTemplate(code=document["code"])
        db.session.add(template)
    version = None if template.id is None else db.session.scalar(
        select(ChecklistVersion).where(ChecklistVersion.template_id == template.id,
                                       ChecklistVersion.version == document["version"]))
    if version is not None:
        if version.sha256 == digest:
            if publish and not version.is_published:
                publish_version(version)
            return version, False
        if version.is_published:
            raise Conflict(
                f"Phiên bản {document['version']} của mẫu {document['code']} đã ban hành, không sửa được; "
                "hãy đặt số phiên bản mới.",
                f"Version {document['version']} of {document['code']} is published and immutable; "
                "use a new version number.")
        db.session.delete(version)  # a draft may be replaced
        db.session.flush()
    template.title_vi = document["title_vi"]
    template.title_en = document["title_en"]
    template.unit_level = document["unit_level"]
    template.era = document["era"]
    version = ChecklistVersion(template=template, version=document["version"], document=document,
                               sha256=digest, status=VersionStatus.draft)
    db.session.add(version)
    position = 0
    for s_index, section_doc in enumerate(document["sections"]):
        section = ChecklistSection(version=version, code=section_doc["code"], position=s_index,
                                   title_vi=section_doc["title_vi"], title_en=section_doc["title_en"],
                                   max_points=section_doc.get("max_points"))
        db.session.add(section)
        for item_doc in section_doc["items"]:
            db.session.add(ChecklistItem(
                version=version, section=section, code=item_doc["code"], kind=item_doc["kind"],
                position=position, title_vi=item_doc["title_vi"], title_en=item_doc["title_en"],
                max_points=item_doc.get("max_points")))
            position += 1
    if publish:
        publish_version(version)
    db.session.flush()
    return version, True


def publish_version(version: ChecklistVersion) -> None:
    """Make a draft version usable for inspections; from now on it never changes."""
    if version.is_published:
        raise Conflict("Phiên bản này đã được ban hành.", "This version is already published.")
    version.status = VersionStatus.published
    version.published_at = utcnow()


def checklist_for(unit: AdminUnit, day: date) -> ChecklistVersion:
    """The newest published checklist that fits a unit's level and era on a day."""
    if unit.level == UnitLevel.province:
        raise ValidationFailed("Chưa có mẫu danh mục kiểm tra cho cấp tỉnh.",
                               "There is no checklist for provinces.")
    era = "2cap" if day >= TWO_LEVEL_FROM else "3cap"
    version = db.session.scalar(
        select(ChecklistVersion)
        .join(ChecklistTemplate)
        .where(ChecklistTemplate.unit_level == unit.level.value, ChecklistTemplate.era == era,
               ChecklistVersion.status == VersionStatus.published)
        .order_by(ChecklistVersion.published_at.desc(), ChecklistVersion.id.desc())
    )
    if version is None:
        raise NotFound(
            f"Chưa có mẫu danh mục đã ban hành cho {unit.full_name} ({unit.level.value}, {era}).",
            f"No published checklist for {unit.full_name} ({unit.level.value}, {era}).")
    return version
