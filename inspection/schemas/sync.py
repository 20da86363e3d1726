"""Sync requests and answers: assignments, push, pull (DESIGN §4), photo metadata."""
import uuid
from datetime import datetime

import marshmallow as ma

from ..models.base import MAX_BIG, MAX_ID, iso_utc
from .common import UnitSchema, UserSchema
from .self_assessment import FieldSelfAssessmentSchema, PreShaped

MAX_OPS = 500  # ops in one push; more is refused whole (413), the device sends smaller batches
SAMPLE_OP_TYPES = ("sample.set", "sample.delete")
OP_TYPES = ("observation.set", "photo.caption", "photo.delete", *SAMPLE_OP_TYPES)
FAST_OP_TYPES = ("observation.set", "photo.caption", "photo.delete")  # see _fast_load_push
# The closing meeting (services.closing_ops): no item_code; closing.set carries ``bases``.
CLOSING_OP_TYPES = ("closing.set", "finding.set", "finding.delete", "recommendation.set",
                    "recommendation.delete", "inspection.approve")
ALL_OP_TYPES = OP_TYPES + CLOSING_OP_TYPES
OP_STATUSES = ("applied", "merged", "conflict", "duplicate", "rejected")
REJECT_REASONS = ("not_found", "forbidden", "unknown_item", "invalid_field", "locked",
                  "photo_locked", "photo_not_found", "not_allowed", "closing_locked", "blocked",
                  "unknown_group", "unknown_field", "too_many")


class TooManyOps(Exception):
    """A push of more than MAX_OPS ops; the API answers 413 in the user's language."""

    def __init__(self, count: int):
        super().__init__(f"{count} ops in one push (at most {MAX_OPS})")
        self.count = count


class OpSchema(ma.Schema):
    """One change made on a device."""

    class Meta:
        unknown = ma.EXCLUDE  # a newer field app may send more; it must not block sync

    op_id = ma.fields.UUID(required=True, metadata={"description": "Client UUID of the op; "
                                                    "sending it again changes nothing"})
    type = ma.fields.String(required=True, validate=ma.validate.OneOf(ALL_OP_TYPES))
    inspection_id = ma.fields.Integer(required=True, strict=True,
                                      validate=ma.validate.Range(min=1, max=MAX_ID))
    item_code = ma.fields.String(load_default=None, validate=ma.validate.Length(min=1, max=100),
                                 metadata={"description": "The item (for photo ops: the photo's); "
                                                          "required except for closing ops; "
                                                          "sample ops may leave it out: their "
                                                          "group is used"})
    base_version = ma.fields.Integer(
        required=True, strict=True, validate=ma.validate.Range(min=0, max=MAX_ID),
        metadata={"description": "The observation version the device edited from (0: none); "
                                 "finding/recommendation ops: the record's version (0: new)"})
    fields = ma.fields.Dict(
        keys=ma.fields.String(), required=True,
        metadata={"description": "observation.set: any of result (pass|partial|fail|na), points, "
                                 "value, text, note; null clears a field. photo.caption: "
                                 "{photo: client UUID, caption}; photo.delete: {photo}; "
                                 "sample.set: {field code: value} (yes/no true or false, a "
                                 "number, YYYY-MM-DD, a text; none when the sample is only "
                                 "added); sample.delete: may be left out. "
                                 "closing.set: any of meeting_start, meeting_end (HH:MM), "
                                 "unit_officials [{name, position}], team_present [user id] "
                                 "| null, unit_comments, report_due (YYYY-MM-DD); "
                                 "finding.set: {id (UUID), kind (strength|weakness), text, "
                                 "position}; recommendation.set: {id, text, item_codes, "
                                 "library_code, due_on, position}; finding.delete / "
                                 "recommendation.delete: {id}; inspection.approve: "
                                 "{confirm_unanswered, reason, seen (pull cursor)} "
                                 "(DESIGN §4)"})
    bases = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.Integer(strict=True),
        metadata={"description": "closing.set: per field, the version the device edited from "
                                 "(a field not named: base_version)"})
    at = ma.fields.DateTime(required=True,
                            metadata={"description": "When the edit was made (ISO 8601)"})
    group = ma.fields.String(validate=ma.validate.Length(min=1, max=40), metadata={
        "description": "sample.set / sample.delete: the repeat group's code (HS)"})
    sample_id = ma.fields.UUID(metadata={
        "description": "sample.set / sample.delete: the sample's client UUID, made on the "
                       "device when the sample was added"})

    @ma.pre_load
    def sample_op_shape(self, data, **kwargs):
        """A sample op names its group instead of an item (kept as ``item_code`` on the
        server) and a deletion has no fields."""
        if isinstance(data, dict) and data.get("type") in SAMPLE_OP_TYPES:
            data = dict(data)
            if "group" not in data or "sample_id" not in data:
                raise ma.ValidationError(["required for sample ops"],
                                         "group" if "group" not in data else "sample_id")
            data.setdefault("item_code", data.get("group"))
            data.setdefault("fields", {})
        return data


    @ma.validates_schema
    def item_code_required(self, data, **kwargs):
        """Observation and photo ops name their item; closing ops do not."""
        if data.get("type") in OP_TYPES and data.get("item_code") is None:
            raise ma.ValidationError("Missing data for required field.", "item_code")


class PushSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    device_id = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=100))
    ops = ma.fields.List(ma.fields.Nested(OpSchema), required=True,
                         metadata={"description": f"At most {MAX_OPS} ops (more: 413)"})

    @ma.pre_load
    def refuse_oversized_batches(self, data, **kwargs):
        """Refuse more than MAX_OPS ops before checking any of them."""
        if isinstance(data, dict) and isinstance(data.get("ops"),
                                                 list) and len(data["ops"]) > MAX_OPS:
            raise TooManyOps(len(data["ops"]))
        return data


def load_push(data) -> dict:
    """Load a push body as PushSchema does; raises marshmallow.ValidationError when invalid,
    TooManyOps when it holds more than MAX_OPS ops.

    The common case — a well-formed batch — is checked by hand, about twenty times faster than
    the schema; anything unusual goes through PushSchema, which alone decides what is an error
    and how it is reported. The hand check accepts only what the schema accepts, with the same
    result (tests compare the two).
    """
    loaded = _fast_load_push(data)
    return loaded if loaded is not None else PushSchema().load(data)


def _fast_load_push(data) -> dict | None:
    if not isinstance(data, dict):
        return None
    device_id, ops = data.get("device_id"), data.get("ops")
    if type(device_id) is not str or not 1 <= len(device_id) <= 100 or type(ops) is not list:
        return None
    if len(ops) > MAX_OPS:
        raise TooManyOps(len(ops))
    loaded = []
    for op in ops:
        if type(op) is not dict:
            return None
        op_id, kind, inspection_id = op.get("op_id"), op.get("type"), op.get("inspection_id")
        item_code, base, fields, at = (op.get("item_code"), op.get("base_version"),
                                       op.get("fields"), op.get("at"))
        if "bases" in op:  # closing.set: the schema loads it
            return None
        if (type(op_id) is not str or kind not in FAST_OP_TYPES or type(inspection_id) is not int
                or not 1 <= inspection_id <= MAX_ID
                or type(item_code) is not str or not 1 <= len(item_code) <= 100
                or type(base) is not int or not 0 <= base <= MAX_ID or type(fields) is not dict
                or type(at) is not str or not all(type(key) is str for key in fields)):
            return None
        try:
            loaded.append({"op_id": uuid.UUID(op_id), "type": kind, "inspection_id": inspection_id,
                           "item_code": item_code, "base_version": base, "fields": fields,
                           "at": datetime.fromisoformat(at)})
        except ValueError:
            return None
    return {"device_id": device_id, "ops": loaded}


