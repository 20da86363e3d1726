"""Minutes (biên bản) for an inspection or a whole trip: build, sign, upload signed, download,
and verify any PDF."""
from flask import Response, request
from flask_login import current_user
from flask_smorest import abort

from ..errors import NotFound, language
from ..extensions import db
from ..models import Inspection, Trip
from ..schemas.minutes import MinutesRevisionSchema, PaperMinutesSchema, VerificationSchema
from ..services import minutes, paper_minutes
from ..services.access import get_visible_inspection, trips_query
from ..services.minutes_details import build_with_details, parse_details
from ..services.minutes_verification import verify_minutes
from .guards import login_required_api
from .parsing import Blueprint
from .transactions import commits

blp = Blueprint("api_minutes", __name__, url_prefix="/api/v1", description="Inspection minutes")
MAX_PDF = 30 * 1024 * 1024
PDF_BODY = {"required": True, "content": {"application/pdf": {
    "schema": {"type": "string", "format": "binary", "minLength": 1}}}}

TIME = {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$", "example": "08:00"}
DETAILS = {
    "report_due": {"type": "string", "format": "date", "nullable": True,
                   "description": "The one deadline to report the remedies (empty clears it)"},
    "recipients": {"type": "string", "maxLength": 2000,
                   "description": "The 'Nơi nhận' block, one recipient a line ('' prints none)"},
}
OFFICIAL = {"type": "object", "required": ["name"], "properties": {
    "name": {"type": "string", "maxLength": 200}, "position": {"type": "string", "maxLength": 200}}}
MEETING_BODY = {"required": False, "content": {"application/json": {"schema": {
    "type": "object", "properties": {
        "start_time": TIME, "end_time": TIME, **DETAILS,
        "officials": {"type": "array", "maxItems": 20, "items": OFFICIAL,
                      "description": "The unit's officials present (section I.2)"}},
    "description": "When the meeting at the unit began and ended, the officials present, the "
                   "reporting deadline and the recipients: kept on the inspection and printed; "
                   "a key left out keeps what is kept"}}}}
TRIP_BODY = {"required": False, "content": {"application/json": {"schema": {
    "type": "object", "properties": DETAILS,
    "description": "The trip minutes' reporting deadline and recipients, kept on the trip"}}}}


def _say(vi: str, en: str) -> str:
    """A message in the request's language."""
    return en if language() == "en" else vi


def _build_body(kind: str) -> tuple:
    """(meeting times, MinutesDetails) from the optional JSON body of a build."""
    body = request.get_json(silent=True) if request.content_length else None
    if body is None:
        return None, None
    keys = ("report_due", "recipients") + (
        ("start_time", "end_time") if kind == "inspections" else ())
    if not isinstance(body, dict) or not all(isinstance(body.get(k), str | None) for k in keys):
        abort(422, message=_say("Giờ làm việc, hạn báo cáo và nơi nhận phải là chuỗi.",
                                 "Meeting times, deadline and recipients must be text."),
              errors={"json": ["strings expected"]})
    officials = body.get("officials") if kind == "inspections" else None
    if officials is not None and not (
            isinstance(officials, list) and all(
                isinstance(o, dict) and isinstance(o.get("name"), str)
                and isinstance(o.get("position", ""), str) for o in officials)):
        abort(422, message=_say("Người dự họp phải là danh sách {name, position}.",
                                 "Officials must be a list of {name, position}."),
              errors={"json": {"officials": ["a list of {name, position}"]}})
    meeting = None
    if kind == "inspections" and ("start_time" in body or "end_time" in body):
        meeting = minutes.parse_meeting_times(body.get("start_time"), body.get("end_time"))
    if "report_due" in body and body["report_due"] is None:
        body["report_due"] = ""
    details = parse_details(body.get("report_due"),
                            [o["name"] for o in officials] if officials is not None else None,
                            ([o.get("position", "") for o in officials]
                             if officials is not None else None),
                            body.get("recipients"))
    return meeting, details


def _target(kind: str, target_id: int):
    """The inspection or trip, if the user may see it (a unit's representative: the unit's
    inspections, and the trips that visited the unit, whose minutes they co-sign)."""
    if kind == "inspections":
        return get_visible_inspection(current_user, db.session.get(Inspection, target_id))
    trip = db.session.get(Trip, target_id)
    visible = trip is not None and db.session.scalar(
        trips_query(current_user).where(Trip.id == trip.id)) is not None
    if not visible:
        raise NotFound("Không tìm thấy đợt kiểm tra.", "Trip not found.")
    return trip


def _pdf_body() -> bytes:
    """A PDF sent as the raw body (application/pdf) or as the multipart field `file`."""
    upload = request.files.get("file")
    data = upload.read(MAX_PDF + 1) if upload else request.get_data(cache=False)
    if not data:
        abort(400, message=_say("Hãy gửi tệp PDF.", "Send the PDF file."), code="missing_file")
    if len(data) > MAX_PDF:
        abort(413, message=_say("Tệp PDF quá lớn (tối đa 30 MB).",
                                 "The PDF is too large (at most 30 MB)."))
    return data


WITHOUT_COMMENTS = {"name": "without_latest_comments", "in": "query", "required": False,
                    "schema": {"type": "string", "enum": ["0", "1"]},
                    "description": "1: the unit's representative signs although the unit's "
                                   "comments are newer than the minutes (else 409)"}


def _without_latest_comments() -> bool:
    return request.args.get("without_latest_comments") == "1"


def _base_url() -> str:
    return minutes.public_url(request.host_url)


for kind in ("inspections", "trips"):
    noun = "inspection" if kind == "inspections" else "trip"

    @blp.route(f"/{kind}/<int:target_id>/minutes", methods=["GET"], endpoint=f"{noun}_revisions")
    @blp.response(200, MinutesRevisionSchema(many=True))
    @blp.alt_response(401, schema="Error")
    @blp.alt_response(404, schema="Error")
    @login_required_api
    def list_revisions(target_id, kind=kind):
        """Every minutes revision, newest last, with its signatures"""
        return minutes.revisions_of(_target(kind, target_id))

    @blp.route(f"/{kind}/<int:target_id>/minutes", methods=["POST"], endpoint=f"{noun}_build")
    @blp.doc(requestBody=MEETING_BODY if kind == "inspections" else TRIP_BODY)
    @blp.response(201, MinutesRevisionSchema)
    @blp.alt_response(401, schema="Error")
    @blp.alt_response(403, schema="Error")
    @blp.alt_response(404, schema="Error")
    @blp.alt_response(409, schema="Error")
    @blp.alt_response(422, schema="Error")
    @login_required_api
    @commits
    def build(target_id, kind=kind):
        """Compile a new revision of the minutes (team leader; results approved)"""
        target = _target(kind, target_id)
        meeting, details = _build_body(kind)
        revision = build_with_details(target, current_user, _base_url(), details, meeting)
        return revision

    @blp.route(f"/{kind}/<int:target_id>/minutes/sign", methods=["POST"], endpoint=f"{noun}_sign")
    @blp.doc(parameters=[WITHOUT_COMMENTS])
    @blp.response(200, MinutesRevisionSchema)
    @blp.alt_response(401, schema="Error")
    @blp.alt_response(403, schema="Error")
    @blp.alt_response(404, schema="Error")
    @blp.alt_response(409, schema="Error")
    @login_required_api
    @commits
    def sign(target_id, kind=kind):
        """Sign the latest revision with the caller's key (leader first, then the unit)

        A unit's representative is refused (409) while the unit's comments are newer than the
        minutes, unless the query has `without_latest_comments=1`.
        """
        target = _target(kind, target_id)
        signature = minutes.sign_minutes(target, current_user,
                                         without_latest_comments=_without_latest_comments())
        return signature.revision

    @blp.route(f"/{kind}/<int:target_id>/minutes/upload", methods=["POST"],
               endpoint=f"{noun}_upload")
    @blp.doc(requestBody=PDF_BODY, parameters=[WITHOUT_COMMENTS])
    @blp.response(200, MinutesRevisionSchema)
    @blp.alt_response(400, schema="Error")
    @blp.alt_response(401, schema="Error")
    @blp.alt_response(403, schema="Error")
    @blp.alt_response(404, schema="Error")
    @blp.alt_response(409, schema="Error")
    @blp.alt_response(413, schema="Error")
    @blp.alt_response(422, schema="Error")
    @login_required_api
    @commits
    def upload(target_id, kind=kind):
        """Upload the final PDF signed with one's own certificate (USB token, remote signing)

        As for signing, `without_latest_comments=1` confirms a unit's signature on minutes
        built before the unit's latest comments.
        """
        target = _target(kind, target_id)
        signature = minutes.accept_signed_upload(target, current_user, _pdf_body(),
                                                 without_latest_comments=_without_latest_comments())
        return signature.revision

    @blp.route(f"/{kind}/<int:target_id>/minutes.pdf", methods=["GET"], endpoint=f"{noun}_pdf")
    @blp.response(200, content_type="application/pdf",
                  description="The latest revision (with its signatures so far)")
    @blp.alt_response(401, schema="Error")
    @blp.alt_response(404, schema="Error")
    @login_required_api
    def download(target_id, kind=kind):
        """Download the latest minutes as PDF"""
        target = _target(kind, target_id)
        revision = minutes.latest_revision(target)
        if revision is None:
            raise NotFound("Chưa có biên bản.", "There are no minutes yet.")
        name = f"bien-ban-{kind}-{target_id}-r{revision.revision}.pdf"
        return Response(minutes.current_pdf(revision), mimetype="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="{name}"',
                                 "Cache-Control": "private, no-store"})


