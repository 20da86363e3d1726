"""Minutes revisions, signatures and verification reports."""
import marshmallow as ma
from flask_babel import get_locale

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


class PaperMinutesSchema(ma.Schema):
    """A stored scan of the minutes signed on paper (wet signatures and the unit's stamp)."""

    id = F.Integer()
    kind = F.Constant("paper")
    inspection_id = F.Integer()
    revision = F.Integer(attribute="revision.revision", metadata={
        "description": "the minutes revision the paper was printed from"})
    document_number = F.String(attribute="revision.document_number")
    sha256 = F.String(metadata={"description": "SHA-256 of the stored PDF of the scan"})
    size = F.Integer()
    pages = F.Integer()
    dpi = F.Float(metadata={"description": "the lowest resolution measured on a page"})
    source_type = F.String(metadata={"description": "what was sent: application/pdf, "
                                                    "image/jpeg, image/png (pages assembled)"})
    uploaded_by = F.Function(lambda p: p.uploaded_by.full_name)
    created_at = F.DateTime()
    url = F.Function(lambda p: f"/api/v1/inspections/{p.inspection_id}/minutes/paper/{p.id}.pdf")


def _locale() -> str:
    return str(get_locale() or "vi")


class AccountSchema(ma.Schema):
    username = F.String()
    full_name = F.String()


class DocumentChangeSchema(ma.Schema):
    kind = F.String(metadata={"description": "page_content | page_added | page_removed | "
                              "annotation | signature_box | form_field | document_info | "
                              "document_structure | other | unreadable | not_this_document"})
    page = F.Integer(allow_none=True, metadata={"description": "1-based, when one page changed"})
    message = F.Function(lambda change: change.text(_locale()))


class SignatureCheckSchema(ma.Schema):
    """One signature: intact or not, covering what, trusted or not, whose and in which box."""

    field_name = F.String(attribute="report.field_name", allow_none=True)
    signer = F.String(attribute="report.signer")
    title = F.String(attribute="report.title")
    organization = F.String(attribute="report.organization")
    signing_time = F.DateTime(attribute="report.signing_time", allow_none=True)
    timestamped = F.Boolean(attribute="report.timestamped")
    intact = F.Boolean(attribute="report.intact")
    valid = F.Boolean(attribute="report.valid")
    trusted = F.Boolean(attribute="report.trusted", metadata={
        "description": "the certificate chains to a trusted CA and was valid when it signed"})
    trust_problem = F.String(attribute="report.trust_problem", metadata={
        "description": "untrusted | expired | not_yet_valid | revoked | empty when trusted"})
    revoked = F.Boolean(attribute="report.revoked")
    covers_whole_document = F.Boolean(attribute="report.covers_whole_document")
    coverage = F.Function(lambda check: check.coverage.text(_locale()))
    certificate_sha256 = F.String(attribute="report.certificate_sha256")
    certificate_issuer = F.String(attribute="report.certificate_issuer")
    certificate_serial = F.String(attribute="report.certificate_serial")
    certificate_not_before = F.DateTime(attribute="report.certificate_not_before", allow_none=True)
    certificate_not_after = F.DateTime(attribute="report.certificate_not_after", allow_none=True)
    slot = F.Function(lambda check: check.slot.key if check.slot else None, allow_none=True,
                      metadata={"description": "the box it fills: leader, unit:1, … (or null)"})
    account = F.Nested(AccountSchema, allow_none=True,
                       metadata={"description": "whose registered certificate made it"})
    matched = F.Boolean(metadata={"description": "the account is the one who must fill the box"})
    ok = F.Boolean(attribute="good")
    problems = F.Function(lambda check: [p.text(_locale()) for p in check.problems])
    error = F.String(attribute="report.error", allow_none=True)


class VerificationSchema(ma.Schema):
    valid = F.Boolean(metadata={"description": "every signature present is intact, trusted and "
                                "by the right account, and nothing but signatures was added"})
    intact = F.Boolean()
    trusted = F.Boolean()
    matched = F.Boolean()
    fully_signed = F.Boolean(metadata={"description": "minutes of this server with every "
                                       "required signature there and good"})
    verdict = F.Function(lambda v: v.verdict().text(_locale()))
    signatures = F.List(F.Nested(SignatureCheckSchema))
    changes = F.List(F.Nested(DocumentChangeSchema), metadata={
        "description": "what was changed after the stored minutes besides signatures"})
    missing = F.Function(lambda v: [note.text(_locale()) for note in v.missing])
    sha256 = F.String()
    known_revision = F.Nested(MinutesRevisionSchema, allow_none=True, attribute="revision")
