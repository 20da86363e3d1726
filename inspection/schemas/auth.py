"""Sign-in request and answer."""
import marshmallow as ma

from .common import UserSchema


class LoginSchema(ma.Schema):
    username = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=80))
    password = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=256),
                                load_only=True)


class SessionSchema(ma.Schema):
    user = ma.fields.Nested(UserSchema, required=True)
    csrf_token = ma.fields.String(required=True,
                                  metadata={"description": "Send as X-CSRF-Token on every write"})
