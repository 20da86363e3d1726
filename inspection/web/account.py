"""My account: everyone's own page — change the password, sign out the other devices, register
the certificates one signs minutes with."""
from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..services.accounts import change_own_password, end_all_sessions
from ..services.certificates import certificate_of, register_certificate, withdraw_certificate
from ..sessions import keep_session
from .actions import run_action
from .forms import read_certificate_upload

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.before_request
@login_required
def signed_in_only():
    """Every page here is about the signed-in account."""


def _me():
    """The signed-in account itself (services record it in the audit log by its type)."""
    return current_user._get_current_object()


def _page(errors=None, status: int = 200):
    return render_template("account.html", account=current_user, errors=errors or {}), status


def _run(action, message: str, keep: bool = False, keep_refusal: bool = False):
    """Run the action on one's own account: back to the page with a message, or the page with the
    refusal. `keep`: this session moves to the account's new generation (the others end).
    `keep_refusal`: what the refused action recorded stays (a wrong current password counts as a
    failed sign-in, for throttling)."""
    def run():
        action()
        if keep:
            keep_session(current_user)

    return run_action(run, message, url_for("account.page"), keep_refusal=keep_refusal,
                      refused=lambda exc: _page(exc.errors if isinstance(exc.errors, dict) else {},
                                                exc.status))


@bp.get("")
def page():
    """The signed-in person's account page."""
    return _page()


@bp.post("/password")
def password():
    """Change one's own password."""
    form = request.form
    return _run(lambda: change_own_password(_me(), form.get("current_password", ""),
                                            form.get("new_password", ""),
                                            form.get("confirm_password", ""), request.remote_addr),
                _("Đã đổi mật khẩu. Các thiết bị khác đang đăng nhập tài "
                  "khoản này đã bị đăng xuất."),
                keep=True, keep_refusal=True)


@bp.post("/sessions")
def sessions():
    """Sign out everywhere else (end one's other sessions)."""
    return _run(lambda: end_all_sessions(_me(), _me()),
                _("Đã đăng xuất tài khoản khỏi mọi thiết bị khác."), keep=True)


@bp.post("/certificates")
def add_certificate():
    """Register one's own signing certificate."""
    data = read_certificate_upload(request.files.get("certificate"))
    return _run(lambda: register_certificate(_me(), data, _me()),
                _("Đã đăng ký chứng thư số. Từ nay có thể ký biên bản bằng "
                  "chứng thư này rồi tải lên."))


@bp.post("/certificates/<int:certificate_id>/withdraw")
def withdraw(certificate_id: int):
    """Withdraw one of one's own signing certificates."""
    row = certificate_of(_me(), certificate_id) or abort(404)
    return _run(lambda: withdraw_certificate(row, _me()),
                _("Đã gỡ chứng thư số; chữ ký mới bằng chứng thư này không còn được nhận."))
