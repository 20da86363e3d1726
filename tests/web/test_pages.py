"""Office pages: sign-in, a home page fit for each role, and the admin pages."""
import pytest

from inspection.extensions import db
from inspection.models import AdminUnit, Inspection, Plan, Trip, User


def sign_in(client, form_token, username, password="demo1234"):
    token = form_token(client, "/login")
    return client.post("/login",
                       data={"username": username, "password": password, "csrf_token": token})


@pytest.mark.parametrize("username,expected", [
    ("admin", ["Xin chào, Phạm Thu Hà", "đơn vị hành chính", "Huyện Hạ Lang", "Hoạt động gần đây"]),
    ("leader", ["Các đợt kiểm tra bạn tham gia", "Xã Cô Ngân", "Đã duyệt", "Đã gửi trưởng đoàn"]),
    ("inspector1", ["Các cuộc kiểm tra được phân công cho bạn", "Huyện Hạ Lang", "Đang kiểm tra"]),
    ("inspector3", ["Bạn chưa được phân công vào đợt kiểm tra nào."]),
    ("unitrep", ["Các cuộc kiểm tra tại Xã Cô Ngân", "Xã Cô Ngân"]),
])
def test_each_demo_account_signs_in_to_a_page_for_its_role(demo, client, form_token, username,
                                                           expected):
    response = sign_in(client, form_token, username)
    assert response.status_code == 302
    page = client.get("/").get_data(as_text=True)
    for text in expected:
        assert text in page
    if username == "unitrep":
        assert "Vinh Quý" not in page and "Huyện Hạ Lang" not in page
    if username != "admin":
        assert "/admin/users" not in page


def test_wrong_password_on_the_form_is_a_generic_message(demo, client, form_token):
    response = sign_in(client, form_token, "leader", "wrong-password")
    assert response.status_code == 401
    assert "Sai tên đăng nhập hoặc mật khẩu." in response.get_data(as_text=True)


def test_admin_form_post_without_token_changes_nothing(demo, client, form_token):
    sign_in(client, form_token, "admin")
    before = db.session.query(User).count()
    response = client.post("/admin/users", data={"username": "newbie", "password": "long-enough",
                                                 "full_name": "Người Mới", "role": "inspector"})
    assert response.status_code == 400
    assert db.session.query(User).count() == before


def test_language_switch_to_english(demo, client, form_token):
    sign_in(client, form_token, "leader")
    client.get("/lang/en?next=/")
    page = client.get("/").get_data(as_text=True)
    assert "Hello, Nguyễn Văn An" in page
    assert 'lang="en"' in page


@pytest.mark.parametrize("username", ["leader", "inspector1", "unitrep"])
@pytest.mark.parametrize("url", ["/admin/users", "/admin/units", "/admin/plans", "/admin/trips"])
def test_admin_pages_are_for_admins_only(demo, client, form_token, username, url):
    sign_in(client, form_token, username)
    assert client.get(url).status_code == 403


def test_anonymous_visitors_are_sent_to_login(demo, client):
    response = client.get("/admin/users")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_admin_creates_a_user_and_duplicates_are_refused(demo, client, form_token):
    sign_in(client, form_token, "admin")
    data = {"username": "thanhvien4", "password": "mat-khau-dai", "full_name": "Vũ Thị Én",
            "position": "Chuyên viên", "role": "inspector", "unit_id": ""}
    data["csrf_token"] = form_token(client, "/admin/users")
    assert client.post("/admin/users", data=data).status_code == 302
    assert db.session.query(User).filter_by(username="thanhvien4").one().full_name == "Vũ Thị Én"
    data["csrf_token"] = form_token(client, "/admin/users")
    again = client.post("/admin/users", data=data)
    assert again.status_code == 422
    assert "Tên đăng nhập đã tồn tại." in again.get_data(as_text=True)


def test_admin_lists_units_valid_on_a_day(demo, client, form_token):
    sign_in(client, form_token, "admin")
    page_2021 = client.get("/admin/units?on=2021-10-01&level=commune").get_data(as_text=True)
    page_2026 = client.get("/admin/units?on=2026-01-01&level=commune").get_data(as_text=True)
    assert "Cô Ngân" in page_2021 and "Thị trấn Thanh Nhật" in page_2021
    assert "Cô Ngân" in page_2026  # listed as merged into xã Vinh Quý
    assert "Xã Hạ Lang" in page_2026
    assert "Thị trấn Thanh Nhật, Xã Thống Nhất, Xã Thị Hoa" in page_2026


