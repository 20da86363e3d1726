"""Moving an inspection through its states, with the permission check and the audit trail."""
from __future__ import annotations

from ..errors import Conflict, ValidationFailed
from ..models import Inspection, InvalidTransition, User
from ..models.inspections import TRANSITIONS, USER_ACTIONS
from . import audit
from .access import can_edit, is_trip_leader, require
from .closing import log_closing
from .evaluation import evaluate_inspection
from .feed import log_change
from .review import approval_blockers
from .revisions import supersede_for
from .score_snapshots import refresh_score
from .text import clean_text

STATE_LABELS_VI = {
    "planned": "đã lên kế hoạch",
    "in_progress": "đang kiểm tra",
    "submitted": "đã gửi trưởng đoàn",
    "approved": "đã duyệt",
    "signed": "đã ký",
}
LEADER_ONLY = {"approve", "sign", "reopen"}
REASON_LIMIT = 2000


class Unanswered(Conflict):
    """Approval asked for while criteria are not assessed, without confirming it (409)."""

    code = "unanswered"


def allowed_actions(user: User, inspection: Inspection) -> list[str]:
    """The state-machine actions the user could take on this inspection now (signing happens
    through the minutes, not a button)."""
    leader = is_trip_leader(user, inspection.trip)
    return [action for action in USER_ACTIONS if inspection.can(action)
            and not (action == "submit" and leader)  # the leader approves, not sends to himself
            and (leader if action in LEADER_ONLY else can_edit(user, inspection))]


def transition_inspection(
    inspection: Inspection, action: str, user: User, reason: str | None = None,
    device_id: str | None = None, minutes_signed: bool = False,
    confirm_unanswered: bool = False,
) -> Inspection:
    """Apply a state-machine action for a user: team members start and submit; only the
    trip's leader approves (from in progress or submitted) and reopens (with a reason). "sign"
    happens only when the minutes carry every signature (`minutes_signed`, set by
    services.minutes), never on request.

    Approving while criteria are not assessed raises `Unanswered` (409 "unanswered", their
    codes in errors["items"]) unless `confirm_unanswered` is given with a `reason`, which is
    kept on the inspection and in the audit trail."""
    if action not in TRANSITIONS:
        raise ValidationFailed("Thao tác không hợp lệ.", "Unknown action.", {"action": [action]})
    if action == "sign" and not minutes_signed:
        raise Conflict("Cuộc kiểm tra chuyển sang “đã ký” khi biên bản có đủ chữ ký của trưởng "
                       "đoàn và đơn vị được kiểm tra; hãy ký biên bản.",
                       "An inspection becomes signed when its minutes carry the leader's and "
                       "the unit's signatures; sign the minutes.")
    if action in LEADER_ONLY:
        require(is_trip_leader(user, inspection.trip),
                "Chỉ trưởng đoàn mới được thực hiện thao tác này.",
                "Only the team leader may do this.")
    else:
        require(can_edit(user, inspection),
                "Chỉ thành viên đoàn kiểm tra mới được thực hiện thao tác này.",
                "Only members of the inspection team may do this.")
    if action == "approve" and inspection.can("approve"):
        blockers = approval_blockers(inspection)
        if blockers:
            raise Conflict(
                "Chưa thể duyệt: " + "; ".join(b["message_vi"] for b in blockers),
                "Cannot approve yet: " + "; ".join(b["message_en"] for b in blockers),
                blockers)
    if reason is not None:  # kept on the inspection and printed in the minutes
        reason = clean_text(reason, field="reason")
    unanswered: list[str] = []
    if action == "approve" and inspection.can("approve"):
        unanswered = unanswered_criteria(inspection)
        if unanswered and not confirm_unanswered:
            raise Unanswered(
                f"Còn {len(unanswered)} tiêu chí chưa được đánh giá: {', '.join(unanswered)}. "
                "Muốn duyệt khi chưa đủ, hãy xác nhận và nêu lý do.",
                f"{len(unanswered)} criteria are not assessed: {', '.join(unanswered)}. "
                "To approve anyway, confirm it and give a reason.",
                {"items": unanswered})
        if unanswered and not (reason or "").strip():
            raise ValidationFailed("Cần nêu lý do duyệt khi còn tiêu chí chưa đánh giá.",
                                   "A reason is required to approve with criteria not assessed.",
                                   {"reason": ["required"]})
    if reason is not None and len(reason) > REASON_LIMIT:
        raise ValidationFailed(f"Lý do dài quá {REASON_LIMIT} ký tự.",
                               f"The reason is over {REASON_LIMIT} characters.",
                               {"reason": ["too long"]})
    before = inspection.state
    try:
        if action == "reopen":
            if not (reason or "").strip():
                raise ValidationFailed("Cần nêu lý do mở lại.", "A reason is required to reopen.",
                                       {"reason": ["required"]})
            inspection.reopen(reason)
        elif action == "approve":
            inspection.approve(unanswered, reason)
        else:
            {"start": inspection.start, "submit": inspection.submit,
             "sign": inspection.mark_signed}[action]()
    except InvalidTransition as exc:
        raise Conflict(
            f"Không thể thực hiện: cuộc kiểm tra đang ở trạng thái “{STATE_LABELS_VI[exc.state]}”.",
            f"Not allowed: the inspection is {exc.state.value}.",
        ) from exc
    if action == "reopen":
        supersede_for(inspection)
    if action in ("approve", "reopen"):
        refresh_score(inspection)  # an approval's confirmation gives a partial score its class
    # Devices learn of the new state from the change feed (the field app locks approved work).
    signed_at = inspection.signed_at
    log_change(inspection.id, "inspection",
               {"id": inspection.id, "state": inspection.state.value,
                "revision": inspection.revision,
                "signed_at": signed_at.isoformat() if signed_at else None}, user.id)
    if action in ("approve", "reopen", "sign"):
        log_closing(inspection, user)  # tablets may edit the closing data until approval
    details = {"unanswered": unanswered} if unanswered else {}
    audit.record(f"inspection.{action}", inspection, user, device_id,
                 before=before.value, after=inspection.state.value,
                 reason=reason, **details)
    return inspection


def unanswered_criteria(inspection: Inspection) -> list[str]:
    """Codes of the applicable criteria not assessed yet, in checklist order."""
    return evaluate_inspection(inspection)["score"]["not_assessed"]