SCAN_TYPES = ("application/pdf", "image/jpeg", "image/png")
SCAN_BODY = {"required": True, "description": (
    "The scan of the printed minutes, wet-signed and stamped: one PDF, or one JPEG/PNG page as "
    "the raw body; several JPEG/PNG pages as multipart/form-data fields `file` (in page order), "
    "assembled into one PDF. Checked by content: colour, at least 200 dpi on A4, readable, "
    "within MAX_SCAN_BYTES. Larger scans: tus /api/v1/uploads with metadata "
    "kind=minutes-scan."),
    "content": {**{t: {"schema": {"type": "string", "format": "binary", "minLength": 1}}
                   for t in SCAN_TYPES},
                "multipart/form-data": {"schema": {"type": "object", "properties": {
                    "file": {"type": "array", "items": {"type": "string", "format": "binary"}}
                }}}}}
REVISION_PARAM = {"name": "revision", "in": "query", "required": False,
                  "schema": {"type": "integer", "minimum": 1},
                  "description": "The revision the paper was printed from (default: the latest "
                                 "built; a superseded or unknown one: 409)"}


def _revision_arg() -> int | None:
    raw = request.args.get("revision")
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdigit() and 0 < len(raw) <= 6 and int(raw) > 0):
        abort(422, message=_say("Số lần lập biên bản (revision) phải là số nguyên dương.",
                                 "revision must be a positive integer."),
              errors={"query": {"revision": ["a positive integer"]}})
    return int(raw)


