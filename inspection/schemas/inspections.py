"""Inspections as the API shows them, and state-machine requests."""
import marshmallow as ma

from ..models.inspections import USER_ACTIONS
from .common import UnitSchema


class TripSummarySchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    starts_on = ma.fields.Date()
    ends_on = ma.fields.Date()


class InspectionSchema(ma.Schema):
    id = ma.fields.Integer()
    state = ma.fields.String()
    scheduled_on = ma.fields.Date()
    revision = ma.fields.Integer()
    unit = ma.fields.Nested(UnitSchema)
    trip = ma.fields.Nested(TripSummarySchema)
    checklist_version_id = ma.fields.Integer()
    reopen_reason = ma.fields.String(allow_none=True)
    approval_reason = ma.fields.String(allow_none=True, metadata={
        "description": "why the leader approved with criteria not assessed"})
    approved_unanswered = ma.fields.List(ma.fields.String(), allow_none=True, metadata={
        "description": "the criteria that approval confirmed as not assessed"})
    signed_on = ma.fields.String(allow_none=True, metadata={
        "description": "how the minutes that made it signed were signed: digital (PAdES) or "
                       "paper (the scan of a wet-signed copy); null unless signed"})


class TransitionSchema(ma.Schema):
    action = ma.fields.String(required=True, validate=ma.validate.OneOf(USER_ACTIONS), metadata={
        "description": "An inspection becomes signed through its minutes, not here"})
    reason = ma.fields.String(load_default=None, allow_none=True,
                              validate=ma.validate.Length(max=2000), metadata={
                                  "description": "Required to reopen, and to approve with "
                                                 "criteria not assessed (confirm_unanswered)"})
    confirm_unanswered = ma.fields.Boolean(load_default=False, metadata={
        "description": "approve: the leader confirms approving while criteria are not assessed "
                       "(without it such an approval answers 409 `unanswered` listing their "
                       "codes in errors.items); the reason is then required and recorded"})