def test_admin_adds_a_unit_and_bad_codes_are_explained(demo, client, form_token):
    sign_in(client, form_token, "admin")
    bad = {"code": "12", "name": "Thử", "kind": "Xã", "level": "commune", "parent_code": "04",
           "valid_from": "2025-07-01", "csrf_token": form_token(client, "/admin/units")}
    response = client.post("/admin/units", data=bad)
    assert response.status_code == 422
    assert "gồm 5 chữ số" in response.get_data(as_text=True)
    good = {**bad, "code": "01600", "csrf_token": form_token(client, "/admin/units")}
    assert client.post("/admin/units", data=good).status_code == 302
    assert db.session.query(AdminUnit).filter_by(code="01600").one().parent.name == "Cao Bằng"


def test_admin_creates_a_plan_and_a_trip_with_inspections(demo, client, form_token):
    sign_in(client, form_token, "admin")
    plan_form = {"number": "12/KH-SNV", "title": "Kiểm tra CCHC năm 2026", "issuer": "Sở Nội vụ",
                 "issued_on": "2026-01-15", "year": "2026",
                 "csrf_token": form_token(client, "/admin/plans")}
    assert client.post("/admin/plans", data=plan_form).status_code == 302
    plan = db.session.query(Plan).filter_by(number="12/KH-SNV").one()
    leader = db.session.query(User).filter_by(username="leader").one()
    member = db.session.query(User).filter_by(username="inspector3").one()
    vinh_quy_2025 = (db.session.query(AdminUnit).filter_by(code="01561")
                     .order_by(AdminUnit.valid_from.desc()).first())
    trip_form = {"plan_id": plan.id, "name": "Kiểm tra xã Vinh Quý 2026", "starts_on": "2026-03-02",
                 "ends_on": "2026-03-03", "leader_id": leader.id, "member_ids": [member.id],
                 "unit_ids": [vinh_quy_2025.id], "csrf_token": form_token(client, "/admin/trips")}
    assert client.post("/admin/trips", data=trip_form).status_code == 302
    trip = db.session.query(Trip).filter_by(name="Kiểm tra xã Vinh Quý 2026").one()
    inspection = db.session.query(Inspection).filter_by(trip_id=trip.id).one()
    assert inspection.checklist_version.template.code == "cchc-xa-2cap"
    assert {m.user.username for m in trip.members} == {"leader", "inspector3"}


def test_trip_with_a_unit_that_no_longer_exists_is_refused(demo, client, form_token):
    sign_in(client, form_token, "admin")
    plan = db.session.query(Plan).one()
    leader = db.session.query(User).filter_by(username="leader").one()
    co_ngan = db.session.query(AdminUnit).filter_by(code="01567").one()
    form = {"plan_id": plan.id, "name": "Sai", "starts_on": "2026-03-02", "ends_on": "2026-03-01",
            "leader_id": leader.id, "unit_ids": [co_ngan.id],
            "csrf_token": form_token(client, "/admin/trips")}
    response = client.post("/admin/trips", data=form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Ngày kết thúc trước ngày bắt đầu." in page
    assert "không còn hiệu lực" in page
    assert db.session.query(Trip).count() == 1


def test_leader_approves_on_the_inspection_page(demo, client, form_token):
    sign_in(client, form_token, "leader")
    vinh_quy = next(i for i in db.session.query(Inspection) if i.unit.name == "Vinh Quý")
    url = f"/inspections/{vinh_quy.id}"
    page = client.get(url).get_data(as_text=True)
    assert "Duyệt kết quả" in page
    response = client.post(url, data={"action": "approve", "confirm_unanswered": "1",
                                      "reason": "Xã chưa có số liệu",
                                      "csrf_token": form_token(client, url)})
    assert response.status_code == 302
    assert "Đã duyệt" in client.get(url).get_data(as_text=True)


def test_user_text_is_escaped_in_pages(demo, client, form_token):
    sign_in(client, form_token, "admin")
    data = {"username": "xss", "password": "mat-khau-dai", "full_name": "<script>alert(1)</script>",
            "role": "inspector", "csrf_token": form_token(client, "/admin/users")}
    client.post("/admin/users", data=data)
    page = client.get("/admin/users").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