class OpResultSchema(ma.Schema):
    op_id = ma.fields.String(required=True)
    status = ma.fields.String(required=True, metadata={"enum": list(OP_STATUSES)})
    version = ma.fields.Integer(metadata={"description": "The observation's version after the op "
                                                         "(for duplicate: after the original); "
                                                         "closing ops: the record's or the "
                                                         "highest field's; inspection.approve: "
                                                         "the inspection's revision"})
    versions = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), metadata={
        "description": "closing.set: each field's version after the op"})
    current = ma.fields.Dict(metadata={
        "description": "closing ops with status conflict: the values the server kept, by field "
                       "(finding/recommendation.delete: the whole record)"})
    errors = ma.fields.List(ma.fields.String(), metadata={
        "description": "inspection.approve rejected as blocked: each reason, in words"})
    reason = ma.fields.String(metadata={"enum": list(REJECT_REASONS)})
    message = ma.fields.String(
        metadata={"description": "Why it was rejected, in the request's language"})
    conflicts = ma.fields.List(ma.fields.String(), metadata={
        "description": "Fields kept as a Conflict for the leader (status conflict)"})
    folded = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), metadata={
        "description": "Per field in conflict: how many earlier proposals for it are folded "
                       "(only the first and the latest few are kept for the leader)"})
    held = ma.fields.List(ma.fields.String(), metadata={
        "description": "Fields of the same judgement (result, points, note) not applied because "
                       "this writer's result or points wait as a Conflict: they wait in it and "
                       "the leader's decision applies them together (status conflict)"})
    superseded = ma.fields.List(ma.fields.String(), metadata={
        "description": "Fields not written because the same device had already set them with a "
                       "later edit that arrived first (status merged)"})
    original_status = ma.fields.String(metadata={
        "description": "For a duplicate: the status the op got the first time"})


class PushResultSchema(ma.Schema):
    results = ma.fields.List(ma.fields.Nested(OpResultSchema), required=True)


class PullArgsSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    since = ma.fields.Integer(load_default=0, validate=ma.validate.Range(min=0, max=MAX_BIG),
                              metadata={"description": "Cursor from the last pull (0: from the "
                                                       "start)"})
    inspection_id = ma.fields.Integer(load_default=None,
                                      validate=ma.validate.Range(min=1, max=MAX_ID))
    limit = ma.fields.Integer(load_default=500, validate=ma.validate.Range(min=1, max=1000))


class ChangeSchema(ma.Schema):
    cursor = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True, metadata={
        "enum": ["observation", "photo", "inspection", "conflicts", "late_submission",
                 "closing", "sample"],
        "description": "photo data with `deleted: true` when a photo was deleted; sample: "
                       "{group, sample_id, fields, version, deleted} (a deletion is a "
                       "tombstone: `deleted: true`); conflicts: "
                       "{item_code, open: [Conflict]} (what is open on the item now); "
                       "late_submission: {op_id, item_code, status} once the leader decided; "
                       "closing: the whole closing object as in assignments (Closing), sent "
                       "whenever any of it changes, with the reader's can_edit and can_approve"})
    inspection_id = ma.fields.Integer(required=True)
    data = ma.fields.Dict(required=True)


class PullSchema(ma.Schema):
    changes = ma.fields.List(ma.fields.Nested(ChangeSchema), required=True)
    cursor = ma.fields.Integer(required=True)
    more = ma.fields.Boolean(required=True)


class ObservationDataSchema(ma.Schema):
    """An observation as devices see it: dumped from the Observation in assignments; the change
    feed's "observation" entries carry the same keys (services.observations.observation_payload,
    kept alike by tests/api/test_sync.py)."""

    item_code = ma.fields.String()
    result = ma.fields.String(allow_none=True)
    points = ma.fields.Float(allow_none=True)
    value = ma.fields.Float(allow_none=True)
    text = ma.fields.String(allow_none=True)
    note = ma.fields.String(allow_none=True)
    version = ma.fields.Integer()
    updated_by = ma.fields.Integer(attribute="updated_by_id", allow_none=True,
                                   metadata={"description": "User id"})
    updated_at = ma.fields.Function(lambda obs: iso_utc(obs.updated_at), allow_none=True,
                                    metadata={"type": "string"})


