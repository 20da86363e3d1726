"""Photo uploads with the tus 1.0.0 resumable protocol (core, creation, checksum), and photo
downloads. Not JSON, but registered on flask-smorest blueprints so they are in the OpenAPI
document (https://tus.io/protocols/resumable-upload)."""
from __future__ import annotations

from flask import Response, request, send_file, url_for
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import abort

from ..errors import ServiceError, language
from ..extensions import db
from ..services import paper_minutes, photos
from ..services import self_assessment as evidence_files
from ..services.storage import get_storage
from .guards import login_required_api
from .parsing import Blueprint
from .transactions import commits

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = "creation,checksum"
OFFSET_CONTENT_TYPE = "application/offset+octet-stream"

blp = Blueprint("api_uploads", __name__, url_prefix="/api/v1",
                description="Photos: resumable uploads (tus 1.0.0: core, creation, checksum "
                            "sha1 or sha256) under /uploads, and the files under /photos")


def _header(name: str, description: str, required: bool = True, schema: dict | None = None) -> dict:
    return {"in": "header", "name": name, "required": required, "description": description,
            "schema": schema or {"type": "string"}}


# Not an enum in the document: another version is a well-formed request this server answers
# with 412 and Tus-Version, as the tus protocol requires.
TUS_RESUMABLE = _header("Tus-Resumable", "Protocol version: 1.0.0 (another one: 412)",
                        schema={"type": "string", "example": TUS_VERSION})
HEADER = {"schema": {"type": "string"}}
INT_HEADER = {"schema": {"type": "integer"}}
TUS_RESPONSE_HEADERS = {"Tus-Resumable": HEADER}


@blp.after_request
def tus_resumable_header(response: Response) -> Response:
    """Every answer under /uploads carries Tus-Resumable (errors too)."""
    if request.path.startswith("/api/v1/uploads"):
        response.headers.setdefault("Tus-Resumable", TUS_VERSION)
    return response


def _say(vi: str, en: str) -> str:
    return en if language() == "en" else vi


def require_tus_version() -> None:
    """The protocol version: missing is a malformed request (400); another version is 412 with
    the versions this server speaks (tus 1.0.0 §Tus-Resumable)."""
    version = request.headers.get("Tus-Resumable", "").strip()
    if not version:
        abort(400,
              message=_say("Cần tiêu đề Tus-Resumable: 1.0.0.",
                           "Tus-Resumable: 1.0.0 is required."),
              code="tus_version", headers={"Tus-Version": TUS_VERSION})
    if version != TUS_VERSION:
        abort(412,
              message=_say("Cần tiêu đề Tus-Resumable: 1.0.0.",
                           "Tus-Resumable: 1.0.0 is required."),
              code="tus_version", headers={"Tus-Version": TUS_VERSION})


def _int_header(name: str) -> int | None:
    raw = request.headers.get(name)
    if raw is None:
        return None
    raw = raw.strip()
    if not raw.isdigit() or len(raw) > 18:
        abort(400, message=_say(f"Tiêu đề {name} phải là số nguyên không âm.",
                                f"The {name} header must be a non-negative integer."),
              code="bad_header")
    return int(raw)


def _progress_headers(upload) -> dict:
    headers = {"Upload-Offset": str(upload.offset), "Upload-Length": str(upload.length),
               "Cache-Control": "no-store", "Tus-Resumable": TUS_VERSION}
    if upload.photo_id is not None:
        headers["Photo-Id"] = str(upload.photo_id)
    if (upload.meta or {}).get("paper_id") is not None:
        headers["Paper-Minutes-Id"] = str(upload.meta["paper_id"])
    if upload.evidence_id is not None:
        headers["Evidence-Id"] = str(upload.evidence_id)
    return headers


