"""The self-assessment's state machine: draft → submitted ⇄ withdrawn, nothing else."""
import pytest

from inspection.models import InvalidTransition, SelfAssessment, SelfAssessmentState, User
from inspection.models.self_assessment import SELF_ASSESSMENT_TRANSITIONS

S = SelfAssessmentState
ALLOWED = {("submit", S.draft): S.submitted, ("submit", S.withdrawn): S.submitted,
           ("withdraw", S.submitted): S.withdrawn}


@pytest.mark.parametrize("action,state", [(a, s) for a in SELF_ASSESSMENT_TRANSITIONS for s in S])
def test_every_move_is_allowed_or_refused_as_designed(action, state):
    assessment = SelfAssessment(state=state)
    rep = User(id=7)
    move = (lambda: assessment.submit(rep)) if action == "submit" else assessment.withdraw
    if (action, state) in ALLOWED:
        move()
        assert assessment.state == ALLOWED[(action, state)]
        assert (assessment.submitted_at is not None) == (assessment.state == S.submitted)
        assert assessment.editable == (assessment.state != S.submitted)
    else:
        with pytest.raises(InvalidTransition):
            move()
        assert assessment.state == state
