"""Home page per role and the inspection page."""
from collections import defaultdict

from flask import Blueprint, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from ..extensions import db
from ..models import (
    AdminUnit,
    AuditEvent,
    Inspection,
    Plan,
    Role,
    Trip,
    User,
)
from ..services.access import get_visible_inspection, inspections_query
from ..services.evaluation import observations_by_code
from ..services.inspection_page import inspection_page_data
from ..services.self_assessment import review_section
from ..services.workflow import transition_inspection
from .actions import run_action

bp = Blueprint("main", __name__)


@bp.get("/")
@login_required
def home():
    """The home page: the inspections the signed-in person may see."""
    inspections = db.session.scalars(inspections_query(current_user)).all()
    by_trip: dict[Trip, list[Inspection]] = defaultdict(list)
    for inspection in inspections:
        by_trip[inspection.trip].append(inspection)
    context = {"by_trip": dict(by_trip)}
    if current_user.role == Role.admin:
        context["counts"] = {
            "users": db.session.scalar(select(func.count()).select_from(User)),
            "units": db.session.scalar(select(func.count()).select_from(AdminUnit)),
            "plans": db.session.scalar(select(func.count()).select_from(Plan)),
            "trips": db.session.scalar(select(func.count()).select_from(Trip)),
        }
        context["events"] = db.session.scalars(
            select(AuditEvent).order_by(AuditEvent.id.desc()).limit(15)).all()
    return render_template("home.html", **context)


@bp.route("/inspections/<int:inspection_id>", methods=["GET", "POST"])
@login_required
def inspection_page(inspection_id: int):
    """One inspection: results, review, minutes; a state action when posted."""
    inspection = get_visible_inspection(current_user, db.session.get(Inspection, inspection_id))
    if request.method == "POST":
        return run_action(
            lambda: transition_inspection(
                inspection, request.form.get("action", ""), current_user,
                request.form.get("reason"),
                confirm_unanswered=request.form.get("confirm_unanswered") == "1"),
            _("Đã cập nhật trạng thái."),
            url_for("main.inspection_page", inspection_id=inspection.id))
    page = inspection_page_data(current_user, inspection)
    return render_template("inspection.html", **page.context(), self_assessment=review_section(
        current_user, inspection, observations_by_code(inspection)))