class PhotoDataSchema(ma.Schema):
    id = ma.fields.Integer()
    client_uuid = ma.fields.String()
    item_code = ma.fields.String(allow_none=True)
    sha256 = ma.fields.String()
    size = ma.fields.Integer()
    width = ma.fields.Integer()
    height = ma.fields.Integer()
    content_type = ma.fields.String()
    captured_at = ma.fields.String(allow_none=True)
    latitude = ma.fields.Float(allow_none=True)
    longitude = ma.fields.Float(allow_none=True)
    caption = ma.fields.String()
    author = ma.fields.Integer(allow_none=True, metadata={"description": "User id"})
    url = ma.fields.String()
    thumb_url = ma.fields.String()


class TeamMemberSchema(ma.Schema):
    user_id = ma.fields.Integer()
    full_name = ma.fields.String()
    position = ma.fields.String()
    role = ma.fields.String(metadata={"enum": ["leader", "member", "secretary"]})


class AssignmentTripSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    starts_on = ma.fields.Date()
    ends_on = ma.fields.Date()
    plan_number = ma.fields.String()


class AssignmentInspectionSchema(ma.Schema):
    id = ma.fields.Integer()
    state = ma.fields.String()
    revision = ma.fields.Integer()
    scheduled_on = ma.fields.Date()
    unit = ma.fields.Nested(UnitSchema)
    trip = ma.fields.Nested(AssignmentTripSchema)
    team = ma.fields.List(ma.fields.Nested(TeamMemberSchema))
    my_role = ma.fields.String(allow_none=True)
    checklist_version_id = ma.fields.Integer()
    signed_at = ma.fields.String(allow_none=True, metadata={
        "description": "When the minutes were fully signed (ISO 8601; null unless signed)"})


class PreviousRecommendationSchema(ma.Schema):
    id = ma.fields.Integer()
    text = ma.fields.String()
    due_on = ma.fields.Date(allow_none=True)
    status = ma.fields.String()
    unit_name = ma.fields.String()
    inspection_id = ma.fields.Integer()
    item_codes = ma.fields.List(ma.fields.String())


class ConflictSideSchema(ma.Schema):
    value = ma.fields.Raw(allow_none=True)
    by = ma.fields.Integer(allow_none=True, metadata={"description": "User id"})
    at = ma.fields.String(allow_none=True)
    with_ = ma.fields.Dict(data_key="with", attribute="with", metadata={
        "description": "The other fields of the judgement on this side (e.g. the note)"})


class OpenConflictSchema(ma.Schema):
    id = ma.fields.Integer()
    item_code = ma.fields.String()
    field = ma.fields.String()
    current = ma.fields.Nested(ConflictSideSchema, metadata={"description": "The value kept"})
    incoming = ma.fields.Nested(ConflictSideSchema, metadata={"description": "The value proposed"})
    folded = ma.fields.Integer()


class LateSubmissionDataSchema(ma.Schema):
    op_id = ma.fields.String()
    item_code = ma.fields.String(allow_none=True)
    fields = ma.fields.Dict()
    received_at = ma.fields.String(allow_none=True)


class FindingDataSchema(ma.Schema):
    id = ma.fields.String(metadata={"description": "Client UUID (the server makes one for the "
                                                   "office's)"})
    kind = ma.fields.String(metadata={"enum": ["strength", "weakness"]})
    text = ma.fields.String()
    position = ma.fields.Integer()
    version = ma.fields.Integer()


class ClosingRecommendationSchema(ma.Schema):
    id = ma.fields.String(metadata={"description": "Client UUID"})
    text = ma.fields.String()
    item_codes = ma.fields.List(ma.fields.String())
    library_code = ma.fields.String(allow_none=True)
    due_on = ma.fields.String(allow_none=True, metadata={"description": "YYYY-MM-DD"})
    position = ma.fields.Integer()
    version = ma.fields.Integer()


class OfficialSchema(ma.Schema):
    name = ma.fields.String()
    position = ma.fields.String()


