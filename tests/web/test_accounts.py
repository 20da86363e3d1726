"""The account lifecycle: deactivate, reactivate, reset and change passwords, edit, end every
session — on the admin pages, one's own account page and the command line — and what an ended
session answers (the field app's contract: 401 "session_ended" / "account_deactivated");
registered certificates; representatives of units as they were."""
from __future__ import annotations

import io
import re
import uuid

from sqlalchemy import select
from tables import table_rows

from inspection.extensions import db
from inspection.models import AdminUnit, AuditEvent, Inspection, MinutesRevision, User
from inspection.services.workflow import transition_inspection
from inspection.sessions import ENDED

STRONG = "Cô Ngân mùa lúa 2021!"


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def form(client, url: str, **data):
    return client.post(url, data={"csrf_token": client.csrf, **data})


def push(client):
    """A device's write (an observation) with the session's token."""
    inspection = db.session.scalar(select(Inspection).join(Inspection.unit)
                                   .where(AdminUnit.code == "048"))
    return client.post("/api/v1/sync/push", headers={"X-CSRF-Token": client.csrf}, json={
        "device_id": "tablet-1", "ops": [{
            "op_id": str(uuid.uuid4()), "type": "observation.set", "inspection_id": inspection.id,
            "item_code": "TTHC.20", "base_version": 0, "fields": {"value": 1},
            "at": "2026-03-02T09:15:00+07:00"}]})


def ended(client, code: str) -> None:
    """The API refuses the client's session with `code`, and a write changes nothing."""
    me = client.get("/api/v1/auth/me")
    assert me.status_code == 401 and me.get_json()["code"] == code, me.get_json()
    assert me.get_json()["message"]
    english = client.get("/api/v1/auth/me", headers={"Accept-Language": "en"}).get_json()
    assert (english["code"], english["message"]) == (code, ENDED[code][1])
    assert me.get_json()["message"] == ENDED[code][0]
    before = table_rows()
    refused = push(client)
    assert refused.status_code == 401 and refused.get_json()["code"] == code
    assert table_rows() == before


def actions(username: str) -> list[str]:
    target = user(username)
    return list(db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.object_type == "users", AuditEvent.object_id == str(target.id),
        AuditEvent.action.not_in(["user.login", "user.create"])).order_by(AuditEvent.id)))


def test_a_missing_session_stays_plain_unauthorized(demo, client):
    assert client.get("/api/v1/auth/me").get_json()["code"] == "unauthorized"


def test_a_reactivated_accounts_old_cookie_is_refused(demo, login):
    """The lost-tablet procedure: deactivating ends the tablet's session at once, and
    reactivating the account does not bring it back."""
    tablet, admin = login("inspector1"), login("admin")
    assert push(tablet).status_code == 200
    target = user("inspector1")
    assert form(admin, f"/admin/users/{target.id}/deactivate").status_code == 302
    ended(tablet, "account_deactivated")
    assert tablet.post("/api/v1/auth/login", json={"username": "inspector1",
                                                    "password": "demo1234"}).status_code == 401
    assert form(admin, f"/admin/users/{target.id}/activate").status_code == 302
    ended(tablet, "session_ended")
    page = tablet.get("/", follow_redirects=True)
    assert page.request.path == "/login"
    assert "Phiên đăng nhập đã kết thúc" in page.get_data(as_text=True)
    again = login("inspector1")
    assert push(again).status_code == 200
    assert actions("inspector1") == ["user.deactivate", "user.activate"]
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action.in_(
        ["user.deactivate", "user.activate"]))).all()
    assert {e.user_id for e in events} == {user("admin").id}


def test_another_session_ends_when_the_password_is_changed(demo, login):
    here, there = login("leader"), login("leader")
    for data, words in [
        ({"current_password": "sai-mat-khau", "new_password": STRONG, "confirm_password": STRONG},
         "Mật khẩu hiện tại không đúng"),
        ({"current_password": "demo1234", "new_password": "12345678",
          "confirm_password": "12345678"},
         "quá dễ đoán"),
        ({"current_password": "demo1234", "new_password": "nguyenvanan1", "confirm_password":
          "nguyenvanan1"}, "quá dễ đoán"),
        ({"current_password": "demo1234", "new_password": STRONG, "confirm_password": STRONG + "x"},
         "không khớp"),
    ]:
        refused = form(here, "/account/password", **data)
        assert refused.status_code == 422 and words in refused.get_data(as_text=True), words
        assert there.get("/api/v1/auth/me").status_code == 200
    assert "user.password_change" not in actions("leader")
    changed = form(here, "/account/password", current_password="demo1234", new_password=STRONG,
                   confirm_password=STRONG)
    assert changed.status_code == 302
    assert here.get("/api/v1/auth/me").status_code == 200  # the session it was changed from
    ended(there, "session_ended")
    fresh = db.session.get(User, user("leader").id)
    assert fresh.session_generation == 1
    assert there.post("/api/v1/auth/login", json={"username": "leader", "password": "demo1234"}
                      ).status_code == 401
    assert login("leader", STRONG).get("/api/v1/auth/me").status_code == 200
    assert actions("leader") == ["user.password_change"]