def _scan_files() -> list[bytes]:
    """The scan's bytes: the raw body, or every multipart field `file` (several pages)."""
    limit = paper_minutes.max_bytes()
    paper_minutes.check_length(request.content_length)
    uploads = request.files.getlist("file")
    files = ([u.read(limit + 1) for u in uploads] if uploads
             else [request.get_data(cache=False)])
    if not any(files):
        abort(400, message=_say("Hãy gửi bản quét biên bản (PDF, JPEG hoặc PNG).",
                                 "Send the scan of the minutes (PDF, JPEG or PNG)."),
              code="missing_file")
    return files


@blp.route("/inspections/<int:target_id>/minutes/paper", methods=["POST"],
           endpoint="inspection_paper")
@blp.doc(requestBody=SCAN_BODY, parameters=[REVISION_PARAM])
@blp.response(201, PaperMinutesSchema)
@blp.alt_response(400, schema="Error")
@blp.alt_response(401, schema="Error")
@blp.alt_response(403, schema="Error")
@blp.alt_response(404, schema="Error")
@blp.alt_response(409, schema="Error", description="Not approved, or no (such) minutes built")
@blp.alt_response(413, schema="Error")
@blp.alt_response(422, schema="Error", description="Not a PDF/JPEG/PNG by content, damaged, "
                  "below 200 dpi on A4, or not in colour: nothing is stored")
@login_required_api
@commits
def paper_upload(target_id):
    """Upload the scan of the minutes signed on paper (team leader; results approved)

    The scan is stored by SHA-256 next to the revision it was printed from; the inspection
    becomes signed (`signed_on: "paper"`). Another scan later is another record; nothing is
    replaced. The digital signing path stays open.
    """
    inspection = _target("inspections", target_id)
    number = _revision_arg()
    paper_minutes.check_may_upload(inspection, current_user, number)
    return paper_minutes.accept_paper_scan(inspection, current_user, _scan_files(), number)


@blp.route("/inspections/<int:target_id>/minutes/paper", methods=["GET"],
           endpoint="inspection_paper_list")
@blp.response(200, PaperMinutesSchema(many=True))
@blp.alt_response(401, schema="Error")
@blp.alt_response(404, schema="Error")
@login_required_api
def paper_list(target_id):
    """Every stored scan of the minutes signed on paper, oldest first"""
    return paper_minutes.paper_scans_of(_target("inspections", target_id))


@blp.route("/inspections/<int:target_id>/minutes/paper/<int:scan_id>.pdf", methods=["GET"],
           endpoint="inspection_paper_pdf")
@blp.response(200, content_type="application/pdf", description="The stored scan")
@blp.alt_response(401, schema="Error")
@blp.alt_response(404, schema="Error")
@login_required_api
def paper_download(target_id, scan_id):
    """Download a stored scan of the minutes signed on paper"""
    scan = paper_minutes.visible_scan(_target("inspections", target_id), scan_id)
    name = f"bien-ban-giay-{target_id}-r{scan.revision.revision}-{scan.id}.pdf"
    return Response(paper_minutes.scan_pdf(scan), mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "Cache-Control": "private, no-store", "ETag": f'"{scan.sha256}"'})


@blp.route("/minutes/verify", methods=["POST"])
@blp.doc(requestBody=PDF_BODY)
@blp.response(200, VerificationSchema)
@blp.alt_response(400, schema="Error")
@blp.alt_response(413, schema="Error")
def verify():
    """Check every signature of a PDF: intact, trusted, by whom (anyone may; nothing is stored)"""
    return verify_minutes(_pdf_body())
