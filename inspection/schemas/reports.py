"""Filters of the province reports (shared by the overview pages and /api/v1/reports) and the
shapes of their answers.

Query schemas refuse unknown parameters and impossible values with a ServiceError carrying a
message in both languages, so a page and the API explain a bad filter the same way (422).
"""
from __future__ import annotations

import marshmallow as ma

from ..errors import ValidationFailed
from ..localtime import iso_local
from ..models.base import MAX_ID

F = ma.fields
LEVELS = ("district", "commune")
ERAS = ("3cap", "2cap")
STATES = ("planned", "in_progress", "submitted", "approved", "signed")
STATUSES = ("open", "done", "verified")
FORMATS = ("csv", "xlsx")
MAX_PAGE = 1_000_000  # an offset far past any table, still a valid integer in SQL
EXPORT_TABLES = ("inspections", "observations", "indicators", "recommendations",
                 "self_assessment")

# field -> (Vietnamese, English) description of what it accepts, used in error messages
ACCEPTS = {
    "year": ("một năm từ 2000 đến 2100", "a year from 2000 to 2100"),
    "level": ("district hoặc commune", "district or commune"),
    "era": ("3cap hoặc 2cap", "3cap or 2cap"),
    "state": (", ".join(STATES), ", ".join(STATES)),
    "status": (", ".join(STATUSES), ", ".join(STATUSES)),
    "overdue": ("true hoặc false", "true or false"),
    "from": ("ngày dạng YYYY-MM-DD", "a date as YYYY-MM-DD"),
    "to": ("ngày dạng YYYY-MM-DD", "a date as YYYY-MM-DD"),
    "due_from": ("ngày dạng YYYY-MM-DD", "a date as YYYY-MM-DD"),
    "due_to": ("ngày dạng YYYY-MM-DD", "a date as YYYY-MM-DD"),
    "page": ("số trang từ 1", "a page number from 1"),
    "per_page": ("từ 1 đến 5000", "from 1 to 5000"),
    "format": ("csv hoặc xlsx", "csv or xlsx"),
}


# A unit filter is a name or a code: no control characters (PostgreSQL refuses NUL in a query).
UNIT_FILTER = [ma.validate.Length(max=100), ma.validate.Regexp(r"^[^\x00-\x1f\x7f]*$")]


