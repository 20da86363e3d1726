"""The secretariat corrects plans, trips and teams until the minutes are signed (audited); the
leader writes the minutes form (officials present, deadline, recipients) and builds, signs and
downloads a whole trip's minutes on the trip page."""
from __future__ import annotations

import io
import subprocess
from datetime import date

from sqlalchemy import select

from inspection.extensions import db
from inspection.models import (
    AuditEvent,
    Inspection,
    InspectionState,
    MinutesRevision,
    Plan,
    Trip,
    TripRole,
    User,
)
from inspection.services.minutes import build_minutes, sign_minutes
from inspection.services.planning import create_trip
from inspection.services.units import unit_valid_on
from inspection.services.workflow import transition_inspection


def sign_in(client, form_token, username):
    client.post("/login", data={"username": username, "password": "demo1234",
                                "csrf_token": form_token(client, "/login")})


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def demo_trip() -> Trip:
    return db.session.scalar(select(Trip))


def inspection_of(code: str) -> Inspection:
    return next(i for i in db.session.scalars(select(Inspection)) if i.unit.code == code)


def pdf_words(pdf: bytes) -> str:
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True,
                          check=True).stdout.decode("utf-8")
    return " ".join(text.split())


def trip_form(trip: Trip, **changes) -> dict:
    roles = {m.user_id: m.role for m in trip.members}
    form = {"name": trip.name, "starts_on": trip.starts_on.isoformat(),
            "ends_on": trip.ends_on.isoformat(), "place": trip.place, "decision": trip.decision,
            "decision_number": trip.decision_number,
            "decision_date": trip.decision_date.isoformat() if trip.decision_date else "",
            "leader_id": str(next(k for k, v in roles.items() if v == TripRole.leader)),
            "member_ids": [str(k) for k, v in roles.items() if v == TripRole.member]}
    form.update(changes)
    return form


def test_the_secretariat_corrects_the_trip_its_team_and_decision_and_it_is_audited(demo, app,
                                                                                   form_token):
    trip = demo_trip()
    admin = app.test_client()
    sign_in(admin, form_token, "admin")
    page = f"/admin/trips/{trip.id}"
    shown = admin.get(page).get_data(as_text=True)
    assert 'value="1520/QĐ-UBND"' in shown and 'value="2021-09-24"' in shown
    answer = admin.post(page, data=trip_form(
        trip, csrf_token=form_token(admin, page), decision_number="1521/QĐ-UBND",
        decision_date="2021-09-27", secretary_id=str(user("inspector3").id),
        member_ids=[str(user("inspector1").id)],
        unit_ids=[str(unit_valid_on("01555", trip.starts_on).id)]))
    assert answer.status_code == 302
    db.session.expire_all()
    trip = demo_trip()
    assert (trip.decision_number, trip.decision_date) == ("1521/QĐ-UBND", date(2021, 9, 27))
    roles = {m.user.username: m.role for m in trip.members}
    assert roles == {"leader": TripRole.leader, "inspector1": TripRole.member,
                     "inspector3": TripRole.secretary}  # inspector2 left the team
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "trip.update"))
    assert event.user_id == user("admin").id
    assert event.details["changes"]["decision_number"] == ["1520/QĐ-UBND", "1521/QĐ-UBND"]
    assert event.details["changes"]["decision_date"] == ["2021-09-24", "2021-09-27"]
    assert "team" in event.details["changes"]
    assert event.details["changes"]["units_added"] == [None, ["01555"]]
    added = next(i for i in trip.inspections if i.unit.code == "01555")
    assert (added.state, added.scheduled_on) == (InspectionState.planned, date(2021, 10, 1))
    assert added.checklist_version is not None

    trip_page = admin.get(f"/trips/{trip.id}").get_data(as_text=True)
    assert "Số 1521/QĐ-UBND ngày 27/09/2021" in trip_page
    assert "Hoàng Thị Dung, Chuyên viên Sở Tư pháp — Thư ký" in trip_page

    # Nothing changed: nothing audited.
    admin.post(page, data=trip_form(trip, csrf_token=form_token(admin, page),
                                    secretary_id=str(user("inspector3").id)))
    assert db.session.query(AuditEvent).filter_by(action="trip.update").count() == 1


