"""Minutes on the inspection page and the public verification page."""
import io

from inspection.extensions import db
from inspection.models import Inspection, MinutesRevision


def sign_in(client, form_token, username):
    client.post("/login", data={"username": username, "password": "demo1234",
                                "csrf_token": form_token(client, "/login")})


def test_leader_builds_and_both_sign_on_the_page_then_anyone_verifies(demo, app, form_token,
                                                                      instance_pki):
    co_ngan = next(i for i in db.session.query(Inspection) if i.unit.code == "01567")
    page = f"/inspections/{co_ngan.id}"
    leader = app.test_client()
    sign_in(leader, form_token, "leader")
    assert "Lập biên bản" in leader.get(page).get_data(as_text=True)
    wrong = leader.post(f"{page}/minutes/build", data={
        "csrf_token": form_token(leader, page), "start_time": "14:00", "end_time": "09:00"},
        follow_redirects=True).get_data(as_text=True)
    assert "Giờ kết thúc phải sau giờ bắt đầu" in wrong
    assert db.session.query(MinutesRevision).count() == 0
    leader.post(f"{page}/minutes/build", data={"csrf_token": form_token(leader, page),
                                               "start_time": "08:00", "end_time": "11:30"})
    assert 'name="start_time" value="08:00"' in leader.get(page).get_data(as_text=True)
    leader.post(f"{page}/minutes/sign", data={"csrf_token": form_token(leader, page)})
    unitrep = app.test_client()
    sign_in(unitrep, form_token, "unitrep")
    unitrep.post(f"{page}/minutes/sign", data={"csrf_token": form_token(unitrep, page)})
    shown = unitrep.get(page).get_data(as_text=True)
    assert "Đã ký đủ" in shown and "Nông Văn Én" in shown
    assert "Tài khoản: Nông Văn Én (<code>unitrep</code>)" in shown
    revision = db.session.query(MinutesRevision).one()
    assert revision.status == "signed"

    pdf = unitrep.get(f"/api/v1/inspections/{co_ngan.id}/minutes.pdf").data
    anyone = app.test_client()
    token = form_token(anyone, "/minutes/verify")
    ok = anyone.post("/minutes/verify",
                     data={"csrf_token": token, "file": (io.BytesIO(pdf), "bb.pdf")},
                     content_type="multipart/form-data")
    assert ok.status_code == 200
    assert "Đã ký đủ" in ok.get_data(as_text=True)
    tampered = bytearray(pdf)
    tampered[len(tampered) // 4] ^= 0x20
    token = form_token(anyone, "/minutes/verify")
    bad = anyone.post("/minutes/verify",
                      data={"csrf_token": token, "file": (io.BytesIO(bytes(tampered)), "bb.pdf")},
                      content_type="multipart/form-data")
    assert bad.status_code == 422
    assert "KHÔNG hợp lệ" in bad.get_data(as_text=True)
    landing = anyone.get(f"/minutes/verify?inspection={co_ngan.id}&revision=1").get_data(
        as_text=True)
    assert revision.document_number in landing and revision.signed_sha256 in landing
    assert "Đã ký đủ" in landing and "Nguyễn Văn An" in landing