class QuerySchema(ma.Schema):
    """Base for report filters: unknown or malformed parameters become a clear 422."""

    class Meta:
        unknown = ma.RAISE

    def __init__(self, *args, empty_means_all: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.empty_means_all = empty_means_all

    @ma.pre_load
    def drop_empty(self, data, **kwargs):
        """A filter form sends empty fields for “all”: on pages they mean no filter. The API is
        strict (`empty_means_all=False`): an empty value is refused like any invalid one."""
        if self.empty_means_all and hasattr(data, "items"):
            return {k: v for k, v in data.items() if v not in ("", None)}
        return data

    def handle_error(self, error: ma.ValidationError, data, *, many: bool, **kwargs):
        """Raise ValidationFailed listing each field's problem in both languages."""
        messages = error.messages if isinstance(error.messages,
                                                dict) else {"_schema": error.messages}
        allowed = sorted(field.data_key or name for name, field in self.fields.items())
        unknown = sorted(k for k, v in messages.items() if v == ["Unknown field."])
        vi, en = [], []
        if unknown:
            vi.append(f"Bộ lọc không được hỗ trợ: {', '.join(unknown)} (dùng được: "
                      f"{', '.join(allowed)})")
            en.append(f"Unknown filter: {', '.join(unknown)} (allowed: {', '.join(allowed)})")
        for key in sorted(k for k in messages if k not in unknown and k != "_schema"):
            accepts = ACCEPTS.get(key)
            value = data.get(key) if hasattr(data, "get") else None
            vi.append(f"Giá trị không hợp lệ cho {key}: "
                      f"“{value}”" + (f" (cần {accepts[0]})" if accepts else ""))
            en.append(f"Invalid value for {key}: "
                      f"“{value}”" + (f" (expected {accepts[1]})" if accepts else ""))
        for message in messages.get("_schema", []):
            if isinstance(message, tuple | list) and len(message) == 2:
                vi.append(message[0])
                en.append(message[1])
            else:
                vi.append(str(message))
                en.append(str(message))
        if "_schema" in messages:  # (vi, en) pairs are for the message; details stay English
            messages = {**messages, "_schema": [m[1] if isinstance(m, tuple | list) else m
                                                for m in messages["_schema"]]}
        raise ValidationFailed("; ".join(vi) + ".", "; ".join(en) + ".", messages)


def _date_range(data: dict, start: str, end: str) -> None:
    if data.get(start) and data.get(end) and data[start] > data[end]:
        first, last = data[start], data[end]
        raise ma.ValidationError([(
            f"Khoảng ngày không hợp lệ: ngày bắt đầu {first:%d/%m/%Y} sau ngày "
            f"kết thúc {last:%d/%m/%Y}",
            f"Impossible date range: {first.isoformat()} is after {last.isoformat()}")])


class RankingQuerySchema(QuerySchema):
    year = F.Integer(validate=ma.validate.Range(min=2000, max=2100),
                     metadata={"description": "Year of the inspections (default: "
                                              "the latest with results)"})
    level = F.String(validate=ma.validate.OneOf(LEVELS),
                     metadata={"description": "district | commune (default: commune)"})
    era = F.String(validate=ma.validate.OneOf(ERAS),
                   metadata={"description": "3cap | 2cap (default: the era of the "
                                            "year's latest inspections)"})


class IndicatorQuerySchema(RankingQuerySchema):
    pass


class RankingPageQuerySchema(RankingQuerySchema):
    """The ranking page: the table is paged (the chart and summaries cover every unit)."""

    page = F.Integer(load_default=1, validate=ma.validate.Range(min=1, max=MAX_PAGE))
    per_page = F.Integer(load_default=100, validate=ma.validate.Range(min=1, max=5000))


class OverviewQuerySchema(QuerySchema):
    plan = F.Integer(validate=ma.validate.Range(min=1, max=MAX_ID),
                     metadata={"description": "Plan id"})
    trip = F.Integer(validate=ma.validate.Range(min=1, max=MAX_ID),
                     metadata={"description": "Trip id"})
    unit = F.String(validate=UNIT_FILTER,
                    metadata={"description": "Unit name or GSO code (contains)"})
    state = F.String(validate=ma.validate.OneOf(STATES))
    year = F.Integer(validate=ma.validate.Range(min=2000, max=2100))
    date_from = F.Date(data_key="from", metadata={"description": "Scheduled on or after"})
    date_to = F.Date(data_key="to", metadata={"description": "Scheduled on or before"})
    page = F.Integer(load_default=1, validate=ma.validate.Range(min=1, max=MAX_PAGE))
    per_page = F.Integer(load_default=100, validate=ma.validate.Range(min=1, max=5000))

    @ma.validates_schema
    def dates_in_order(self, data, **kwargs):
        """Refuse a date range whose end is before its start."""
        _date_range(data, "date_from", "date_to")


class RecommendationQuerySchema(QuerySchema):
    status = F.String(validate=ma.validate.OneOf(STATUSES),
                      metadata={"description": "open | done | verified"})
    overdue = F.Boolean(metadata={"description": "true: only open recommendations past their due "
                                                 "date"})
    unit = F.String(validate=UNIT_FILTER,
                    metadata={"description": "Unit name or GSO code (contains)"})
    year = F.Integer(validate=ma.validate.Range(min=2000, max=2100),
                     metadata={"description": "Year of the inspection that made the "
                                              "recommendation"})
    due_from = F.Date(metadata={"description": "Due on or after"})
    due_to = F.Date(metadata={"description": "Due on or before"})
    page = F.Integer(load_default=1, validate=ma.validate.Range(min=1, max=MAX_PAGE))
    per_page = F.Integer(load_default=100, validate=ma.validate.Range(min=1, max=5000))

    @ma.validates_schema
    def dates_in_order(self, data, **kwargs):
        """Refuse a date range whose end is before its start."""
        _date_range(data, "due_from", "due_to")


class ExportQuerySchema(OverviewQuerySchema):
    """Filters of a table export: those of the inspections list (no paging)."""

    class Meta:
        unknown = ma.RAISE
        exclude = ("page", "per_page")


# ---------------------------------------------------------------------------------------------
# Answers


class ReportUnitSchema(ma.Schema):
    id = F.Integer()
    code = F.String()
    name = F.String()
    full_name = F.String()


class GradeSchema(ma.Schema):
    code = F.String()
    vi = F.String()
    en = F.String()


class SectionPointsSchema(ma.Schema):
    code = F.String()
    points = F.Float()
    max = F.Float()
    percent = F.Float(allow_none=True)


class PreviousDetailSchema(ma.Schema):
    unit = F.Nested(ReportUnitSchema)
    inspection_id = F.Integer()
    scheduled_on = F.Date()
    percent = F.Float()


class IndicatorValueSchema(ma.Schema):
    value = F.Float(allow_none=True)
    target = F.Float(allow_none=True)
    met = F.Boolean(allow_none=True)


class RankingRowSchema(ma.Schema):
    rank = F.Integer()
    unit = F.Nested(ReportUnitSchema)
    inspection_id = F.Integer()
    scheduled_on = F.Date()
    era = F.String()
    score = F.Float(metadata={"description": "Points earned"})
    max = F.Float(metadata={"description": "Points possible"})
    percent = F.Float()
    class_ = F.Nested(GradeSchema, data_key="class", attribute="class", allow_none=True)
    assessed = F.Integer(metadata={"description": "criteria assessed"})
    criteria = F.Integer(metadata={"description": "applicable criteria"})
    partial = F.Boolean(metadata={
        "description": "approved with criteria not assessed (assessed < criteria): ranked after "
                       "every fully assessed unit"})
    sections = F.List(F.Nested(SectionPointsSchema))
    previous = F.Float(allow_none=True, metadata={
        "description": "Percent at the unit's latest earlier inspection; for a unit formed by a "
                       "merger with no earlier inspection of its own, the mean over the units it "
                       "absorbed (each at its latest earlier inspection)"})
    change = F.Float(allow_none=True, metadata={"description": "percent − previous"})
    previous_detail = F.List(F.Nested(PreviousDetailSchema))
    indicators = F.Dict(keys=F.String(), values=F.Nested(IndicatorValueSchema), metadata={
        "description": "on_time_rate, online_share, signed_share: value (%), target, met"})
    self_score = F.Float(allow_none=True, metadata={
        "description": "points of the unit's submitted self-assessment (same scoring); null "
                       "when none was submitted"})
    self_percent = F.Float(allow_none=True)
    self_difference = F.Float(allow_none=True, metadata={
        "description": "appraised points (score) − self-assessed points"})


class IndicatorSummarySchema(ma.Schema):
    indicator = F.String()
    title_vi = F.String()
    title_en = F.String()
    units = F.Integer(metadata={"description": "Units with a value"})
    mean = F.Float(allow_none=True, metadata={"description": "Mean of the units' values (%)"})
    minimum = F.Float(allow_none=True)
    maximum = F.Float(allow_none=True)
    target = F.Float(allow_none=True)
    met = F.Integer(metadata={"description": "Units meeting the target"})
    judged = F.Integer(metadata={"description": "Units with a value and a target"})


class EvidenceFileSchema(ma.Schema):
    id = F.Integer()
    filename = F.String()
    size = F.Integer(metadata={"description": "Bytes"})
    content_type = F.String(metadata={"description": "image/jpeg | image/png | image/webp"})


class RecommendationRowSchema(ma.Schema):
    id = F.Integer()
    unit = F.Nested(ReportUnitSchema)
    text = F.String()
    due_on = F.Date(allow_none=True)
    status = F.String(metadata={"description": "open | done | verified"})
    overdue = F.Boolean()
    inspection_id = F.Integer()
    inspected_on = F.Date()
    trip = F.String()
    follow_up_result = F.String(allow_none=True,
                                metadata={"description": "done | partly | not_done"})
    follow_up_evidence = F.String(allow_none=True)
    followed_up_in_id = F.Integer(allow_none=True)
    followed_up_on = F.Date(allow_none=True)
    reported_at = F.Function(lambda row: iso_local(row.get("reported_at")), allow_none=True,
                             metadata={"type": "string", "format": "date-time",
                                       "description": "When the unit reported it done (Vietnam "
                                                      "time, +07:00); null unless status is done "
                                                      "or verified after a report"})
    reported_by = F.String(allow_none=True,
                           metadata={"description": "Who reported it done (full name)"})
    report_note = F.String(allow_none=True,
                           metadata={"description": "The unit's note with its report"})
    evidence = F.List(F.Nested(EvidenceFileSchema), metadata={
        "description": "The unit's evidence pictures; listed only to those who may open them "
                       "(GET /overview/recommendations/{id}/evidence/{evidence_id})"})
    unit_reply = F.String(allow_none=True, metadata={"description": "The unit's reply in words"})
    unit_reply_at = F.Function(lambda row: iso_local(row.get("unit_reply_at")), allow_none=True,
                               metadata={"type": "string", "format": "date-time"})


class StateCountSchema(ma.Schema):
    state = F.String()
    count = F.Integer()


class GroupCountSchema(ma.Schema):
    id = F.Integer()
    label = F.String()
    total = F.Integer()
    states = F.Dict(keys=F.String(), values=F.Integer())


class OverviewSchema(ma.Schema):
    total = F.Integer()
    states = F.Dict(keys=F.String(), values=F.Integer())
    plans = F.List(F.Nested(GroupCountSchema))
    trips = F.List(F.Nested(GroupCountSchema))
