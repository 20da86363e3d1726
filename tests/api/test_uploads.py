"""Photo uploads over tus 1.0.0 (core, creation, checksum) and photo downloads."""
import base64
import hashlib
import io
import os
import struct
import uuid
import zlib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from PIL import ExifTags, Image
from sqlalchemy import func, select

from inspection.extensions import db
from inspection.models import (
    AuditEvent,
    ChangeLog,
    Inspection,
    Photo,
    SelfAssessmentEvidence,
    Upload,
)
from inspection.services import photos as photo_service

TUS = {"Tus-Resumable": "1.0.0"}


# -- images --------------------------------------------------------------------------------

def jpeg(size=(640, 480), orientation=None, taken=None, gps=None, quality=90, noise=False) -> bytes:
    """A JPEG whose left half is red and right half blue, with optional EXIF."""
    if noise:
        image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    else:
        image = Image.new("RGB", size, (200, 30, 30))
        image.paste((30, 30, 200), (size[0] // 2, 0, size[0], size[1]))
    exif = Image.Exif()
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    if taken:
        exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = taken
    if gps:
        exif.get_ifd(ExifTags.IFD.GPSInfo).update(gps)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, exif=exif)
    return out.getvalue()


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares width×height pixels (1-bit grey), with a few rows of
    data: a decompression bomb as far as its header goes."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I",
                           len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR",
                                         struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(row * 16, 9)) + chunk(b"IEND", b""))


# -- tus client ----------------------------------------------------------------------------

def b64(value) -> str:
    return base64.b64encode(str(value).encode()).decode()


def metadata(**values) -> str:
    return ",".join(f"{key} {b64(value)}" for key, value in values.items() if value is not None)


def district_id():
    return next(i.id for i in db.session.query(Inspection) if i.unit.code == "048")


def create(client, data: bytes, inspection_id=None, length=None, headers=None, **meta):
    meta.setdefault("client_uuid", str(uuid.uuid4()))
    meta.setdefault("sha256", hashlib.sha256(data).hexdigest())
    meta.setdefault("inspection_id", inspection_id or district_id())
    meta.setdefault("filename", "anh.jpg")
    meta.setdefault("content_type", "image/jpeg")
    sent = {**TUS, "X-CSRF-Token": client.csrf,
            "Upload-Length": str(len(data) if length is None else length),
            "Upload-Metadata": metadata(**meta), **(headers or {})}
    return client.post("/api/v1/uploads", headers={k: v for k, v in sent.items() if v is not None})


def send(client, location, offset, chunk: bytes, checksum=None, headers=None):
    sent = {**TUS, "X-CSRF-Token": client.csrf, "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream", **(headers or {})}
    if checksum:
        digest = hashlib.sha256(checksum).digest()
        sent["Upload-Checksum"] = "sha256 " + base64.b64encode(digest).decode()
    return client.patch(location, data=chunk,
                        headers={k: v for k, v in sent.items() if v is not None})


def head(client, location):
    return client.head(location, headers=TUS)


