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


def _co_ngan_built_and_leader_signed(app, form_token):
    """Cô Ngân's minutes built and signed by the leader; the leader's and unit's clients."""
    co_ngan = next(i for i in db.session.query(Inspection) if i.unit.code == "01567")
    page = f"/inspections/{co_ngan.id}"
    leader = app.test_client()
    sign_in(leader, form_token, "leader")
    leader.post(f"{page}/minutes/build", data={"csrf_token": form_token(leader, page)})
    leader.post(f"{page}/minutes/sign", data={"csrf_token": form_token(leader, page)})
    unitrep = app.test_client()
    sign_in(unitrep, form_token, "unitrep")
    return co_ngan, page, leader, unitrep


def test_after_the_leaders_signature_the_page_waits_for_the_unit(demo, app, form_token,
                                                                 instance_pki):
    co_ngan, page, leader, unitrep = _co_ngan_built_and_leader_signed(app, form_token)
    shown = leader.get(page).get_data(as_text=True)
    assert "chờ đơn vị ký biên bản" in shown
    assert "đang chờ chữ ký của đơn vị được kiểm tra" in shown
    minutes = shown[shown.index('id="minutes"'):shown.index('id="comments"')]
    # Nothing the leader can still do on these minutes: no signing, no upload, no rebuild.
    assert "Ký số trên máy chủ" not in minutes and "Lập lại biên bản" not in minutes
    assert f'action="/inspections/{co_ngan.id}/minutes/upload"' not in minutes
    unit_page = unitrep.get(page).get_data(as_text=True)
    assert "Ký số trên máy chủ" in unit_page[unit_page.index('id="minutes"'):]


def test_a_unit_comment_after_the_build_blocks_the_units_signature(demo, app, form_token,
                                                                   instance_pki):
    co_ngan, page, leader, unitrep = _co_ngan_built_and_leader_signed(app, form_token)
    unitrep.post(f"{page}/comments",
                 data={"csrf_token": form_token(unitrep, page),
                       "text": "Đơn vị đề nghị ghi nhận số liệu quý IV.",
                       "revision": str(db.session.get(Inspection, co_ngan.id).revision)})
    refused = unitrep.post(f"{page}/minutes/sign", data={"csrf_token": form_token(unitrep, page)},
                           follow_redirects=True).get_data(as_text=True)
    assert "chưa có trong biên bản" in refused and "lập lại biên bản" in refused
    revision = db.session.query(MinutesRevision).one()
    assert revision.status == "final" and len(revision.signatures) == 1
    assert 'name="without_latest_comments"' in refused
    # The leader is told to rebuild, and may again.
    told = leader.get(page).get_data(as_text=True)
    assert "Đơn vị đã ghi ý kiến sau khi lập biên bản" in told and "Lập lại biên bản" in told
    # The representative may still sign, saying so explicitly; the audit keeps that.
    unitrep.post(f"{page}/minutes/sign", data={"csrf_token": form_token(unitrep, page),
                                               "without_latest_comments": "1"})
    db.session.expire_all()
    revision = db.session.query(MinutesRevision).one()
    assert revision.status == "signed"
    from inspection.models import AuditEvent

    event = (db.session.query(AuditEvent).filter_by(action="minutes.sign")
             .order_by(AuditEvent.id.desc()).first())
    assert event.details["without_latest_comments"] is True


def test_rebuilt_minutes_carry_the_comment_and_the_unit_signs_them(demo, app, form_token,
                                                                  instance_pki):
    co_ngan, page, leader, unitrep = _co_ngan_built_and_leader_signed(app, form_token)
    unitrep.post(f"{page}/comments",
                 data={"csrf_token": form_token(unitrep, page),
                       "text": "Đơn vị nhất trí.",
                       "revision": str(db.session.get(Inspection, co_ngan.id).revision)})
    leader.post(f"{page}/minutes/build", data={"csrf_token": form_token(leader, page)})
    leader.post(f"{page}/minutes/sign", data={"csrf_token": form_token(leader, page)})
    unitrep.post(f"{page}/minutes/sign", data={"csrf_token": form_token(unitrep, page)})
    latest = db.session.query(MinutesRevision).order_by(MinutesRevision.revision.desc()).first()
    assert latest.revision == 2 and latest.status == "signed"
