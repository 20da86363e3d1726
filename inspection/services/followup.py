"""Following recommendations up at the next visit.

A recommendation (kiến nghị) moves ``open → done → verified``:

- ``open``: made at an inspection; it is *overdue* when its due date has passed and it is still
  open;
- ``done``: the unit's representative reports it carried it out (not yet checked), after a
  confirmation, with a note and evidence files (checked and stored like photos); the report can
  be withdrawn (back to ``open``) until it is verified. The unit may also reply in words;
- ``verified``: the leader of a later inspection of the same unit, or of the commune that
  absorbed it in a merger, saw it carried out (follow-up result ``done``).

At that later inspection the leader records, for each earlier recommendation, ``done``,
``partly`` or ``not_done`` with the evidence seen. ``done`` makes it ``verified``; ``partly``
and ``not_done`` put it back to ``open`` (still owed, listed again at the next visit, overdue if
its date has passed). A follow-up can be corrected at the same inspection until its minutes are
signed; a recommendation verified at one inspection cannot be re-judged at another.
"""
from __future__ import annotations

import io
import unicodedata

from sqlalchemy import select

from ..errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from ..extensions import db
from ..models import (
    AdminUnit,
    Inspection,
    InvalidTransition,
    Recommendation,
    RecommendationEvidence,
    RecommendationStatus,
    Role,
    User,
)
from ..models.inspections import FOLLOW_UP_MOVES
from . import audit
from .access import can_view
from .photos import THUMB_SUFFIX, InvalidImage, decode_slot, inspect_image, max_bytes
from .review import require_editable, require_leader
from .storage import get_storage
from .sync import owed_recommendations
from .text import clean_text, repair_text

RESULTS = tuple(FOLLOW_UP_MOVES)  # done, partly, not_done
EVIDENCE_LIMIT = 5000


def previous_recommendations(inspection: Inspection) -> list[Recommendation]:
    """The recommendations this inspection follows up, oldest inspection first.

    Those still owed (open or reported done) from earlier inspections of the same unit or of the
    units it absorbed, plus those already followed up at this inspection. Which recommendations
    are owed is decided by one implementation shared with the field app's assignments
    (``services.sync.owed_recommendations``).
    """
    owed = [r["id"] for r in owed_recommendations([inspection]).get(inspection.id, [])]
    query = select(Recommendation).join(Inspection, Inspection.id == Recommendation.inspection_id)
    condition = Recommendation.followed_up_in_id == inspection.id
    if owed:
        condition = condition | Recommendation.id.in_(owed)
    return list(db.session.scalars(query.where(condition).order_by(
        Inspection.scheduled_on, Recommendation.inspection_id, Recommendation.position,
        Recommendation.id)))


def _evidence(text: str | None, result: str) -> str | None:
    text = unicodedata.normalize("NFC", (text or "").strip())
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")
    if not text and result in ("done", "partly"):
        raise ValidationFailed("Cần ghi bằng chứng (văn bản, hồ sơ, ảnh đã xem) khi kiến nghị đã "
                               "hoặc đã một phần được thực hiện.",
                               "Evidence is required when a recommendation was "
                               "carried out, fully or partly.",
                               {"evidence": ["required"]})
    if len(text) > EVIDENCE_LIMIT:
        raise ValidationFailed(f"Bằng chứng dài quá {EVIDENCE_LIMIT} ký tự.",
                               f"Evidence over {EVIDENCE_LIMIT} characters.",
                               {"evidence": ["too long"]})
    return text or None


def record_follow_up(recommendation: Recommendation, inspection: Inspection, user: User,
                     result: str, evidence: str | None) -> Recommendation:
    """The leader of `inspection` records whether an earlier recommendation was carried out."""
    require_leader(user, inspection)
    require_editable(inspection)
    if result not in RESULTS:
        raise ValidationFailed("Kết quả theo dõi không hợp lệ (done, partly, not_done).",
                               "Unknown follow-up result (done, partly, not_done).",
                               {"result": [str(result)]})
    if recommendation.id not in {r.id for r in previous_recommendations(inspection)}:
        if (recommendation.status == RecommendationStatus.verified
                and recommendation.followed_up_in_id not in (None, inspection.id)):
            raise Conflict("Kiến nghị này đã được xác nhận hoàn thành ở một cuộc kiểm tra khác.",
                           "This recommendation was already verified at another inspection.")
        raise NotFound("Kiến nghị này không thuộc các kiến nghị cần theo dõi ở cuộc kiểm tra này.",
                       "This recommendation is not one to follow up at this inspection.")
    if recommendation.followed_up_in_id not in (None, inspection.id):
        other = db.session.get(Inspection, recommendation.followed_up_in_id)
        if other is not None and other.scheduled_on > inspection.scheduled_on:
            raise Conflict(
                "Kiến nghị này đã được theo dõi ở một cuộc kiểm tra sau; hãy ghi nhận ở đó.",
                "This recommendation was followed up at a later inspection; record it there.")
    before = {"status": str(recommendation.status), "result": recommendation.follow_up_result,
              "followed_up_in_id": recommendation.followed_up_in_id}
    recommendation.follow_up(result, inspection.id, _evidence(evidence, result))
    audit.record("recommendation.follow_up", recommendation, user, inspection_id=inspection.id,
                 result=result, status=str(recommendation.status), before=before)
    db.session.flush()
    return recommendation


