"""The unit's self-assessment in the office pages: the representative fills the checklist
(saving criterion by criterion, with evidence files), submits and withdraws it, and answers the
leader's requests for explanations; the team reads it and the leader asks."""
from flask import Blueprint, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..services import self_assessment as service
from ..services.evaluation import observations_by_code
from ..services.storage import get_storage
from .actions import run_action

bp = Blueprint("self_assessment", __name__,
               url_prefix="/inspections/<int:inspection_id>/self-assessment")


def _page(inspection_id: int, anchor: str | None = None) -> str:
    return url_for("self_assessment.page", inspection_id=inspection_id, _anchor=anchor)


@bp.get("")
@login_required
def page(inspection_id: int):
    """The self-assessment: a form per criterion for the representative, the claims beside the
    appraisal for the team."""
    inspection = service.readable_inspection(current_user, inspection_id)
    observations = (None if service.is_representative(current_user, inspection)
                    else observations_by_code(inspection))
    return render_template("self_assessment.html", inspection=inspection,
                           sa=service.page_data(current_user, inspection, observations))


@bp.post("/items/<item_code>")
@login_required
def save_item(inspection_id: int, item_code: str):
    """Save one criterion's claim, with the files kept and new ones."""
    inspection = service.readable_inspection(current_user, inspection_id)
    return run_action(
        lambda: service.save_claim_from_form(current_user, inspection, item_code, request.form,
                                             request.files.getlist("files")),
        _("Đã lưu tiêu chí %(code)s.", code=item_code), _page(inspection.id, f"item-{item_code}"))


@bp.post("/submit")
@login_required
def submit(inspection_id: int):
    """Submit the self-assessment to the team."""
    inspection = service.readable_inspection(current_user, inspection_id)
    return run_action(lambda: service.submit(current_user, inspection),
                      _("Đã nộp tự đánh giá cho đoàn kiểm tra."), _page(inspection.id))


@bp.post("/withdraw")
@login_required
def withdraw(inspection_id: int):
    """Withdraw a submitted self-assessment to correct it."""
    inspection = service.readable_inspection(current_user, inspection_id)
    return run_action(lambda: service.withdraw(current_user, inspection),
                      _("Đã rút lại tự đánh giá; sửa xong hãy nộp lại."), _page(inspection.id))


@bp.get("/evidence/<int:evidence_id>")
@login_required
def evidence(inspection_id: int, evidence_id: int):
    """An evidence file, as a download."""
    found = service.get_evidence(current_user, inspection_id, evidence_id)
    response = send_file(get_storage().path_for(found.sha256), mimetype=found.content_type,
                         as_attachment=True, download_name=found.filename, conditional=True,
                         etag=found.sha256, max_age=None)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.post("/explanations/<item_code>")
@login_required
def ask(inspection_id: int, item_code: str):
    """The leader asks the unit to explain one criterion."""
    inspection = service.readable_inspection(current_user, inspection_id)
    return run_action(
        lambda: service.ask_explanation(current_user, inspection, item_code,
                                        request.form.get("question")),
        _("Đã đề nghị đơn vị giải trình tiêu chí %(code)s.", code=item_code),
        _page(inspection.id, f"item-{item_code}"))


@bp.post("/explanations/<item_code>/answer")
@login_required
def answer(inspection_id: int, item_code: str):
    """The representative answers a request, in words and files."""
    inspection = service.readable_inspection(current_user, inspection_id)
    return run_action(
        lambda: service.answer_explanation(current_user, inspection, item_code,
                                           request.form.get("answer"),
                                           request.files.getlist("files")),
        _("Đã gửi giải trình tiêu chí %(code)s.", code=item_code),
        _page(inspection.id, f"item-{item_code}"))
