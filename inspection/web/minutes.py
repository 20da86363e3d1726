"""Minutes on the office pages: build, sign, upload a signed file, and the public verification
page."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..extensions import db
from ..models import Inspection
from ..services import minutes
from ..services.access import get_visible_inspection
from ..services.minutes_verification import verify_minutes
from .actions import run_action
from .forms import form_id

bp = Blueprint("minutes", __name__)
MAX_PDF = 30 * 1024 * 1024


def _back(inspection: Inspection):
    return redirect(url_for("main.inspection_page", inspection_id=inspection.id, _anchor="minutes"))


def _run(inspection: Inspection, action, message: str):
    return run_action(action, message, url_for("main.inspection_page", inspection_id=inspection.id,
                                               _anchor="minutes"))


@bp.post("/inspections/<int:inspection_id>/minutes/<action>")
@login_required
def act(inspection_id: int, action: str):
    """Build the inspection's minutes, sign them, or upload a file signed elsewhere."""
    inspection = get_visible_inspection(current_user, db.session.get(Inspection, inspection_id))
    if action == "build":
        def build():
            meeting = minutes.parse_meeting_times(request.form.get("start_time"),
                                                  request.form.get("end_time"))
            minutes.build_minutes(inspection, current_user, minutes.public_url(request.host_url),
                                  meeting)
        return _run(inspection, build, _("Đã lập biên bản."))
    without = request.form.get("without_latest_comments") == "1"
    if action == "sign":
        return _run(inspection, lambda: minutes.sign_minutes(
            inspection, current_user, without_latest_comments=without), _("Đã ký biên bản."))
    if action == "upload":
        upload = request.files.get("file")
        data = upload.read(MAX_PDF + 1) if upload else b""
        if not data or len(data) > MAX_PDF:
            flash(_("Hãy chọn tệp PDF đã ký (tối đa 30 MB)."), "error")
            return _back(inspection)
        return _run(inspection, lambda: minutes.accept_signed_upload(
            inspection, current_user, data, without_latest_comments=without),
                    _("Đã nhận tệp đã ký."))
    return _back(inspection)


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
