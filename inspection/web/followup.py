"""Recording, at an inspection, whether the previous recommendations to the unit were carried
out (the partial ``_followup.html`` on the inspection page posts here)."""
from flask import Blueprint, abort, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..extensions import db
from ..models import Inspection, Recommendation
from ..services.access import get_visible_inspection, may_review
from ..services.followup import previous_recommendations, record_follow_up
from ..services.reports import is_overdue, local_today
from .actions import run_action

bp = Blueprint("followup", __name__, url_prefix="/inspections/<int:inspection_id>/follow-ups")


@bp.app_template_global()
def follow_up_context(inspection: Inspection) -> dict:
    """What the follow-up partial shows: the recommendations to verify and who may record."""
    today = local_today()
    items = previous_recommendations(inspection)
    return {
        "items": [{"rec": r, "overdue": is_overdue(r, today),
                   "here": r.followed_up_in_id == inspection.id,
                   "source": db.session.get(Inspection, r.inspection_id)} for r in items],
        "can_record": may_review(current_user, inspection),
    }


@bp.post("/<int:recommendation_id>")
@login_required
def record(inspection_id: int, recommendation_id: int):
    """Record the follow-up of a recommendation (done, partly, not done, with evidence)."""
    inspection = get_visible_inspection(current_user, db.session.get(Inspection, inspection_id))
    recommendation = db.session.get(Recommendation, recommendation_id)
    if recommendation is None:
        abort(404)
    return run_action(
        lambda: record_follow_up(recommendation, inspection, current_user,
                                 request.form.get("result", ""), request.form.get("evidence")),
        _("Đã ghi kết quả theo dõi kiến nghị."),
        url_for("main.inspection_page", inspection_id=inspection.id, _anchor="followup"))
