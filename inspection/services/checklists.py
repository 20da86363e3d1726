"""Checklist versions in the database: import (JSON or XLSX), export, publish, and choose one
for an inspection; uploads from the admin pages are kept with their problems."""
from __future__ import annotations

import hashlib
import json
from datetime import date

from sqlalchemy import select

from ..checklists import spreadsheet
from ..checklists.extension import extension_problems
from ..checklists.format import TemplateError, load_template_json, validate_template
from ..errors import Conflict, NotFound, ValidationFailed
from ..extensions import db
from ..models import (
    AdminUnit,
    ChecklistItem,
    ChecklistSection,
    ChecklistTemplate,
    ChecklistUpload,
    ChecklistVersion,
    User,
)
from ..models.base import utcnow
from ..models.checklists import UploadStatus, VersionStatus
from ..models.units import UnitLevel
from . import audit
from .storage import get_storage
from .text import find_bad_text

# Districts were abolished on 1/7/2025; communes since then work in the 2-level model.
TWO_LEVEL_FROM = date(2025, 7, 1)
MAX_FILE_BYTES = spreadsheet.MAX_BYTES  # 5 MB, for JSON and XLSX alike
XLSX_TYPE = spreadsheet.XLSX_TYPE


def document_sha256(document: dict) -> str:
    """A stable fingerprint of a template document (canonical JSON)."""
    canonical = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def file_format(raw: bytes) -> str:
    """"xlsx" for a ZIP (what an XLSX file is), "json" for text that opens an object, else
    "other" (the XLSX reader then says what the file is instead)."""
    if raw.startswith(b"PK"):
        return "xlsx"
    head = raw[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    return "json" if head.startswith(b"{") else "other"


def _refused(problems: list[dict]) -> ValidationFailed:
    """Every problem of a file, in one error: one line each, in both languages."""
    count_vi = f"{len(problems)} lỗi" if len(problems) != 1 else "1 lỗi"
    count_en = f"{len(problems)} problems" if len(problems) != 1 else "1 problem"
    return ValidationFailed(
        f"Mẫu danh mục không hợp lệ ({count_vi}); chưa nhập gì:\n"
        + "\n".join(spreadsheet.describe(p, "vi") for p in problems),
        f"The checklist template is not valid ({count_en}); nothing was imported:\n"
        + "\n".join(spreadsheet.describe(p, "en") for p in problems),
        problems)


def read_checklist(raw: bytes | str | dict) -> tuple[dict, spreadsheet.Reading | None]:
    """A validated template document from a dict, JSON text or an XLSX workbook, with where its
    parts came from in the workbook; raises ValidationFailed listing every problem."""
    if isinstance(raw, dict):
        try:
            return _clean_text(validate_template(raw)), None
        except TemplateError as exc:
            raise _refused(exc.errors) from exc
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    if len(raw) > MAX_FILE_BYTES:  # what was read may stop just past the limit
        raise _refused([{"path": "", "message": spreadsheet.TOO_BIG_EN,
                         "message_vi": spreadsheet.TOO_BIG_VI}])
    if file_format(raw) == "json":
        try:
            return _clean_text(load_template_json(raw)), None
        except TemplateError as exc:
            raise _refused(exc.errors) from exc
    reading = spreadsheet.read_workbook(raw)
    problems = list(reading.problems)
    document: dict = {}
    if not reading.blocked:  # every sheet, column and setting there: the schema can judge
        try:
            document = validate_template(reading.document)
        except TemplateError as exc:
            problems = spreadsheet.without_repeats(problems,
                                                   spreadsheet.located(exc.errors, reading))
    if problems:
        raise _refused([{k: v for k, v in p.items() if k != "structure"} for p in problems])
    return _clean_text(document), reading


def _clean_text(document: dict) -> dict:
    """Refuse a template whose text holds unpaired surrogates or noncharacters (the text rule,
    services/text.py), naming each place."""
    bad = list(find_bad_text(document))
    if bad:
        raise _refused([{"path": path, "message": f"invalid character U+{ord(c):04X}",
                         "message_vi": f"ký tự không hợp lệ U+{ord(c):04X}"} for path, c in bad])
    return document


def base_version_of(document: dict,
                    reading: spreadsheet.Reading | None) -> ChecklistVersion | None:
    """The published version a document extends; refused with the places of every change it
    makes to its base."""
    extends = document.get("extends")
    if extends is None:
        return None
    base = db.session.scalar(
        select(ChecklistVersion).join(ChecklistTemplate)
        .where(ChecklistTemplate.code == extends["code"],
               ChecklistVersion.version == extends["version"]))
    if base is None or not base.is_published:
        state = "does not exist" if base is None else "is not published yet"
        state_vi = "không có" if base is None else "chưa ban hành"
        raise _refused(spreadsheet.located([{
            "path": "extends",
            "message": f"The base version {extends['code']} {extends['version']} {state}: "
                       f"only a published version can be extended.",
            "message_vi": f"Phiên bản gốc {extends['code']} {extends['version']} {state_vi}: "
                          f"chỉ kế thừa được phiên bản đã ban hành."}], reading))
    problems = extension_problems(document, base.document)
    if problems:
        raise _refused(spreadsheet.located(problems, reading))
    return base


def import_checklist(raw: bytes | str | dict, publish: bool = False, *,
                     by: User | None = None,
                     audited: bool = True) -> tuple[ChecklistVersion, bool]:
    """Validate a template (a dict, JSON, or an XLSX workbook) and store it as a new draft (or
    published) version.

    Returns (version, created). Importing the identical document again is a no-op; a different
    document under a published version number is refused, because published versions never
    change. Every check runs before anything is written, so a refused file leaves nothing
    behind. ``audited=False``: the caller records the event (a new draft made in the editor).
    """
    document, reading = read_checklist(raw)
    base = base_version_of(document, reading)
    digest = document_sha256(document)
    template = db.session.scalar(
        select(ChecklistTemplate).where(ChecklistTemplate.code == document["code"]))
    version = None if template is None else db.session.scalar(
        select(ChecklistVersion).where(ChecklistVersion.template_id == template.id,
                                       ChecklistVersion.version == document["version"]))
    if version is not None:
        if version.sha256 == digest:
            if publish and not version.is_published:
                publish_version(version, by=by)
            return version, False
        if version.is_published:
            raise Conflict(
                f"Phiên bản {document['version']} của mẫu {document['code']} đã ban hành, "
                "không sửa được; hãy đặt số phiên bản mới.",
                f"Version {document['version']} of {document['code']} is published and "
                "immutable; use a new version number.")
        db.session.delete(version)  # a draft may be replaced
        db.session.flush()
    if template is None:
        template = ChecklistTemplate(code=document["code"])
        db.session.add(template)
    template.title_vi = document["title_vi"]
    template.title_en = document["title_en"]
    template.unit_level = document["unit_level"]
    template.era = document["era"]
    version = ChecklistVersion(template=template, version=document["version"], document=document,
                               sha256=digest, status=VersionStatus.draft, base_version=base)
    db.session.add(version)
    replace_rows(version, document)
    if audited:
        audit.record("checklist.import", version, by, code=document["code"],
                     version=document["version"], sha256=digest,
                     base=None if base is None else base.id)
    if publish:
        publish_version(version, by=by)
    db.session.flush()
    return version, True


def replace_rows(version: ChecklistVersion, document: dict) -> None:
    """The version's section and item rows (which the API and sync read) as the document has
    them, replacing any it had."""
    if version.sections or version.items:
        version.items.clear()
        version.sections.clear()
        db.session.flush()  # the old codes go before the same codes come back
    position = 0
    for s_index, section_doc in enumerate(document["sections"]):
        section = ChecklistSection(version=version, code=section_doc["code"], position=s_index,
                                   title_vi=section_doc["title_vi"],
                                   title_en=section_doc["title_en"],
                                   max_points=section_doc.get("max_points"))
        db.session.add(section)
        for item_doc in section_doc["items"]:
            db.session.add(ChecklistItem(
                version=version, section=section, code=item_doc["code"], kind=item_doc["kind"],
                position=position, title_vi=item_doc["title_vi"], title_en=item_doc["title_en"],
                max_points=item_doc.get("max_points")))
            position += 1
    db.session.flush()


def export_workbook(version: ChecklistVersion) -> bytes:
    """A version as an XLSX workbook that imports back to the same document."""
    try:
        return spreadsheet.write_workbook(version.document)
    except spreadsheet.SpreadsheetError as exc:
        raise _refused(exc.errors) from exc


def workbook_filename(version: ChecklistVersion) -> str:
    """The download name of a version's workbook: code and version, safe on every system."""
    safe = "".join(ch if ch.isalnum() or ch in "-." else "-" for ch in version.version)
    return f"{version.template.code}-{safe}.xlsx"


def upload_checklist(raw: bytes, filename: str, by: User) -> ChecklistUpload:
    """Import a file uploaded on the admin pages, keeping the file and its outcome either way.

    The upload row and the file are written whatever happens; the version only when the file
    is valid (the import runs in a savepoint, so a refusal leaves no part of it). A file over
    the size limit is not kept: only its name and size are.
    """
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()[:200] or "(không tên)"
    kept = len(raw) <= MAX_FILE_BYTES
    digest = get_storage().put_bytes(raw) if kept else hashlib.sha256(raw).hexdigest()
    upload = ChecklistUpload(filename=name, sha256=digest, size=len(raw),
                             file_format=file_format(raw), uploaded_by_id=by.id,
                             status=UploadStatus.refused, problems=[])
    try:
        with db.session.begin_nested():
            version, created = import_checklist(raw, by=by)
    except (ValidationFailed, Conflict) as exc:
        upload.problems = exc.errors or [{"path": "", "message": exc.message_en,
                                          "message_vi": exc.message_vi}]
    else:
        upload.status, upload.version = UploadStatus.imported, version
        upload.problems = [] if created else [{
            "path": "", "message": "This version was already imported with the same content.",
            "message_vi": "Phiên bản này đã có với cùng nội dung, không thay đổi."}]
    db.session.add(upload)
    db.session.flush()
    audit.record(f"checklist.upload_{upload.status.value}", upload, by, filename=name,
                 sha256=digest, problems=len(upload.problems))
    return upload


def kept_upload_bytes(upload: ChecklistUpload) -> bytes:
    """The bytes of a kept upload; NotFound when it was too big to keep."""
    storage = get_storage()
    if upload.size > MAX_FILE_BYTES or not storage.exists(upload.sha256):
        raise NotFound("Tệp này không được lưu (quá 5 MB).", "This file was not kept (over 5 MB).")
    with storage.open(upload.sha256) as f:
        return f.read()


def publish_version(version: ChecklistVersion, *, by: User | None = None) -> None:
    """Make a draft version usable for inspections; from now on it never changes."""
    if version.is_published:
        raise Conflict("Phiên bản này đã được ban hành.", "This version is already published.")
    version.status = VersionStatus.published
    version.published_at = utcnow()
    audit.record("checklist.publish", version, by, code=version.template.code,
                 version=version.version)


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
