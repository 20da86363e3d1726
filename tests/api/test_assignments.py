"""GET /assignments: what a team member's device downloads to work offline."""
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event, func, select

from inspection.extensions import db
from inspection.models import (
    AdminUnit,
    ChangeLog,
    ChecklistVersion,
    Inspection,
    Plan,
    Recommendation,
    User,
)
from inspection.services.planning import create_trip
from inspection.services.units import unit_valid_on
from inspection.services.workflow import transition_inspection

DEMO_UNITS = {"048", "01567", "01561"}
DAY_2026 = date(2026, 4, 15)


def user(username):
    return db.session.scalar(select(User).where(User.username == username))


def assignments(client):
    response = client.get("/api/v1/assignments")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def by_unit(body):
    return {a["inspection"]["unit"]["code"]: a for a in body["assignments"]}


@pytest.mark.parametrize("username,role", [("inspector1", "member"), ("inspector2", "member"),
                                           ("leader", "leader")])
def test_team_members_get_the_trip_inspections_with_all_they_need(demo, login, username, role):
    body = assignments(login(username))
    assert body["user"]["username"] == username
    assert body["server_time"]
    found = by_unit(body)
    assert set(found) == DEMO_UNITS
    versions = {str(v.id): v.document for v in db.session.scalars(select(ChecklistVersion))}
    for assignment in found.values():
        inspection = assignment["inspection"]
        assert inspection["my_role"] == role
        assert inspection["trip"]["plan_number"] == "3199/KH-UBND"
        assert inspection["trip"]["starts_on"] == "2021-10-01"
        assert inspection["scheduled_on"] == "2021-10-01"
        assert {(m["full_name"], m["role"]) for m in inspection["team"]} == {
            ("Nguyễn Văn An", "leader"), ("Trần Thị Bình", "member"), ("Lê Minh Cường", "member")}
        assert inspection["team"][0]["role"] == "leader"
        assert all(m["position"] and m["user_id"] for m in inspection["team"])
        version_id = str(inspection["checklist_version_id"])
        assert body["checklists"][version_id] == versions[version_id]
        assert assignment["photos"] == []
        assert assignment["previous_recommendations"] == []
    assert len(body["checklists"]) == 2  # district and commune (3-level) templates, once each
    district = found["048"]
    assert district["inspection"]["state"] == "in_progress"
    assert district["inspection"]["unit"]["full_name"] == "Huyện Hạ Lang"
    values = {o["item_code"]: o for o in district["observations"]}
    assert values["TTHC.20"]["value"] == 1081
    assert values["TTHC.20"]["version"] == 1
    assert values["TTHC.20"]["updated_by"] == user("inspector1").id
    assert values["CQS.02"]["text"] == "TCVN ISO 9001:2015"
    assert set(values["TTHC.20"]) == {"item_code", "result", "points", "value", "text", "note",
                                      "version", "updated_by", "updated_at"}
    assert found["01567"]["inspection"]["state"] == "approved"
    assert all(o["result"] == "pass" for o in found["01567"]["observations"])
    for assignment in found.values():
        latest = db.session.scalar(select(func.max(ChangeLog.id)).where(
            ChangeLog.inspection_id == assignment["inspection"]["id"]))
        assert assignment["cursor"] == (latest or 0)


@pytest.mark.parametrize("username", ["inspector3", "admin", "unitrep"])
def test_people_who_do_not_use_the_field_app_get_nothing(demo, login, username):
    body = assignments(login(username))
    assert body["assignments"] == []
    assert body["checklists"] == {}
    assert body["user"]["username"] == username


def new_trip_2026(units=("01561",), members=("inspector1",)):
    plan = db.session.scalar(select(Plan))
    trip = create_trip(plan, "Kiểm tra CCHC năm 2026", DAY_2026, DAY_2026, user("leader"),
                       [user(m) for m in members],
                       [unit_valid_on(code, DAY_2026) for code in units])
    db.session.commit()
    return trip


def recommend(inspection, text, status="open", position=0):
    rec = Recommendation(inspection_id=inspection.id, unit_id=inspection.unit_id, text=text,
                         status=status, due_on=date(2021, 12, 31), item_codes=["TTHC.26"],
                         position=position)
    db.session.add(rec)
    db.session.commit()
    return rec