def upload(client, data: bytes, chunks=3, **meta):
    """Create and send in `chunks` pieces (each with its checksum); the last response."""
    created = create(client, data, **meta)
    assert created.status_code == 201, created.get_json()
    location = created.headers["Location"]
    step = -(-len(data) // chunks)
    response = None
    for start in range(0, len(data), step):
        piece = data[start:start + step]
        response = send(client, location, start, piece, checksum=piece)
        assert response.status_code == 204, response.get_json()
        assert response.headers["Upload-Offset"] == str(start + len(piece))
    return response


def as_utc(moment: datetime) -> datetime:
    """Stored times are UTC (SQLite gives them back without the offset)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def fetch(client, url):
    return client.get(url, buffered=True)  # buffered: the file is read and closed


def photos_count():
    return db.session.scalar(select(func.count()).select_from(Photo))


def stored_objects(app):
    """Stored files, besides the demo's self-assessment evidence."""
    root = Path(app.config["MEDIA_ROOT"]) / "objects"
    demo_files = set(db.session.scalars(select(SelfAssessmentEvidence.sha256)))
    return sorted(p.name for p in root.rglob("*") if p.is_file() and not p.name.startswith(".tmp")
                  and p.name not in demo_files)


def part_files(app):
    root = Path(app.config["MEDIA_ROOT"]) / "uploads"
    return sorted(p.name for p in root.glob("*.part")) if root.exists() else []


# -- the protocol --------------------------------------------------------------------------

def test_options_describe_the_server(demo, client):
    response = client.options("/api/v1/uploads")
    assert response.status_code == 204
    assert response.headers["Tus-Version"] == "1.0.0"
    assert response.headers["Tus-Resumable"] == "1.0.0"
    assert set(response.headers["Tus-Extension"].split(",")) == {"creation", "checksum"}
    # The largest upload: a scan of paper minutes (30 MB); a photo is refused above 20 MB.
    assert int(response.headers["Tus-Max-Size"]) == 30 * 1024 * 1024
    assert response.headers["Tus-Checksum-Algorithm"] == "sha1,sha256"


def test_a_photo_uploaded_in_three_chunks(demo, login, app):
    client = login("inspector1")
    data = jpeg(orientation=6, quality=95, noise=True)
    client_uuid = str(uuid.uuid4())
    created = create(client, data, client_uuid=client_uuid, item_code="TTHC.25",
                     captured_at="2021-10-01T09:30:00+07:00", latitude="22.70", longitude="106.66",
                     caption="Bộ phận một cửa huyện Hạ Lang")
    assert created.status_code == 201
    location = created.headers["Location"]
    assert location.startswith("/api/v1/uploads/")
    assert created.headers["Tus-Resumable"] == "1.0.0"
    third = -(-len(data) // 3)
    for n, start in enumerate(range(0, len(data), third)):
        piece = data[start:start + third]
        response = send(client, location, start, piece, checksum=piece if n != 1 else None)
        assert response.status_code == 204
        assert response.headers["Tus-Resumable"] == "1.0.0"
        done = start + len(piece) == len(data)
        assert ("Photo-Id" in response.headers) == done
    photo = db.session.get(Photo, int(response.headers["Photo-Id"]))
    assert str(photo.client_uuid) == client_uuid
    assert photo.sha256 == hashlib.sha256(data).hexdigest()
    assert photo.size == len(data)
    assert (photo.width, photo.height) == (480, 640)  # as seen: Orientation 6 turns it upright
    assert photo.content_type == "image/jpeg"
    assert photo.item_code == "TTHC.25"
    assert photo.caption == "Bộ phận một cửa huyện Hạ Lang"
    assert as_utc(photo.captured_at) == datetime(2021, 10, 1, 2, 30, tzinfo=UTC)
    assert (photo.latitude, photo.longitude) == (22.70, 106.66)
    assert photo.inspection_id == district_id()
    # The original bytes are stored unchanged, under their digest.
    stored = photo_service.get_storage().path_for(photo.sha256)
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == photo.sha256
    assert part_files(app) == []
    # HEAD now reports the upload complete.
    status = head(client, location)
    assert status.status_code == 200
    assert status.headers["Upload-Offset"] == status.headers["Upload-Length"] == str(len(data))
    assert status.headers["Photo-Id"] == str(photo.id)
    # The change feed, the audit log and the assignments know the photo.
    entry = db.session.scalar(select(ChangeLog).order_by(ChangeLog.id.desc()))
    assert entry.kind == "photo" and entry.payload["id"] == photo.id
    assert entry.payload["sha256"] == photo.sha256
    created = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "photo.create"))
    assert created.object_id == str(photo.id)
    listed = next(a for a in client.get("/api/v1/assignments").get_json()["assignments"]
                  if a["inspection"]["id"] == photo.inspection_id)["photos"]
    assert [(p["id"], p["client_uuid"], p["width"], p["height"]) for p in listed] == [
        (photo.id, client_uuid, 480, 640)]


def test_a_device_finds_the_photo_file_and_thumbnail_at_the_urls_it_is_given(demo, login):
    client = login("inspector1")
    data = jpeg(size=(1600, 1200))
    photo_id = int(upload(client, data).headers["Photo-Id"])
    listed = [p for a in client.get("/api/v1/assignments").get_json()["assignments"]
              for p in a["photos"] if p["id"] == photo_id]
    fed = [c["data"] for c in client.get("/api/v1/sync/pull?since=0&limit=1000")
           .get_json()["changes"] if c["kind"] == "photo" and c["data"]["id"] == photo_id]
    assert len(listed) == len(fed) == 1
    for photo in listed + fed:
        original, thumbnail = fetch(client, photo["url"]), fetch(client, photo["thumb_url"])
        assert original.status_code == thumbnail.status_code == 200
        assert original.data == data
        assert max(Image.open(io.BytesIO(thumbnail.data)).size) < 1200


