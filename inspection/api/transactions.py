"""The one place an API resource commits: `@commits` on a view that writes.

Services only flush; a resource decorated with `@commits` commits once its view returns (before
the response is serialised), and a refusal raised by a service leaves nothing behind (the
request's session is rolled back). A resource that must commit mid-request (the tus PATCH, the
sign-in throttle) says so in a comment next to its `db.session.commit()`.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from ..extensions import db


def commits(view: Callable[..., Any]) -> Callable[..., Any]:
    """Commit the view's writes when it returns; roll back when it raises."""

    @wraps(view)
    def committing(*args, **kwargs):
        try:
            result = view(*args, **kwargs)
        except BaseException:
            db.session.rollback()
            raise
        db.session.commit()
        return result

    return committing
