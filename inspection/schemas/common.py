"""Schemas shared by several API areas."""
import marshmallow as ma


class UnitSchema(ma.Schema):
    id = ma.fields.Integer()
    code = ma.fields.String()
    name = ma.fields.String()
    kind = ma.fields.String()
    level = ma.fields.String()
    full_name = ma.fields.String()
    valid_from = ma.fields.Date()
    valid_to = ma.fields.Date(allow_none=True)


class UserSchema(ma.Schema):
    id = ma.fields.Integer()
    username = ma.fields.String()
    full_name = ma.fields.String()
    position = ma.fields.String()
    role = ma.fields.String()
    unit = ma.fields.Nested(UnitSchema, allow_none=True)