def test_the_thumbnail_is_upright_small_and_cached(demo, login, app):
    client = login("inspector1")
    data = jpeg(size=(1600, 1200), orientation=6)
    response = upload(client, data)
    photo_id = response.headers["Photo-Id"]
    thumb = fetch(client, f"/api/v1/photos/{photo_id}/thumb")
    assert thumb.status_code == 200
    assert thumb.mimetype == "image/jpeg"
    image = Image.open(io.BytesIO(thumb.data))
    assert image.size == (360, 480)  # portrait, long side 480
    # Turned upright: Orientation 6 means the stored left (red) edge is the top of the photo.
    top, bottom = image.getpixel((180, 10)), image.getpixel((180, 470))
    assert top[0] > 150 and top[2] < 100, top
    assert bottom[2] > 150 and bottom[0] < 100, bottom
    # Cached by the photo's digest; made again if the cache is lost.
    photo = db.session.get(Photo, int(photo_id))
    cached = photo_service.get_storage().path_for(photo.sha256, photo_service.THUMB_SUFFIX)
    assert cached.read_bytes() == thumb.data
    cached.unlink()
    assert fetch(client, f"/api/v1/photos/{photo_id}/thumb").data == thumb.data


def test_exif_time_and_place_are_used_when_the_device_sends_none(demo, login):
    client = login("inspector1")
    data = jpeg(taken="2021:10:01 10:05:00",
                gps={1: "N", 2: (22.0, 42.0, 36.0), 3: "E", 4: (106.0, 40.0, 12.0)})
    response = upload(client, data, chunks=1)
    photo = db.session.get(Photo, int(response.headers["Photo-Id"]))
    assert as_utc(photo.captured_at) == datetime(2021, 10, 1, 10, 5,
                                                 tzinfo=timezone(timedelta(hours=7)))
    assert photo.latitude == pytest.approx(22.71)
    assert photo.longitude == pytest.approx(106.67)


def test_a_cut_upload_resumes_from_the_offset_head_reports(demo, login, app):
    client = login("inspector1")
    data = jpeg(size=(800, 600), noise=True)
    location = create(client, data).headers["Location"]
    assert head(client, location).headers["Upload-Offset"] == "0"
    first = len(data) // 3
    assert send(client, location, 0, data[:first]).status_code == 204
    # The connection drops in the middle of the second chunk: what arrived is kept.
    cut_at = first + len(data) // 4
    dropped = client.patch(location, input_stream=io.BytesIO(data[first:cut_at]), headers={
        **TUS, "X-CSRF-Token": client.csrf, "Upload-Offset": str(first),
        "Content-Type": "application/offset+octet-stream",
        "Content-Length": str(len(data) - first)})
    assert dropped.status_code == 204
    status = head(client, location)
    assert status.status_code == 200
    assert status.headers["Upload-Offset"] == str(cut_at)
    assert status.headers["Upload-Length"] == str(len(data))
    assert status.headers["Cache-Control"] == "no-store"
    assert photos_count() == 0
    finished = send(client, location, cut_at, data[cut_at:])
    assert finished.status_code == 204
    photo = db.session.get(Photo, int(finished.headers["Photo-Id"]))
    assert photo.sha256 == hashlib.sha256(data).hexdigest()


def test_a_wrong_offset_is_409_and_changes_nothing(demo, login):
    client = login("inspector1")
    data = jpeg()
    location = create(client, data).headers["Location"]
    assert send(client, location, 0, data[:100]).status_code == 204
    for offset in (0, 50, 200):
        refused = send(client, location, offset, data[offset:offset + 100])
        assert refused.status_code == 409
        assert refused.get_json()["code"] == "offset_mismatch"
    assert head(client, location).headers["Upload-Offset"] == "100"


def test_a_chunk_with_a_wrong_checksum_is_dropped(demo, login):
    client = login("inspector1")
    data = jpeg()
    location = create(client, data).headers["Location"]
    refused = send(client, location, 0, data[:500], checksum=b"something else")
    assert refused.status_code == 460
    assert refused.get_json()["code"] == "checksum_mismatch"
    assert head(client, location).headers["Upload-Offset"] == "0"
    assert send(client, location, 0, data, checksum=data).status_code == 204


def test_a_file_that_does_not_match_its_declared_sha256_is_refused(demo, login, app):
    client = login("inspector1")
    data = jpeg()
    location = create(client, data,
                      sha256=hashlib.sha256(b"another photo").hexdigest()).headers["Location"]
    refused = send(client, location, 0, data)
    assert refused.status_code == 460
    assert refused.get_json()["code"] == "checksum_mismatch"
    assert "SHA-256" in refused.get_json()["message"]
    assert photos_count() == 0
    assert stored_objects(app) == []
    # The device must send it again, from the start.
    assert head(client, location).headers["Upload-Offset"] == "0"


