"""Errors a service raises for a person to read, in Vietnamese and English, and how every layer
answers them: JSON ``{code, message, errors?}`` under /api/, the error page elsewhere."""
from __future__ import annotations

from flask import Flask, render_template, request
from flask_babel import get_locale

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
    415: ("unsupported_media_type", "Định dạng dữ liệu không được hỗ trợ.",
          "Unsupported media type."),
    422: ("invalid", "Dữ liệu không hợp lệ.", "The data is not valid."),
    428: ("precondition_required", "Thiếu tiêu đề If-Match.", "If-Match is required."),
    429: ("too_many_requests", "Quá nhiều yêu cầu; hãy thử lại sau.",
          "Too many requests; try later."),
    503: ("busy", "Máy chủ đang bận; hãy thử lại sau ít giây.",
          "The server is busy; try again in a few seconds."),
    500: ("server_error", "Lỗi máy chủ. Dữ liệu của bạn vẫn được giữ trên thiết bị.",
          "Server error. Your data is still kept on the device."),
}


class ServiceError(Exception):
    """A refusal with a message for the user; views map it to a 4xx response."""

    status = 400
    code = "bad_request"

    def __init__(self, message_vi: str, message_en: str, errors: dict | list | None = None):
        super().__init__(message_en)
        self.message_vi = message_vi
        self.message_en = message_en
        self.errors = errors

    def message(self, locale: str) -> str:
        """The message in the given language (Vietnamese unless English is asked for)."""
        return self.message_en if locale == "en" else self.message_vi


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class PermissionDenied(ServiceError):
    status = 403
    code = "forbidden"


class Conflict(ServiceError):
    status = 409
    code = "conflict"


class ValidationFailed(ServiceError):
    status = 422
    code = "invalid"


class TooLarge(ServiceError):
    """A file over its limit (a photo, an evidence file, a minutes scan): 413, nothing stored."""

    status = 413
    code = "too_large"


class ChecksumMismatch(ServiceError):
    """The bytes do not match the declared checksum (tus checksum extension: 460)."""

    status = 460
    code = "checksum_mismatch"


class DatabaseBusy(ServiceError):
    """The database stayed locked by other writers past the wait: try again shortly (503)."""

    status = 503
    code = "busy"

    def __init__(self, retry_after: int = 2):
        super().__init__("Máy chủ đang bận ghi dữ liệu; thiết bị sẽ tự gửi lại sau ít giây.",
                         "The server is busy writing; the device will send again in a few "
                         "seconds.")
        self.retry_after = retry_after


def wants_json() -> bool:
    """Whether this request is answered in JSON (the API) rather than with a page."""
    return request.path.startswith("/api/")


def language() -> str:
    """The request's language: "en" or "vi"."""
    return str(get_locale() or "vi")


def error_payload(status: int, message: str | None = None, errors=None,
                  code: str | None = None) -> dict:
    """The JSON body of an error response, in the request's language."""
    default_code, vi, en = MESSAGES.get(status, MESSAGES[400] if status < 500 else MESSAGES[500])
    payload = {"code": code or default_code,
               "message": message or (en if language() == "en" else vi)}
    if errors:
        payload["errors"] = errors
    return payload


def init_errors(app: Flask) -> None:
    """Answer a ServiceError raised anywhere with its status and its message in the user's
    language: JSON for the API, the error page for the office pages."""

    @app.errorhandler(ServiceError)
    def service_error(exc: ServiceError):
        message = exc.message(language())
        if wants_json():
            return error_payload(exc.status, message, exc.errors, exc.code), exc.status
        return render_template("error.html", status=exc.status, message=message), exc.status
