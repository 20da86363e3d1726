"""Sign-in and sign-out for the office pages, and the language switch."""
from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import login_required, logout_user

from ..extensions import db
from ..services import audit
from ..services.accounts import TooManyAttempts, sign_in
from ..sessions import start_session
from .actions import run_action

bp = Blueprint("auth", __name__)


def safe_next(target: str | None) -> str:
    """Only same-site relative paths are followed after sign-in (no open redirect)."""
    if (target and target.startswith("/") and not target.startswith("//")
            and not urlsplit(target).netloc):
        return target
    return url_for("main.home")


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The sign-in page, and signing in (throttled after failures)."""
    next_url = request.args.get("next")
    error, username = None, ""
    if request.method == "POST":
        username = request.form.get("username", "")
        try:
            user = sign_in(username, request.form.get("password", ""), request.remote_addr)
        except TooManyAttempts as exc:
            return render_template("auth/login.html", error=exc.message(str(get_locale())),
                                   username=username,
                                   next=next_url, demo=current_app.config.get("DEMO")), 429, {
                                       "Retry-After": str(exc.retry_after)}
        if user is None:
            db.session.commit()  # by hand, for a refusal: the failure counts for throttling
            error = _("Sai tên đăng nhập hoặc mật khẩu.")
        else:
            return run_action(lambda: _begin(user), None, lambda _: redirect(safe_next(next_url)))
    status = 401 if error else 200
    return render_template("auth/login.html", error=error, username=username, next=next_url,
                           demo=current_app.config.get("DEMO")), status


def _begin(user) -> None:
    """A new session for the user (keeping the chosen language), and the sign-in on record."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    start_session(user)
    audit.record("user.login", user, user)


@bp.post("/logout")
@login_required
def logout():
    """Sign out."""
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect(url_for("auth.login"))


@bp.get("/lang/<code>")
def set_language(code: str):
    """Switch the pages' language (a known one only), then go back."""
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
    return redirect(safe_next(request.args.get("next")))


