"""Home page per role and the inspection page."""
from collections import defaultdict

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from ..extensions import db
from ..models import (
    AdminUnit,
    AuditEvent,
    Finding,
    Inspection,
    InspectionState,
    Observation,
    Photo,
    Plan,
    Recommendation,
    Role,
    Trip,
    User,
)
from ..services import minutes, review
from ..services.access import can_edit, get_visible_inspection, inspections_query, is_trip_leader
from ..services.errors import ServiceError
from ..services.evaluation import evaluate_inspection
from ..services.workflow import LEADER_ONLY, USER_ACTIONS, transition_inspection

bp = Blueprint("main", __name__)


@bp.get("/")
@login_required
def home():
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


def allowed_actions(inspection: Inspection) -> list[str]:
    """The state-machine actions the signed-in user could take on this inspection now."""
    actions = []
    leader = is_trip_leader(current_user, inspection.trip)
    for action in USER_ACTIONS:  # signing happens through the minutes, not a button
        if not inspection.can(action):
            continue
        if action == "submit" and leader:  # the leader approves directly, not sends to himself
            continue
        permitted = leader if action in LEADER_ONLY else can_edit(current_user, inspection)
        if permitted:
            actions.append(action)
    return actions


@bp.route("/inspections/<int:inspection_id>", methods=["GET", "POST"])
@login_required
def inspection_page(inspection_id: int):
    inspection = get_visible_inspection(current_user, db.session.get(Inspection, inspection_id))
    if request.method == "POST":
        try:
            transition_inspection(inspection, request.form.get("action", ""), current_user,
                                  request.form.get("reason"),
                                  confirm_unanswered=request.form.get("confirm_unanswered") == "1")
        except ServiceError as exc:
            db.session.rollback()
            flash(exc.message(str(get_locale())), "error")
        else:
            db.session.commit()
            flash(_("Đã cập nhật trạng thái."), "success")
        return redirect(url_for("main.inspection_page", inspection_id=inspection.id))
    observations = {o.item_code: o for o in db.session.scalars(
        select(Observation).where(Observation.inspection_id == inspection.id))}
    photos: dict[str | None, list[Photo]] = defaultdict(list)
    for photo in db.session.scalars(select(Photo).where(Photo.inspection_id == inspection.id).order_by(Photo.id)):
        photos[photo.item_code].append(photo)
    users = {u.id: u for u in db.session.scalars(select(User))}
    is_leader = is_trip_leader(current_user, inspection.trip)
    evaluation = evaluate_inspection(inspection)
    actions = allowed_actions(inspection)
    latest = minutes.latest_revision(inspection)
    return render_template(
        "inspection.html", inspection=inspection, evaluation=evaluation,
        actions=actions, history=review.described_history(inspection),
        observations=observations, photos=photos,
        users=users, is_leader=is_leader, editable=is_leader and inspection.state != InspectionState.signed,
        can_comment=inspection.state != InspectionState.signed and (
            is_leader or (current_user.role == Role.unitrep and current_user.unit_id == inspection.unit_id)),
        conflicts=review.described_conflicts(inspection),
        late=review.described_late_submissions(inspection),
        unanswered=review.described_criteria(inspection, evaluation["score"]["not_assessed"])
        if "approve" in actions else [],
        approved_unanswered=review.described_criteria(inspection,
                                                      inspection.approved_unanswered or []),
        comments_after_build=bool(minutes.comments_after_build(latest, inspection)),
        findings=db.session.scalars(select(Finding).where(Finding.inspection_id == inspection.id)
                                    .order_by(Finding.position, Finding.id)).all(),
        recommendations=db.session.scalars(select(Recommendation).where(Recommendation.inspection_id == inspection.id)
                                           .order_by(Recommendation.position, Recommendation.id)).all(),
        blockers=review.approval_blockers(inspection) if inspection.can("approve") else [],
        minutes_revisions=minutes.revisions_of(inspection),
        minutes_check=minutes.check_revision(latest),
        leader_signed=bool(latest and any(s.role == "leader" for s in latest.signatures)),
        unit_signed=bool(latest and any(s.role == "unitrep" and s.signer_id == current_user.id
                                        for s in latest.signatures)),
    )
