"""Following recommendations up at the next visit.

A recommendation (kiến nghị) moves ``open → done → verified``:

- ``open``: made at an inspection; it is *overdue* when its due date has passed and it is still
open;
- ``done``: the unit's representative reports it carried it out (not yet checked);
- ``verified``: the leader of a later inspection of the same unit, or of the commune that
  absorbed it in a merger, saw it carried out (follow-up result ``done``).

At that later inspection the leader records, for each earlier recommendation, ``done``,
``partly`` or ``not_done`` with the evidence seen. ``done`` makes it ``verified``; ``partly``
and ``not_done`` put it back to ``open`` (still owed, listed again at the next visit, overdue if
its date has passed). A follow-up can be corrected at the same inspection until its minutes are
signed; a recommendation verified at one inspection cannot be re-judged at another.
"""
from __future__ import annotations

import unicodedata

from sqlalchemy import select

from ..errors import Conflict, NotFound, ValidationFailed
from ..extensions import db
from ..models import InvalidTransition, Recommendation, RecommendationStatus, Role, User
from ..models.inspections import FOLLOW_UP_MOVES, Inspection
from . import audit
from .review import require_editable, require_leader

RESULTS = tuple(FOLLOW_UP_MOVES)  # done, partly, not_done
EVIDENCE_LIMIT = 5000


def previous_recommendations(inspection: Inspection) -> list[Recommendation]:
    """The recommendations this inspection follows up, oldest inspection first.

    Those still owed (open or reported done) from earlier inspections of the same unit or of the
    units it absorbed, plus those already followed up at this inspection. Which recommendations
    are owed is decided by one implementation shared with the field app's assignments
    (``services.sync._previous_recommendations``).
    """
    from .sync import _previous_recommendations

    owed = [r["id"] for r in _previous_recommendations([inspection]).get(inspection.id, [])]
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


def report_done(recommendation: Recommendation, user: User,
                note: str | None = None) -> Recommendation:
    """The unit's representative reports an open recommendation carried out (open → done).

    A representative of a commune formed by a merger may report for the units it absorbed.
    The next inspection then verifies it.
    """
    from ..models import AdminUnit

    unit = db.session.get(AdminUnit, user.unit_id) if user.unit_id else None
    units = {unit.id, *(u.id for u in unit.predecessors())} if unit else set()
    if user.role != Role.unitrep or recommendation.unit_id not in units:
        from ..errors import PermissionDenied
        from .access import can_view

        # The same answer as for no such id:
        if not can_view(user, db.session.get(Inspection, recommendation.inspection_id)):
            raise NotFound("Không tìm thấy kiến nghị.", "Recommendation not found.")
        raise PermissionDenied(
            "Chỉ đại diện đơn vị được kiểm tra được báo cáo đã thực hiện kiến nghị.",
            "Only the inspected unit's representative may report a recommendation done.")
    try:
        recommendation.report_done()
    except InvalidTransition as exc:
        raise Conflict("Chỉ báo cáo được kiến nghị đang mở.",
                       "Only an open recommendation can be reported done.") from exc
    audit.record("recommendation.report_done", recommendation, user,
                 note=unicodedata.normalize("NFC", (note or "").strip())[:EVIDENCE_LIMIT])
    db.session.flush()
    return recommendation
