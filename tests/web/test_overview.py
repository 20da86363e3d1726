"""The province overview pages: who sees what, the ranking and charts, bad filters, the
follow-up on the inspection page, and the exports (CSV, XLSX, the trip ZIP)."""
import csv
import io
import re
import uuid
import zipfile

import pytest
from report_expectations import expected_ranking, make_province

from inspection.extensions import db
from inspection.models import (
    AdminUnit,
    Inspection,
    MinutesRevision,
    Observation,
    Photo,
    Plan,
    Recommendation,
    User,
)
from inspection.services.planning import create_trip
from inspection.services.review import add_recommendation


@pytest.fixture
def as_user(client, form_token):
    def sign_in(username):
        token = form_token(client, "/login")
        client.post("/login",
                    data={"username": username, "password": "demo1234", "csrf_token": token})
        return client
    return sign_in


def user(name):
    return db.session.query(User).filter_by(username=name).one()


def inspection_of(code, year=2021):
    return next(i for i in db.session.query(Inspection) if i.unit.code == code
                and i.scheduled_on.year == year)


def page(client, url):
    response = client.get(url)
    return response.status_code, response.get_data(as_text=True)


@pytest.mark.parametrize("username,expected,absent", [
    ("admin", ["Số liệu toàn tỉnh.", "3199/KH-UBND", "Xã Cô Ngân", "Xuất dữ liệu"], []),
    ("leader", ["Số liệu toàn tỉnh.", "Xuất dữ liệu", "Biên bản và ảnh (ZIP)"], []),
    ("inspector1", ["Số liệu các đợt kiểm tra bạn tham gia."], ["Xuất dữ liệu"]),
    ("unitrep", ["Số liệu của đơn vị bạn."], ["Xuất dữ liệu", "Biên bản và ảnh (ZIP)"]),
])
def test_overview_for_each_role(demo, as_user, username, expected, absent):
    client = as_user(username)
    status, html = page(client, "/overview/")
    assert status == 200
    for text in expected:
        assert text in html
    for text in absent:
        assert text not in html
    status, listing = page(client, "/overview/inspections")
    shown = set(re.findall(r'href="/inspections/(\d+)"', listing))
    if username == "unitrep":
        assert shown == {str(inspection_of("01567").id)}
    else:
        assert len(shown) == 3


def test_an_inspector_on_no_trip_sees_no_figures(demo, as_user):
    client = as_user("inspector3")
    status, html = page(client, "/overview/inspections")
    assert status == 200 and "Không có cuộc kiểm tra nào." in html
    assert "Chưa có kết quả đã duyệt để xếp hạng" in page(client, "/overview/ranking?year=2021")[1]


def test_ranking_page_lists_units_in_the_independently_computed_order(demo, as_user):
    province = make_province()
    expected = expected_ranking(province, 2025, "commune", "2cap")
    status, html = page(as_user("admin"), "/overview/ranking?year=2025&level=commune&era=2cap")
    assert status == 200
    table = html[html.index("<tbody>"):]
    names = re.findall(r'<td class="unit">Xã ([^<]+)<small', table)
    assert names == [e["name"] for e in expected]
    assert f"Số đơn vị: {len(expected)}" in html
    # The chart is an accessible SVG drawn on the server, coloured by class through CSS classes.
    svg = html[html.index("<svg"):html.index("</svg>")]
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    assert f"{len(expected)} đơn vị được xếp hạng; cao nhất Xã {expected[0]['name']}" in svg
    assert "style=" not in html  # the CSP allows no inline style
    assert "Chỉ tiêu so với mục tiêu" in html and "Tỷ lệ hồ sơ giải quyết đúng hạn" in html


@pytest.mark.parametrize("url,message", [
    ("/overview/ranking?year=2025&sort=name", "Bộ lọc không được hỗ trợ: sort"),
    ("/overview/ranking?level=huyen",
     "Giá trị không hợp lệ cho level: “huyen” (cần district hoặc commune)"),
    ("/overview/inspections?from=2025-12-01&to=2025-01-01",
     "Khoảng ngày không hợp lệ: ngày bắt đầu 01/12/2025 sau ngày kết thúc 01/01/2025"),
    ("/overview/recommendations?due_from=31/12/2025", "Giá trị không hợp lệ cho due_from"),
])
def test_bad_filters_get_a_clear_message(demo, as_user, url, message):
    status, html = page(as_user("admin"), url)
    assert status == 422
    assert message in html


