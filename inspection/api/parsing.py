"""How the API reads requests: one parser for every `@blp.arguments`, with the app's JSON loader
(bounded nesting) and the text rule (services/text.py) applied to every location it reads."""
from __future__ import annotations

import json
import typing

import flask_smorest
import marshmallow as ma
from flask import request
from flask_smorest import abort
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

from .. import jsonload
from ..errors import language
from ..services.text import find_bad_text


class _BadText(ma.ValidationError):
    """Raised by the parser when a value breaks the text rule; answered as 422 invalid_text."""

    def __init__(self, found: list[tuple[str, str]]):
        messages: dict = {}
        for path, character in found:
            point = f"U+{ord(character):04X}"
            messages[path] = [f"Ký tự không hợp lệ {point} / invalid character {point}"]
        super().__init__(messages)
        self.fields = [path for path, _ in found]


class InspectionParser(FlaskParser):
    """FlaskParser with the app's JSON loader and the text rule."""

    def _raw_load_json(self, req):
        if not is_json_request(req):
            return core.missing
        data = req.get_data(cache=True)
        try:
            return jsonload.loads(data)
        except UnicodeDecodeError as exc:
            raise json.JSONDecodeError(f"Bytes decoding error : {exc.reason}", doc="?",
                                       pos=exc.start) from exc

    def pre_load(self, location_data, *, schema, req, location):
        """Refuse unpaired surrogates and noncharacters wherever they are, naming the field."""
        if location_data is core.missing or location_data is None:
            return location_data
        if hasattr(location_data, "lists"):  # query string and form: MultiDict
            data: typing.Any = {key: values for key, values in location_data.lists()}
        elif location == "headers":
            return location_data  # WSGI headers are Latin-1: nothing to find
        else:
            data = location_data
        found = list(find_bad_text(data))
        if found:
            raise _BadText(found)
        return location_data

    def handle_error(self, error, req, schema, *, error_status_code, error_headers):
        """Refuse the request: 422 with the field's problems, in the user's language."""
        if isinstance(error, _BadText):
            fields = ", ".join(error.fields[:5])
            abort(422, code="invalid_text", errors=error.messages, headers=error_headers,
                  message=(f"The field {fields} holds an invalid character (unpaired surrogate "
                           f"or noncharacter); type it again." if language() == "en" else
                           f"Trường {fields} chứa ký tự không hợp lệ (nửa cặp UTF-16 hoặc ký tự "
                           f"không dùng); hãy gõ lại."))
        super().handle_error(error, req, schema, error_status_code=error_status_code,
                             error_headers=error_headers)


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint reading requests with InspectionParser."""

    ARGUMENTS_PARSER = InspectionParser()


def json_body() -> typing.Any:
    """The request's JSON body through the app's loader (None when it is not JSON at all);
    raises JSONTooDeep, and ValueError when malformed."""
    if not request.is_json:
        return None
    return request.get_json()
