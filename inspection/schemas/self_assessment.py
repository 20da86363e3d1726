"""The self-assessment's payloads: what the unit claims per criterion, its evidence files and
the explanations the leader asked for."""
import marshmallow as ma

from ..models.base import MAX_ID

F = ma.fields
RESULTS = ("pass", "partial", "fail", "na")


class SelfScoreSchema(ma.Schema):
    total = F.Float()
    max = F.Float()
    percent = F.Float(allow_none=True)


class EvidenceSchema(ma.Schema):
    id = F.Integer()
    name = F.String()
    content_type = F.String()
    size = F.Integer()
    sha256 = F.String()
    url = F.String(metadata={"description": "GET it (the representatives, the team, admins)"})


class ExplanationRequestSchema(ma.Schema):
    question = F.String(metadata={"description": "what the leader asks the unit to explain"})
    asked_at = F.String()
    asked_by = F.Integer(allow_none=True)
    answer = F.String(allow_none=True)
    answered_at = F.String(allow_none=True)
    evidence = F.List(F.Nested(EvidenceSchema))


class ClaimSchema(ma.Schema):
    item_code = F.String()
    result = F.String(allow_none=True, metadata={"description": "pass | partial | fail | na"})
    points = F.Float(allow_none=True)
    value = F.Float(allow_none=True)
    text = F.String(allow_none=True)
    note = F.String(allow_none=True)
    explanation = F.String(allow_none=True, metadata={
        "description": "why there is no evidence file"})
    evidence = F.List(F.Nested(EvidenceSchema))
    explanation_request = F.Nested(ExplanationRequestSchema, allow_none=True, metadata={
        "description": "the leader's request to explain this criterion, and the unit's answer"})


class SelfAssessmentSchema(ma.Schema):
    state = F.String(metadata={"description": "draft | submitted | withdrawn"})
    submitted_at = F.String(allow_none=True)
    deadline = F.String(allow_none=True, metadata={
        "description": "the trip's last day to submit (Vietnam), null when none is set"})
    items = F.List(F.Nested(ClaimSchema), metadata={
        "description": "the claims; the team and admins see them only once submitted"})
    score = F.Nested(SelfScoreSchema, metadata={
        "description": "the claims scored with the checklist's own scoring and rules"})


class ClaimInSchema(ma.Schema):
    """One criterion's claim; the fields given replace the claim (absent ones are cleared)."""

    result = F.String(allow_none=True, validate=ma.validate.OneOf(RESULTS))
    points = F.Float(allow_none=True, allow_nan=False)
    value = F.Float(allow_none=True, allow_nan=False)
    text = F.String(allow_none=True)
    note = F.String(allow_none=True)
    explanation = F.String(allow_none=True)
    evidence = F.List(F.Integer(strict=True, validate=ma.validate.Range(1, MAX_ID)),
                      load_default=list, validate=ma.validate.Length(max=200),
                      metadata={"description": "ids of this self-assessment's evidence files"})


class FieldClaimSchema(ma.Schema):
    item_code = F.String()
    result = F.String(allow_none=True)
    points = F.Float(allow_none=True)
    value = F.Float(allow_none=True)
    text = F.String(allow_none=True)
    note = F.String(allow_none=True)
    explanation = F.String(allow_none=True)
    evidence = F.List(F.Integer(), metadata={"description": "ids in `evidence`"})


class FieldExplanationSchema(ma.Schema):
    item_code = F.String()
    question = F.String()
    asked_at = F.String()
    answer = F.String(allow_none=True)
    answered_at = F.String(allow_none=True)
    evidence = F.List(F.Integer(), metadata={"description": "ids in `evidence`"})


class FieldSelfAssessmentSchema(ma.Schema):
    """The unit's submitted self-assessment as a device keeps it offline."""

    state = F.String()
    submitted_at = F.String(allow_none=True)
    score = F.Nested(SelfScoreSchema)
    claims = F.List(F.Nested(FieldClaimSchema))
    evidence = F.List(F.Nested(EvidenceSchema))
    explanations = F.List(F.Nested(FieldExplanationSchema))


class PreShaped(ma.fields.Nested):
    """Documented as its nested schema, dumped as it is: the service already gives the shape
    (a full self-assessment is a hundred claims and files, too many to dump field by field on
    every GET /assignments)."""

    def _serialize(self, value, attr, obj, **kwargs):
        return value
