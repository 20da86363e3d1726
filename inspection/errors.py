"""Errors a service raises for a person to read, in Vietnamese and English."""
from __future__ import annotations


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


class DatabaseBusy(ServiceError):
    """The database stayed locked by other writers past the wait: try again shortly (503)."""

    status = 503
    code = "busy"

    def __init__(self, retry_after: int = 2):
        super().__init__("Máy chủ đang bận ghi dữ liệu; thiết bị sẽ tự gửi lại sau ít giây.",
                         "The server is busy writing; the device will send again in a few "
                         "seconds.")
        self.retry_after = retry_after
