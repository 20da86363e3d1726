"""Authorisation helpers for API views."""
from functools import wraps

from flask_login import current_user
from flask_smorest import abort


def login_required_api(view):
    """Answer 401 in JSON (not a redirect to the login page) when nobody is signed in."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            abort(401)
        return view(*args, **kwargs)

    return wrapped
