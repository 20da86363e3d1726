"""Checklist template documents (format ``cchc-checklist/1``): schemas and validation.

A template is one JSON document: scoring settings, sections of items, consistency rules and a
recommendation library (see ``inspection/checklists/*.json`` for the shipped ones). Optional parts
(docs/checklists.md): conditions (``relevant`` on a section, an item or a repeat group), computed
counts (``compute``), repeat groups of sampled records (``repeats``) and a published base version
this one extends (``extends``). They are absent, not null, when unused, so a document that does
not use them keeps the exact form (and fingerprint) it had before they existed.

Validation runs in two passes so that every message can name the exact place of the problem:

1. the marshmallow schemas check each object on its own: types, allowed keys, what each item
   kind may carry, a section's points adding up to its items, classes in descending order,
   rule expressions that parse;
2. ``_check_links`` then checks what ties objects together: unique codes, ratio, rule and
   condition references, recommendation links, sections adding up to ``scoring.scale``, repeat
   groups and their fields, conditions that depend on each other in a circle. It only runs on
   a document whose shape is already right, so it can index freely.

Problems come back as ``TemplateError.errors``: ``{"path", "message", "message_vi"}`` with paths
such as ``sections[2].items[5].ratio.numerator[0]``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import unicodedata
from collections import Counter
from fractions import Fraction
from typing import Any

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    validates,
    validates_schema,
)

from .. import jsonload
from . import rules

FORMAT = "cchc-checklist/1"
KINDS = ("yesno", "score", "count", "ratio", "text", "photo")
# Only these kinds can earn points; counts, notes and photos are evidence.
POINT_KINDS = ("yesno", "score", "ratio")
SEVERITIES = ("error", "warning", "finding", "info")
RATIO_METHODS = ("proportional", "threshold")
TARGET_OPS = (">=",)  # all current targets are floors; add others with their scoring rule
# Which unit types exist in which local-government model: districts ended on 30/6/2025.
UNIT_TYPES = {"huyen": ("district", "3cap"), "xa_3cap": ("commune", "3cap"),
              "xa_2cap": ("commune", "2cap")}
LAST_3CAP_DAY = "2025-06-30"
FIRST_2CAP_DAY = "2025-07-01"

SECTION_CODE = re.compile(r"[A-Z][A-Z0-9]{0,15}")
ITEM_CODE = re.compile(r"[A-Z][A-Z0-9]{0,15}\.[0-9]{1,3}")  # a token the rule parser reads
RULE_ID = re.compile(r"R[0-9]{2,3}")
REC_CODE = re.compile(r"REC\.[A-Z][A-Z0-9]{0,15}\.[0-9]{1,3}")
TEMPLATE_CODE = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
INDICATOR_KEY = re.compile(r"[a-z][a-z0-9_]{0,62}")
GROUP_CODE = SECTION_CODE  # a repeat group's code: HS (it must not be a section's code)
FIELD_CODE = re.compile(r"[A-Z][A-Z0-9]{0,15}\.[A-Z0-9]{1,16}")  # HS.TRA: group code, field
FIELD_KINDS = ("yesno", "number", "date", "text")
MAX_SAMPLES = 100


class TemplateError(ValueError):
    """An invalid template; ``errors`` lists ``{"path", "message", "message_vi"}`` dicts."""

    def __init__(self, errors: list[dict]) -> None:
        super().__init__(errors)
        self.errors = errors

    def __str__(self) -> str:
        return "; ".join(f"{e['path'] or '(document)'}: {e['message']}" for e in self.errors)


class _Text(str):
    """An English message that carries its Vietnamese translation through marshmallow."""

    vi: str


def _text(en: str, vi: str) -> _Text:
    msg = _Text(en)
    msg.vi = vi
    return msg


# marshmallow's own messages, which arrive as plain English strings.
_MARSHMALLOW_VI = {
    "Missing data for required field.": "Thiếu trường bắt buộc.",
    "Field may not be null.": "Trường này không được để null.",
    "Unknown field.": "Trường không được phép.",
    "Invalid input type.": "Kiểu dữ liệu không hợp lệ: cần một đối tượng JSON.",
    "Invalid type.": "Kiểu dữ liệu không hợp lệ: cần một đối tượng JSON.",
    "Not a valid string.": "Không phải chuỗi ký tự.",
    "Not a valid list.": "Không phải danh sách.",
    "Not a valid mapping type.": "Không phải đối tượng JSON.",
    "Not a valid boolean.": "Không phải giá trị true/false.",
    "Not a valid integer.": "Không phải số nguyên.",
    "Invalid value.": "Giá trị không hợp lệ.",
}


def _vi(message: str) -> str:
    return getattr(message, "vi", None) or _MARSHMALLOW_VI.get(message, message)


def _error(path: str, message: str) -> dict:
    return {"path": path, "message": str(message), "message_vi": _vi(message)}


def _join(path: str, key: str | int) -> str:
    """Extend a path: ``[3]`` for list indexes, ``.name`` for fields, ``["TTHC.30"]`` for keys."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    if key == "_schema":
        return path
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key, ensure_ascii=False)}]"