@blp.route("/uploads")
class Uploads(MethodView):
    @blp.response(204, description="What this server supports", headers={
        "Tus-Version": HEADER, "Tus-Resumable": HEADER, "Tus-Extension": HEADER,
        "Tus-Max-Size": INT_HEADER, "Tus-Checksum-Algorithm": HEADER})
    def options(self):
        """tus: server capabilities"""
        return Response(status=204, headers={
            "Tus-Version": TUS_VERSION, "Tus-Resumable": TUS_VERSION,
            "Tus-Extension": TUS_EXTENSIONS,
            # The largest upload of either kind (a photo's own limit is checked at creation).
            "Tus-Max-Size": str(max(photos.max_bytes(), paper_minutes.max_bytes())),
            "Tus-Checksum-Algorithm": ",".join(photos.CHECKSUM_ALGORITHMS)})

    @login_required_api
    @blp.doc(parameters=[
        TUS_RESUMABLE,
        _header("Upload-Length", "Size of the whole file in bytes", schema={"type": "integer"}),
        _header("Upload-Metadata", "Comma-separated `key base64(value)` pairs: client_uuid, "
                "inspection_id and sha256 (hex of the whole file) are required; item_code, "
                "filename, content_type, captured_at (ISO 8601), latitude, longitude, caption "
                "are optional. With `kind minutes-scan` the upload is the scan of the minutes "
                "signed on paper (team leader, approved inspection; inspection_id and sha256 "
                "required, revision optional; no client_uuid), checked like "
                "POST /inspections/{id}/minutes/paper when complete. With `kind evidence` "
                "(base64 of `evidence`): a self-assessment's "
                "evidence file (PDF, image, Word/Excel/OpenDocument, at most 20 MB; "
                "inspection_id and sha256 required, filename optional), sent by the unit's "
                "representative; the answer carries `Evidence-Id`"),
        _header("X-CSRF-Token", "The session's CSRF token"),
    ])
    @blp.response(201, description="Upload created (or, for a photo already stored under this "
                  "client_uuid, a completed upload pointing at it)", headers={
                      "Location": HEADER, "Tus-Resumable": HEADER, "Upload-Offset": INT_HEADER,
                      "Photo-Id": {"schema": {"type": "integer"},
                                   "description": "Only when the photo is already stored"}})
    @blp.alt_response(401, schema="Error")
    @blp.alt_response(403, schema="Error")
    @blp.alt_response(404, schema="Error")
    @blp.alt_response(409, schema="Error", description="client_uuid used by another photo")
    @blp.alt_response(400, schema="Error",
                      description="Tus-Resumable (or another header) missing or malformed")
    @blp.alt_response(412, schema="Error",
                      description="Tus-Resumable names a version this server does not speak")
    @blp.alt_response(413, schema="Error")
    @blp.alt_response(422, schema="Error")
    @commits
    def post(self):
        """tus creation: start uploading a photo"""
        require_tus_version()
        length = _int_header("Upload-Length")
        meta = photos.parse_metadata(request.headers.get("Upload-Metadata"))
        evidence = None
        if meta.get("kind") == paper_minutes.UPLOAD_KIND:
            upload, photo = paper_minutes.create_scan_upload(current_user, length, meta), None
        elif meta.get("kind") == "evidence":  # a self-assessment's evidence file
            upload, evidence = evidence_files.create_evidence_upload(current_user, length, meta)
            photo = None
        else:
            upload, photo = photos.create_upload(current_user, length, meta)
        headers = {"Location": f"/api/v1/uploads/{upload.id}", "Tus-Resumable": TUS_VERSION,
                   "Upload-Offset": str(upload.offset)}
        if photo is not None:
            headers["Photo-Id"] = str(photo.id)
        if evidence is not None:
            headers["Evidence-Id"] = str(evidence.id)
        return Response(status=201, headers=headers)