MAX_EVIDENCE_FILES = 5
REPLY_LIMIT = 5000


def _clean_text(text: str | None, limit: int, field: str) -> str | None:
    """NFC, no control characters, trimmed; refused (422) with a refused character or too long."""
    text = clean_text((text or "").strip(), field=field).strip()
    if len(text) > limit:
        raise ValidationFailed(f"Nội dung dài quá {limit} ký tự.", f"Text over {limit} characters.",
                               {field: ["too long"]})
    return text or None


def _unit_ids_of(user: User) -> set[int]:
    """The unit a representative speaks for, and the units it absorbed in a merger."""
    unit = db.session.get(AdminUnit, user.unit_id) if user.unit_id else None
    return {unit.id, *(u.id for u in unit.predecessors())} if unit else set()


def require_unit_representative(recommendation: Recommendation, user: User) -> None:
    """Only the representative of the recommendation's unit (or of the commune that absorbed it)
    speaks for the unit; someone who cannot see the recommendation gets the same 404 as for an
    unknown id."""
    if user.role == Role.unitrep and recommendation.unit_id in _unit_ids_of(user):
        return
    if not may_see(user, recommendation):
        raise NotFound("Không tìm thấy kiến nghị.", "Recommendation not found.")
    raise PermissionDenied("Chỉ đại diện đơn vị được kiểm tra được báo cáo hoặc trả lời kiến nghị.",
                           "Only the inspected unit's representative may report on or reply to "
                           "a recommendation.")


def may_see(user: User, recommendation: Recommendation) -> bool:
    """Whether the user may open what the unit attached to a recommendation: whoever sees the
    inspection that made it, the representative it is addressed to, and the team of a later
    inspection of the unit (or of the commune that absorbed it), which verifies it."""
    if user.role == Role.unitrep:
        return recommendation.unit_id in _unit_ids_of(user)
    source = db.session.get(Inspection, recommendation.inspection_id)
    if can_view(user, source):
        return True
    if user.role not in (Role.leader, Role.inspector):
        return False
    units, stack = {recommendation.unit_id}, [recommendation.unit]
    while stack:
        for successor in stack.pop().merged_into:
            if successor.id not in units:
                units.add(successor.id)
                stack.append(successor)
    later = db.session.scalars(select(Inspection).where(
        Inspection.unit_id.in_(units), Inspection.scheduled_on > source.scheduled_on))
    return any(can_view(user, inspection) for inspection in later)


def _refused(exc: InvalidTransition) -> Conflict:
    messages = {
        "report_done": ("Chỉ báo cáo được kiến nghị đang mở (chưa báo cáo, chưa được xác nhận).",
                        "Only an open recommendation (not yet reported, not verified) can be "
                        "reported done."),
        "undo_report": ("Chỉ rút lại được báo cáo chưa được đoàn kiểm tra xác nhận.",
                        "A report can be withdrawn only until an inspection has verified it."),
        "reply": ("Kiến nghị đã được xác nhận hoàn thành; không trả lời thêm được.",
                  "The recommendation was verified as carried out; no further reply can be made."),
    }
    vi, en = messages[exc.action]
    return Conflict(vi, en)


