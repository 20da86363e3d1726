"""Sessions that can be ended: each session carries its account's session generation.

Sessions are signed cookies, so ending one means refusing it: every request compares the
generation in its cookie with the account's (`User.session_generation`), which a password
change or reset, "end all sessions", a deactivation, a reactivation and an edit of the account
raise. A refused request is answered as signed out with the reason:

- API: 401 `{"code": "session_ended"}` or 401 `{"code": "account_deactivated"}` (a plain missing
  session stays 401 `"unauthorized"`), in Vietnamese or English;
- pages: a redirect to the sign-in page with the reason shown there.

A reactivated account never gets an old cookie back: reactivation raises the generation too.
"""
from __future__ import annotations

from flask import flash, g, redirect, request, session
from flask_babel import gettext as _
from flask_login import login_url, login_user

from .extensions import db, login_manager

GENERATION_KEY = "_generation"

# code -> (Vietnamese, English), for the API's 401 answers
ENDED = {
    "session_ended": ("Phiên đăng nhập đã kết thúc (mật khẩu đã đổi, tài "
                      "khoản đã được sửa hoặc mọi "
                      "phiên đã được đăng xuất). Hãy đăng nhập lại.",
                      "Your session was ended (the password was changed, the account was edited "
                      "or all its sessions were ended). Sign in again."),
    "account_deactivated": ("Tài khoản đã bị khóa. Hãy liên hệ Sở Nội vụ.",
                            "The account has been deactivated. Contact the Department of Home "
                            "Affairs."),
}


def start_session(user) -> None:
    """Sign the user in, in a session of the account's current generation (14 days)."""
    login_user(user)
    session[GENERATION_KEY] = user.session_generation
    session.permanent = True


def keep_session(user) -> None:
    """Keep this session after the user ended the others (own password change, "end my other
    sessions"): it moves to the account's new generation."""
    session[GENERATION_KEY] = user.session_generation


def load_user(user_id: str):
    """Flask-Login's user loader: the account, if it is active and the session is current."""
    from .models import User

    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    if user is None:
        return None
    if not user.active:
        g.session_ended = "account_deactivated"
        return None
    # Sessions from before generations existed carry none: generation 0, the starting one.
    if session.get(GENERATION_KEY, 0) != user.session_generation:
        g.session_ended = "session_ended"
        return None
    return user


def ended_reason() -> str | None:
    """Why this request's session was refused ("session_ended", "account_deactivated"), if it
    was."""
    return g.get("session_ended")


def unauthorized():
    """Pages: back to the sign-in page (then here again), saying why when a session ended."""
    reason = ended_reason()
    if reason == "account_deactivated":
        flash(_("Tài khoản đã bị khóa. Hãy liên hệ Sở Nội vụ."), "error")
    elif reason == "session_ended":
        flash(_("Phiên đăng nhập đã kết thúc (mật khẩu đã đổi, tài khoản đã được sửa hoặc mọi "
                "phiên đã được đăng xuất). Hãy đăng nhập lại."), "error")
    return redirect(login_url(login_manager.login_view, next_url=request.url))
