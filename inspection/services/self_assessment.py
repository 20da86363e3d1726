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
from ..errors import (
    ChecksumMismatch,
    Conflict,
    NotFound,
    PermissionDenied,
    ServiceError,
    TooLarge,
    ValidationFailed,
)
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
from .access import is_trip_leader
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


class InvalidEvidence(ServiceError):
    status = 422
    code = "invalid_file"


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


def self_scores(inspection_ids: list[int]) -> dict[int, dict]:
    """The self-score of each of these inspections whose unit submitted a self-assessment."""
    found: dict[int, dict] = {}
    for start in range(0, len(inspection_ids), 500):
        for assessment in db.session.scalars(select(SelfAssessment).where(
                SelfAssessment.inspection_id.in_(inspection_ids[start:start + 500]),
                SelfAssessment.state == SelfAssessmentState.submitted)):
            found[assessment.inspection_id] = score_of(assessment.inspection, assessment)
    return found


def with_self_scores(rows: list[dict], key: str = "inspection_id",
                     appraised: str = "score") -> list[dict]:
    """Report rows with the unit's self-assessed points and percent beside the appraised ones,
    and the difference (appraised − self-assessed points); None where nothing was submitted."""
    scores = self_scores([row[key] for row in rows])
    for row in rows:
        claimed = scores.get(row[key])
        row["self_score"] = claimed["total"] if claimed else None
        row["self_percent"] = claimed["percent"] if claimed else None
        given = row.get(appraised)
        row["self_difference"] = (round(given - claimed["total"], 2)
                                  if claimed and given is not None else None)
    return rows


