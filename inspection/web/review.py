"""The leader's review on the inspection page: every form posts here and comes back."""
from flask import Blueprint, abort, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..extensions import db
from ..models import Conflict, Finding, Inspection, LateSubmission, Recommendation
from ..services import review
from ..services.access import get_visible_inspection
from .actions import run_action
from .forms import form_id

bp = Blueprint("review", __name__, url_prefix="/inspections/<int:inspection_id>")


def _inspection(inspection_id: int) -> Inspection:
    return get_visible_inspection(current_user, db.session.get(Inspection, inspection_id))


def _owned(model, record_id: int, inspection: Inspection):
    record = db.session.get(model, record_id)
    if record is None or record.inspection_id != inspection.id:
        abort(404)
    return record


def _done(inspection: Inspection, action, message: str, anchor: str):
    """Run one review action; back to the inspection page at `anchor`."""
    return run_action(action, message, url_for("main.inspection_page", inspection_id=inspection.id,
                                               _anchor=anchor))


@bp.post("/conflicts/<int:conflict_id>")
@login_required
def resolve_conflict(inspection_id: int, conflict_id: int):
    """Settle a conflict: keep one value or enter another (the leader)."""
    inspection = _inspection(inspection_id)
    conflict = _owned(Conflict, conflict_id, inspection)
    return _done(inspection, lambda: review.resolve_conflict(
        conflict, current_user, request.form.get("choice", ""), request.form.get("custom")),
        _("Đã xử lý xung đột."), "conflicts")


@bp.post("/late/<int:late_id>")
@login_required
def decide_late(inspection_id: int, late_id: int):
    """Accept or refuse a change sent after approval or signing (the leader)."""
    inspection = _inspection(inspection_id)
    late = _owned(LateSubmission, late_id, inspection)
    return _done(inspection, lambda: review.decide_late_submission(
        late, current_user, request.form.get("decision") == "accept"),
        _("Đã xử lý thay đổi đến muộn."), "late")


@bp.post("/observations")
@login_required
def set_observation(inspection_id: int):
    """Set one field of an item's observation from the office page."""
    inspection = _inspection(inspection_id)
    form = request.form
    version = form_id(form.get("version"), -1)
    return _done(inspection, lambda: review.set_observation(
        inspection, current_user, form.get("item_code", ""), form.get("field", ""),
        form.get("value", ""), version),
        _("Đã lưu số liệu."), "results")


@bp.post("/findings")
@login_required
def add_finding(inspection_id: int):
    """Add a finding (the leader)."""
    inspection = _inspection(inspection_id)
    return _done(inspection, lambda: review.add_finding(
        inspection, current_user, request.form.get("kind", ""), request.form.get("text", "")),
        _("Đã thêm nhận xét."), "findings")


@bp.post("/findings/<int:finding_id>/delete")
@login_required
def delete_finding(inspection_id: int, finding_id: int):
    """Delete a finding (the leader)."""
    inspection = _inspection(inspection_id)
    finding = _owned(Finding, finding_id, inspection)
    return _done(inspection, lambda: review.delete_finding(finding, current_user),
                 _("Đã xoá nhận xét."), "findings")


@bp.post("/recommendations")
@login_required
def add_recommendation(inspection_id: int):
    """Add a recommendation with its due date (the leader)."""
    inspection = _inspection(inspection_id)
    form = request.form
    return _done(inspection, lambda: review.add_recommendation(
        inspection, current_user, form.get("text", ""), form.get("due_on"),
        form.get("library_code") or None,
        [c for c in form.get("item_codes", "").split() if c]), _("Đã thêm kiến nghị."),
        "recommendations")


@bp.post("/recommendations/<int:recommendation_id>")
@login_required
def update_recommendation(inspection_id: int, recommendation_id: int):
    """Change a recommendation (the leader)."""
    inspection = _inspection(inspection_id)
    recommendation = _owned(Recommendation, recommendation_id, inspection)
    return _done(inspection, lambda: review.update_recommendation(
        recommendation, current_user, request.form.get("text", ""), request.form.get("due_on")),
        _("Đã lưu kiến nghị."), "recommendations")


@bp.post("/recommendations/<int:recommendation_id>/delete")
@login_required
def delete_recommendation(inspection_id: int, recommendation_id: int):
    """Delete a recommendation (the leader)."""
    inspection = _inspection(inspection_id)
    recommendation = _owned(Recommendation, recommendation_id, inspection)
    return _done(inspection, lambda: review.delete_recommendation(recommendation, current_user),
                 _("Đã xoá kiến nghị."), "recommendations")


@bp.post("/comments")
@login_required
def save_comments(inspection_id: int):
    """Save the unit's comments on the results (its representative)."""
    inspection = _inspection(inspection_id)
    revision = form_id(request.form.get("revision"), -1)
    return _done(inspection, lambda: review.save_unit_comments(
        inspection, current_user, request.form.get("text", ""), revision),
        _("Đã lưu ý kiến của đơn vị."), "comments")