def _flatten(messages: Any, path: str = "") -> list[dict]:
    """Turn marshmallow's nested error dict into a flat list of path/message errors."""
    if isinstance(messages, dict):
        return [e for key, sub in messages.items() for e in _flatten(sub, _join(path, key))]
    if isinstance(messages, list):
        return [e for m in messages for e in _flatten(m, path)]
    return [_error(path, messages)]


# ---------------------------------------------------------------------------- fields


class _String(fields.String):
    """A string stored NFC-normalised, so that the same words always compare and render equal."""

    def _deserialize(self, value, attr, data, **kwargs):
        return unicodedata.normalize("NFC", super()._deserialize(value, attr, data, **kwargs))


class _Number(fields.Field):
    """A JSON number kept as given (int or float); booleans, strings and NaN are refused."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or (isinstance(value, float) and not math.isfinite(value)):
            raise ValidationError(_text("Not a finite number.", "Không phải số hữu hạn."))
        return value


class _IsoDate(fields.Field):
    """A calendar date written ``YYYY-MM-DD``; kept as that string so the document stays JSON."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
                raise ValueError
            dt.date.fromisoformat(value)
        except ValueError:
            raise ValidationError(_text("Not a date in the form YYYY-MM-DD.",
                                        "Không phải ngày theo dạng YYYY-MM-DD.")) from None
        return value


# ------------------------------------------------------------------------- validators


def _not_blank(value: str) -> None:
    if not value.strip():
        raise ValidationError(_text("Must not be empty.", "Không được để trống."))


def _one_of(choices: tuple[str, ...]):
    def check(value: str) -> None:
        if value not in choices:
            listed = ", ".join(choices)
            raise ValidationError(_text(f"Unknown value {value!r}; expected one of: {listed}.",
                                        f"Giá trị {value!r} không hợp lệ; chỉ nhận: {listed}."))
    return check


def _matches(pattern: re.Pattern, example: str):
    def check(value: str) -> None:
        if not pattern.fullmatch(value):
            raise ValidationError(_text(f"Malformed code {value!r}; expected e.g. {example}.",
                                        f"Mã {value!r} không đúng dạng; ví dụ đúng: {example}."))
    return check


def _in_range(low: float, high: float | None = None, *, above_low: bool = False):
    """Value >= low (> low when ``above_low``), and <= high when given."""
    def check(value: float) -> None:
        if value < low or (above_low and value == low) or (high is not None and value > high):
            en = vi = f"{'>' if above_low else '>='} {low}"
            if high is not None:
                en, vi = f"{en} and <= {high}", f"{vi} và <= {high}"
            raise ValidationError(_text(f"Must be {en}.", f"Phải {vi}."))
    return check


def _non_empty_list(value: list) -> None:
    if not value:
        raise ValidationError(_text("Must not be empty.", "Không được để trống."))


def _title() -> _String:
    return _String(required=True, validate=_not_blank)


_EXPRESSION_WORDS = {  # what kind of expression: English, Vietnamese
    "rule": ("Rule", "Quy tắc"),
    "condition": ("Condition", "Điều kiện"),
    "formula": ("Formula", "Công thức"),
}


def _parses(what: str, want: str = "bool"):
    """A validator: the text parses in the rule language, or the error names its position."""
    en, vi = _EXPRESSION_WORDS[what]

    def check(value: str) -> None:
        try:
            rules.parse(value, want)
        except rules.RuleSyntaxError as exc:
            raise ValidationError(_text(
                f"{en} does not parse at character {exc.position}: {exc.message_en}.",
                f"{vi} sai cú pháp tại ký tự {exc.position}: {exc.message_vi}.")) from None
    return check


def _expression(what: str, want: str = "bool") -> _String:
    """An optional expression field: absent when unused (no default, see the module doc)."""
    return _String(allow_none=False, validate=_parses(what, want))


def _optional_text() -> _String:
    return _String(load_default=None, allow_none=True)


def _code_list(pattern: re.Pattern, example: str, **kwargs) -> fields.List:
    return fields.List(_String(validate=_matches(pattern, example)), **kwargs)


# ---------------------------------------------------------------------------- schemas


class _Strict(Schema):
    class Meta:
        unknown = RAISE  # a misspelt key must not silently drop a setting


class TargetSchema(_Strict):
    """Target of a ratio item, in percent: ``{"op": ">=", "value": 98}``."""

    op = _String(required=True, validate=_one_of(TARGET_OPS))
    value = _Number(required=True, validate=_in_range(0, 100, above_low=True))
    source = _optional_text()