def field_payloads(inspection_ids: list[int]) -> dict[int, dict]:
    """The submitted self-assessments of these inspections as the field app keeps them offline
    (``GET /assignments``): the claims with their evidence ids, the files, the explanation
    threads and the self-score (kept at submission). Four plain queries however many there are
    (no ORM objects: a full self-assessment has a hundred claims and files)."""
    if not inspection_ids:
        return {}
    found: dict[int, dict] = {}
    by_id: dict[int, dict] = {}
    for row in db.session.execute(
            select(SelfAssessment.id, SelfAssessment.inspection_id, SelfAssessment.submitted_at,
                   SelfAssessment.score)
            .where(SelfAssessment.inspection_id.in_(inspection_ids),
                   SelfAssessment.state == SelfAssessmentState.submitted)):
        payload = {"state": SelfAssessmentState.submitted.value,
                   "submitted_at": iso_utc(row.submitted_at), "score": row.score,
                   "claims": [], "evidence": [], "explanations": []}
        if row.score is None:  # submitted before scores were kept
            payload["score"] = score_of(db.session.get(Inspection, row.inspection_id),
                                        db.session.get(SelfAssessment, row.id))
        found[row.inspection_id] = by_id[row.id] = payload
    if not by_id:
        return found
    ids = list(by_id)
    claim = SelfAssessmentClaim
    for row in db.session.execute(
            select(claim.self_assessment_id, claim.item_code, claim.result, claim.points,
                   claim.value, claim.text, claim.note, claim.explanation, claim.evidence_ids)
            .where(claim.self_assessment_id.in_(ids)).order_by(claim.item_code)):
        by_id[row[0]]["claims"].append({
            "item_code": row[1], "result": row[2], "points": row[3], "value": row[4],
            "text": row[5], "note": row[6], "explanation": row[7], "evidence": row[8] or []})
    evidence = SelfAssessmentEvidence
    for row in db.session.execute(
            select(evidence.self_assessment_id, evidence.id, evidence.filename,
                   evidence.content_type, evidence.size, evidence.sha256)
            .where(evidence.self_assessment_id.in_(ids)).order_by(evidence.id)):
        by_id[row[0]]["evidence"].append({"id": row[1], "name": row[2], "content_type": row[3],
                                          "size": row[4], "sha256": row[5]})
    asked = SelfAssessmentExplanation
    for row in db.session.execute(
            select(asked.self_assessment_id, asked.item_code, asked.question, asked.asked_at,
                   asked.answer, asked.answered_at, asked.answer_evidence_ids)
            .where(asked.self_assessment_id.in_(ids)).order_by(asked.id)):
        by_id[row[0]]["explanations"].append({
            "item_code": row[1], "question": row[2], "asked_at": iso_utc(row[3]),
            "answer": row[4], "answered_at": iso_utc(row[5]), "evidence": row[6] or []})
    return found


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
    assessment.score = score_of(inspection, assessment)
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
                    with archive.open("mimetype") as member:  # 100 bytes, never a bomb's all
                        kind = member.read(100).decode("ascii", "replace").strip()
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
        raise TooLarge(
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
        raise ChecksumMismatch(
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
    """Store an evidence file given whole (demo data), with the checks of an upload."""
    class _Given:  # as a form sends it
        stream = io.BytesIO(data)

    _Given.filename = filename
    assessment = _writable(user, inspection)
    [evidence_id] = store_form_files(user, inspection, assessment, [_Given()])
    return db.session.get(SelfAssessmentEvidence, evidence_id)


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


# ---------------------------------------------------------------------------------------------
# Files sent with a form (the office pages), checked as uploads are


def _store_checked(assessment: SelfAssessment, user: User, inspection: Inspection, path,
                   filename: str, size: int, sha256: str) -> SelfAssessmentEvidence:
    """Record a received file whose SHA-256 is known, after checking its type by content; the
    file at ``path`` is moved into the store (or dropped when this self-assessment holds it)."""
    kind = sniff_type(path, filename)
    if kind is None:
        os.unlink(path)
        raise InvalidEvidence(f"Tệp “{filename}”: loại tệp không được chấp nhận "
                              f"(chỉ {ACCEPTED_VI}).",
                              f"File “{filename}”: this kind of file is not accepted "
                              f"({ACCEPTED_EN} only).", {"files": [filename]})
    evidence = next((e for e in assessment.evidence if e.sha256 == sha256), None)
    if evidence is not None:
        os.unlink(path)
        return evidence
    stored = get_storage().put_file(path, sha256=sha256, move=True)
    evidence = SelfAssessmentEvidence(sha256=stored, filename=filename, content_type=kind,
                                      size=size, uploaded_by_id=user.id)
    assessment.evidence.append(evidence)
    db.session.flush()
    audit.record("self_assessment.evidence", assessment, user, inspection_id=inspection.id,
                 sha256=stored, size=size, filename=filename)
    return evidence


def store_form_files(user: User, inspection: Inspection, assessment: SelfAssessment,
                     files: list) -> list[int]:
    """Check and store files sent with a form (werkzeug FileStorage); their evidence ids. A
    refused file (type, size) stores nothing and names the file."""
    import hashlib

    limit = max_evidence_bytes()
    folder = get_storage().uploads_dir
    folder.mkdir(parents=True, exist_ok=True)
    ids = []
    for upload in files:
        if upload is None or not getattr(upload, "filename", None):
            continue
        name = _clean_name(upload.filename.replace("\\", "/").rsplit("/", 1)[-1])
        path = folder / f"form-{uuid.uuid4()}.part"
        digest, size = hashlib.sha256(), 0
        with open(path, "wb") as out:
            while block := upload.stream.read(64 * 1024):
                size += len(block)
                if size > limit:
                    out.close()
                    os.unlink(path)
                    raise TooLarge(
                        f"Tệp “{name}” lớn quá {limit / 1048576:g} MB.",
                        f"File “{name}” is over {limit / 1048576:g} MB.", {"files": [name]})
                digest.update(block)
                out.write(block)
        if size == 0:
            os.unlink(path)
            raise InvalidEvidence(f"Tệp “{name}” rỗng.", f"File “{name}” is empty.",
                                  {"files": [name]})
        ids.append(_store_checked(assessment, user, inspection, path, name, size,
                                  digest.hexdigest()).id)
    return ids


def _form_number(name: str, raw: str | None) -> float | None:
    raw = (raw or "").strip().replace(",", ".")
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise ValidationFailed(f"“{name}” phải là số.", f"“{name}” must be a number.",
                               {name: ["number"]}) from None


def save_claim_from_form(user: User, inspection: Inspection, item_code: str, form,
                         files: list) -> SelfAssessmentClaim | None:
    """The office form of one criterion: its fields, the files kept (ticked) and new files."""
    assessment = _writable(user, inspection)
    if item_for(inspection, item_code) is None:
        raise ValidationFailed(f"Không có tiêu chí '{item_code[:40]}' trong danh mục.",
                               f"There is no criterion '{item_code[:40]}' in the checklist.")
    kept = []
    for raw in form.getlist("evidence"):
        if not raw.isdigit() or len(raw) > 10:
            raise NotFound("Không tìm thấy tệp kiểm chứng.", "Evidence file not found.")
        kept.append(int(raw))
    kept = _own_evidence(assessment, kept)
    added = store_form_files(user, inspection, assessment, files)
    fields = {"result": form.get("result") or None,
              "points": _form_number("points", form.get("points")),
              "value": _form_number("value", form.get("value")),
              "text": form.get("text") or None, "note": form.get("note") or None,
              "explanation": form.get("explanation") or None}
    return save_claim(user, inspection, item_code, fields, kept + added)


# ---------------------------------------------------------------------------------------------
# Explanations (giải trình): the leader asks, the unit answers


QUESTION_LIMIT = 2000


def ask_explanation(user: User, inspection: Inspection, item_code: str,
                    question: str | None) -> SelfAssessmentExplanation:
    """The trip's leader asks the unit to explain one criterion of its submitted
    self-assessment (one request per criterion), until the minutes are signed."""
    if inspection.trip.role_of(user) is None or not is_trip_leader(user, inspection.trip):
        raise PermissionDenied("Chỉ trưởng đoàn mới đề nghị đơn vị giải trình.",
                               "Only the team leader may ask the unit to explain.")
    if inspection.state == InspectionState.signed:
        raise Conflict("Biên bản đã ký: không đề nghị giải trình được nữa.",
                       "The minutes are signed: no more explanations can be asked for.")
    assessment = submitted_assessment(inspection)
    if assessment is None:
        raise Conflict("Đơn vị chưa nộp tự đánh giá.", "The unit has not submitted a "
                       "self-assessment.")
    if item_for(inspection, item_code) is None:
        raise ValidationFailed(f"Không có tiêu chí '{item_code[:40]}' trong danh mục.",
                               f"There is no criterion '{item_code[:40]}' in the checklist.")
    text = _clean_text_field("question", question)
    if not text or len(text) > QUESTION_LIMIT:
        raise ValidationFailed(f"Cần nêu nội dung đề nghị giải trình (tối đa {QUESTION_LIMIT} ký "
                               "tự).", f"Say what should be explained (at most {QUESTION_LIMIT} "
                               "characters).", {"question": ["required"]})
    if any(e.item_code == item_code for e in assessment.explanations):
        raise Conflict(f"Đã đề nghị giải trình tiêu chí {item_code}.",
                       f"An explanation of {item_code} has already been asked for.")
    explanation = SelfAssessmentExplanation(item_code=item_code, question=text,
                                            asked_by_id=user.id, answer_evidence_ids=[])
    assessment.explanations.append(explanation)
    db.session.flush()
    audit.record("self_assessment.ask", assessment, user, inspection_id=inspection.id,
                 item_code=item_code, question=text)
    return explanation


def answer_explanation(user: User, inspection: Inspection, item_code: str,
                       answer: str | None, files: list) -> SelfAssessmentExplanation:
    """The unit's representative answers a request, in words and files (until the minutes are
    signed; a new answer replaces the last)."""
    if not is_representative(user, inspection):
        raise PermissionDenied("Chỉ người đại diện của đơn vị mới giải trình.",
                               "Only the unit's representatives may explain.")
    if inspection.state == InspectionState.signed:
        raise Conflict("Biên bản đã ký: không giải trình được nữa.",
                       "The minutes are signed: explanations are closed.")
    assessment = assessment_of(inspection)
    explanation = next((e for e in assessment.explanations if e.item_code == item_code),
                       None) if assessment else None
    if explanation is None:
        raise NotFound("Không có đề nghị giải trình cho tiêu chí này.",
                       "No explanation was asked for on this criterion.")
    text = _clean_text_field("answer", answer)
    if not text:
        raise ValidationFailed("Cần nhập nội dung giải trình.", "Write the explanation.",
                               {"answer": ["required"]})
    ids = store_form_files(user, inspection, assessment, files)
    explanation.answer = text
    explanation.answer_evidence_ids = list(dict.fromkeys(
        (explanation.answer_evidence_ids or []) + ids))
    explanation.answered_by_id = user.id
    explanation.answered_at = utcnow()
    db.session.flush()
    audit.record("self_assessment.answer", assessment, user, inspection_id=inspection.id,
                 item_code=item_code)
    return explanation


def unanswered_explanations(inspection: Inspection) -> list[str]:
    """Codes of the criteria whose explanation the unit has not given yet."""
    assessment = assessment_of(inspection)
    return [e.item_code for e in assessment.explanations if not e.answered] if assessment else []


# ---------------------------------------------------------------------------------------------
# What the pages show


def _checklist_sections(inspection: Inspection) -> list[dict]:
    return [{"code": s["code"], "title_vi": s.get("title_vi", ""),
             "title_en": s.get("title_en", ""),
             "items": [dict(i) for i in s["items"]]}
            for s in inspection.checklist_version.document["sections"]]


def _closed(inspection: Inspection, assessment: SelfAssessment | None,
            editing: bool) -> Conflict | None:
    try:
        _refuse_unless_open(inspection, assessment, editing)
    except Conflict as exc:
        return exc
    return None


def item_points(inspection: Inspection, code: str, fields: dict | None) -> float | None:
    """What one criterion's fields earn alone (yes/no and score items; None otherwise)."""
    item = next((i for s in inspection.checklist_version.document["sections"]
                 for i in s["items"] if i["code"] == code), None)
    if item is None or item["kind"] not in ("yesno", "score") or not fields:
        return None
    score = evaluate(inspection.checklist_version.document, {code: fields},
                     unit=unit_facts(inspection.unit))["score"]
    return score["total"]


def _shown(fields: dict | None) -> dict:
    return {k: (fields or {}).get(k) for k in SCORING_FIELDS}


def differs(claim: dict | None, observation: dict | None) -> bool:
    """Whether the appraisal differs from the claim on a field the unit claimed."""
    if not claim or observation is None:
        return False
    return any(claim.get(k) is not None and claim.get(k) != observation.get(k)
               for k in SCORING_FIELDS)


def page_data(user: User, inspection: Inspection, observations: dict | None = None) -> dict:
    """Everything the self-assessment page (and the review's section) shows and offers."""
    assessment = assessment_of(inspection)
    rep = is_representative(user, inspection)
    shown = assessment if assessment is not None and (
        rep or assessment.state == SelfAssessmentState.submitted) else None
    claims = {c.item_code: c for c in shown.claims} if shown else {}
    files = {e.id: e for e in assessment.evidence} if assessment else {}
    explanations = {e.item_code: e for e in assessment.explanations} if assessment else {}
    closed = _closed(inspection, assessment, editing=True)
    closed_submit = _closed(inspection, assessment, editing=False)
    sections = _checklist_sections(inspection)
    for section in sections:
        for item in section["items"]:
            claim = claims.get(item["code"])
            item["claim"] = claim
            item["evidence"] = [files[i] for i in (claim.evidence_ids if claim else [])
                                if i in files]
            item["explanation"] = explanations.get(item["code"])
            item["answer_files"] = [files[i] for i in (item["explanation"].answer_evidence_ids
                                                       if item["explanation"] else [])
                                    if i in files]
            if observations is not None and claim is not None:
                appraised = observations.get(item["code"])
                item["appraised"] = appraised
                item["differs"] = differs(
                    {k: getattr(claim, k) for k in SCORING_FIELDS}, appraised)
    state = assessment.state if assessment else SelfAssessmentState.draft
    leader = is_trip_leader(user, inspection.trip)
    return {
        "assessment": assessment, "state": state.value, "shown": rep or shown is not None,
        "sections": sections, "claims": claims, "files": list(files.values()) if rep else [],
        "score": score_of(inspection, shown) if shown else None,
        "deadline": inspection.trip.self_assessment_due,
        "representative": rep,
        "editable": rep and closed is None,
        "closed_message": (closed.message_vi, closed.message_en) if rep and closed else None,
        "can_submit": rep and closed is None and bool(assessment and assessment.claims),
        "can_withdraw": (rep and closed_submit is None and assessment is not None
                         and assessment.can("withdraw")),
        "may_ask": (leader and shown is not None and state == SelfAssessmentState.submitted
                    and inspection.state != InspectionState.signed),
        "may_answer": rep and inspection.state != InspectionState.signed,
        "unanswered": [e.item_code for e in explanations.values() if not e.answered],
    }


def review_rows(inspection: Inspection, observations: dict) -> list[dict]:
    """The submitted claims beside the team's appraisal, in checklist order: the criterion,
    what each says, the points each earns alone, and whether they differ."""
    assessment = submitted_assessment(inspection)
    if assessment is None:
        return []
    claims = {c.item_code: c for c in assessment.claims}
    rows = []
    for section in inspection.checklist_version.document["sections"]:
        for item in section["items"]:
            claim = claims.get(item["code"])
            if claim is None:
                continue
            mine = _shown({k: getattr(claim, k) for k in SCORING_FIELDS})
            theirs = observations.get(item["code"])
            rows.append({"code": item["code"], "title_vi": item.get("title_vi", ""),
                         "title_en": item.get("title_en", ""), "kind": item["kind"],
                         "self": mine, "appraised": _shown(theirs) if theirs else None,
                         "self_points": item_points(inspection, item["code"], mine),
                         "appraised_points": item_points(inspection, item["code"], theirs),
                         "differs": differs(mine, theirs)})
    return rows


def review_section(user: User, inspection: Inspection, observations: dict) -> dict | None:
    """What the inspection page shows of the self-assessment: its state, the self-score, the
    claims beside the appraisal and the explanations not answered yet (None when the user may
    not read it)."""
    if not may_read(user, inspection):
        return None
    assessment = assessment_of(inspection)
    rows = review_rows(inspection, observations)
    return {"state": (assessment.state if assessment else SelfAssessmentState.draft).value,
            "submitted_at": assessment.submitted_at if assessment else None,
            "deadline": inspection.trip.self_assessment_due,
            "score": self_score(inspection), "rows": rows,
            "differing": sum(1 for r in rows if r["differs"]),
            "unanswered": unanswered_explanations(inspection),
            "representative": is_representative(user, inspection)}


__all__ = ["view", "save_claim", "submit", "withdraw", "self_score", "readable_inspection",
           "create_evidence_upload", "complete_evidence_upload", "get_evidence"]
