"""The one place an office page commits: a form post runs one service action through
`run_action`, which commits and confirms, or rolls back and explains the refusal.

Services only flush. A view that must commit otherwise (the sign-in throttle, an audit event
committed before a download streams) says so in a comment next to its `db.session.commit()`.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect
from flask_babel import get_locale

from ..errors import ServiceError
from ..extensions import db


def run_action(action: Callable[[], Any], message: str | Callable[[Any], str] | None,
               back: str | Callable[[Any], Any], *,
               refused: Callable[[ServiceError], Any] | None = None,
               keep_refusal: bool = False, raises: tuple[type[ServiceError], ...] = ()):
    """Run `action()` (service calls that flush) as one transaction.

    Done: commit, flash `message` (or `message(result)`), redirect to `back` (or return
    `back(result)` when it is a callable: a page that answers otherwise). Refused with a
    `ServiceError`: roll back (or commit, with `keep_refusal`, when what the refusal recorded
    must stay, e.g. a failed password check counted for throttling), flash the refusal in the
    user's language, and redirect to `back` (or return `refused(exc)`: the form again with its
    errors). Refusals of the types in `raises` (and any refusal, without `refused` and with a
    callable `back`) are raised on to the app's error page after the rollback.
    """
    try:
        result = action()
    except ServiceError as exc:
        if isinstance(exc, raises) or (refused is None and not isinstance(back, str)):
            db.session.rollback()
            raise
        if keep_refusal:
            db.session.commit()
        else:
            db.session.rollback()
        flash(exc.message(str(get_locale())), "error")
        return refused(exc) if refused is not None else redirect(back)
    db.session.commit()
    text = message(result) if callable(message) else message
    if text:
        flash(text, "success")
    return redirect(back) if isinstance(back, str) else back(result)