@blp.route("/uploads/<upload_id>")
class UploadResource(MethodView):
    @login_required_api
    @blp.doc(parameters=[TUS_RESUMABLE])
    @blp.response(200, description="How many bytes the server has", headers={
        "Upload-Offset": INT_HEADER, "Upload-Length": INT_HEADER, "Cache-Control": HEADER,
        "Tus-Resumable": HEADER, "Photo-Id": {"schema": {"type": "integer"},
                                              "description": "Once the upload is complete"}})
    @blp.alt_response(400, schema="Error", description="Tus-Resumable missing")
    @blp.alt_response(401, schema="Error")
    @blp.alt_response(404, schema="Error", description="Unknown, or someone else's upload")
    @blp.alt_response(412, schema="Error")
    def head(self, upload_id):
        """tus: the upload's offset (to resume from)"""
        require_tus_version()
        upload = photos.get_upload(current_user, upload_id)
        return Response(status=200, headers=_progress_headers(upload))

    @login_required_api
    @blp.doc(parameters=[
        TUS_RESUMABLE,
        _header("Upload-Offset", "Where this chunk starts: the offset HEAD reported",
                schema={"type": "integer"}),
        _header("Upload-Checksum", "`sha1|sha256 <base64 digest of this chunk>` (another "
                "algorithm: 400)", required=False),
        _header("X-CSRF-Token", "The session's CSRF token"),
    ], requestBody={"required": True, "content": {
        OFFSET_CONTENT_TYPE: {"schema": {"type": "string", "format": "binary"}}}})
    @blp.response(204, description="Chunk stored; `Photo-Id` once the photo is complete and "
                  "checked (`Paper-Minutes-Id` for a scan of the minutes signed on paper)",
                  headers={"Upload-Offset": INT_HEADER, "Tus-Resumable": HEADER,
                           "Photo-Id": {"schema": {"type": "integer"}},
                           "Paper-Minutes-Id": {"schema": {"type": "integer"}}})
    @blp.alt_response(400, schema="Error", description="Tus-Resumable, Upload-Offset or "
                      "Upload-Checksum missing, malformed or of an unsupported algorithm")
    @blp.alt_response(401, schema="Error")
    @blp.alt_response(404, schema="Error")
    @blp.alt_response(409, schema="Error", description="Upload-Offset is not the server's offset")
    @blp.alt_response(412, schema="Error")
    @blp.alt_response(413, schema="Error", description="More bytes than Upload-Length")
    @blp.alt_response(415, schema="Error")
    @blp.alt_response(422, schema="Error", description="Not an image, damaged, too many pixels "
                      "or a decompression bomb: nothing is stored")
    @blp.alt_response(423, schema="Error", description="Another request is writing this upload")
    @blp.alt_response(460, schema="Error", description="Checksum mismatch (of the chunk, or of "
                      "the whole file against the declared sha256: the upload restarts at 0)")
    def patch(self, upload_id):
        """tus: send the next chunk of bytes"""
        require_tus_version()
        if request.mimetype != OFFSET_CONTENT_TYPE:
            abort(415, message=_say(f"Content-Type phải là {OFFSET_CONTENT_TYPE}.",
                                    f"Content-Type must be {OFFSET_CONTENT_TYPE}."))
        offset = _int_header("Upload-Offset")
        if offset is None:
            abort(400, message=_say("Cần tiêu đề Upload-Offset.", "Upload-Offset is required."),
                  code="bad_header")
        checksum = photos.parse_checksum(request.headers.get("Upload-Checksum"))
        upload = photos.get_upload(current_user, upload_id)
        evidence_id = upload.evidence_id
        try:
            # Commits by hand, mid-request (not @commits): every step of the tus PATCH is its own
            # short transaction, and a refusal keeps what the service reset.
            with photos.part_lock(upload) as fd:
                # Read under the file lock, then no transaction stays open while the body
                # streams in or the image is decoded: each write is a short one of its own.
                db.session.refresh(upload)
                state = photos.UploadState.of(upload)
                db.session.commit()  # tus: no transaction open while the body streams in
                photos.receive_chunk(state, fd, offset, request.stream, checksum)
                db.session.commit()  # tus: the new offset is kept before the image is checked
                if (state.offset == state.length and not state.completed
                        and paper_minutes.is_scan_upload(state)):
                    paper_minutes.complete_scan_upload(state, current_user)
                    db.session.commit()  # tus: the stored scan, the inspection signed on paper
                elif (state.offset == state.length and not state.completed
                        and state.meta.get("kind") == "evidence"):
                    evidence = evidence_files.complete_evidence_upload(
                        state.id, current_user, state.meta, state.length)
                    state.completed, evidence_id = True, evidence.id
                    db.session.commit()  # tus: the stored evidence file
                elif state.offset == state.length and not state.completed:
                    info = photos.check_upload(state)
                    photos.complete_upload(state, current_user, info)
                    db.session.commit()  # tus: the completed photo
        except ServiceError:
            db.session.commit()  # what the service reset (offset 0, dropped upload) stays reset
            raise
        headers = {"Upload-Offset": str(state.offset), "Tus-Resumable": TUS_VERSION}
        if state.photo_id is not None:
            headers["Photo-Id"] = str(state.photo_id)
        if state.meta.get("paper_id") is not None:
            headers["Paper-Minutes-Id"] = str(state.meta["paper_id"])
        if evidence_id is not None:
            headers["Evidence-Id"] = str(evidence_id)
        return Response(status=204, headers=headers)