class RatioSchema(_Strict):
    """A ratio = sum of numerator counts / sum of denominator counts × 100."""

    numerator = _code_list(ITEM_CODE, "TTHC.26", required=True, validate=_non_empty_list)
    denominator = _code_list(ITEM_CODE, "TTHC.25", required=True, validate=_non_empty_list)


class ItemSchema(_Strict):
    """One checklist item (criterion)."""

    code = _String(required=True, validate=_matches(ITEM_CODE, "TTHC.25"))
    kind = _String(required=True, validate=_one_of(KINDS))
    title_vi = _title()
    title_en = _title()
    max_points = _Number(load_default=None, allow_none=True,
                         validate=_in_range(0, above_low=True))
    evidence_hint_vi = _optional_text()
    evidence_hint_en = _optional_text()
    unit_vi = _optional_text()
    unit_en = _optional_text()
    ratio = fields.Nested(RatioSchema, load_default=None, allow_none=True)
    target = fields.Nested(TargetSchema, load_default=None, allow_none=True)
    indicator = _String(load_default=None, allow_none=True,
                        validate=_matches(INDICATOR_KEY, "on_time_rate"))
    note_vi = _optional_text()
    note_en = _optional_text()
    relevant = _expression("condition")  # when false, the item is not applicable
    compute = _expression("formula", "number")  # a count computed, not typed (counts only)

    @validates_schema
    def _kind_fits(self, data: dict, **kwargs) -> None:
        kind, points = data["kind"], data["max_points"]
        if kind != "count" and "compute" in data:
            raise ValidationError(_text("Only count items can be computed by a formula.",
                                        "Chỉ chỉ tiêu số đếm mới tính bằng công thức."),
                                  field_name="compute")
        if kind in ("yesno", "score") and points is None:
            raise ValidationError(_text(f"A {kind} item needs max_points.",
                                        f"Chỉ tiêu loại {kind} phải có max_points."),
                                  field_name="max_points")
        if kind not in POINT_KINDS and points is not None:
            raise ValidationError(_text(f"A {kind} item carries no points; use null.",
                                        f"Chỉ tiêu loại {kind} không có điểm; để null."),
                                  field_name="max_points")
        if kind == "ratio":
            if data["ratio"] is None:
                raise ValidationError(_text("A ratio item needs numerator and denominator.",
                                            "Chỉ tiêu tỷ lệ phải có tử số và mẫu số."),
                                      field_name="ratio")
            # Points are earned against the target, so one without the other means nothing.
            if data["target"] is None and points is not None:
                raise ValidationError(_text(
                    "A ratio without a target is informational and carries no points; "
                    "set max_points to null or give a target.",
                    "Tỷ lệ không có mục tiêu chỉ để theo dõi, không có điểm; "
                    "để max_points là null hoặc đặt mục tiêu."), field_name="max_points")
            if data["target"] is not None and points is None:
                raise ValidationError(_text("A ratio with a target needs max_points.",
                                            "Tỷ lệ có mục tiêu phải có max_points."),
                                      field_name="max_points")
        else:
            for key in ("ratio", "target", "indicator"):
                if data[key] is not None:
                    raise ValidationError(_text(f"Only ratio items have {key}.",
                                                f"Chỉ chỉ tiêu tỷ lệ mới có {key}."),
                                          field_name=key)
        if kind != "count":
            for key in ("unit_vi", "unit_en"):
                if data[key] is not None:
                    raise ValidationError(_text(f"Only count items have {key}.",
                                                f"Chỉ chỉ tiêu số đếm mới có {key}."),
                                          field_name=key)


class SectionSchema(_Strict):
    """A section (area) of the checklist; its points are the sum of its items' points."""

    code = _String(required=True, validate=_matches(SECTION_CODE, "TTHC"))
    order = fields.Integer(required=True, strict=True, validate=_in_range(1))
    title_vi = _title()
    title_en = _title()
    max_points = _Number(required=True, validate=_in_range(0, above_low=True))
    optional = fields.Boolean(load_default=False)
    relevant = _expression("condition")  # when false, the whole section is not applicable
    items = fields.List(fields.Nested(ItemSchema), required=True, validate=_non_empty_list)

    @validates_schema
    def _items_fit(self, data: dict, **kwargs) -> None:
        errors: dict = {}
        for i, item in enumerate(data["items"]):
            if not item["code"].startswith(data["code"] + "."):
                errors.setdefault("items", {})[i] = {"code": [_text(
                    f"Item code {item['code']!r} must start with the section code "
                    f"'{data['code']}.'.",
                    f"Mã chỉ tiêu {item['code']!r} phải bắt đầu bằng mã lĩnh vực "
                    f"'{data['code']}.'.")]}
        # Exact sums: 1.5 + 1.5 + ... must equal 12, not 11.999999.
        total = sum((_exact(item["max_points"] or 0) for item in data["items"]), Fraction(0))
        if total != _exact(data["max_points"]):
            errors["max_points"] = [_text(
                f"Section points {_show(data['max_points'])} do not add up: "
                f"its items total {_show(total)}.",
                f"Điểm lĩnh vực {_show(data['max_points'])} không khớp: "
                f"tổng điểm các chỉ tiêu là {_show(total)}.")]
        if errors:
            raise ValidationError(errors)


