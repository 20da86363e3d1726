"""The JSON API under /api/v1 (flask-smorest), with errors as {code, message, errors?}."""
from __future__ import annotations

import marshmallow as ma
from flask import Flask, render_template, request
from flask_babel import get_locale
from flask_smorest import Api
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from ..errors import ServiceError

# status -> (code, Vietnamese, English)
MESSAGES = {
    400: ("bad_request", "Yêu cầu không hợp lệ.", "The request is not valid."),
    401: ("unauthorized", "Bạn cần đăng nhập.", "You need to sign in."),
    403: ("forbidden", "Bạn không có quyền thực hiện thao tác này.", "You may not do this."),
    404: ("not_found", "Không tìm thấy.", "Not found."),
    405: ("method_not_allowed", "Phương thức không được hỗ trợ.", "Method not allowed."),
    408: ("request_timeout", "Dữ liệu gửi lên quá chậm; hãy thử lại.",
          "The request arrived too slowly; try again."),
    409: ("conflict", "Xung đột dữ liệu.", "Conflict."),
    412: ("precondition_failed", "Dữ liệu đã bị người khác thay đổi; hãy tải lại.",
          "Someone else changed this; reload it."),
    413: ("too_large", "Dữ liệu gửi lên quá lớn.", "The request is too large."),
    415: ("unsupported_media_type", "Định dạng dữ liệu không được hỗ trợ.", "Unsupported media type."),
    422: ("invalid", "Dữ liệu không hợp lệ.", "The data is not valid."),
    428: ("precondition_required", "Thiếu tiêu đề If-Match.", "If-Match is required."),
    429: ("too_many_requests", "Quá nhiều yêu cầu; hãy thử lại sau.", "Too many requests; try later."),
    503: ("busy", "Máy chủ đang bận; hãy thử lại sau ít giây.",
          "The server is busy; try again in a few seconds."),
    500: ("server_error", "Lỗi máy chủ. Dữ liệu của bạn vẫn được giữ trên thiết bị.",
          "Server error. Your data is still kept on the device."),
}


class ErrorSchema(ma.Schema):
    """An error: a stable machine code, a message in the user's language, details per field."""

    code = ma.fields.String(required=True, metadata={"description": "Stable error code"})
    message = ma.fields.String(required=True, metadata={"description": "Message for people"})
    errors = ma.fields.Raw(metadata={"description": "Details, e.g. per field"})


def wants_json() -> bool:
    return request.path.startswith("/api/")


def language() -> str:
    return str(get_locale() or "vi")


def error_payload(status: int, message: str | None = None, errors=None, code: str | None = None) -> dict:
    """The JSON body of an error response, in the request's language."""
    default_code, vi, en = MESSAGES.get(status, MESSAGES[400] if status < 500 else MESSAGES[500])
    payload = {"code": code or default_code, "message": message or (en if language() == "en" else vi)}
    if errors:
        payload["errors"] = errors
    return payload


class InspectionApi(Api):
    """flask-smorest's Api with our error shape, HTML errors outside /api/, and Allow on 405."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: HTTPException):
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
    from . import assignments, auth, inspections, minutes, reports, sync, uploads

    api.init_app(app)
    for module in (auth, inspections, assignments, sync, uploads, reports, minutes):
        api.register_blueprint(module.blp)

    @app.errorhandler(ServiceError)
    def service_error(exc: ServiceError):
        message = exc.message(language())
        if wants_json():
            return error_payload(exc.status, message, exc.errors, exc.code), exc.status
        return render_template("error.html", status=exc.status, message=message), exc.status
