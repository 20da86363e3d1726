"""Minutes revisions, recommendations and late submissions allow exactly their documented moves
(like the inspection's, tests/services/test_state_machine.py): every (action, state) pair is
either the one move designed or refused with InvalidTransition, leaving the record unchanged."""
import pytest

from inspection.models import (
    InvalidTransition,
    LateStatus,
    LateSubmission,
    MinutesRevision,
    MinutesStatus,
    Recommendation,
    RecommendationStatus,
    User,
)
from inspection.models.inspections import LATE_TRANSITIONS, RECOMMENDATION_TRANSITIONS
from inspection.models.minutes import MINUTES_TRANSITIONS

M = MinutesStatus
MINUTES_ALLOWED = {
    ("complete", M.final): M.signed,
    ("supersede", M.final): M.superseded,
    ("supersede", M.signed): M.superseded,
}
MINUTES_METHODS = {"complete": "mark_signed", "supersede": "supersede"}


@pytest.mark.parametrize("action,state", [(a, s) for a in MINUTES_TRANSITIONS for s in M])
def test_minutes_revision_moves(action, state):
    revision = MinutesRevision(status=state)
    assert revision.can(action) == ((action, state) in MINUTES_ALLOWED)
    if (action, state) in MINUTES_ALLOWED:
        getattr(revision, MINUTES_METHODS[action])()
        assert revision.status == MINUTES_ALLOWED[(action, state)]
    else:
        with pytest.raises(InvalidTransition):
            getattr(revision, MINUTES_METHODS[action])()
        assert revision.status == state


def test_a_superseded_revision_stays_superseded():
    revision = MinutesRevision(status=M.final)
    revision.supersede()
    assert revision.is_superseded
    with pytest.raises(InvalidTransition, match="cannot supersede minutes that is superseded"):
        revision.supersede()


R = RecommendationStatus
RECOMMENDATION_ALLOWED = {
    ("report_done", R.open): R.done,
    ("undo_report", R.done): R.open,  # the unit withdraws its report until it is verified
    ("verify", R.open): R.verified,
    ("verify", R.done): R.verified,
    ("verify", R.verified): R.verified,  # the same inspection confirms its follow-up again
    ("keep_open", R.open): R.open,
    ("keep_open", R.done): R.open,
    ("keep_open", R.verified): R.open,  # corrected at the same inspection before signing
}
# one follow-up result per move
RESULT_FOR = {"verify": "done", "keep_open": "not_done"}


def act_on_recommendation(recommendation: Recommendation, action: str) -> None:
    if action == "report_done":
        recommendation.report_done(User(id=3), "Đã niêm yết")
    elif action == "undo_report":
        recommendation.undo_report()
    else:
        recommendation.follow_up(RESULT_FOR[action], 7, "Đã xem hồ sơ")


@pytest.mark.parametrize("action,state", [(a, s) for a in RECOMMENDATION_TRANSITIONS for s in R])
def test_recommendation_moves(action, state):
    recommendation = Recommendation(status=state)
    assert recommendation.can(action) == ((action, state) in RECOMMENDATION_ALLOWED)
    if (action, state) in RECOMMENDATION_ALLOWED:
        act_on_recommendation(recommendation, action)
        assert recommendation.status == RECOMMENDATION_ALLOWED[(action, state)]
    else:
        with pytest.raises(InvalidTransition):
            act_on_recommendation(recommendation, action)
        assert recommendation.status == state


@pytest.mark.parametrize("result,status", [("done", R.verified), ("partly", R.open),
                                           ("not_done", R.open)])
def test_a_follow_up_keeps_its_result_evidence_and_inspection(result, status):
    recommendation = Recommendation(status=R.done)
    recommendation.follow_up(result, 42, "Biên bản họp ngày 5/3")
    assert (recommendation.status, recommendation.follow_up_result,
            recommendation.follow_up_evidence, recommendation.followed_up_in_id) == (
        status, result, "Biên bản họp ngày 5/3", 42)


def test_an_unknown_follow_up_result_changes_nothing():
    recommendation = Recommendation(status=R.open)
    with pytest.raises(KeyError):
        recommendation.follow_up("maybe", 42, None)
    assert recommendation.status == R.open and recommendation.follow_up_result is None


L = LateStatus
LATE_ALLOWED = {("accept", L.pending): L.accepted, ("dismiss", L.pending): L.dismissed}


@pytest.mark.parametrize("action,state", [(a, s) for a in LATE_TRANSITIONS for s in L])
def test_late_submission_moves(action, state):
    late = LateSubmission(status=state)
    assert late.can(action) == ((action, state) in LATE_ALLOWED)
    if (action, state) in LATE_ALLOWED:
        getattr(late, action)(5)
        assert late.status == LATE_ALLOWED[(action, state)]
        assert late.decided_by_id == 5 and late.decided_at is not None
    else:
        with pytest.raises(InvalidTransition):
            getattr(late, action)(5)
        assert late.status == state
        assert late.decided_by_id is None and late.decided_at is None


def test_the_stored_values_are_unchanged():
    """The states are stored as before (no migration): the same strings."""
    assert [s.value for s in M] == ["final", "signed", "superseded"]
    assert [s.value for s in R] == ["open", "done", "verified"]
    assert [s.value for s in L] == ["pending", "accepted", "dismissed"]