def test_previous_recommendations_follow_the_2025_merger(demo, login):
    """Xã Vinh Quý (2025) absorbed Cô Ngân, An Lạc, Kim Loan and the old Vinh Quý: its 2026
    inspection lists what the 2021 inspections of those communes recommended."""
    old = {i.unit.code: i for i in db.session.scalars(select(Inspection))}
    trip = new_trip_2026()
    [new] = trip.inspections
    assert new.unit.code == "01561" and new.unit.valid_from == date(2025, 7, 1)
    assert new.unit.id != old["01561"].unit_id
    open_rec = recommend(old["01567"], "Niêm yết đầy đủ thủ tục hành chính tại bộ phận một cửa")
    done_rec = recommend(old["01561"], "Cập nhật sổ theo dõi hồ sơ", status="done")
    recommend(old["01567"], "Đã kiểm chứng", status="verified")
    recommend(old["048"], "Kiến nghị cho huyện (không sáp nhập vào xã Vinh Quý)")
    recommend(new, "Kiến nghị của chính lần kiểm tra này")

    new_assignment = next(a for a in assignments(login("inspector1"))["assignments"]
                          if a["inspection"]["id"] == new.id)
    listed = new_assignment["previous_recommendations"]
    assert {r["id"] for r in listed} == {open_rec.id, done_rec.id}
    first = next(r for r in listed if r["id"] == open_rec.id)
    assert first == {"id": open_rec.id, "text": open_rec.text, "due_on": "2021-12-31",
                     "status": "open", "unit_name": "Xã Cô Ngân",
                     "inspection_id": old["01567"].id, "item_codes": ["TTHC.26"]}
    # The 2021 inspections do not list each other's, nor the later ones.
    old_assignment = next(a for a in assignments(login("inspector1"))["assignments"]
                          if a["inspection"]["id"] == old["01567"].id)
    assert old_assignment["previous_recommendations"] == []
    # The 2026 trip is the newest: it comes first.
    assert assignments(login("inspector1"))["assignments"][0]["inspection"]["id"] == new.id
    # inspector2 is not on the 2026 trip.
    assert new.id not in {a["inspection"]["id"]
                          for a in assignments(login("inspector2"))["assignments"]}


def test_the_number_of_queries_does_not_grow_with_the_assignments(demo, login, app):
    client = login("inspector1")

    def queries():
        statements = []

        def count(*args, **kwargs):
            statements.append(args[2])

        engine = db.engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            body = assignments(client)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(statements), len(body["assignments"])

    few, three = queries()
    assert three == 3
    new_trip_2026(units=("01561", "01558", "01537", "01552"))
    many, seven = queries()
    assert seven == 7
    assert many == few, f"{few} queries for 3 inspections, {many} for 7"


def test_times_carry_their_offset(demo, login):
    body = assignments(login("inspector1"))
    stamps = [o["updated_at"] for a in body["assignments"] for o in a["observations"]]
    assert stamps and all(s.endswith("+00:00") for s in stamps)


def as_utc(value: datetime) -> datetime:
    """A stored time as aware UTC (SQLite gives it back without its offset)."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def test_devices_are_told_when_minutes_were_signed_and_how_long_to_keep_them(demo, login, app):
    inspections = {i.unit.code: i for i in db.session.scalars(select(Inspection))}
    signed = inspections["01567"]  # Cô Ngân: approved in the demo; its minutes get signed now
    signed.mark_signed()
    db.session.commit()
    signed_at = signed.state_changed_at

    body = assignments(login("inspector1"))
    assert body["retention_days"] == 30
    found = by_unit(body)
    assert datetime.fromisoformat(found["01567"]["inspection"]["signed_at"]) == as_utc(signed_at)
    assert found["048"]["inspection"]["signed_at"] is None

    # 31 days later the tablet has no use for it any more: it is no longer listed…
    signed.state_changed_at = signed_at - timedelta(days=31)
    db.session.commit()
    assert set(by_unit(assignments(login("inspector1")))) == DEMO_UNITS - {"01567"}
    # …unless the province keeps inspections longer on its tablets.
    app.config["DEVICE_RETENTION_DAYS"] = 45
    body = assignments(login("inspector1"))
    assert body["retention_days"] == 45 and set(by_unit(body)) == DEMO_UNITS
    # A signed inspection whose time is unknown stays listed (never dropped by accident).
    signed.state_changed_at = None
    db.session.commit()
    app.config["DEVICE_RETENTION_DAYS"] = 0
    assert set(by_unit(assignments(login("inspector1")))) == DEMO_UNITS


def test_the_feed_tells_devices_when_an_inspection_was_signed(demo, login):
    inspection = db.session.scalar(select(Inspection).join(Inspection.unit).where(
        AdminUnit.code == "01567"))
    transition_inspection(inspection, "sign", user("leader"), minutes_signed=True)
    db.session.commit()
    changes = login("inspector1").get("/api/v1/sync/pull?since=0&limit=1000").get_json()["changes"]
    change = [c for c in changes
              if c["kind"] == "inspection" and c["inspection_id"] == inspection.id][-1]
    assert change["data"]["state"] == "signed"
    signed_at = datetime.fromisoformat(change["data"]["signed_at"])
    assert signed_at == as_utc(inspection.state_changed_at)
