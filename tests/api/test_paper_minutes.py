"""The paper fallback through the API: the leader uploads the scan of the wet-signed, stamped
minutes (a PDF, one image, or several pages assembled); it is checked by content (type,
damage, size, resolution, colour) with nothing stored on a refusal, kept by SHA-256 next to
its revision, and the inspection becomes signed on paper; a second scan is a second record."""
import base64
import hashlib
import io
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from inspection.extensions import db
from inspection.models import AuditEvent, Inspection, PaperMinutes

A4_200 = (1654, 2339)  # A4 at 200 dpi


def by_code(code):
    return next(i for i in db.session.query(Inspection) if i.unit.code == code)


def post(client, url, **kwargs):
    return client.post(url, headers={"X-CSRF-Token": client.csrf}, **kwargs)


def scan_image(size=A4_200, colour=True, fmt="JPEG", **save) -> bytes:
    """A page as a scanner makes it: white paper, black lines of text, a red round stamp."""
    page = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(page)
    for y in range(size[1] // 10, size[1] * 8 // 10, max(size[1] // 40, 4)):
        draw.line((size[0] // 10, y, size[0] * 9 // 10, y), fill=(20, 20, 20), width=3)
    r = size[0] // 8
    cx, cy = size[0] * 2 // 3, size[1] * 4 // 5
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=(200, 20, 30), width=8)
    if not colour:
        page = page.convert("L")
    out = io.BytesIO()
    page.save(out, fmt, **save)
    return out.getvalue()


def scan_pdf(pages=1, **kwargs) -> bytes:
    images = [Image.open(io.BytesIO(scan_image(**kwargs))) for _ in range(pages)]
    out = io.BytesIO()
    images[0].save(out, "PDF", save_all=True, append_images=images[1:], resolution=200)
    return out.getvalue()


@pytest.fixture
def built(demo, login):
    """Cô Ngân (approved in the demo data) with its minutes built: what the leader prints."""
    leader = login("leader")
    inspection = by_code("01567")
    assert post(leader, f"/api/v1/inspections/{inspection.id}/minutes").status_code == 201
    return inspection, leader


def url(inspection):
    return f"/api/v1/inspections/{inspection.id}/minutes/paper"


def test_a_pdf_scan_signs_the_inspection_on_paper_and_can_be_downloaded(built, login):
    inspection, leader = built
    before = leader.get(f"/api/v1/inspections/{inspection.id}").get_json()
    assert before["state"] == "approved" and before["signed_on"] is None
    data = scan_pdf(pages=2)
    response = post(leader, url(inspection), data=data, content_type="application/pdf")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["kind"] == "paper" and body["revision"] == 1 and body["pages"] == 2
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    after = leader.get(f"/api/v1/inspections/{inspection.id}").get_json()
    assert after["state"] == "signed" and after["signed_on"] == "paper"
    unitrep = login("unitrep")  # who may read the minutes may read the scan
    listed = unitrep.get(url(inspection)).get_json()
    assert [s["sha256"] for s in listed] == [body["sha256"]]
    got = unitrep.get(listed[0]["url"])
    assert got.status_code == 200 and got.data == data
    assert login("admin").get(f"/api/v1/inspections/{by_code('01561').id}/minutes/paper/"
                              f"{body['id']}.pdf").status_code == 404


def test_several_pages_are_assembled_into_one_pdf_and_a_second_scan_is_a_second_record(built):
    inspection, leader = built
    turned = Image.Exif()
    turned[0x0112] = 6  # a phone held sideways: stored landscape, shown upright
    pages = [scan_image(), scan_image(fmt="PNG"), scan_image(size=A4_200[::-1], exif=turned)]
    first = post(leader, url(inspection), data={
        "file": [(io.BytesIO(p), f"trang{n}.jpg") for n, p in enumerate(pages, 1)]},
        content_type="multipart/form-data")
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["pages"] == 3
    stored = leader.get(first.get_json()["url"]).data
    assert stored.startswith(b"%PDF-") and pages[0] in stored  # the JPEG kept as it was sent
    second = post(leader, url(inspection), data=scan_image(), content_type="image/jpeg")
    assert second.status_code == 201 and second.get_json()["pages"] == 1
    assert second.get_json()["sha256"] != first.get_json()["sha256"]
    records = db.session.query(PaperMinutes).order_by(PaperMinutes.id).all()
    assert [r.sha256 for r in records] == [first.get_json()["sha256"],
                                           second.get_json()["sha256"]]
    events = db.session.query(AuditEvent).filter_by(action="minutes.paper").all()
    assert len(events) == 2 and events[1].details["earlier"] == [records[0].sha256]
    assert db.session.get(Inspection, inspection.id).signed_on == "paper"


def test_each_refusal_says_why_and_stores_nothing(built, app):
    inspection, leader = built
    whole_pdf = scan_pdf()
    cases = [  # name, body, declared type, status, words of the message
        ("not a scan", b"PK\x03\x04 a zip file", "application/pdf", 422, "không phải PDF"),
        ("a GIF sent as a PDF", b"GIF89a" + bytes(50), "application/pdf", 422, "không phải PDF"),
        ("a PDF sent as an image", whole_pdf[:60] + b"junk", "image/jpeg", 422, "hỏng"),
        ("low resolution", scan_image(size=(1000, 1414)), "image/jpeg", 422, "dpi"),
        ("low resolution PDF", scan_pdf(size=(1000, 1414)), "application/pdf", 422, "dpi"),
        ("grey", scan_image(colour=False), "image/jpeg", 422, "đen trắng"),
        ("grey PDF", scan_pdf(colour=False), "application/pdf", 422, "đen trắng"),
        ("corrupt image", scan_image()[:5000], "image/jpeg", 422, "hỏng"),
        ("corrupt PDF", whole_pdf[:40] + bytes(200), "application/pdf", 422, "hỏng"),
        ("a PDF of text, not a scan",
         leader.get(f"/api/v1/inspections/{inspection.id}/minutes.pdf").data,
         "application/pdf", 422, "không có ảnh quét"),
        ("empty", b"", "application/pdf", 400, "Hãy gửi"),
    ]
    objects = Path(app.config["MEDIA_ROOT"]) / "objects"
    stored = sorted(objects.rglob("*"))
    for name, body, content_type, status, words in cases:
        response = post(leader, url(inspection), data=body, content_type=content_type)
        assert response.status_code == status, (name, response.get_json())
        assert words in response.get_json()["message"], (name, response.get_json()["message"])
    app.config["MAX_SCAN_BYTES"] = 100_000
    large = scan_image(quality=100)
    assert len(large) > 100_000
    too_large = post(leader, url(inspection), data=large, content_type="image/jpeg")
    assert too_large.status_code == 413 and "quá lớn" in too_large.get_json()["message"]
    assert db.session.query(PaperMinutes).count() == 0
    assert db.session.get(Inspection, inspection.id).state.value == "approved"
    assert sorted(objects.rglob("*")) == stored


def test_refusal_in_english(built):
    inspection, leader = built
    response = leader.post(url(inspection), data=scan_image(size=(800, 1131)),
                           content_type="image/jpeg",
                           headers={"X-CSRF-Token": leader.csrf, "Accept-Language": "en"})
    assert response.status_code == 422
    assert "at least 200 dpi" in response.get_json()["message"]


def test_who_and_when(demo, login):
    leader = login("leader")
    approved = by_code("01567")
    none_built = post(leader, url(approved), data=scan_image(), content_type="image/jpeg")
    assert none_built.status_code == 409 and "Chưa có biên bản" in none_built.get_json()["message"]
    assert post(leader, f"/api/v1/inspections/{approved.id}/minutes").status_code == 201
    assert post(login("inspector1"), url(approved), data=scan_image(),
                content_type="image/jpeg").status_code == 403
    unknown = post(leader, url(approved) + "?revision=7", data=scan_image(),
                   content_type="image/jpeg")
    assert unknown.status_code == 409
    submitted = by_code("01561")
    assert post(leader, url(submitted), data=scan_image(),
                content_type="image/jpeg").status_code == 409
    assert db.session.query(PaperMinutes).count() == 0
    ok = post(leader, url(approved) + "?revision=1", data=scan_image(), content_type="image/jpeg")
    assert ok.status_code == 201 and ok.get_json()["revision"] == 1


def tus_headers(client, inspection, data, **extra):
    meta = {"kind": "minutes-scan", "inspection_id": str(inspection.id),
            "sha256": hashlib.sha256(data).hexdigest(), **extra}
    encoded = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in meta.items())
    return {"Tus-Resumable": "1.0.0", "Upload-Length": str(len(data)),
            "Upload-Metadata": encoded, "X-CSRF-Token": client.csrf}


def tus_send(client, location, data, offset=0):
    return client.patch(location, data=data, headers={
        "Tus-Resumable": "1.0.0", "Upload-Offset": str(offset), "X-CSRF-Token": client.csrf,
        "Content-Type": "application/offset+octet-stream"})


def test_a_large_scan_goes_through_the_resumable_upload(built, login):
    inspection, leader = built
    data = scan_pdf(pages=3)
    inspector = login("inspector1")
    refused = inspector.post("/api/v1/uploads", headers=tus_headers(inspector, inspection, data))
    assert refused.status_code == 403
    created = leader.post("/api/v1/uploads", headers=tus_headers(leader, inspection, data,
                                                                 revision="1"))
    assert created.status_code == 201, created.get_json()
    location = created.headers["Location"]
    half = len(data) // 2
    assert tus_send(leader, location, data[:half]).status_code == 204
    assert db.session.get(Inspection, inspection.id).state.value == "approved"
    done = tus_send(leader, location, data[half:], offset=half)
    assert done.status_code == 204, done.get_json()
    scan = db.session.get(PaperMinutes, int(done.headers["Paper-Minutes-Id"]))
    assert scan.sha256 == hashlib.sha256(data).hexdigest() and scan.pages == 3
    assert leader.head(location, headers={"Tus-Resumable": "1.0.0"}).headers[
        "Paper-Minutes-Id"] == str(scan.id)
    shown = leader.get(f"/api/v1/inspections/{inspection.id}").get_json()
    assert shown["state"] == "signed" and shown["signed_on"] == "paper"

    grey = scan_image(colour=False)
    created = leader.post("/api/v1/uploads", headers=tus_headers(leader, inspection, grey))
    answer = tus_send(leader, created.headers["Location"], grey)
    assert answer.status_code == 422 and "đen trắng" in answer.get_json()["message"]
    assert leader.head(created.headers["Location"],
                       headers={"Tus-Resumable": "1.0.0"}).status_code == 404
    assert db.session.query(PaperMinutes).count() == 1