@pytest.mark.parametrize("name,data,words", [
    ("text", "Biên bản kiểm tra".encode() * 40, "không phải là ảnh"),
    ("truncated jpeg", jpeg(size=(1200, 900), noise=True)[:60_000], "hỏng"),
    ("bomb 20000x20000", png_declaring(20_000, 20_000), "bom"),
    ("between 1x and 2x Pillow's limit", png_declaring(10_000, 10_000), "bom"),
    ("over 40 megapixels", png_declaring(8_000, 6_000), "điểm ảnh"),
    ("gif", None, "không được hỗ trợ"),
])
def test_bad_images_are_refused_and_nothing_is_stored(demo, login, app, name, data, words):
    if data is None:
        out = io.BytesIO()
        Image.new("P", (20, 20)).save(out, "GIF")
        data = out.getvalue()
    client = login("inspector1")
    location = create(client, data).headers["Location"]
    refused = send(client, location, 0, data)
    assert refused.status_code == 422, name
    body = refused.get_json()
    assert body["code"] == "invalid_image"
    assert words in body["message"], body["message"]
    assert photos_count() == 0
    assert stored_objects(app) == []
    assert part_files(app) == []
    assert head(client, location).status_code == 404


def test_uploads_belong_to_whoever_created_them(demo, login, app):
    owner, other = login("inspector1"), login("inspector2")
    data = jpeg()
    location = create(owner, data).headers["Location"]
    assert send(owner, location, 0, data[:100]).status_code == 204
    assert head(other, location).status_code == 404
    assert send(other, location, 100, data[100:]).status_code == 404
    assert head(owner, location).headers["Upload-Offset"] == "100"
    assert head(owner, "/api/v1/uploads/not-a-uuid").status_code == 404
    assert head(owner, f"/api/v1/uploads/{uuid.uuid4()}").status_code == 404


def test_the_same_photo_uploaded_twice_is_one_photo(demo, login, app):
    client = login("inspector1")
    data = jpeg()
    client_uuid = str(uuid.uuid4())
    first = upload(client, data, client_uuid=client_uuid)
    # The device lost the answer and starts again: it is pointed at the finished upload.
    again = create(client, data, client_uuid=client_uuid)
    assert again.status_code == 201
    assert again.headers["Photo-Id"] == first.headers["Photo-Id"]
    assert again.headers["Upload-Offset"] == str(len(data))
    assert head(client, again.headers["Location"]).headers["Upload-Offset"] == str(len(data))
    # Two uploads of one photo under way at once: the second to finish finds the first.
    other_uuid = str(uuid.uuid4())
    one = create(client, data, client_uuid=other_uuid).headers["Location"]
    two = create(client, data, client_uuid=other_uuid).headers["Location"]
    assert one != two
    done_one, done_two = send(client, one, 0, data), send(client, two, 0, data)
    assert done_one.status_code == done_two.status_code == 204
    assert done_one.headers["Photo-Id"] == done_two.headers["Photo-Id"]
    assert photos_count() == 2
    assert len(stored_objects(app)) == 2  # one original (same bytes) and its thumbnail
    # The same client_uuid for different bytes is refused.
    clash = create(client, jpeg(size=(64, 64)), client_uuid=client_uuid)
    assert clash.status_code == 409


def test_creation_is_checked(demo, login):
    client = login("inspector1")
    data = jpeg()
    assert create(client, data, headers={"Tus-Resumable": None}).status_code == 400
    assert create(client, data, headers={"Tus-Resumable": ""}).status_code == 400
    assert create(client, data, headers={"Tus-Resumable": "0.2.2"}).status_code == 412
    assert create(client, data,
                  headers={"Tus-Resumable": "0.2.2"}).headers["Tus-Version"] == "1.0.0"
    too_big = create(client, data, length=20 * 1024 * 1024 + 1)
    assert too_big.status_code == 413
    assert too_big.get_json()["code"] == "too_large"
    assert create(client, data, length=0).status_code == 422
    assert create(client, data, headers={"Upload-Length": "lots"}).status_code == 400
    missing = create(client, data, sha256="")
    assert missing.status_code == 422 and "sha256" in missing.get_json()["errors"]
    assert create(client, data, client_uuid="x").status_code == 422
    assert create(client, data, item_code="XX.99").status_code == 422
    assert create(client, data, latitude="200").status_code == 422
    assert create(client, data, captured_at="hôm qua").status_code == 422
    assert create(client, data, headers={"Upload-Metadata": "inspection_id !!!"}).status_code == 422
    assert create(client, data, inspection_id=999999).status_code == 404
    assert create(login("inspector3"), data).status_code == 404
    assert create(login("unitrep"), data, inspection_id=next(
        i.id for i in db.session.query(Inspection) if i.unit.code == "01567")).status_code == 403
    assert create(login("admin"), data).status_code == 403
    assert db.session.scalar(select(func.count()).select_from(Upload)) == 0