def test_a_wrong_trip_or_plan_form_says_what_is_wrong_and_changes_nothing(demo, app, form_token):
    trip = demo_trip()
    admin = app.test_client()
    sign_in(admin, form_token, "admin")
    page = f"/admin/trips/{trip.id}"
    wrong = admin.post(page, data=trip_form(trip, csrf_token=form_token(admin, page),
                                            ends_on="2021-09-30", decision_date="30/09/2021",
                                            secretary_id=str(user("leader").id)))
    assert wrong.status_code == 422
    text = wrong.get_data(as_text=True)
    for message in ("Ngày kết thúc trước ngày bắt đầu.", "Ngày không hợp lệ (YYYY-MM-DD).",
                    "Trưởng đoàn không đồng thời là thư ký."):
        assert message in text
    db.session.expire_all()
    assert demo_trip().ends_on == date(2021, 10, 1)

    plan = db.session.scalar(select(Plan))
    plan_page = f"/admin/plans/{plan.id}"
    taken = admin.post(plan_page, data={"csrf_token": form_token(admin, plan_page), "number": "",
                                        "title": "x", "issued_on": "2020-12-22", "year": "2021"})
    assert taken.status_code == 422 and "Cần nhập số kế hoạch." in taken.get_data(as_text=True)
    fixed = admin.post(plan_page, data={
        "csrf_token": form_token(admin, plan_page), "number": "3199/KH-UBND",
        "title": plan.title, "issuer": plan.issuer, "issued_on": "2020-12-23", "year": "2021",
        "province_id": str(plan.province_id)})
    assert fixed.status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(Plan)).issued_on == date(2020, 12, 23)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "plan.update"))
    assert event.details["changes"] == {"issued_on": ["2020-12-22", "2020-12-23"]}


def test_once_minutes_are_signed_the_trip_and_plan_can_no_longer_be_edited(demo, app, form_token,
                                                                           instance_pki):
    co_ngan = inspection_of("01567")
    build_minutes(co_ngan, user("leader"), "http://test")
    sign_minutes(co_ngan, user("leader"))  # the leader's signature alone freezes what is printed
    db.session.commit()
    trip = demo_trip()
    admin = app.test_client()
    sign_in(admin, form_token, "admin")
    page = f"/admin/trips/{trip.id}"
    assert "không sửa được nữa" in admin.get(page).get_data(as_text=True)
    refused = admin.post(page, data=trip_form(trip, csrf_token=form_token(admin, "/admin/trips"),
                                              decision_number="9/QĐ"))
    assert refused.status_code == 409
    assert "Biên bản của đợt kiểm tra đã được ký" in refused.get_data(as_text=True)
    plan = db.session.scalar(select(Plan))
    plan_refused = admin.post(f"/admin/plans/{plan.id}", data={
        "csrf_token": form_token(admin, "/admin/plans"), "number": "1/KH", "title": "x",
        "issued_on": "2020-12-22", "year": "2021"})
    assert plan_refused.status_code == 409
    db.session.expire_all()
    assert demo_trip().decision_number == "1520/QĐ-UBND"
    assert db.session.scalar(select(Plan)).number == "3199/KH-UBND"
    assert "Sửa đợt kiểm tra và đoàn" not in admin.get(f"/trips/{trip.id}").get_data(as_text=True)


def test_the_minutes_form_keeps_the_officials_deadline_and_recipients_and_prints_them(
        demo, app, form_token):
    co_ngan = inspection_of("01567")
    leader = app.test_client()
    sign_in(leader, form_token, "leader")
    page = f"/inspections/{co_ngan.id}"
    shown = leader.get(page).get_data(as_text=True)
    assert 'name="official_name" value="Lương Thị Hoa"' in shown  # the demo's, on the form
    wrong = leader.post(f"{page}/minutes/build", data={
        "csrf_token": form_token(leader, page), "report_due": "2021-09-01",
        "official_name": ["Nông Văn Én"], "official_position": ["Chủ tịch UBND xã"]},
        follow_redirects=True)
    assert "Hạn báo cáo không được trước ngày kiểm tra." in wrong.get_data(as_text=True)
    assert db.session.query(MinutesRevision).count() == 0
    leader.post(f"{page}/minutes/build", data={
        "csrf_token": form_token(leader, page), "start_time": "08:00", "end_time": "10:00",
        "report_due": "2021-12-15", "official_name": ["Nông Văn Én", "", "Hà Thị Lan"],
        "official_position": ["Chủ tịch UBND xã", "", "Công chức Tư pháp - Hộ tịch"],
        "recipients": "Như trên\n\nSở Nội vụ"})
    db.session.expire_all()
    co_ngan = inspection_of("01567")
    assert co_ngan.unit_officials == [
        {"name": "Nông Văn Én", "position": "Chủ tịch UBND xã"},
        {"name": "Hà Thị Lan", "position": "Công chức Tư pháp - Hộ tịch"}]
    assert (co_ngan.report_due, co_ngan.recipients) == (date(2021, 12, 15), "Như trên\nSở Nội vụ")
    assert db.session.query(AuditEvent).filter_by(action="minutes.details").count() == 1
    words = pdf_words(leader.get(f"/api/v1/inspections/{co_ngan.id}/minutes.pdf").data)
    assert "- Nông Văn Én, Chủ tịch UBND xã; - Hà Thị Lan, Công chức Tư pháp - Hộ tịch;" in words
    assert "Báo cáo kết quả khắc phục về Sở Nội vụ trước ngày 15/12/2021." in words
    assert "Nơi nhận: - Như trên; - Sở Nội vụ." in words


