"""Minutes revisions, signatures and verification reports."""
import marshmallow as ma

F = ma.fields


class SignatureSchema(ma.Schema):
    role = F.String(metadata={"description": "leader | unitrep"})
    signer = F.Function(lambda s: s.signer.full_name)
    signed_at = F.DateTime()
    certificate_subject = F.String()
    certificate_sha256 = F.String()


class MinutesRevisionSchema(ma.Schema):
    id = F.Integer()
    inspection_id = F.Integer(allow_none=True)
    trip_id = F.Integer(allow_none=True)
    revision = F.Integer()
    document_number = F.String()
    status = F.String(metadata={"description": "final | signed | superseded"})
    sha256 = F.String(metadata={"description": "SHA-256 of the unsigned final PDF"})
    signed_sha256 = F.String(allow_none=True)
    created_at = F.DateTime()
    signatures = F.List(F.Nested(SignatureSchema))


class SignatureReportSchema(ma.Schema):
    field_name = F.String(allow_none=True)
    signer = F.String()
    title = F.String()
    organization = F.String()
    signing_time = F.DateTime(allow_none=True)
    timestamped = F.Boolean()
    intact = F.Boolean()
    valid = F.Boolean()
    trusted = F.Boolean()
    covers_whole_document = F.Boolean()
    ok = F.Boolean()
    error = F.String(allow_none=True)


class VerificationSchema(ma.Schema):
    valid = F.Boolean(metadata={"description": "every signature intact, valid and trusted; the last covers all"})
    signatures = F.List(F.Nested(SignatureReportSchema))
    sha256 = F.String()
    known_revision = F.Nested(MinutesRevisionSchema, allow_none=True)
