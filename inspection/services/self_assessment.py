"""The unit's self-assessment before the visit (tự đánh giá): claims per criterion, evidence
files (tài liệu kiểm chứng), submission and withdrawal, the self-score, and the explanations
(giải trình) the leader asks for afterwards.

Who: the unit's representatives write; the trip's team and leaders, and admins, read; anyone
else gets the same 404 as for an inspection that does not exist. When: claims change while the
self-assessment is a draft or withdrawn, the visit has not started (the inspection is planned)
and the trip's deadline (``Trip.self_assessment_due``, a day in Vietnam) has not passed.

Evidence arrives through the tus uploads (``/api/v1/uploads`` with metadata ``kind=evidence``):
the bytes are checked by their content (PDF, JPEG/PNG/WebP, Word/Excel — OOXML or the older
binary formats — and OpenDocument), at most ``MAX_EVIDENCE_BYTES``, and kept once by SHA-256 in
the content-addressed store.
"""
from __future__ import annotations

import io
import os
import unicodedata
import uuid
import zipfile
from datetime import datetime

from flask import current_app
from PIL import Image, UnidentifiedImageError
from sqlalchemy import select, update

from ..checklists.scoring import evaluate, unit_facts
from ..errors import Conflict, NotFound, PermissionDenied, ServiceError, ValidationFailed
from ..extensions import db
from ..localtime import VIETNAM_TZ
from ..models import (
    Inspection,
    InspectionState,
    Role,
    SelfAssessment,
    SelfAssessmentClaim,
    SelfAssessmentEvidence,
    SelfAssessmentExplanation,
    SelfAssessmentState,
    Upload,
    User,
)
from ..models.base import MAX_ID, iso_utc, utcnow
from . import audit
from .observations import FieldError, clean_fields, item_for
from .storage import get_storage, sha256_of_file
from .text import bad_character, clean_text