def store_evidence(recommendation: Recommendation, user: User,
                   files: list) -> list[RecommendationEvidence]:
    """Check and store the evidence files of a report: the photo rules (JPEG, PNG or WebP, at
    most MAX_PHOTO_BYTES and MAX_PHOTO_PIXELS, no decompression bomb), the bytes kept once by
    SHA-256 with a thumbnail; the same file twice on one recommendation is kept once."""
    files = [f for f in files if f is not None and getattr(f, "filename", None)]
    if len(recommendation.evidence) + len(files) > MAX_EVIDENCE_FILES:
        raise ValidationFailed(f"Tối đa {MAX_EVIDENCE_FILES} tệp bằng chứng cho một kiến nghị.",
                               f"At most {MAX_EVIDENCE_FILES} evidence files per recommendation.",
                               {"files": ["too many"]})
    limit = max_bytes()
    store = get_storage()
    known = {e.sha256 for e in recommendation.evidence}
    added = []
    for upload in files:
        # The name as shown on the page: its last part, one line, nothing a database refuses.
        raw = upload.filename.replace("\\", "/").rsplit("/", 1)[-1]
        name = clean_text(repair_text(raw), single_line=True).strip()[:255] or "evidence"
        data = upload.stream.read(limit + 1)
        if len(data) > limit:
            raise ValidationFailed(f"Tệp “{name}” lớn quá {limit / 1048576:g} MB.",
                                   f"File “{name}” is over {limit / 1048576:g} MB.",
                                   {"files": [name]})
        try:
            with decode_slot():
                info = inspect_image(io.BytesIO(data))
        except InvalidImage as exc:
            raise ValidationFailed(f"Tệp “{name}”: {exc.message_vi}",
                                   f"File “{name}”: {exc.message_en}",
                                   {"files": [name]}) from exc
        sha256 = store.put_bytes(data)
        if not store.exists(sha256, THUMB_SUFFIX):
            store.put_derived(sha256, THUMB_SUFFIX, info.thumbnail)
        if sha256 in known:
            continue
        known.add(sha256)
        evidence = RecommendationEvidence(sha256=sha256, filename=name,
                                          content_type=info.content_type,
                                          size=len(data), width=info.width, height=info.height,
                                          uploaded_by_id=user.id)
        recommendation.evidence.append(evidence)
        added.append(evidence)
    return added


def report_done(recommendation: Recommendation, user: User, note: str | None = None,
                files: list | None = None, confirmed: bool = True) -> Recommendation:
    """The unit's representative reports an open recommendation carried out (open → done), with
    a note and evidence files, after confirming it.

    A representative of a commune formed by a merger may report for the units it absorbed.
    The next inspection then verifies it; until then the report can be withdrawn (``undo_report``).
    """
    require_unit_representative(recommendation, user)
    if not recommendation.can_report_done():
        raise _refused(InvalidTransition("report_done", recommendation.status, "a recommendation"))
    if not confirmed:
        raise ValidationFailed("Hãy đánh dấu xác nhận rằng đơn vị đã thực hiện kiến nghị "
                               "trước khi gửi báo cáo.",
                               "Tick the confirmation that the unit carried the recommendation "
                               "out before reporting.",
                               {"confirm": ["required"]})
    note = _clean_text(note, EVIDENCE_LIMIT, "note")
    added = store_evidence(recommendation, user, files or [])
    recommendation.report_done(user, note)
    audit.record("recommendation.report_done", recommendation, user, note=note or "",
                 evidence=[e.sha256 for e in added])
    db.session.flush()
    return recommendation


def undo_report(recommendation: Recommendation, user: User) -> Recommendation:
    """The representative withdraws the report (done → open) while no inspection verified it;
    its note and evidence files are kept in the audit log, the stored bytes stay."""
    require_unit_representative(recommendation, user)
    if not recommendation.can_undo_report():
        raise _refused(InvalidTransition("undo_report", recommendation.status, "a recommendation"))
    before = {"note": recommendation.report_note or "",
              "evidence": [e.sha256 for e in recommendation.evidence],
              "reported_at": (recommendation.reported_at.isoformat()
                              if recommendation.reported_at else None)}
    recommendation.undo_report()
    audit.record("recommendation.report_undone", recommendation, user, before=before)
    db.session.flush()
    return recommendation


def reply_to(recommendation: Recommendation, user: User, text: str | None) -> Recommendation:
    """The unit's reply in words to a recommendation (empty removes it), until it is verified."""
    require_unit_representative(recommendation, user)
    text = _clean_text(text, REPLY_LIMIT, "reply")
    try:
        recommendation.reply(user, text)
    except InvalidTransition as exc:
        raise _refused(exc) from exc
    audit.record("recommendation.reply", recommendation, user, text=text or "")
    db.session.flush()
    return recommendation


def get_visible_evidence(user: User, recommendation_id: int,
                         evidence_id: int) -> RecommendationEvidence:
    """An evidence file the user may open (the same 404 for another's as for none)."""
    evidence = db.session.get(RecommendationEvidence, evidence_id)
    if (evidence is None or evidence.recommendation_id != recommendation_id
            or not may_see(user, evidence.recommendation)):
        raise NotFound("Không tìm thấy tệp bằng chứng.", "Evidence file not found.")
    return evidence