class ClassSchema(_Strict):
    """A result class: the best class whose ``min`` percent the score reaches."""

    min = _Number(required=True, validate=_in_range(0, 100))
    code = _String(required=True, validate=_not_blank)
    vi = _title()
    en = _title()


class ScoringSchema(_Strict):
    """How points are earned and how the total is classified."""

    scale = _Number(required=True, validate=_in_range(0, above_low=True))
    ratio_method = _String(required=True, validate=_one_of(RATIO_METHODS))
    partial_factor = _Number(required=True, validate=_in_range(0, 1))
    classes = fields.List(fields.Nested(ClassSchema), required=True)

    @validates_schema
    def _classes_descend(self, data: dict, **kwargs) -> None:
        errors: dict = {}
        classes = data["classes"]
        for i in range(1, len(classes)):
            if classes[i]["min"] >= classes[i - 1]["min"]:
                errors[i] = {"min": [_text(
                    "Classes must be listed best first, each min lower than the one before.",
                    "Các mức xếp loại phải xếp từ cao xuống thấp, min giảm dần.")]}
        seen: set[str] = set()
        for i, cls in enumerate(classes):
            if cls["code"] in seen:
                errors.setdefault(i, {})["code"] = [_duplicate(cls["code"])]
            seen.add(cls["code"])
        if errors:
            raise ValidationError({"classes": errors})


class RuleSchema(_Strict):
    """A consistency rule over count items, in the grammar of ``inspection.checklists.rules``."""

    id = _String(required=True, validate=_matches(RULE_ID, "R08"))
    severity = _String(required=True, validate=_one_of(SEVERITIES))
    expr = _String(required=True)
    # Values assumed for codes left empty, e.g. "no returned dossiers" = 0.
    defaults = fields.Dict(keys=_String(validate=_matches(ITEM_CODE, "TTHC.30")),
                           values=_Number(), load_default=dict)
    message_vi = _title()
    message_en = _title()
    suggests = _code_list(REC_CODE, "REC.TTHC.02", load_default=list)

    @validates("expr")
    def _parses(self, value: str, **kwargs) -> None:
        _parses("rule")(value)


class RecommendationSchema(_Strict):
    """A library recommendation, offered when a linked item fails (or any item of the section
    when ``items`` is empty)."""

    code = _String(required=True, validate=_matches(REC_CODE, "REC.TTHC.02"))
    section = _String(required=True, validate=_matches(SECTION_CODE, "TTHC"))
    items = _code_list(ITEM_CODE, "TTHC.34", load_default=list)
    text_vi = _title()
    text_en = _title()
    source = _optional_text()


def _bound(what_en: str, what_vi: str) -> fields.Integer:
    return fields.Integer(required=True, strict=True, validate=_in_range(0, MAX_SAMPLES),
                          error_messages={"required": _text(
                              f"A repeat group needs its {what_en} number of samples.",
                              f"Nhóm lặp phải có số mẫu {what_vi}.")})


class SampleFieldSchema(_Strict):
    """One field recorded for every sample of a repeat group (e.g. the date a dossier was due)."""

    code = _String(required=True, validate=_matches(FIELD_CODE, "HS.HEN"))
    kind = _String(required=True, validate=_one_of(FIELD_KINDS))
    title_vi = _title()
    title_en = _title()
    hint_vi = _optional_text()
    hint_en = _optional_text()


class RepeatGroupSchema(_Strict):
    """Fields repeated per sampled record (a dossier, a procedure, a meeting), shown in a section,
    with the smallest and largest number of samples the team records."""

    code = _String(required=True, validate=_matches(GROUP_CODE, "HS"))
    section = _String(required=True, validate=_matches(SECTION_CODE, "TTHC"))
    title_vi = _title()
    title_en = _title()
    hint_vi = _optional_text()
    hint_en = _optional_text()
    min = _bound("minimum", "tối thiểu")
    max = _bound("maximum", "tối đa")
    relevant = _expression("condition")
    # Named apart because a marshmallow schema has its own ``fields``; loaded as "fields".
    sample_fields = fields.List(fields.Nested(SampleFieldSchema), required=True,
                                validate=_non_empty_list, data_key="fields", attribute="fields")

    @validates_schema
    def _fits(self, data: dict, **kwargs) -> None:
        errors: dict = {}
        if data["max"] < 1 or data["max"] < data["min"]:
            errors["max"] = [_text(
                f"The maximum number of samples must be at least 1 and at least the minimum "
                f"({data['min']}).",
                f"Số mẫu tối đa phải từ 1 trở lên và không nhỏ hơn số tối thiểu ({data['min']}).")]
        for i, field_ in enumerate(data["fields"]):
            if not field_["code"].startswith(data["code"] + "."):
                errors.setdefault("fields", {})[i] = {"code": [_text(
                    f"Field code {field_['code']!r} must start with the group code "
                    f"'{data['code']}.'.",
                    f"Mã trường {field_['code']!r} phải bắt đầu bằng mã nhóm '{data['code']}.'.")]}
        if errors:
            raise ValidationError(errors)


