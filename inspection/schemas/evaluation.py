"""The evaluation of an inspection (DESIGN §4): score, checks, indicators, suggestions."""
import marshmallow as ma

from .self_assessment import SelfScoreSchema

F = ma.fields


class ClassSchema(ma.Schema):
    code = F.String()
    vi = F.String()
    en = F.String()


class SectionScoreSchema(ma.Schema):
    code = F.String()
    title_vi = F.String()
    title_en = F.String()
    points = F.Float()
    max = F.Float()
    percent = F.Float(allow_none=True)
    nominal_max = F.Float()
    skipped = F.Boolean()
    not_applicable = F.Boolean(metadata={"description": "the section's condition is false"})
    not_applicable_items = F.List(F.String(), metadata={
        "description": "items whose condition (or their section's) is false: out of the maximum"})


class ScoreSchema(ma.Schema):
    total = F.Float()
    max = F.Float()
    percent = F.Float(allow_none=True)
    scaled = F.Float(allow_none=True)
    class_ = F.Nested(ClassSchema, data_key="class", attribute="class", allow_none=True,
                      metadata={"description": "null while assessed < items, unless the "
                                               "approval confirmed the criteria not assessed"})
    assessed = F.Integer(metadata={
        "description": "criteria with a result, points or a computable value"})
    items = F.Integer(metadata={"description": "applicable criteria (items that can earn "
                                               "points: yesno, score, ratios with a target)"})
    partial = F.Boolean(metadata={"description": "assessed < items; the percent counts the "
                                                 "criteria not assessed as 0"})
    not_assessed = F.List(F.String(), metadata={
        "description": "codes of the applicable criteria not assessed, in checklist order"})
    sections = F.List(F.Nested(SectionScoreSchema))


class CheckSchema(ma.Schema):
    rule_id = F.String()
    severity = F.String(metadata={"description": "error | warning | finding | info"})
    status = F.String(metadata={"description": "fail, or unknown when it cannot be computed"})
    message_vi = F.String()
    message_en = F.String()
    items = F.List(F.String())
    reason = F.String(allow_none=True)


class IndicatorSchema(ma.Schema):
    code = F.String()
    indicator = F.String(allow_none=True)
    title_vi = F.String()
    title_en = F.String()
    value = F.Float(allow_none=True, metadata={"description": "percent, 1 decimal"})
    numerator = F.Float(allow_none=True)
    denominator = F.Float(allow_none=True)
    target = F.Float(allow_none=True)
    met = F.Boolean(allow_none=True)
    status = F.String()
    missing = F.List(F.String())
    points = F.Float(allow_none=True)
    max_points = F.Float(allow_none=True)


class SuggestionSchema(ma.Schema):
    code = F.String()
    text_vi = F.String()
    text_en = F.String()
    because = F.List(F.String())


class SectionProgressSchema(ma.Schema):
    code = F.String()
    answered = F.Integer()
    total = F.Integer()


class ProgressSchema(ma.Schema):
    answered = F.Integer()
    total = F.Integer()
    sections = F.List(F.Nested(SectionProgressSchema))


class EvaluationSchema(ma.Schema):
    score = F.Nested(ScoreSchema)
    checks = F.List(F.Nested(CheckSchema))
    indicators = F.List(F.Nested(IndicatorSchema))
    suggestions = F.List(F.Nested(SuggestionSchema))
    progress = F.Nested(ProgressSchema)
    self_score = F.Nested(SelfScoreSchema, allow_none=True, metadata={
        "description": "the unit's submitted self-assessment scored the same way (null when "
                       "nothing was submitted)"})
