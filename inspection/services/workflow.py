"""Moving an inspection through its states, with the permission check and the audit trail."""
from __future__ import annotations

from ..errors import Conflict, ValidationFailed
from ..models import Inspection, InvalidTransition, User
from ..models.inspections import TRANSITIONS, USER_ACTIONS
from . import audit
from .access import can_edit, is_trip_leader, require
from .feed import log_change
from .review import approval_blockers
from .revisions import supersede_for

STATE_LABELS_VI = {
    "planned": "đã lên kế hoạch",
    "in_progress": "đang kiểm tra",
    "submitted": "đã gửi trưởng đoàn",
    "approved": "đã duyệt",
    "signed": "đã ký",
}
LEADER_ONLY = {"approve", "sign", "reopen"}


def allowed_actions(user: User, inspection: Inspection) -> list[str]:
    """The state-machine actions the user could take on this inspection now (signing happens
    through the minutes, not a button)."""
    return [action for action in USER_ACTIONS if inspection.can(action) and (
        is_trip_leader(user, inspection.trip) if action in LEADER_ONLY
        else can_edit(user, inspection))]


def transition_inspection(
    inspection: Inspection, action: str, user: User, reason: str | None = None,
    device_id: str | None = None, minutes_signed: bool = False,
) -> Inspection:
    """Apply a state-machine action for a user: team members start and submit; only the
    trip's leader approves and reopens (with a reason). "sign" happens only when the minutes
    carry every signature (`minutes_signed`, set by services.minutes), never on request."""
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
    before = inspection.state
    try:
        if action == "reopen":
            if not (reason or "").strip():
                raise ValidationFailed("Cần nêu lý do mở lại.", "A reason is required to reopen.",
                                       {"reason": ["required"]})
            inspection.reopen(reason)
        else:
            {"start": inspection.start, "submit": inspection.submit,
             "approve": inspection.approve, "sign": inspection.mark_signed}[action]()
    except InvalidTransition as exc:
        raise Conflict(
            f"Không thể thực hiện: cuộc kiểm tra đang ở trạng thái “{STATE_LABELS_VI[exc.state]}”.",
            f"Not allowed: the inspection is {exc.state.value}.",
        ) from exc
    if action == "reopen":
        supersede_for(inspection)
    # Devices learn of the new state from the change feed (the field app locks approved work).
    signed_at = inspection.signed_at
    log_change(inspection.id, "inspection",
               {"id": inspection.id, "state": inspection.state.value,
                "revision": inspection.revision,
                "signed_at": signed_at.isoformat() if signed_at else None}, user.id)
    audit.record(f"inspection.{action}", inspection, user, device_id,
                 before=before.value, after=inspection.state.value, reason=reason)
    return inspection