class ExtendsSchema(_Strict):
    """The published base version a template adds to (a national core with provincial
    additions): its sections, items, rules and groups are kept unchanged."""

    code = _String(required=True, validate=_matches(TEMPLATE_CODE, "cchc-xa-2cap"))
    version = _String(required=True, validate=_not_blank)


class TemplateSchema(_Strict):
    """A whole checklist template document."""

    format = _String(required=True, validate=_one_of((FORMAT,)))
    code = _String(required=True, validate=_matches(TEMPLATE_CODE, "cchc-xa-2cap"))
    version = _String(required=True, validate=_not_blank)
    title_vi = _title()
    title_en = _title()
    applies_to = _String(required=True, validate=_one_of(tuple(UNIT_TYPES)))
    unit_level = _String(required=True, validate=_one_of(("district", "commune")))
    era = _String(required=True, validate=_one_of(("3cap", "2cap")))
    valid_from = _IsoDate(load_default=None, allow_none=True)
    valid_to = _IsoDate(load_default=None, allow_none=True)
    notes_vi = _optional_text()
    notes_en = _optional_text()
    basis = fields.List(_String(), load_default=list)
    # Era-dependent wording for documents built from the template (e.g. the one-stop unit).
    terms = fields.Dict(keys=_String(validate=_matches(INDICATOR_KEY, "one_stop_vi")),
                        values=_String(), load_default=dict)
    scoring = fields.Nested(ScoringSchema, required=True)
    sections = fields.List(fields.Nested(SectionSchema), required=True,
                           validate=_non_empty_list)
    rules = fields.List(fields.Nested(RuleSchema), load_default=list)
    recommendations = fields.List(fields.Nested(RecommendationSchema), load_default=list)
    repeats = fields.List(fields.Nested(RepeatGroupSchema))
    extends = fields.Nested(ExtendsSchema)

    @validates_schema
    def _era_fits(self, data: dict, **kwargs) -> None:
        level, era = UNIT_TYPES[data["applies_to"]]
        if (data["unit_level"], data["era"]) != (level, era):
            raise ValidationError(_text(
                f"applies_to {data['applies_to']!r} means unit_level {level!r} and era {era!r}.",
                f"applies_to {data['applies_to']!r} tương ứng unit_level {level!r} "
                f"và era {era!r}."), field_name="applies_to")
        start, end = data["valid_from"], data["valid_to"]
        if start and end and start > end:
            raise ValidationError(_text("valid_to is before valid_from.",
                                        "valid_to sớm hơn valid_from."), field_name="valid_to")
        if era == "3cap" and (end is None or end > LAST_3CAP_DAY):
            raise ValidationError(_text(
                f"The 3-level model ended on {LAST_3CAP_DAY}: valid_to must be set, "
                f"no later than that.",
                f"Mô hình 3 cấp kết thúc ngày {LAST_3CAP_DAY}: valid_to phải có "
                f"và không muộn hơn ngày đó."), field_name="valid_to")
        if era == "2cap" and (start is None or start < FIRST_2CAP_DAY):
            raise ValidationError(_text(
                f"The 2-level model started on {FIRST_2CAP_DAY}: valid_from must be set, "
                f"no earlier than that.",
                f"Mô hình 2 cấp bắt đầu từ ngày {FIRST_2CAP_DAY}: valid_from phải có "
                f"và không sớm hơn ngày đó."), field_name="valid_from")


# --------------------------------------------------------------------- cross-reference


def _exact(number: float) -> Fraction:
    """Exact value of a JSON number: 1.5 is 3/2, 0.1 is 1/10 (not its binary neighbour)."""
    return Fraction(str(number)) if isinstance(number, float) else Fraction(number)


def _show(value: float | Fraction) -> str:
    value = Fraction(value) if isinstance(value, Fraction) else _exact(value)
    return str(value.numerator) if value.denominator == 1 else f"{float(value):g}"


def _duplicate(code: str) -> _Text:
    return _text(f"Duplicate code {code!r}.", f"Mã {code!r} bị trùng.")


