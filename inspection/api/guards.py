"""Authorisation helpers for API views."""
from functools import wraps

from flask_login import current_user
from flask_smorest import abort

from ..errors import language
from ..sessions import ENDED, ended_reason


def login_required_api(view):
    """Answer 401 in JSON (not a redirect to the login page) when nobody is signed in; with the
    code "session_ended" or "account_deactivated" when the cookie's session was ended."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            reason = ended_reason()
            if reason is not None:
                vi, en = ENDED[reason]
                abort(401, message=en if language() == "en" else vi, code=reason)
            abort(401)
        return view(*args, **kwargs)

    return wrapped