def test_the_secretariat_resets_edits_and_ends_sessions(demo, login):
    tablet, admin = login("inspector2"), login("admin")
    target = user("inspector2")
    page = f"/admin/users/{target.id}"
    weak = form(admin, page + "/password", password="inspector2")
    assert weak.status_code == 422 and "quá dễ đoán" in weak.get_data(as_text=True)
    assert tablet.get("/api/v1/auth/me").status_code == 200
    assert form(admin, page + "/password", password=STRONG).status_code == 302
    ended(tablet, "session_ended")

    tablet = login("inspector2", STRONG)
    assert form(admin, page + "/sessions").status_code == 302
    ended(tablet, "session_ended")

    tablet = login("inspector2", STRONG)
    unchanged = form(admin, page, full_name="Lê Minh Cường", position=target.position,
                     role="inspector", unit_id="")
    assert unchanged.status_code == 302
    assert tablet.get("/api/v1/auth/me").status_code == 200  # nothing changed, nothing ended
    empty = form(admin, page, full_name="", role="inspector")
    assert empty.status_code == 422 and "Cần nhập họ và tên" in empty.get_data(as_text=True)
    assert form(admin, page, full_name="Lê Minh Cường", position="Trưởng phòng",
                role="leader", unit_id="").status_code == 302
    ended(tablet, "session_ended")
    db.session.expire_all()
    assert (user("inspector2").role.value,
            user("inspector2").position) == ("leader", "Trưởng phòng")
    assert actions("inspector2") == ["user.password_reset", "user.end_sessions", "user.update"]
    update = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.update"))
    assert update.details == {"position": ["Chuyên viên Văn phòng UBND tỉnh", "Trưởng phòng"],
                              "role": ["inspector", "leader"]}

    me = user("admin")
    assert form(admin, f"/admin/users/{me.id}/deactivate").status_code == 403
    demoted = form(admin, f"/admin/users/{me.id}", full_name=me.full_name, role="leader")
    assert demoted.status_code == 422
    assert admin.get("/admin/users").status_code == 200


def test_the_command_line_deactivates_reactivates_and_sets_passwords(demo, runner, login):
    tablet = login("inspector3")
    result = runner.invoke(args=["deactivate-user", "inspector3"])
    assert result.exit_code == 0, result.output
    ended(tablet, "account_deactivated")
    twice = runner.invoke(args=["deactivate-user", "inspector3"])
    assert twice.exit_code == 1 and "đã bị khóa" in twice.output
    assert runner.invoke(args=["activate-user", "inspector3"]).exit_code == 0
    ended(tablet, "session_ended")
    tablet = login("inspector3")
    weak = runner.invoke(args=["set-password", "inspector3", "--password", "hoangthidung"])
    assert weak.exit_code == 1 and "quá dễ đoán" in weak.output
    assert runner.invoke(args=["set-password", "inspector3", "--password", STRONG]).exit_code == 0
    ended(tablet, "session_ended")
    assert login("inspector3", STRONG).get("/api/v1/auth/me").status_code == 200
    missing = runner.invoke(args=["activate-user", "nobody"])
    assert missing.exit_code == 1 and "no such account" in missing.output
    assert actions("inspector3") == ["user.deactivate", "user.activate", "user.password_reset"]


def test_the_accounts_form_lists_units_of_every_era(demo, login):
    page = login("admin").get("/admin/users").get_data(as_text=True)
    assert '<optgroup label="Huyện">' in page and '<optgroup label="Xã">' in page
    assert re.search(r"048 · Huyện Hạ Lang \(01/01/2020 – 30/06/2025\)", page)
    vinh_quy = re.findall(r"01561 · Xã Vinh Quý \(([^)]*)\)", page)
    assert vinh_quy == ["01/07/2025 – nay", "01/01/2020 – 30/06/2025"]