def _check_links(doc: dict) -> list[dict]:
    """Errors in what ties the objects of a well-shaped document together."""
    errors: list[dict] = []
    items: dict[str, dict] = {}
    item_paths: dict[str, str] = {}

    def unique(path: str, code: str, seen: set) -> None:
        if code in seen:
            errors.append(_error(path, _duplicate(code)))
        seen.add(code)

    def count_item(path: str, code: str, what_en: str, what_vi: str) -> None:
        """``code`` must name a count item: only counts hold the numbers rules and ratios use."""
        if code not in items:
            errors.append(_error(path, _text(f"Unknown item code {code!r}.",
                                             f"Không có chỉ tiêu mã {code!r}.")))
        elif items[code].get("kind") not in (None, "count"):
            kind = items[code]["kind"]
            errors.append(_error(path, _text(
                f"{what_en} may only use count items; {code!r} is a {kind} item.",
                f"{what_vi} chỉ dùng chỉ tiêu số đếm; {code!r} là chỉ tiêu loại {kind}.")))

    section_codes: set[str] = set()
    orders: set[int] = set()
    indicators: set[str] = set()
    # Keys are read with .get: the checks also run on the valid part of a document whose
    # shape is partly wrong (see validate_template), skipping what is not there.
    for s, section in enumerate(doc["sections"]):
        if "code" in section:
            unique(f"sections[{s}].code", section["code"], section_codes)
        if section.get("order") in orders:
            errors.append(_error(f"sections[{s}].order", _text(
                f"Duplicate order {section['order']}.", f"Thứ tự {section['order']} bị trùng.")))
        orders.add(section.get("order"))
        for i, item in enumerate(section["items"]):
            path = f"sections[{s}].items[{i}]"
            if "code" not in item:
                continue
            if item["code"] in items:
                errors.append(_error(path + ".code", _duplicate(item["code"])))
            else:
                items[item["code"]], item_paths[item["code"]] = item, path
            if item.get("indicator"):
                unique(path + ".indicator", item["indicator"], indicators)

    for code, item in items.items():
        if item.get("kind") == "ratio" and isinstance(item.get("ratio"), dict):
            for part in ("numerator", "denominator"):
                for j, ref in enumerate(item["ratio"].get(part) or []):
                    count_item(f"{item_paths[code]}.ratio.{part}[{j}]", ref,
                               "A ratio", "Tỷ lệ")

    points = [section.get("max_points") for section in doc["sections"]]
    scale = (doc.get("scoring") or {}).get("scale")
    total = sum((_exact(p) for p in points if p is not None), Fraction(0))
    if None not in points and scale is not None and total != _exact(scale):
        errors.append(_error("sections", _text(
            f"Section points add up to {_show(total)}, not scoring.scale "
            f"{_show(doc['scoring']['scale'])}.",
            f"Tổng điểm các lĩnh vực là {_show(total)}, khác scoring.scale "
            f"{_show(doc['scoring']['scale'])}.")))

    rec_codes: set[str] = set()
    for r, rec in enumerate(doc.get("recommendations") or []):
        if "code" in rec:
            unique(f"recommendations[{r}].code", rec["code"], rec_codes)
        if "section" in rec and rec["section"] not in section_codes:
            errors.append(_error(f"recommendations[{r}].section", _text(
                f"Unknown section code {rec['section']!r}.",
                f"Không có lĩnh vực mã {rec['section']!r}.")))
        for j, ref in enumerate(rec.get("items") or []):
            if ref not in items:
                errors.append(_error(f"recommendations[{r}].items[{j}]", _text(
                    f"Unknown item code {ref!r}.", f"Không có chỉ tiêu mã {ref!r}.")))

    groups: dict[str, dict] = {}
    group_paths: dict[str, str] = {}
    for g, group in enumerate(doc.get("repeats") or []):
        path = f"repeats[{g}]"
        if "code" not in group:
            continue
        if group["code"] in section_codes:
            errors.append(_error(path + ".code", _text(
                f"Group code {group['code']!r} is already a section's code.",
                f"Mã nhóm {group['code']!r} trùng với mã một lĩnh vực.")))
        elif group["code"] in groups:
            errors.append(_error(path + ".code", _duplicate(group["code"])))
        else:
            groups[group["code"]], group_paths[group["code"]] = group, path
        if "section" in group and group["section"] not in section_codes:
            errors.append(_error(path + ".section", _text(
                f"Unknown section code {group['section']!r}.",
                f"Không có lĩnh vực mã {group['section']!r}.")))
        field_codes: set[str] = set()
        for f, field_ in enumerate(group.get("fields") or []):
            if "code" in field_:
                unique(f"{path}.fields[{f}].code", field_["code"], field_codes)

    def expression(path: str, text: str, want: str, what_en: str, what_vi: str) -> frozenset:
        """Check what an expression reads; return the item codes it reads outside samples."""
        refs = rules.references(text, want)
        for ref in sorted(refs.codes):
            group = groups.get(ref.split(".", 1)[0])
            if group is not None and ref not in items:
                errors.append(_error(path, _text(
                    f"{ref!r} is a field of the samples of {group['code']!r}: use it inside "
                    f"count({group['code']}, …), sum({group['code']}, …) or "
                    f"share({group['code']}, …).",
                    f"{ref!r} là trường của các mẫu trong nhóm {group['code']!r}: chỉ dùng bên "
                    f"trong count({group['code']}, …), sum({group['code']}, …) hoặc "
                    f"share({group['code']}, …).")))
            else:
                count_item(path, ref, what_en, what_vi)
        for code, used in sorted(refs.groups.items()):
            if code not in groups:
                errors.append(_error(path, _text(f"Unknown repeat group {code!r}.",
                                                 f"Không có nhóm lặp mã {code!r}.")))
                continue
            kinds = {f.get("code"): f.get("kind") for f in groups[code].get("fields") or []}
            for ref in sorted(used):
                if ref not in kinds:
                    errors.append(_error(path, _text(
                        f"Group {code!r} has no field {ref!r}.",
                        f"Nhóm {code!r} không có trường {ref!r}.")))
                elif kinds[ref] == "text":
                    errors.append(_error(path, _text(
                        f"{ref!r} is a text field; only yes/no, number and date fields can be "
                        f"used in expressions.",
                        f"{ref!r} là trường văn bản; chỉ dùng được trường có/không, số và ngày "
                        f"trong biểu thức.")))
        return refs.codes

    depends: dict[tuple[str, str], set[tuple[str, str]]] = {}  # what each node's state reads
    expression_at: dict[tuple[str, str], str] = {}  # where a node's own expression is

    def reads(text: str, want: str = "bool") -> set[tuple[str, str]]:
        refs = rules.references(text, want)
        return ({("item", c) for c in refs.codes if c in items}
                | {("group", g) for g in refs.groups if g in groups})

    for s, section in enumerate(doc["sections"]):
        node = ("section", section["code"])
        depends.setdefault(node, set())
        if "relevant" in section:
            path = f"sections[{s}].relevant"
            expression(path, section["relevant"], "bool", "A condition", "Điều kiện")
            depends[node] |= reads(section["relevant"])
            expression_at.setdefault(node, path)
        for i, item in enumerate(section["items"]):
            node = ("item", item.get("code"))
            if item_paths.get(item.get("code")) != f"sections[{s}].items[{i}]":
                continue  # a duplicate code, already reported
            depends[node] = {("section", section["code"])}
            for key, want, what in (("relevant", "bool", ("A condition", "Điều kiện")),
                                    ("compute", "number", ("A formula", "Công thức"))):
                if key in item:
                    path = f"sections[{s}].items[{i}].{key}"
                    expression(path, item[key], want, *what)
                    depends[node] |= reads(item[key], want)
                    expression_at.setdefault(node, path)
    for code, group in groups.items():
        node = ("group", code)
        depends[node] = {("section", group["section"])} \
            if group.get("section") in section_codes else set()
        if "relevant" in group:
            path = group_paths[code] + ".relevant"
            expression(path, group["relevant"], "bool", "A condition", "Điều kiện")
            depends[node] |= reads(group["relevant"])
            expression_at[node] = path
    errors += _cycles(depends, expression_at)

    rule_ids: set[str] = set()
    for r, rule in enumerate(doc.get("rules") or []):
        path = f"rules[{r}]"
        if "id" in rule:
            unique(path + ".id", rule["id"], rule_ids)
        used = expression(path + ".expr", rule["expr"], "bool", "A rule", "Quy tắc") \
            if "expr" in rule else None
        for ref in rule.get("defaults") if used is not None else ():
            key_path = _join(path + ".defaults", ref)
            if ref not in used:
                errors.append(_error(key_path, _text(
                    f"{ref!r} has a default but the rule does not use it.",
                    f"{ref!r} có giá trị mặc định nhưng quy tắc không dùng mã này.")))
            else:
                count_item(key_path, ref, "A rule", "Quy tắc")
        for j, ref in enumerate(rule.get("suggests") or []):
            if ref not in rec_codes:
                errors.append(_error(f"{path}.suggests[{j}]", _text(
                    f"Unknown recommendation code {ref!r}.",
                    f"Không có kiến nghị mã {ref!r} trong thư viện.")))
    return errors


