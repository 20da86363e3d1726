"""The JSON API under /api/v1 (flask-smorest), with errors as {code, message, errors?}."""
from __future__ import annotations

import marshmallow as ma
from flask import Flask, render_template
from flask_smorest import Api
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from ..errors import MESSAGES, error_payload, init_errors, language, wants_json


class ErrorSchema(ma.Schema):
    """An error: a stable machine code, a message in the user's language, details per field."""

    code = ma.fields.String(required=True, metadata={"description": "Stable error code"})
    message = ma.fields.String(required=True, metadata={"description": "Message for people"})
    errors = ma.fields.Raw(metadata={"description": "Details, e.g. per field"})


class InspectionApi(Api):
    """flask-smorest's Api with our error shape, HTML errors outside /api/, and Allow on 405."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: HTTPException):
        """Any HTTP error: our JSON shape under /api/, the error page elsewhere."""
        status = error.code or 500
        headers = {}
        if isinstance(error, MethodNotAllowed) and error.valid_methods:
            # flask-smorest drops it; RFC 9110 requires it on 405.
            headers["Allow"] = ", ".join(error.valid_methods)
        if not wants_json():
            _, vi, en = MESSAGES.get(status, MESSAGES[500])
            if isinstance(error, CSRFError):  # most often a form left open past its session
                vi = ("Biểu mẫu đã cũ hoặc phiên đăng nhập đã hết hạn, nên chưa lưu gì. Hãy quay "
                      "lại trang trước (nội dung vừa nhập vẫn còn), tải lại trang rồi gửi lại.")
                en = ("The form is out of date or your session has expired, so nothing was "
                      "saved. Go back (what you typed is still there), reload the page and send "
                      "it again.")
            text = en if language() == "en" else vi
            return render_template("error.html", status=status, message=text), status, headers
        data = getattr(error, "data", None) or {}
        headers.update(data.get("headers") or {})
        errors = data.get("errors") or data.get("messages")
        message = data.get("message")
        if isinstance(error, CSRFError):
            return error_payload(400, "Thiếu hoặc sai mã CSRF (X-CSRF-Token). Hãy đăng nhập lại."
                                 if language() != "en" else "Missing or invalid CSRF token "
                                 "(X-CSRF-Token). Sign in again.", code="csrf_failed"), 400, headers
        return error_payload(status, message, errors, data.get("code")), status, headers


api = InspectionApi()


def init_api(app: Flask) -> None:
    """Register the API blueprints and error handlers."""
    from . import (
        assignments,
        auth,
        inspections,
        minutes,
        reports,
        self_assessment,
        sync,
        uploads,
    )

    api.init_app(app)
    for module in (auth, inspections, assignments, sync, uploads, reports, minutes,
                   self_assessment):
        api.register_blueprint(module.blp)

    init_errors(app)