def _private(response: Response, policy: str) -> Response:
    """Keep a photo out of shared caches, and out of the browser's cache beyond `policy`: a tablet
    may be shared or lost, and the server must check who asks every time."""
    response.headers["Cache-Control"] = f"private, {policy}"
    response.headers.pop("Expires", None)
    return response


@blp.route("/photos/<int:photo_id>")
class PhotoFile(MethodView):
    @login_required_api
    @blp.response(200, description="The original bytes, as taken", content_type="image/*")
    @blp.alt_response(401, schema="Error")
    @blp.alt_response(404, schema="Error")
    def get(self, photo_id):
        """A photo's original file"""
        photo = photos.get_visible_photo(current_user, photo_id)
        path = get_storage().path_for(photo.sha256)
        if not path.is_file():
            raise photos.FileMissing("Tệp ảnh không còn trên máy chủ.",
                                     "The photo file is missing.")
        # Never stored by the HTTP cache: the field app keeps the photos it needs in IndexedDB
        # and drops them when the server holds them; a copy here would outlive that.
        return _private(send_file(path, mimetype=photo.content_type, conditional=True,
                                  etag=photo.sha256, max_age=None), "no-store")


@blp.route("/photos/<int:photo_id>/thumb")
class PhotoThumb(MethodView):
    @login_required_api
    @blp.response(200, description=f"JPEG, long side {photos.THUMB_SIDE} px, upright",
                         content_type="image/jpeg")
    @blp.alt_response(401, schema="Error")
    @blp.alt_response(404, schema="Error")
    def get(self, photo_id):
        """A photo's thumbnail"""
        photo = photos.get_visible_photo(current_user, photo_id)
        path = photos.thumbnail_path(photo)
        # Cached, but checked with the server (ETag) on every use: another account in the same
        # browser never sees it without the server's consent.
        return _private(send_file(path, mimetype="image/jpeg", conditional=True,
                                  etag=f"{photo.sha256}{photos.THUMB_SUFFIX}", max_age=None),
                        "no-cache")


def with_photo_urls(photo: dict) -> dict:
    """A photo's metadata (``services.sync.photo_data``) with the URLs of its file and its
    thumbnail, as the two routes above serve them."""
    return {**photo, "url": url_for("api_uploads.PhotoFile", photo_id=photo["id"]),
            "thumb_url": url_for("api_uploads.PhotoThumb", photo_id=photo["id"])}