def test_hạ_lang_districts_representative_of_2021_sees_comments_and_cosigns(demo, runner, login,
                                                                             instance_pki):
    created = runner.invoke(args=["create-user", "halang-rep", "--role", "unitrep", "--name",
                                  "Hoàng Văn Ích", "--position", "Chủ tịch UBND huyện Hạ Lang",
                                  "--unit-code", "048", "--password", STRONG])
    assert created.exit_code == 0, created.output
    assert "Huyện Hạ Lang (01/01/2020 – 30/06/2025)" in created.output
    nowhere = runner.invoke(args=["create-user", "x-rep", "--role", "unitrep", "--name", "X",
                                  "--unit-code", "048", "--valid-on", "2026-01-01",
                                  "--password", STRONG])
    assert nowhere.exit_code == 1 and "vào ngày 01/01/2026" in nowhere.output
    old_commune = runner.invoke(args=["create-user", "vq-2021", "--role", "unitrep", "--name",
                                      "Lục Văn Hùng", "--unit-code", "01561", "--valid-on",
                                      "2021-10-01", "--password", STRONG])
    assert "(01/01/2020 – 30/06/2025)" in old_commune.output
    new_commune = runner.invoke(args=["create-user", "vq-2025", "--role", "unitrep", "--name",
                                      "Lục Thị Mai", "--unit-code", "01561", "--valid-on",
                                      "2025-07-01", "--password", STRONG])
    assert "(01/07/2025 –)" in new_commune.output

    district = db.session.scalar(select(Inspection).join(Inspection.unit)
                                 .where(AdminUnit.code == "048"))
    rep = login("halang-rep", STRONG)
    assert rep.get(f"/api/v1/inspections/{district.id}").status_code == 200
    commented = form(rep, f"/inspections/{district.id}/comments",
                     text="UBND huyện nhất trí với kết quả.", revision=str(district.revision))
    assert commented.status_code == 302
    leader_user, member = user("leader"), user("inspector1")
    transition_inspection(district, "submit", member)
    transition_inspection(district, "approve", leader_user, "Duyệt thử", confirm_unanswered=True)
    db.session.commit()
    leader = login("leader")
    url = f"/api/v1/inspections/{district.id}/minutes"
    csrf = {"X-CSRF-Token": leader.csrf}
    assert leader.post(url, headers=csrf).status_code == 201
    assert leader.post(url + "/sign", headers=csrf).status_code == 200
    signed = rep.post(url + "/sign", headers={"X-CSRF-Token": rep.csrf})
    assert signed.status_code == 200, signed.get_json()
    assert signed.get_json()["status"] == "signed"
    revision = db.session.scalar(select(MinutesRevision).where(
        MinutesRevision.inspection_id == district.id))
    assert [s.signer.username for s in revision.signatures] == ["leader", "halang-rep"]
    report = rep.post("/api/v1/minutes/verify", data=rep.get(url + ".pdf").data,
                      content_type="application/pdf", headers={"X-CSRF-Token": rep.csrf}).get_json()
    assert report["fully_signed"], report
    assert [s["account"]["username"] for s in report["signatures"]] == ["leader", "halang-rep"]


def test_everyone_registers_their_certificates_and_may_withdraw_them(demo, login, instance_pki):
    leader, admin = login("leader"), login("admin")
    key = instance_pki.signer("leader", "Nguyễn Văn An", "Phó Giám đốc Sở Nội vụ")
    der = key.certificate.dump()

    def upload(client, url, data: bytes, name="chung-thu.cer"):
        return client.post(url, data={"csrf_token": client.csrf,
                                      "certificate": (io.BytesIO(data), name)},
                           content_type="multipart/form-data")

    assert upload(leader, "/account/certificates", der).status_code == 302
    page = leader.get("/account").get_data(as_text=True)
    assert "Nguyễn Văn An, Phó Giám đốc Sở Nội vụ" in page and "CCHC Demo CA" in page
    assert key.certificate.serial_number and format(key.certificate.serial_number, "X") in page
    again = upload(leader, "/account/certificates", der)
    assert again.status_code == 409
    assert "đã được đăng ký cho tài khoản" in again.get_data(as_text=True)

    unitrep = user("unitrep")
    theirs = instance_pki.signer("unitrep", "Nông Văn Én", "Chủ tịch UBND xã Cô Ngân").certificate
    from asn1crypto import pem
    as_pem = pem.armor("CERTIFICATE", theirs.dump())
    assert upload(admin, f"/admin/users/{unitrep.id}/certificates", as_pem,
                  "en.pem").status_code == 302
    taken = upload(leader, "/account/certificates", as_pem, "en.pem")
    assert taken.status_code == 409 and "một tài khoản khác" in taken.get_data(as_text=True)
    for data, words in [(b"not a certificate", "không phải chứng thư số"),
                        (instance_pki.ca_cert_path.read_bytes(), "tổ chức chứng thực"),
                        (b"", "không phải chứng thư số")]:
        before = table_rows()
        refused = upload(leader, "/account/certificates", data)
        assert refused.status_code == 422 and words in refused.get_data(as_text=True), words
        assert table_rows() == before

    mine = user("leader").certificates[0]
    others = user("unitrep").certificates[0]
    assert form(leader, f"/account/certificates/{others.id}/withdraw").status_code == 404
    assert form(leader, f"/account/certificates/{mine.id}/withdraw").status_code == 302
    assert "Đã gỡ ngày" in leader.get("/account").get_data(as_text=True)
    twice = form(leader, f"/account/certificates/{mine.id}/withdraw")
    assert twice.status_code == 409
    assert form(admin, f"/admin/users/{unitrep.id}/certificates/{others.id}/withdraw"
                ).status_code == 302
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.object_type ==
                                                         "user_certificates")).all()
    assert [(e.action, e.user_id) for e in events] == [
        ("certificate.register", user("leader").id), ("certificate.register", user("admin").id),
        ("certificate.withdraw", user("leader").id), ("certificate.withdraw", user("admin").id)]