def test_the_api_build_takes_the_same_details_and_refuses_a_bad_body(demo, login):
    co_ngan = inspection_of("01567")
    leader = login("leader")
    url = f"/api/v1/inspections/{co_ngan.id}/minutes"
    headers = {"X-CSRF-Token": leader.csrf}
    bad = leader.post(url, json={"officials": [{"position": "Chủ tịch"}]}, headers=headers)
    assert bad.status_code == 422
    bad_date = leader.post(url, json={"report_due": "15/12/2021"}, headers=headers)
    assert (bad_date.status_code == 422
            and "Hạn báo cáo không hợp lệ" in bad_date.get_json()["message"])
    ok = leader.post(url, json={"report_due": "2021-12-31", "recipients": "Như trên",
                                "officials": [{"name": "Nông Văn Én", "position": "Chủ tịch"}]},
                     headers=headers)
    assert ok.status_code == 201
    db.session.expire_all()
    co_ngan = inspection_of("01567")
    assert co_ngan.report_due == date(2021, 12, 31)
    assert co_ngan.unit_officials == [{"name": "Nông Văn Én", "position": "Chủ tịch"}]
    words = pdf_words(leader.get(f"{url}.pdf").data)
    assert "trước ngày 31/12/2021." in words and "Nơi nhận: - Như trên." in words


def test_the_trip_page_builds_signs_and_downloads_the_trip_minutes(demo, app, form_token,
                                                                   instance_pki):
    day = date(2021, 10, 5)
    plan = db.session.scalar(select(Plan))
    trip = create_trip(plan, "Kiểm tra CCHC tại xã Vinh Quý và xã Cô Ngân (lần 2)", day, day,
                       user("leader"), [user("inspector1")],
                       [unit_valid_on("01561", day), unit_valid_on("01567", day)],
                       decision_number="1600/QĐ-UBND", decision_date=date(2021, 10, 1))
    for inspection in trip.inspections:
        for action, who in (("start", "inspector1"), ("submit", "inspector1")):
            transition_inspection(inspection, action, user(who))
        # Only some criteria were filled in: the leader confirms approving with the rest
        # unassessed, with a reason.
        transition_inspection(inspection, "approve", user("leader"), "Kiểm tra một phần",
                              confirm_unanswered=True)
    db.session.commit()
    page = f"/trips/{trip.id}"

    unitrep = app.test_client()
    sign_in(unitrep, form_token, "unitrep")
    assert "Chưa có biên bản chung" in unitrep.get(page).get_data(as_text=True)
    assert "Lập biên bản" not in unitrep.get(page).get_data(as_text=True)

    leader = app.test_client()
    sign_in(leader, form_token, "leader")
    assert "Biên bản chung của đợt kiểm tra" in leader.get(page).get_data(as_text=True)
    built = leader.post(f"{page}/minutes/build", data={
        "csrf_token": form_token(leader, page), "report_due": "2022-01-15",
        "recipients": "Như trên\nUBND tỉnh Cao Bằng (b/c)"}, follow_redirects=True)
    assert "Đã lập biên bản." in built.get_data(as_text=True)
    db.session.expire_all()
    revision = db.session.scalar(select(MinutesRevision).where(MinutesRevision.trip_id == trip.id))
    assert revision is not None and revision.revision == 1
    words = pdf_words(leader.get(f"/api/v1/trips/{trip.id}/minutes.pdf").data)
    assert "PHẦN 1. UBND XÃ VINH QUÝ" in words and "PHẦN 2. UBND XÃ CÔ NGÂN" in words
    assert "Căn cứ Quyết định số 1600/QĐ-UBND ngày 01/10/2021" in words
    assert words.count("trước ngày 15/01/2022.") == 2  # one deadline, for each unit
    assert "Nơi nhận: - Như trên; - UBND tỉnh Cao Bằng (b/c)." in words

    unsigned = leader.get(f"/api/v1/trips/{trip.id}/minutes.pdf").data
    refused = leader.post(f"{page}/minutes/upload", data={
        "csrf_token": form_token(leader, page), "file": (io.BytesIO(unsigned), "bb.pdf")},
        content_type="multipart/form-data", follow_redirects=True).get_data(as_text=True)
    assert "Không chấp nhận tệp đã ký" in refused and "tệp không có chữ ký mới" in refused

    leader.post(f"{page}/minutes/sign", data={"csrf_token": form_token(leader, page)})
    early = unitrep.get(page).get_data(as_text=True)
    assert "Ký số trên máy chủ" in early
    unitrep.post(f"{page}/minutes/sign", data={"csrf_token": form_token(unitrep, page)})
    db.session.expire_all()
    revision = db.session.get(MinutesRevision, revision.id)
    assert [s.signer.username for s in revision.signatures] == ["leader", "unitrep"]
    assert revision.status == "final"  # Vinh Quý has no representative account to sign yet
    assert all(i.state == InspectionState.approved
               for i in db.session.get(Trip, trip.id).inspections)
    outsider = app.test_client()
    sign_in(outsider, form_token, "inspector3")
    assert outsider.get(page).status_code == 404
