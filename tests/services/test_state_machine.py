"""The inspection state machine allows exactly the documented moves (DESIGN §3)."""
import pytest

from inspection.models import Inspection, InspectionState, InvalidTransition
from inspection.models.inspections import TRANSITIONS

S = InspectionState
ALLOWED = {
    ("start", S.planned): S.in_progress,
    ("submit", S.in_progress): S.submitted,
    ("approve", S.in_progress): S.approved,  # the leader approves directly
    ("approve", S.submitted): S.approved,
    ("sign", S.approved): S.signed,
    ("reopen", S.submitted): S.in_progress,
    ("reopen", S.approved): S.in_progress,
    ("reopen", S.signed): S.in_progress,
}
METHODS = {"start": "start", "submit": "submit", "approve": "approve", "sign": "mark_signed"}


def act(inspection: Inspection, action: str) -> None:
    if action == "reopen":
        inspection.reopen("Thiếu số liệu hồ sơ quá hạn")
    else:
        getattr(inspection, METHODS[action])()


@pytest.mark.parametrize("action,state", [(a, s) for a in TRANSITIONS for s in S])
def test_every_move_is_allowed_or_refused_as_designed(action, state):
    inspection = Inspection(state=state, revision=1)
    if (action, state) in ALLOWED:
        act(inspection, action)
        assert inspection.state == ALLOWED[(action, state)]
        assert inspection.revision == 2
        assert inspection.state_changed_at is not None
    else:
        with pytest.raises(InvalidTransition):
            act(inspection, action)
        assert inspection.state == state
        assert inspection.revision == 1


def test_reopen_needs_a_reason_and_keeps_it():
    inspection = Inspection(state=S.approved, revision=1)
    with pytest.raises(ValueError):
        inspection.reopen("   ")
    assert inspection.state == S.approved
    inspection.reopen("  Số liệu sai  ")
    assert inspection.reopen_reason == "Số liệu sai"


def test_approving_with_criteria_not_assessed_keeps_the_reason_until_reopened():
    inspection = Inspection(state=S.in_progress, revision=1)
    with pytest.raises(ValueError):
        inspection.approve(unanswered=["TTHC.05"], reason="  ")
    assert inspection.state == S.in_progress
    inspection.approve(unanswered=["TTHC.05"], reason=" Đơn vị không có hồ sơ ")
    assert (inspection.approved_unanswered, inspection.approval_reason) == \
        (["TTHC.05"], "Đơn vị không có hồ sơ")
    assert inspection.approval_confirmed_partial
    inspection.reopen("Bổ sung số liệu")
    assert inspection.approved_unanswered is None and inspection.approval_reason is None
    assert not inspection.approval_confirmed_partial


def test_the_whole_path_to_signed_and_back():
    inspection = Inspection(state=S.planned, revision=1)
    for action in ("start", "submit", "approve", "sign", "reopen", "submit", "approve"):
        act(inspection, action)
    assert inspection.state == S.approved
    assert inspection.is_locked
