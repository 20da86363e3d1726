"""The paper fallback on the office pages: the leader uploads the scan on the minutes card; the
card, the public verification page (by QR and by file), the exports and the trip archive show
the minutes as signed on paper with the scan's hash; a refusal on the page stores nothing."""
import csv
import io
import zipfile

from openpyxl import load_workbook

from inspection.extensions import db
from inspection.models import Inspection, PaperMinutes
from tests.api.test_paper_minutes import scan_image


def sign_in(client, form_token, username):
    client.post("/login", data={"username": username, "password": "demo1234",
                                "csrf_token": form_token(client, "/login")})


def test_leader_uploads_the_scan_on_the_page_and_everyone_sees_it_signed_on_paper(
        demo, app, form_token):
    co_ngan = next(i for i in db.session.query(Inspection) if i.unit.code == "01567")
    page = f"/inspections/{co_ngan.id}"
    leader, inspector = app.test_client(), app.test_client()
    sign_in(leader, form_token, "leader")
    sign_in(inspector, form_token, "inspector1")
    leader.post(f"{page}/minutes/build", data={"csrf_token": form_token(leader, page)})
    assert 'id="paper-form"' in leader.get(page).get_data(as_text=True)
    assert 'id="paper-form"' not in inspector.get(page).get_data(as_text=True)

    grey = leader.post(f"{page}/minutes/paper", data={
        "csrf_token": form_token(leader, page), "revision": "1",
        "file": (io.BytesIO(scan_image(colour=False)), "trang1.jpg")},
        content_type="multipart/form-data", follow_redirects=True).get_data(as_text=True)
    assert "đen trắng" in grey and db.session.query(PaperMinutes).count() == 0

    pages = [scan_image(), scan_image(fmt="PNG")]
    done = leader.post(f"{page}/minutes/paper", data={
        "csrf_token": form_token(leader, page), "revision": "1",
        "file": [(io.BytesIO(p), f"trang{n}.jpg") for n, p in enumerate(pages, 1)]},
        content_type="multipart/form-data", follow_redirects=True).get_data(as_text=True)
    scan = db.session.query(PaperMinutes).one()
    assert "Đã lưu bản quét biên bản ký trên giấy" in done
    assert "ký trên giấy" in done and scan.sha256 in done and scan.pages == 2
    shown = inspector.get(page).get_data(as_text=True)  # the team reads it, and the scan
    assert scan.sha256 in shown and f"/minutes/paper/{scan.id}.pdf" in shown
    assert inspector.get(f"/api/v1/inspections/{co_ngan.id}/minutes/paper/{scan.id}.pdf"
                         ).data.startswith(b"%PDF-")
    assert db.session.get(Inspection, co_ngan.id).state.value == "signed"

    anyone = app.test_client()  # the QR code's landing page, and a file someone holds
    landing = anyone.get(f"/minutes/verify?inspection={co_ngan.id}&revision=1").get_data(
        as_text=True)
    assert "Ký trên giấy" in landing and scan.sha256 in landing
    held = leader.get(f"/api/v1/inspections/{co_ngan.id}/minutes/paper/{scan.id}.pdf").data
    checked = anyone.post("/minutes/verify", data={
        "csrf_token": form_token(anyone, "/minutes/verify"),
        "file": (io.BytesIO(held), "scan.pdf")}, content_type="multipart/form-data")
    assert checked.status_code == 200
    assert "Ký trên giấy" in checked.get_data(as_text=True)

    rows = list(csv.reader(io.StringIO(leader.get("/overview/export/inspections.csv")
                                       .get_data().decode("utf-8-sig"))))
    header = rows[0]
    row = next(r for r in rows if r[0] == str(co_ngan.id))
    assert row[header.index("Hình thức ký biên bản")] == "Ký trên giấy"
    assert row[header.index("SHA-256 bản quét biên bản ký trên giấy")] == scan.sha256
    other = next(r for r in rows[1:] if r[0] != str(co_ngan.id))
    assert other[header.index("SHA-256 bản quét biên bản ký trên giấy")] == ""
    workbook = load_workbook(io.BytesIO(leader.get("/overview/export/inspections.xlsx")
                                        .get_data()), read_only=True)
    values = [list(r) for r in workbook.active.iter_rows(values_only=True)]
    workbook.close()
    assert scan.sha256 in next(r for r in values if r[0] == co_ngan.id)

    archive = zipfile.ZipFile(io.BytesIO(leader.get(
        f"/overview/trips/{co_ngan.trip_id}/archive.zip").get_data()))
    name = f"bien-ban/01567-xa-co-ngan-r1-ky-tren-giay-{scan.id}.pdf"
    assert archive.read(name) == held
    assert f"{name},paper" in archive.read("manifest.csv").decode("utf-8-sig")
