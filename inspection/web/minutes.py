"""Minutes on the office pages: build, sign, upload a signed file (an inspection's, or a whole
trip's on the trip page), and the public verification page."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..errors import NotFound
from ..extensions import db
from ..models import Inspection, InspectionState, MinutesStatus, Role, Trip, TripRole
from ..services import minutes
from ..services.access import can_view, get_visible_inspection, is_trip_leader, trips_query
from ..services.inspection_page import minutes_offers
from ..services.minutes_details import build_with_details, parse_details
from ..services.minutes_verification import verify_minutes
from ..services.planning import trip_is_locked
from .actions import run_action
from .forms import form_id

bp = Blueprint("minutes", __name__)
MAX_PDF = 30 * 1024 * 1024


def _back_url(target: Inspection | Trip) -> str:
    if isinstance(target, Trip):
        return url_for("minutes.trip_page", trip_id=target.id, _anchor="minutes")
    return url_for("main.inspection_page", inspection_id=target.id, _anchor="minutes")


def _run(target: Inspection | Trip, action, message: str):
    return run_action(action, message, _back_url(target))


def _form_details(with_officials: bool):
    """The minutes form's details (officials only on an inspection's form)."""
    form = request.form
    return parse_details(form.get("report_due"),
                         form.getlist("official_name") if with_officials else None,
                         form.getlist("official_position") if with_officials else None,
                         form.get("recipients"),
                         form.getlist("team_present") if with_officials
                         and form.get("team_form") else None)


def _act(target: Inspection | Trip, action: str):
    """Build (with the form's details), sign or upload the minutes of an inspection or a trip."""
    if action == "build":
        def build():
            meeting = None
            if isinstance(target, Inspection):
                meeting = minutes.parse_meeting_times(request.form.get("start_time"),
                                                      request.form.get("end_time"))
            build_with_details(target, current_user, minutes.public_url(request.host_url),
                               _form_details(isinstance(target, Inspection)), meeting)
        return _run(target, build, _("Đã lập biên bản."))
    # A unit's representative confirms signing minutes built before the unit's latest comments.
    without = request.form.get("without_latest_comments") == "1"
    if action == "sign":
        return _run(target, lambda: minutes.sign_minutes(
            target, current_user, without_latest_comments=without), _("Đã ký biên bản."))
    if action == "upload":
        upload = request.files.get("file")
        data = upload.read(MAX_PDF + 1) if upload else b""
        if not data or len(data) > MAX_PDF:
            flash(_("Hãy chọn tệp PDF đã ký (tối đa 30 MB)."), "error")
            return redirect(_back_url(target))
        return _run(target, lambda: minutes.accept_signed_upload(
            target, current_user, data, without_latest_comments=without),
                    _("Đã nhận tệp đã ký."))
    return redirect(_back_url(target))


@bp.post("/inspections/<int:inspection_id>/minutes/<action>")
@login_required
def act(inspection_id: int, action: str):
    """Build the inspection's minutes, sign them, or upload a file signed elsewhere."""
    inspection = get_visible_inspection(current_user, db.session.get(Inspection, inspection_id))
    return _act(inspection, action)


def _visible_trip(trip_id: int) -> Trip:
    """The trip if the user may see it (as the trip minutes' API does); else 404."""
    trip = db.session.get(Trip, trip_id)
    if trip is None or db.session.scalar(
            trips_query(current_user).where(Trip.id == trip.id)) is None:
        raise NotFound("Không tìm thấy đợt kiểm tra.", "Trip not found.")
    return trip


@bp.get("/trips/<int:trip_id>")
@login_required
def trip_page(trip_id: int):
    """A trip: its team, decision and units, and the trip minutes (one document for the whole
    trip) to build, sign, upload and download like an inspection's."""
    trip = _visible_trip(trip_id)
    revisions = minutes.revisions_of(trip)
    latest = minutes.latest_revision(trip)
    leader = is_trip_leader(current_user, trip)
    all_approved = all(i.state == InspectionState.approved for i in trip.inspections)
    order = {TripRole.leader: 0, TripRole.member: 1, TripRole.secretary: 2}
    offers = minutes_offers(
        current_user, trip, latest, may_build=leader and all_approved,
        may_sign=latest is not None and latest.status == MinutesStatus.final
        and (leader or current_user.role == Role.unitrep))
    return render_template(
        "trip.html", trip=trip, minutes_revisions=revisions, minutes_latest=latest,
        team=sorted(trip.members, key=lambda m: (order.get(m.role, 9), m.id)),
        visible=lambda inspection: can_view(current_user, inspection),
        minutes_check=minutes.check_revision(latest), is_leader=leader,
        all_approved=all_approved, locked=trip_is_locked(trip), **offers)


@bp.post("/trips/<int:trip_id>/minutes/<action>")
@login_required
def trip_act(trip_id: int, action: str):
    """Build, sign or upload the trip's minutes (one document for the whole trip)."""
    return _act(_visible_trip(trip_id), action)


@bp.route("/minutes/verify", methods=["GET", "POST"])
def verify():
    """Anyone holding a PDF can check its signatures here; the QR code of the minutes leads
    here with the stored revision's number, whose latest signed file is checked the same way."""
    result, stored = None, None
    if request.method == "POST":
        upload = request.files.get("file")
        data = upload.read(MAX_PDF + 1) if upload else b""
        if not data or len(data) > MAX_PDF:
            flash(_("Hãy chọn tệp PDF (tối đa 30 MB)."), "error")
        else:
            result = verify_minutes(data)
    else:
        stored = minutes.stored_revision(form_id(request.args.get("inspection")),
                                         form_id(request.args.get("trip")),
                                         form_id(request.args.get("revision"), 0))
        result = minutes.check_revision(stored)
    failed = request.method == "POST" and result is not None and not result.valid
    return render_template("minutes_verify.html", result=result,
                           stored=stored), (422 if failed else 200)