def _circles(depends: dict) -> list[list]:
    """The groups of nodes that depend on each other in a circle (strongly connected
    components with more than one node, or a node that depends on itself), each in the order
    of ``depends``; Tarjan's algorithm, iterative so a long chain cannot exhaust the stack."""
    index: dict = {}
    low: dict = {}
    on_stack: set = set()
    stack: list = []
    found: list[set] = []
    for root in depends:
        if root in index:
            continue
        work = [(root, iter(sorted(depends[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, following = work[-1]
            step = next(following, None)
            if step is not None:
                if step not in index:
                    index[step] = low[step] = len(index)
                    stack.append(step)
                    on_stack.add(step)
                    work.append((step, iter(sorted(depends.get(step, ())))))
                elif step in on_stack:
                    low[node] = min(low[node], index[step])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1 or node in depends.get(node, ()):
                    found.append(component)
    order = {node: n for n, node in enumerate(depends)}
    return [sorted(c, key=order.__getitem__) for c in found]


def _cycles(depends: dict, expression_at: dict) -> list[dict]:
    """One error for each circle of conditions and formulas that depend on each other, at the
    first expression on it: a circle cannot be evaluated (which part decides first?)."""
    errors = []
    names = {"item": ("", ""), "section": ("section ", "lĩnh vực "),
             "group": ("group ", "nhóm mẫu ")}
    for members in _circles(depends):
        at = next((n for n in members if n in expression_at), members[0])
        inside = set(members)
        # The shortest way round from `at` back to itself, through the circle's members.
        paths, circle = {at: [at]}, None
        queue = [at]
        while queue and circle is None:
            node = queue.pop(0)
            for step in sorted(depends.get(node, ())):
                if step == at:
                    circle = paths[node] + [at]
                    break
                if step in inside and step not in paths:
                    paths[step] = paths[node] + [step]
                    queue.append(step)
        en = " → ".join(names[kind][0] + code for kind, code in circle)
        vi = " → ".join(names[kind][1] + code for kind, code in circle)
        hint_en = hint_vi = ""
        if any(kind == "section" for kind, _ in circle):
            hint_en = " A section's condition cannot use the section's own items."
            hint_vi = " Điều kiện của một lĩnh vực không được dùng chỉ tiêu của chính lĩnh vực đó."
        errors.append(_error(expression_at.get(at, ""), _text(
            f"Conditions or formulas depend on each other in a circle: {en}.{hint_en}",
            f"Các điều kiện hoặc công thức phụ thuộc vòng tròn: {vi}.{hint_vi}")))
    return errors


# -------------------------------------------------------------------------- public API


def validate_template(data: Any) -> dict:
    """Return the cleaned template document (strings NFC, defaults filled in) or raise
    TemplateError listing every problem with its path.

    When some objects are malformed, what ties the well-formed rest together is checked too,
    so that one pass reports as much as it can (a spreadsheet's author fixes everything at
    once): duplicate codes, unknown references, circles. Not when sections or their items are
    missing as a whole, where every reference would look unknown."""
    try:
        doc = TemplateSchema().load(data)
    except ValidationError as exc:
        errors = _flatten(exc.messages)
        partial = exc.valid_data
        if isinstance(partial, dict) and isinstance(partial.get("sections"), list) and all(
                isinstance(s, dict) and "code" in s and isinstance(s.get("items"), list)
                for s in partial["sections"]):
            seen = {e["path"] for e in errors}
            try:
                errors += [e for e in _check_links(partial) if e["path"] not in seen]
            except (KeyError, TypeError, AttributeError, ValueError):
                pass  # too broken to say more; the shape errors stand
        raise TemplateError(errors) from None
    errors = _check_links(doc)
    if errors:
        raise TemplateError(errors)
    return doc


def load_template_json(source: str | bytes) -> dict:
    """Parse a template from JSON text or UTF-8 bytes and validate it; raise TemplateError
    (with line and column for malformed JSON)."""
    if isinstance(source, (bytes, bytearray)):
        try:
            source = bytes(source).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise TemplateError([{
                "path": "", "message": f"Not UTF-8 text (byte {exc.start}).",
                "message_vi": f"Không phải văn bản UTF-8 (byte {exc.start})."}]) from None
    try:
        data = jsonload.loads(source, object_pairs_hook=_refuse_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise TemplateError([{
            "path": "", "line": exc.lineno, "column": exc.colno,
            "message": f"Invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}.",
            "message_vi": f"JSON không hợp lệ tại dòng {exc.lineno}, cột {exc.colno}: "
                          f"{exc.msg}."}]) from None
    except _DuplicateKey as exc:
        raise TemplateError([{
            "path": "", "message": f"Key {exc.key!r} appears twice in one JSON object.",
            "message_vi": f"Khóa {exc.key!r} xuất hiện hai lần trong cùng một đối tượng JSON."
        }]) from None
    except (RecursionError, jsonload.JSONTooDeep):
        raise TemplateError([{"path": "", "message": "JSON is nested too deeply.",
                              "message_vi": "JSON lồng nhau quá sâu."}]) from None
    return validate_template(data)


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict:
    # json.loads keeps the last of two equal keys: in a hand-edited template that silently
    # drops a setting, so refuse it instead.
    counts = Counter(key for key, _ in pairs)
    for key, n in counts.items():
        if n > 1:
            raise _DuplicateKey(key)
    return dict(pairs)