def test_leader_records_follow_up_on_the_next_inspection_page(demo, as_user, form_token):
    leader = user("leader")
    recommendation = add_recommendation(inspection_of("01567"), leader,
                                        "Niêm yết đầy đủ thủ tục hành chính.", "2022-03-31")
    new_commune = (db.session.query(AdminUnit).filter_by(code="01561")
                   .order_by(AdminUnit.valid_from.desc()).first())
    trip = create_trip(db.session.query(Plan).one(), "Kiểm tra năm 2025", "2025-09-15",
                       "2025-09-15", leader, [user("inspector1")], [new_commune])
    db.session.commit()
    url = f"/inspections/{trip.inspections[0].id}"

    inspector = as_user("inspector1")
    html = page(inspector, url)[1]
    assert "Kiểm tra việc thực hiện kiến nghị lần trước (1)" in html and "Quá hạn" in html
    assert 'name="result"' not in html  # members see, only the leader records
    token = form_token(inspector, url)
    inspector.post(f"{url}/follow-ups/{recommendation.id}",
                   data={"result": "done", "evidence": "x", "csrf_token": token})
    assert db.session.get(Recommendation, recommendation.id).status == "open"

    inspector.post("/logout", data={"csrf_token": form_token(inspector, url)})
    client = as_user("leader")
    html = page(client, url)[1]
    assert 'name="result"' in html and "Xã Cô Ngân" in html
    response = client.post(f"{url}/follow-ups/{recommendation.id}",
                           data={"result": "done", "evidence": "Đã xem bảng niêm yết.",
                                 "csrf_token": form_token(client, url)})
    assert response.status_code == 302
    saved = db.session.get(Recommendation, recommendation.id)
    assert (saved.status, saved.follow_up_result,
            saved.follow_up_evidence) == ("verified", "done", "Đã xem bảng niêm yết.")
    assert "Đã ghi kết quả theo dõi kiến nghị." in page(client, url)[1]
    listing = page(client, "/overview/recommendations?status=verified")[1]
    assert "Niêm yết đầy đủ thủ tục hành chính." in listing and "Đã xác nhận hoàn thành" in listing


def test_unit_representative_reports_a_recommendation_done(demo, as_user, form_token):
    recommendation = add_recommendation(inspection_of("01567"), user("leader"),
                                        "Bố trí máy tra cứu.", "2022-03-31")
    db.session.commit()
    client = as_user("unitrep")
    html = page(client, "/overview/recommendations")[1]
    assert "Báo đã thực hiện" in html and "Quá hạn" in html
    client.post(f"/overview/recommendations/{recommendation.id}/done",
                data={"csrf_token": form_token(client, "/overview/recommendations"),
                      "confirm": "yes"})
    assert db.session.get(Recommendation, recommendation.id).status == "done"


def test_csv_export_has_a_bom_and_every_row(demo, as_user):
    make_province(communes=12, old_years=(2024,), new_years=(2025,))
    client = as_user("admin")
    response = client.get("/overview/export/observations.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.is_streamed
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:6] == ["Số hiệu cuộc kiểm tra", "Mã đơn vị", "Đơn vị", "Ngày kiểm tra",
                           "Mã tiêu chí", "Kết quả (mã)"]
    assert len(rows) - 1 == db.session.query(Observation).count()
    recs = list(csv.reader(io.StringIO(client.get("/overview/export/recommendations.csv?year=2024")
                                       .get_data().decode("utf-8-sig"))))
    made_2024 = [r for r in db.session.query(Recommendation)
                 if db.session.get(Inspection, r.inspection_id).scheduled_on.year == 2024]
    assert len(recs) - 1 == len(made_2024)


def test_xlsx_export_opens_with_the_same_rows(demo, as_user):
    from openpyxl import load_workbook

    client = as_user("admin")
    response = client.get("/overview/export/inspections.xlsx")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.get_data()), read_only=True)
    rows = list(workbook.active.iter_rows(values_only=True))
    workbook.close()
    header = rows[0]
    assert header[0] == "Số hiệu cuộc kiểm tra"
    unit, state, percent, grade = (header.index(t) for t in ("Đơn vị", "Trạng thái (mã)",
                                                             "Tỷ lệ điểm (%)", "Xếp loại (mã)"))
    assert sorted(r[unit] for r in rows[1:]) == ["Huyện Hạ Lang", "Xã Cô Ngân", "Xã Vinh Quý"]
    co_ngan = next(r for r in rows if r[unit] == "Xã Cô Ngân")
    assert co_ngan[state:state + 2] == ("approved", "Đã duyệt") and co_ngan[percent] == 63
    assert co_ngan[grade:grade + 2] == ("D", "Yếu")