DEFAULT_MAX_EVIDENCE_BYTES = 20 * 1024 * 1024
TEXT_LIMIT = 10_000
MAX_EVIDENCE_PER_CLAIM = 50
SCORING_FIELDS = ("result", "points", "value", "text")
IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
OOXML = {"word/": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
         "xl/": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
ODF = {"application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.spreadsheet",
       "application/vnd.oasis.opendocument.presentation"}
OLE_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")
OLE_BY_EXTENSION = {".doc": "application/msword", ".xls": "application/vnd.ms-excel"}
ACCEPTED_VI = "PDF, ảnh (JPEG, PNG, WebP), Word, Excel hoặc OpenDocument"
ACCEPTED_EN = "PDF, images (JPEG, PNG, WebP), Word, Excel or OpenDocument"


def max_evidence_bytes() -> int:
    """The largest evidence file accepted, in bytes (config MAX_EVIDENCE_BYTES)."""
    return int(current_app.config.get("MAX_EVIDENCE_BYTES", DEFAULT_MAX_EVIDENCE_BYTES))


class EvidenceTooLarge(ServiceError):
    status = 413
    code = "too_large"


class InvalidEvidence(ServiceError):
    status = 422
    code = "invalid_file"


class EvidenceChecksumMismatch(ServiceError):
    status = 460
    code = "checksum_mismatch"


# ---------------------------------------------------------------------------------------------
# Who may do what


def is_representative(user: User, inspection: Inspection) -> bool:
    """Whether the user speaks for the inspected unit (writes its self-assessment)."""
    return user.role == Role.unitrep and user.unit_id == inspection.unit_id


def may_read(user: User, inspection: Inspection) -> bool:
    """The unit's representatives, the trip's team (leaders included) and admins."""
    return (user.role == Role.admin or is_representative(user, inspection)
            or (user.role in (Role.leader, Role.inspector)
                and inspection.trip.role_of(user) is not None))


def readable_inspection(user: User, inspection_id: int) -> Inspection:
    """The inspection whose self-assessment the user may read; otherwise the same 404 as for an
    inspection that does not exist."""
    inspection = db.session.get(Inspection, inspection_id) if 0 < inspection_id <= MAX_ID else None
    if inspection is None or not may_read(user, inspection):
        raise NotFound("Không tìm thấy cuộc kiểm tra.", "Inspection not found.")
    return inspection


def deadline_passed(inspection: Inspection, now: datetime | None = None) -> bool:
    """Whether the trip's self-assessment deadline (a day in Vietnam) is over."""
    due = inspection.trip.self_assessment_due
    if due is None:
        return False
    return (now or utcnow()).astimezone(VIETNAM_TZ).date() > due


def _refuse_unless_open(inspection: Inspection, assessment: SelfAssessment | None,
                        editing: bool = True) -> None:
    if inspection.state != InspectionState.planned:
        raise Conflict("Đoàn kiểm tra đã bắt đầu làm việc tại đơn vị: không sửa tự đánh giá được "
                       "nữa.", "The visit has started: the self-assessment can no longer change.")
    if editing and assessment is not None and not assessment.editable:
        raise Conflict("Tự đánh giá đã nộp: hãy rút lại trước khi sửa.",
                       "The self-assessment is submitted: withdraw it before changing it.")
    if deadline_passed(inspection):
        due = inspection.trip.self_assessment_due
        raise Conflict(f"Đã quá hạn nộp tự đánh giá ({due:%d/%m/%Y}).",
                       f"The self-assessment deadline ({due.isoformat()}) has passed.")


def _writable(user: User, inspection: Inspection, editing: bool = True) -> SelfAssessment:
    """The self-assessment the representative may change now (created on first use)."""
    if not is_representative(user, inspection):
        raise PermissionDenied("Chỉ người đại diện của đơn vị mới được tự đánh giá.",
                               "Only the unit's representatives may write its self-assessment.")
    assessment = assessment_of(inspection)
    _refuse_unless_open(inspection, assessment, editing)
    if assessment is None:
        assessment = SelfAssessment(inspection=inspection, state=SelfAssessmentState.draft)
        db.session.add(assessment)
        db.session.flush()
    return assessment


def assessment_of(inspection: Inspection) -> SelfAssessment | None:
    """The inspection's self-assessment, if the unit began one."""
    return db.session.scalar(select(SelfAssessment)
                             .where(SelfAssessment.inspection_id == inspection.id))


def submitted_assessment(inspection: Inspection) -> SelfAssessment | None:
    """The self-assessment the team works with: only a submitted one."""
    assessment = assessment_of(inspection)
    return assessment if assessment and assessment.state == SelfAssessmentState.submitted else None


# ---------------------------------------------------------------------------------------------
# Reading


def claims_as_observations(assessment: SelfAssessment) -> dict[str, dict]:
    """The claims as scoring reads observations."""
    return {c.item_code: {name: getattr(c, name) for name in SCORING_FIELDS}
            for c in assessment.claims}


def score_of(inspection: Inspection, assessment: SelfAssessment | None) -> dict:
    """The self-score: the same scoring and rules as the appraisal, over the claims."""
    claims = claims_as_observations(assessment) if assessment is not None else {}
    score = evaluate(inspection.checklist_version.document, claims,
                     unit=unit_facts(inspection.unit))["score"]
    return {"total": score["total"], "max": score["max"], "percent": score["percent"]}


def self_score(inspection: Inspection) -> dict | None:
    """The submitted self-assessment's score (None when nothing was submitted)."""
    assessment = submitted_assessment(inspection)
    return score_of(inspection, assessment) if assessment is not None else None


def evidence_data(evidence: SelfAssessmentEvidence) -> dict:
    """An evidence file's metadata (the API adds its URL)."""
    return {"id": evidence.id, "name": evidence.filename, "content_type": evidence.content_type,
            "size": evidence.size, "sha256": evidence.sha256}


def explanation_data(explanation: SelfAssessmentExplanation | None,
                     files: dict[int, SelfAssessmentEvidence]) -> dict | None:
    """The explanation thread of a criterion: the leader's request and the unit's answer."""
    if explanation is None:
        return None
    return {"question": explanation.question, "asked_at": iso_utc(explanation.asked_at),
            "asked_by": explanation.asked_by_id, "answer": explanation.answer,
            "answered_at": iso_utc(explanation.answered_at),
            "evidence": [evidence_data(files[i]) for i in explanation.answer_evidence_ids or []
                         if i in files]}


def view(user: User, inspection: Inspection) -> dict:
    """The self-assessment as the API shows it. The team and admins see the claims once they
    are submitted; the representatives see their draft too."""
    assessment = assessment_of(inspection)
    shown = assessment if assessment is not None and (
        is_representative(user, inspection)
        or assessment.state == SelfAssessmentState.submitted) else None
    files = {e.id: e for e in assessment.evidence} if assessment is not None else {}
    explanations = {e.item_code: e for e in assessment.explanations} if assessment else {}
    items = []
    for claim in shown.claims if shown is not None else []:
        items.append({
            "item_code": claim.item_code,
            **{name: getattr(claim, name) for name in SelfAssessmentClaim.FIELDS},
            "evidence": [evidence_data(files[i]) for i in claim.evidence_ids or [] if i in files],
            "explanation_request": explanation_data(explanations.get(claim.item_code), files),
        })
    return {
        "state": (assessment.state if assessment else SelfAssessmentState.draft).value,
        "submitted_at": iso_utc(assessment.submitted_at) if assessment else None,
        "deadline": (inspection.trip.self_assessment_due.isoformat()
                     if inspection.trip.self_assessment_due else None),
        "items": items,
        "score": score_of(inspection, shown),
    }


# ---------------------------------------------------------------------------------------------
# Writing claims


def _clean_text_field(name: str, value) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise FieldError(f"'{name}' phải là chuỗi ký tự", f"'{name}' must be text")
    if len(value) > TEXT_LIMIT:
        raise FieldError(f"'{name}' dài quá {TEXT_LIMIT} ký tự",
                         f"'{name}' is over {TEXT_LIMIT} characters")
    if (bad := bad_character(value)) is not None:
        raise FieldError(f"'{name}' chứa ký tự không hợp lệ U+{ord(bad):04X}",
                         f"'{name}' holds an invalid character U+{ord(bad):04X}")
    return clean_text(value).strip() or None


def _own_evidence(assessment: SelfAssessment, ids: list[int]) -> list[int]:
    """The ids in order, once each; an id that is not this self-assessment's file is 404."""
    ids = list(dict.fromkeys(ids))
    if len(ids) > MAX_EVIDENCE_PER_CLAIM:
        raise ValidationFailed(f"Tối đa {MAX_EVIDENCE_PER_CLAIM} tệp kiểm chứng cho một tiêu chí.",
                               f"At most {MAX_EVIDENCE_PER_CLAIM} evidence files per criterion.",
                               {"evidence": ["too many"]})
    own = {e.id for e in assessment.evidence}
    if any(i not in own for i in ids):
        raise NotFound("Không tìm thấy tệp kiểm chứng.", "Evidence file not found.")
    return ids


def save_claim(user: User, inspection: Inspection, item_code: str, fields: dict,
               evidence_ids: list[int]) -> SelfAssessmentClaim | None:
    """Set the unit's claim for one criterion (the fields given replace the claim's; an empty
    claim without evidence is removed; returns the claim or None). Flushes."""
    assessment = _writable(user, inspection)
    item = item_for(inspection, item_code)
    if item is None:
        raise ValidationFailed(f"Không có tiêu chí '{item_code[:40]}' trong danh mục của cuộc "
                               "kiểm tra.", f"There is no criterion '{item_code[:40]}' in this "
                               "inspection's checklist.", {"item_code": ["unknown"]})
    try:
        scoring = clean_fields(item, {k: fields.get(k) for k in SCORING_FIELDS})
        words = {k: _clean_text_field(k, fields.get(k)) for k in ("note", "explanation")}
    except FieldError as exc:
        raise ValidationFailed(f"Tiêu chí {item.code}: {exc}",
                               f"Criterion {item.code}: {exc.message('en')}") from exc
    ids = _own_evidence(assessment, evidence_ids)
    values = {**scoring, **words}
    claim = next((c for c in assessment.claims if c.item_code == item.code), None)
    if all(v is None for v in values.values()) and not ids:
        if claim is not None:
            assessment.claims.remove(claim)
        claim = None
    else:
        if claim is None:
            claim = SelfAssessmentClaim(item_code=item.code, evidence_ids=[])
            assessment.claims.append(claim)
        for name, value in values.items():
            setattr(claim, name, value)
        claim.evidence_ids = ids
        claim.updated_by_id = user.id
        claim.updated_at = utcnow()
    assessment.updated_at = utcnow()
    db.session.flush()
    return claim


def submit(user: User, inspection: Inspection) -> SelfAssessment:
    """Hand the self-assessment to the team (by the deadline, before the visit)."""
    assessment = _writable(user, inspection)
    if not assessment.claims:
        raise ValidationFailed("Chưa tự đánh giá tiêu chí nào: chưa nộp được.",
                               "No criterion is self-assessed yet: nothing to submit.")
    assessment.submit(user)
    db.session.flush()
    audit.record("self_assessment.submit", assessment, user, inspection_id=inspection.id,
                 claims=len(assessment.claims))
    return assessment


def withdraw(user: User, inspection: Inspection) -> SelfAssessment:
    """Take a submitted self-assessment back to correct it (before the visit, by the deadline)."""
    assessment = _writable(user, inspection, editing=False)
    if not assessment.can("withdraw"):
        raise Conflict("Tự đánh giá chưa nộp nên không có gì để rút lại.",
                       "The self-assessment is not submitted: there is nothing to withdraw.")
    assessment.withdraw()
    db.session.flush()
    audit.record("self_assessment.withdraw", assessment, user, inspection_id=inspection.id)
    return assessment


# ---------------------------------------------------------------------------------------------
# Evidence files


def _clean_name(raw: str) -> str:
    name = unicodedata.normalize("NFC", clean_text(raw or "")).replace("/", "_").replace("\\", "_")
    name = " ".join(name.split())[:255]
    return name or "tai-lieu"


def sniff_type(path, filename: str) -> str | None:
    """The file's type by its content (None when it is none of the accepted kinds)."""
    with open(path, "rb") as f:
        head = f.read(16)
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(OLE_SIGNATURE):
        return OLE_BY_EXTENSION.get(os.path.splitext(filename.lower())[1])
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
                if "mimetype" in names:
                    kind = archive.read("mimetype")[:100].decode("ascii", "replace").strip()
                    return kind if kind in ODF else None
                if "[Content_Types].xml" in names:
                    for prefix, kind in OOXML.items():
                        if any(n.startswith(prefix) for n in names):
                            return kind
        except (zipfile.BadZipFile, OSError, KeyError, ValueError):
            return None
        return None
    try:
        with Image.open(path) as im:
            kind = IMAGE_TYPES.get(im.format or "")
            if kind is not None:
                im.verify()
            return kind
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None


def _part_path(upload_id) -> os.PathLike:
    return get_storage().uploads_dir / f"{upload_id}.part"


def create_evidence_upload(user: User, length: int | None,
                           meta: dict[str, str]) -> tuple[Upload, SelfAssessmentEvidence | None]:
    """Start a tus upload of an evidence file (metadata: inspection_id, sha256, filename).
    A file this self-assessment already holds (same SHA-256) is not sent again: the upload comes
    back completed, pointing at it."""
    limit = max_evidence_bytes()
    if length is None or length < 1:
        raise ValidationFailed("Cần tiêu đề Upload-Length (số byte của tệp, lớn hơn 0).",
                               "Upload-Length (the file size in bytes, above 0) is required.",
                               {"Upload-Length": ["required"]})
    if length > limit:
        raise EvidenceTooLarge(
            f"Tệp quá lớn: {length:,} byte (tối đa {limit:,}).".replace(",", "."),
            f"The file is too large: {length:,} bytes (at most {limit:,}).")
    raw_id = meta.get("inspection_id", "").strip()
    if not (raw_id.isascii() and raw_id.isdigit() and len(raw_id) <= 10):
        raise ValidationFailed("Cần inspection_id trong Upload-Metadata.",
                               "inspection_id is required in Upload-Metadata.",
                               {"inspection_id": ["required"]})
    inspection = readable_inspection(user, int(raw_id))
    assessment = _writable(user, inspection)
    errors = {k: ["invalid character"] for k, v in meta.items() if bad_character(v) is not None}
    sha = meta.get("sha256", "").strip().lower()
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        errors["sha256"] = ["Cần sha256 (64 chữ số hex) của toàn bộ tệp."]
    if errors:
        raise ValidationFailed("Thông tin kèm tệp (Upload-Metadata) không hợp lệ.",
                               "The file's metadata (Upload-Metadata) is not valid.", errors)
    cleaned = {"kind": "evidence", "sha256": sha,
               "filename": _clean_name(meta.get("filename", ""))}
    existing = next((e for e in assessment.evidence if e.sha256 == sha), None)
    if existing is not None:
        upload = Upload(id=uuid.uuid4(), user_id=user.id, inspection_id=inspection.id,
                        length=existing.size, offset=existing.size, meta=cleaned,
                        completed_at=utcnow(), evidence_id=existing.id)
        db.session.add(upload)
        db.session.flush()
        return upload, existing
    upload = Upload(id=uuid.uuid4(), user_id=user.id, inspection_id=inspection.id, length=length,
                    offset=0, meta=cleaned)
    db.session.add(upload)
    db.session.flush()
    _part_path(upload.id).touch()
    return upload, None


def _drop_upload(upload_id) -> None:
    try:
        os.unlink(_part_path(upload_id))
    except FileNotFoundError:
        pass
    db.session.execute(Upload.__table__.delete().where(Upload.__table__.c.id == upload_id))


def complete_evidence_upload(upload_id, user: User, meta: dict,
                             length: int) -> SelfAssessmentEvidence:
    """All bytes are in: check the SHA-256 and the type by content, store the file once and
    record it. A mismatch restarts the upload at 0; a refused type drops it (nothing stored)."""
    path = _part_path(upload_id)
    if sha256_of_file(path) != meta.get("sha256"):
        os.truncate(path, 0)
        db.session.execute(update(Upload).where(Upload.id == upload_id).values(offset=0)
                           .execution_options(synchronize_session=False))
        raise EvidenceChecksumMismatch(
            "Tệp nhận được không khớp mã SHA-256 đã khai báo; hãy gửi lại.",
            "The received file does not match its declared SHA-256; send it again.")
    kind = sniff_type(path, meta.get("filename", ""))
    upload = db.session.get(Upload, upload_id)
    inspection = db.session.get(Inspection, upload.inspection_id)
    try:
        if kind is None:
            raise InvalidEvidence(f"Loại tệp không được chấp nhận (chỉ {ACCEPTED_VI}).",
                                  f"This kind of file is not accepted ({ACCEPTED_EN} only).")
        assessment = _writable(user, inspection)
    except ServiceError:
        _drop_upload(upload_id)
        raise
    evidence = next((e for e in assessment.evidence if e.sha256 == meta["sha256"]), None)
    if evidence is None:
        sha256 = get_storage().put_file(path, sha256=meta["sha256"], move=True)
        evidence = SelfAssessmentEvidence(sha256=sha256,
                                          filename=meta.get("filename") or "tai-lieu",
                                          content_type=kind, size=length, uploaded_by_id=user.id)
        assessment.evidence.append(evidence)
        db.session.flush()
        audit.record("self_assessment.evidence", assessment, user, inspection_id=inspection.id,
                     sha256=sha256, size=length, filename=evidence.filename)
    else:
        os.unlink(path)
    db.session.execute(update(Upload).where(Upload.id == upload_id).values(
        offset=length, completed_at=utcnow(), evidence_id=evidence.id)
        .execution_options(synchronize_session=False))
    return evidence


def store_evidence_bytes(user: User, inspection: Inspection, filename: str,
                         data: bytes) -> SelfAssessmentEvidence:
    """Store an evidence file given whole (demo data, tests of the checks); the same checks as
    an upload."""
    import hashlib

    sha = hashlib.sha256(data).hexdigest()
    upload, existing = create_evidence_upload(
        user, len(data), {"inspection_id": str(inspection.id), "sha256": sha, "filename": filename})
    if existing is not None:
        return existing
    get_storage().uploads_dir.mkdir(parents=True, exist_ok=True)
    with open(_part_path(upload.id), "wb") as f:
        f.write(data)
    return complete_evidence_upload(upload.id, user, dict(upload.meta), len(data))


def get_evidence(user: User, inspection_id: int, evidence_id: int) -> SelfAssessmentEvidence:
    """An evidence file the user may open: the representatives always, the others once the
    self-assessment is submitted (or the file answers an explanation). Otherwise 404."""
    inspection = readable_inspection(user, inspection_id)
    evidence = db.session.get(SelfAssessmentEvidence, evidence_id) if 0 < evidence_id <= MAX_ID \
        else None
    if (evidence is None or evidence.self_assessment.inspection_id != inspection.id
            or not (is_representative(user, inspection)
                    or evidence.self_assessment.state == SelfAssessmentState.submitted)):
        raise NotFound("Không tìm thấy tệp kiểm chứng.", "Evidence file not found.")
    return evidence


def evidence_stream(evidence: SelfAssessmentEvidence) -> io.BufferedReader:
    """The stored bytes of an evidence file."""
    return get_storage().open(evidence.sha256)


__all__ = ["view", "save_claim", "submit", "withdraw", "self_score", "readable_inspection",
           "create_evidence_upload", "complete_evidence_upload", "get_evidence"]