class ClosingSchema(ma.Schema):
    """The closing meeting's data (DESIGN §4): in assignments and in "closing" feed entries."""

    findings = ma.fields.List(ma.fields.Nested(FindingDataSchema))
    recommendations = ma.fields.List(ma.fields.Nested(ClosingRecommendationSchema))
    meeting_start = ma.fields.String(allow_none=True, metadata={"description": "HH:MM"})
    meeting_end = ma.fields.String(allow_none=True, metadata={"description": "HH:MM"})
    unit_officials = ma.fields.List(ma.fields.Nested(OfficialSchema))
    team_present = ma.fields.List(ma.fields.Integer(), allow_none=True, metadata={
        "description": "User ids of the team members present; null: not recorded (the minutes "
                       "list the whole team)"})
    unit_comments = ma.fields.String()
    report_due = ma.fields.String(allow_none=True, metadata={"description": "YYYY-MM-DD"})
    versions = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), metadata={
        "description": "Per closing field, its version (0: never set); closing.set sends them "
                       "back as bases"})
    minutes_revision = ma.fields.Integer(allow_none=True, metadata={
        "description": "Number of the latest minutes revision built on the server"})
    can_edit = ma.fields.Boolean(metadata={
        "description": "This user is the trip's leader or secretary and the inspection is not "
                       "approved or signed"})
    can_approve = ma.fields.Boolean(metadata={"description": "This user is the trip's leader"})


class SampleDataSchema(ma.Schema):
    """A sample of a repeat group as devices see it (assignments and the feed's ``sample``)."""

    group = ma.fields.String()
    sample_id = ma.fields.String(metadata={"description": "The client UUID"})
    fields = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Raw(allow_none=True),
                            metadata={"description": "Field code -> value (yes/no true or "
                                                     "false, number, YYYY-MM-DD, text)"})
    version = ma.fields.Integer()
    deleted = ma.fields.Boolean()
    created_at = ma.fields.String(allow_none=True)


class AssignmentSchema(ma.Schema):
    inspection = ma.fields.Nested(AssignmentInspectionSchema)
    closing = ma.fields.Nested(ClosingSchema)
    minutes_head = ma.fields.Dict(metadata={
        "description": "What the field app's draft minutes print besides results and closing "
                       "data, in the PDF's words (services.minutes_data.draft_head)"})
    observations = ma.fields.List(ma.fields.Nested(ObservationDataSchema))
    photos = ma.fields.List(ma.fields.Nested(PhotoDataSchema))
    previous_recommendations = ma.fields.List(ma.fields.Nested(PreviousRecommendationSchema))
    conflicts = ma.fields.List(ma.fields.Nested(OpenConflictSchema), metadata={
        "description": "Open Conflicts (the leader has not decided yet)"})
    late_submissions = ma.fields.List(ma.fields.Nested(LateSubmissionDataSchema), metadata={
        "description": "Changes that arrived after approval, waiting for the leader"})
    samples = ma.fields.List(ma.fields.Nested("SampleDataSchema"), metadata={
        "description": "Samples of the repeat groups in the order they were added, deleted "
                       "ones as tombstones (deleted: true)"})
    self_assessment = PreShaped(FieldSelfAssessmentSchema, allow_none=True, metadata={
        "description": "The unit's submitted self-assessment (claims, evidence files with their "
                       "URLs, explanation threads, self-score); null when none is submitted"})
    cursor = ma.fields.Integer(metadata={"description": "Latest change-feed cursor of this "
                                                        "inspection"})


class AssignmentsSchema(ma.Schema):
    server_time = ma.fields.String()
    user = ma.fields.Nested(UserSchema)
    checklists = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Raw(), metadata={
        "description": "Checklist template documents by checklist version id"})
    assignments = ma.fields.List(ma.fields.Nested(AssignmentSchema))
    retention_days = ma.fields.Integer(metadata={
        "description": "Days after signing that a device keeps an inspection (then forgets it, "
                       "once nothing of it is unsent); signed inspections older than that are "
                       "not listed"})