def test_who_may_export(demo, as_user, client, form_token):
    for username in ("inspector1", "unitrep"):
        status, html = page(as_user(username), "/overview/export/inspections.csv")
        assert status == 403
        assert "Chỉ quản trị viên (Sở Nội vụ) và trưởng đoàn được xuất dữ liệu" in html
        client.post("/logout", data={"csrf_token": form_token(client, "/")})
    # A leader exports only the trips they lead.
    other = create_trip(db.session.query(Plan).one(), "Đợt khác", "2021-11-01", "2021-11-01",
                        user("admin"), [],
                        [db.session.query(AdminUnit).filter_by(code="01558").first()])
    db.session.commit()
    leader = as_user("leader")
    exported = leader.get("/overview/export/inspections.csv").get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(exported)))
    assert len(rows) - 1 == 3 and str(other.inspections[0].id) not in {r[0] for r in rows}
    assert leader.get("/overview/export/things.csv").status_code == 404
    assert leader.get("/overview/export/inspections.pdf").status_code == 422


def test_trip_archive_holds_the_minutes_and_photos(demo, as_user, app):
    from inspection.services.storage import get_storage

    storage = get_storage()
    co_ngan = inspection_of("01567")
    photo_bytes = b"\xff\xd8\xff\xe0" + b"x" * 2000
    pdf_bytes = b"%PDF-1.7\n" + b"y" * 3000
    photo = Photo(client_uuid=uuid.uuid4(), inspection_id=co_ngan.id, item_code="TTHC.41",
                  sha256=storage.put_bytes(photo_bytes), size=len(photo_bytes), width=10, height=10,
                  content_type="image/jpeg", caption="Bảng niêm yết")
    missing = Photo(client_uuid=uuid.uuid4(), inspection_id=co_ngan.id, item_code="TTHC.42",
                    sha256="0" * 64, size=1, width=1, height=1, content_type="image/jpeg")
    minutes = MinutesRevision(inspection_id=co_ngan.id, revision=1, document_number="01/BB-ĐKT",
                              sha256=storage.put_bytes(pdf_bytes), created_by_id=user("leader").id)
    db.session.add_all([photo, missing, minutes])
    db.session.commit()
    trip_id = co_ngan.trip_id

    response = as_user("leader").get(f"/overview/trips/{trip_id}/archive.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    names = archive.namelist()
    assert "bien-ban/01567-xa-co-ngan-r1.pdf" in names
    assert archive.read("bien-ban/01567-xa-co-ngan-r1.pdf") == pdf_bytes
    assert archive.read(f"anh/01567-xa-co-ngan/TTHC.41-{photo.id}.jpg") == photo_bytes
    manifest = archive.read("manifest.csv").decode("utf-8-sig")
    assert "missing" in manifest and "Bảng niêm yết" in manifest


def test_trip_archive_is_for_admin_and_the_trip_leader(demo, as_user):
    trip_id = inspection_of("01567").trip_id
    status, html = page(as_user("inspector1"), f"/overview/trips/{trip_id}/archive.zip")
    assert status == 403 and "Chỉ quản trị viên và trưởng đoàn" in html
    assert page(as_user("admin"), "/overview/trips/9999/archive.zip")[0] == 404


def test_the_trip_archive_names_a_half_signed_pdf_as_such(demo, as_user):
    """Signed by the leader only, the file is "-truong-doan-da-ky"; "-da-ky" only once the unit
    has signed too."""
    from inspection.services.storage import get_storage

    storage = get_storage()
    co_ngan = inspection_of("01567")
    minutes = MinutesRevision(inspection_id=co_ngan.id, revision=1, document_number="01/BB-ĐKT",
                              sha256=storage.put_bytes(b"%PDF-1.7\nfinal"),
                              created_by_id=user("leader").id,
                              signed_sha256=storage.put_bytes(b"%PDF-1.7\nleader"), status="final")
    db.session.add(minutes)
    db.session.commit()
    url = f"/overview/trips/{co_ngan.trip_id}/archive.zip"
    names = zipfile.ZipFile(io.BytesIO(as_user("leader").get(url).get_data())).namelist()
    assert "bien-ban/01567-xa-co-ngan-r1-truong-doan-da-ky.pdf" in names
    assert not any(n.endswith("-r1-da-ky.pdf") for n in names)
    minutes.status = "signed"
    db.session.commit()
    names = zipfile.ZipFile(io.BytesIO(as_user("leader").get(url).get_data())).namelist()
    assert "bien-ban/01567-xa-co-ngan-r1-da-ky.pdf" in names