def test_uploads_need_a_session_and_the_csrf_token(demo, login, client):
    data = jpeg()
    assert client.post("/api/v1/uploads", headers={**TUS, "Upload-Length": "10"}).status_code == 401
    signed_in = login("inspector1")
    no_token = create(signed_in, data, headers={"X-CSRF-Token": None})
    assert no_token.status_code == 400 and no_token.get_json()["code"] == "csrf_failed"
    location = create(signed_in, data).headers["Location"]
    refused = send(signed_in, location, 0, data, headers={"X-CSRF-Token": None})
    assert refused.status_code == 400
    assert refused.get_json()["code"] == "csrf_failed"
    assert head(signed_in, location).headers["Upload-Offset"] == "0"
    assert send(signed_in, location, 0, data,
                headers={"Content-Type": "image/jpeg"}).status_code == 415
    assert send(signed_in, location, 0, data, headers={"Upload-Offset": None}).status_code == 400
    assert send(signed_in, location, 0, data + b"more").status_code == 413
    assert head(signed_in, location).headers["Upload-Offset"] == "0"


def test_photo_files_are_shown_only_to_those_who_see_the_inspection(demo, login):
    data = jpeg()
    photo_id = upload(login("inspector1"), data).headers["Photo-Id"]
    for username in ("inspector3", "unitrep"):
        outsider = login(username)
        assert fetch(outsider, f"/api/v1/photos/{photo_id}").status_code == 404
        assert fetch(outsider, f"/api/v1/photos/{photo_id}/thumb").status_code == 404
    for username in ("leader", "inspector2", "admin"):
        original = fetch(login(username), f"/api/v1/photos/{photo_id}")
        assert original.status_code == 200
        assert original.data == data
        assert original.mimetype == "image/jpeg"
        # Not kept by the browser's cache (the device decides what it keeps), nor shared caches.
        assert original.headers["Cache-Control"] == "private, no-store"
        thumb = fetch(login(username), f"/api/v1/photos/{photo_id}/thumb")
        assert thumb.headers["Cache-Control"] == "private, no-cache"
    assert fetch(login("leader"), "/api/v1/photos/999999").status_code == 404


def test_uploads_are_in_the_openapi_document(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert {"options", "post"} <= set(paths["/api/v1/uploads"])
    assert {"head", "patch"} <= set(paths["/api/v1/uploads/{upload_id}"])
    patch = paths["/api/v1/uploads/{upload_id}"]["patch"]
    assert "application/offset+octet-stream" in patch["requestBody"]["content"]
    assert "Tus-Resumable" in {p["name"] for p in patch["parameters"]}
    assert "get" in paths["/api/v1/photos/{photo_id}/thumb"]


def test_a_photo_whose_file_is_lost_is_404_not_500(demo, login):
    client = login("inspector1")
    photo_id = upload(client, jpeg()).headers["Photo-Id"]
    photo = db.session.get(Photo, int(photo_id))
    store = photo_service.get_storage()
    store.path_for(photo.sha256).unlink()
    store.path_for(photo.sha256, photo_service.THUMB_SUFFIX).unlink()
    for url in (f"/api/v1/photos/{photo_id}", f"/api/v1/photos/{photo_id}/thumb"):
        response = fetch(client, url)
        assert response.status_code == 404
        assert response.get_json()["code"] == "file_missing"


def test_stale_unfinished_uploads_can_be_purged(demo, login, app):
    client = login("inspector1")
    data = jpeg()
    stale = create(client, data).headers["Location"]
    send(client, stale, 0, data[:100])
    finished = upload(client, jpeg(size=(32, 32)))
    fresh = create(client, data).headers["Location"]
    db.session.get(Upload,
                   uuid.UUID(stale.rsplit("/", 1)[1])).created_at = datetime(2020, 1, 1, tzinfo=UTC)
    db.session.commit()
    assert photo_service.purge_stale_uploads(timedelta(days=30)) == 1
    db.session.commit()
    assert head(client, stale).status_code == 404
    assert head(client, fresh).status_code == 200
    assert finished.headers["Photo-Id"]
    assert len(part_files(app)) == 1
