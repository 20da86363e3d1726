"""Sync over HTTP: pushing ops from devices (merge, conflicts, duplicates, rejections) and pulling
the change feed (DESIGN §4)."""
import uuid
from datetime import date

import pytest
from sqlalchemy import func, select

from inspection.extensions import db
from inspection.models import (
    AppliedOp,
    AuditEvent,
    ChangeLog,
    Conflict,
    Inspection,
    LateSubmission,
    Observation,
    Plan,
    User,
)
from inspection.services.planning import create_trip
from inspection.services.units import unit_valid_on

AT = "2026-03-02T09:15:00+07:00"


def ids_by_code():
    return {i.unit.code: i.id for i in db.session.query(Inspection)}


def op(inspection_id, item_code, fields, base=0, op_id=None):
    return {"op_id": op_id or str(uuid.uuid4()), "type": "observation.set",
            "inspection_id": inspection_id, "item_code": item_code, "base_version": base,
            "fields": fields, "at": AT}


def push(client, ops, device="tablet-1", **kwargs):
    response = client.post("/api/v1/sync/push", json={"device_id": device, "ops": ops},
                           headers={"X-CSRF-Token": client.csrf}, **kwargs)
    assert response.status_code == 200, response.get_json()
    results = response.get_json()["results"]
    assert [r["op_id"] for r in results] == [o["op_id"] for o in ops]
    return results


def observation(inspection_id, item_code):
    db.session.expire_all()
    return db.session.scalar(select(Observation).where(Observation.inspection_id == inspection_id,
                                                       Observation.item_code == item_code))


def count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def user(username):
    return db.session.scalar(select(User).where(User.username == username))


def other_trip(members=("inspector3",), unit_code="01555", day=date(2021, 10, 2)):
    """A second trip of the demo plan (to xã An Lạc), with its own team."""
    plan = db.session.scalar(select(Plan))
    team = [user(name) for name in members]
    trip = create_trip(plan, "Đợt kiểm tra khác", day, day, user("leader"), team,
                       [unit_valid_on(unit_code, day)])
    db.session.commit()
    return trip.inspections[0]


# -- applying ------------------------------------------------------------------------------

def test_a_new_value_is_applied_and_logged(demo, login):
    district = ids_by_code()["048"]
    before = observation(district, "TTHC.20")
    assert before.value == 1081 and before.version == 1
    changes_before = count(ChangeLog)
    client = login("inspector1")
    [result] = push(client,
                    [op(district, "TTHC.20", {"value": 1082, "note": "Sổ theo dõi"}, base=1)])
    assert result["status"] == "applied"
    assert result["version"] == 2
    after = observation(district, "TTHC.20")
    assert (after.value, after.note, after.version) == (1082, "Sổ theo dõi", 2)
    assert after.updated_by_id == user("inspector1").id
    assert after.field_versions["value"] == {"version": 2,
                                             "by": [f"{user('inspector1').id}:tablet-1"], "at": AT}
    assert count(ChangeLog) == changes_before + 1
    entry = db.session.scalar(select(ChangeLog).order_by(ChangeLog.id.desc()))
    assert entry.kind == "observation" and entry.inspection_id == district
    assert entry.payload["item_code"] == "TTHC.20"
    assert entry.payload["value"] == 1082 and entry.payload["version"] == 2
    assert entry.payload["updated_by"] == user("inspector1").id


def test_an_observation_reads_the_same_in_assignments_and_in_the_feed(demo, login):
    """A device gets one shape of an observation whichever way it arrives: in its assignments,
    in the feed entry of a push, and in the feed entry of a change made on the office page."""
    from inspection.services.observations import record_observation

    district = ids_by_code()["048"]
    client = login("inspector1")

    def fed_and_assigned(item_code):
        changes = client.get(f"/api/v1/sync/pull?inspection_id={district}").get_json()["changes"]
        fed = [c["data"] for c in changes
               if c["kind"] == "observation" and c["data"]["item_code"] == item_code][-1]
        [assignment] = [a for a in client.get("/api/v1/assignments").get_json()["assignments"]
                        if a["inspection"]["id"] == district]
        [assigned] = [o for o in assignment["observations"] if o["item_code"] == item_code]
        return fed, assigned

    pushed = op(district, "TTHC.20", {"value": 1082, "note": "Sổ theo dõi"}, base=1)
    push(client, [pushed])
    fed, assigned = fed_and_assigned("TTHC.20")
    # a push's entry also names the op and the device it came from
    assert (fed.pop("op_id"), fed.pop("device_id")) == (pushed["op_id"], "tablet-1")
    assert fed == assigned
    assert (fed["value"], fed["note"], fed["updated_by"]) == (1082, "Sổ theo dõi",
                                                              user("inspector1").id)
    record_observation(db.session.get(Inspection, district), "TTHC.22",
                       {"value": 436, "note": "Sửa"}, user("leader"))
    db.session.commit()
    fed, assigned = fed_and_assigned("TTHC.22")
    assert fed == assigned
    assert (fed["value"], fed["note"], fed["updated_by"]) == (436, "Sửa", user("leader").id)
    assert set(fed) == {"item_code", "result", "points", "value", "text", "note", "version",
                        "updated_by", "updated_at"}


def test_a_duplicate_op_changes_nothing(demo, login):
    district = ids_by_code()["048"]
    client = login("inspector1")
    first = op(district, "TTHC.22", {"value": 435}, base=1)
    [result] = push(client, [first])
    assert result["status"] == "applied"
    state = observation(district, "TTHC.22")
    snapshot = (state.value, state.version, dict(state.field_versions))
    counts = (count(ChangeLog), count(AppliedOp), count(Observation))

    # The device lost the answer and sends the same op again — even with other values.
    again = dict(first, fields={"value": 999})
    [retry] = push(client, [again])
    assert retry["status"] == "duplicate"
    assert retry["version"] == result["version"]
    assert retry["original_status"] == "applied"
    state = observation(district, "TTHC.22")
    assert (state.value, state.version, dict(state.field_versions)) == snapshot
    assert (count(ChangeLog), count(AppliedOp), count(Observation)) == counts


def test_the_same_op_twice_in_one_batch_is_applied_once(demo, login):
    district = ids_by_code()["048"]
    client = login("inspector1")
    once = op(district, "TTHC.23", {"value": 95}, base=1)
    results = push(client, [once, dict(once)])
    assert [r["status"] for r in results] == ["applied", "duplicate"]
    assert observation(district, "TTHC.23").version == 2


def test_two_devices_editing_different_items_are_both_kept(demo, login):
    district = ids_by_code()["048"]
    one, two = login("inspector1"), login("inspector2")
    [a] = push(one, [op(district, "TC.02", {"result": "pass"})], device="tablet-1")
    [b] = push(two, [op(district, "TC.03", {"result": "fail"})], device="tablet-2")
    assert a["status"] == b["status"] == "applied"
    assert observation(district, "TC.02").result == "pass"
    assert observation(district, "TC.03").result == "fail"


def test_different_fields_of_one_item_from_the_same_base_merge(demo, login):
    district = ids_by_code()["048"]
    one, two = login("inspector1"), login("inspector2")
    [a] = push(one, [op(district, "TTHC.20", {"value": 1090}, base=1)], device="tablet-1")
    [b] = push(two, [op(district, "TTHC.20", {"note": "Theo sổ một cửa"}, base=1)],
               device="tablet-2")
    assert a["status"] == "applied"
    assert b["status"] == "merged"
    assert b["version"] == 3
    merged = observation(district, "TTHC.20")
    assert (merged.value, merged.note) == (1090, "Theo sổ một cửa")
    assert count(Conflict) == 0


def test_the_same_field_with_different_values_keeps_both_as_a_conflict(demo, login):
    district = ids_by_code()["048"]
    one, two = login("inspector1"), login("inspector2")
    [a] = push(one, [op(district, "TTHC.25", {"value": 1069, "note": "A"}, base=1)],
               device="tablet-1")
    conflicting = op(district, "TTHC.25", {"value": 1070, "text": "Kiểm tra sổ"}, base=1)
    [b] = push(two, [conflicting], device="tablet-2")
    assert a["status"] == "applied"
    assert b["status"] == "conflict"
    assert b["conflicts"] == ["value"]
    # The stored value stays; the clashing value is kept in the Conflict; the rest is applied.
    kept = observation(district, "TTHC.25")
    assert kept.value == 1069
    assert kept.text == "Kiểm tra sổ"
    assert b["version"] == kept.version
    [conflict] = db.session.scalars(select(Conflict)).all()
    assert (conflict.inspection_id, conflict.item_code,
            conflict.field) == (district, "TTHC.25", "value")
    assert conflict.base_version == 1
    assert conflict.current_value["value"] == 1069
    assert conflict.current_value["by"] == user("inspector1").id
    assert conflict.incoming_value["value"] == 1070
    assert conflict.incoming_value["by"] == user("inspector2").id
    assert conflict.incoming_value["device"] == "tablet-2"
    assert str(conflict.incoming_op_id) == conflicting["op_id"]
    assert conflict.author_id == user("inspector2").id
    entry = db.session.scalar(select(ChangeLog).where(ChangeLog.kind == "observation")
                              .order_by(ChangeLog.id.desc()))
    assert entry.payload["conflicts"] == ["value"]


def test_the_same_value_from_two_devices_is_no_conflict(demo, login):
    district = ids_by_code()["048"]
    one, two = login("inspector1"), login("inspector2")
    push(one, [op(district, "TTHC.26", {"value": 925}, base=1)], device="tablet-1")
    [b] = push(two, [op(district, "TTHC.26", {"value": 925}, base=1)], device="tablet-2")
    assert b["status"] == "merged"
    assert count(Conflict) == 0
    assert observation(district, "TTHC.26").value == 925


def test_a_devices_successive_edits_from_the_same_base_are_no_conflict(demo, login):
    district = ids_by_code()["048"]
    client = login("inspector1")
    # Offline: three edits of the same field, all made from the version the device last saw.
    first = push(client, [op(district, "TTHC.28", {"value": 14}, base=1)])
    rest = push(client, [op(district, "TTHC.28", {"value": 15}, base=1),
                         op(district, "TTHC.28", {"value": 16, "note": "cuối ngày"}, base=1)])
    assert [r["status"] for r in first + rest] == ["applied", "merged", "merged"]
    assert count(Conflict) == 0
    final = observation(district, "TTHC.28")
    assert (final.value, final.note, final.version) == (16, "cuối ngày", 4)


def test_a_devices_older_edit_arriving_late_does_not_undo_its_newer_one(demo, login):
    district = ids_by_code()["048"]
    client = login("inspector1")
    # The device changed the count at 09:00 (answer lost, so it stayed in the outbox) and again
    # at 09:05; the batches reached the server in the opposite order.
    older = dict(op(district, "TTHC.28", {"value": 14, "note": "sáng"}, base=1),
                 at="2026-03-02T09:00:00+07:00")
    newer = dict(op(district, "TTHC.28", {"value": 15}, base=1), at="2026-03-02T09:05:00+07:00")
    [first] = push(client, [newer])
    [late] = push(client, [older])
    assert first["status"] == "applied"
    assert late["status"] == "merged" and late["superseded"] == ["value"]
    final = observation(district, "TTHC.28")
    assert (final.value, final.note) == (15, "sáng")  # the note had no newer edit: it is kept
    assert count(Conflict) == 0
    # Another device's older clock is no reason to drop its edit: that is a conflict as before.
    other = login("inspector2")
    [clash] = push(other, [dict(op(district, "TTHC.28", {"value": 13}, base=1),
                                at="2026-03-02T08:00:00+07:00")], device="tablet-2")
    assert clash["status"] == "conflict" and clash["conflicts"] == ["value"]
    # Sent again, the late op's answer is the same.
    [again] = push(client, [older])
    assert again["status"] == "duplicate" and again["superseded"] == ["value"]


def test_bad_ops_are_rejected_with_reasons_while_the_others_apply(demo, login):
    ids = ids_by_code()
    district = ids["048"]
    elsewhere = other_trip()  # inspector3's trip: inspector1 is not on it
    client = login("inspector1")
    ops = [
        op(district, "TC.02", {"result": "pass"}),
        op(elsewhere.id, "TC.02", {"result": "pass"}),
        op(999999, "TC.02", {"result": "pass"}),
        op(district, "XX.99", {"result": "pass"}),
        op(district, "TC.03", {"result": "maybe"}),
        op(district, "TTHC.20", {"value": "nhiều"}, base=1),
        op(district, "TTHC.20", {"value": True}, base=1),
        op(district, "TTHC.21", {"value": -3}),
        op(district, "TTHC.21", {"value": 2.5}),
        op(district, "CDDH.01", {"points": 5}),
        op(district, "TC.06", {"text": "x" * 10_001}),
        op(district, "TC.06", {"text": 12}),
        op(district, "TC.06", {"colour": "red"}),
        op(district, "TC.06", {}),
        op(district, "TC.04", {"result": "fail", "note": "Chưa niêm yết"}),
    ]
    results = push(client, ops)
    got = [(r["status"], r.get("reason")) for r in results]
    assert got == [
        ("applied", None),
        ("rejected", "not_found"),
        ("rejected", "not_found"),
        ("rejected", "unknown_item"),
        *[("rejected", "invalid_field")] * 10,
        ("applied", None),
    ]
    assert "không được âm" in results[7]["message"]
    assert "số nguyên" in results[8]["message"]
    assert "tối đa" in results[9]["message"]
    assert "10000" in results[10]["message"]
    assert all(r["message"] for r in results if r["status"] == "rejected")
    assert observation(district, "TC.02").result == "pass"
    assert observation(district, "TC.04").note == "Chưa niêm yết"
    assert observation(district, "TC.03") is None
    assert observation(district, "TTHC.20").value == 1081
    assert observation(elsewhere.id, "TC.02") is None
    # Every op is recorded, so retrying a rejected one answers duplicate with the first answer.
    assert count(AppliedOp) == len(ops)
    [retry] = push(client, [ops[3]])
    assert retry == {"op_id": ops[3]["op_id"], "status": "duplicate", "original_status": "rejected",
                     "reason": "unknown_item", "message": results[3]["message"]}


@pytest.mark.parametrize("username,reason", [("inspector3", "not_found"), ("unitrep", "forbidden"),
                                             ("admin", "forbidden")])
def test_people_off_the_team_cannot_record(demo, login, username, reason):
    ids = ids_by_code()
    client = login(username)
    [result] = push(client, [op(ids["01567"], "TC.02", {"result": "fail"})])
    assert (result["status"], result["reason"]) == ("rejected", reason)
    assert count(LateSubmission) == 0


def test_an_approved_inspection_keeps_late_ops_for_the_leader(demo, login):
    co_ngan = ids_by_code()["01567"]
    assert db.session.get(Inspection, co_ngan).state.value == "approved"
    before = observation(co_ngan, "TC.02")
    client = login("inspector1")
    late = op(co_ngan, "TC.02", {"result": "fail", "note": "Bổ sung sau"}, base=before.version)
    [result] = push(client, [late, op(ids_by_code()["048"], "TC.02", {"result": "pass"})])[:1]
    assert (result["status"], result["reason"]) == ("rejected", "locked")
    after = observation(co_ngan, "TC.02")
    assert (after.result, after.version) == (before.result, before.version)
    [kept] = db.session.scalars(select(LateSubmission)).all()
    assert str(kept.op_id) == late["op_id"]
    assert kept.inspection_id == co_ngan
    assert kept.author_id == user("inspector1").id
    assert kept.status == "pending"
    assert kept.payload["item_code"] == "TC.02"
    assert kept.payload["fields"] == {"result": "fail", "note": "Bổ sung sau"}
    assert kept.payload["base_version"] == before.version
    assert kept.payload["device_id"] == "tablet-1"
    [retry] = push(client, [late])
    assert retry["status"] == "duplicate"
    assert count(LateSubmission) == 1


def test_a_first_observation_starts_a_planned_inspection(demo, login):
    planned = other_trip(members=("inspector1",))
    assert planned.state.value == "planned"
    client = login("inspector1")
    [result] = push(client, [op(planned.id, "TC.02", {"result": "pass"})], device="tablet-9")
    assert result["status"] == "applied"
    db.session.expire_all()
    assert db.session.get(Inspection, planned.id).state.value == "in_progress"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "inspection.start",
                                                       AuditEvent.object_id == str(planned.id)))
    assert event is not None
    assert event.device_id == "tablet-9"
    assert event.user_id == user("inspector1").id
    kinds = [c.kind for c in db.session.scalars(
        select(ChangeLog).where(ChangeLog.inspection_id == planned.id).order_by(ChangeLog.id))]
    assert kinds == ["inspection", "observation"]


def test_more_than_500_ops_is_413(demo, login):
    district = ids_by_code()["048"]
    client = login("inspector1")
    ops = [op(district, "TC.02", {"note": str(n)}) for n in range(501)]
    response = client.post("/api/v1/sync/push", json={"device_id": "t", "ops": ops},
                           headers={"X-CSRF-Token": client.csrf})
    assert response.status_code == 413
    body = response.get_json()
    assert body["code"] == "too_many_ops"
    assert "500" in body["message"]
    assert count(AppliedOp) == 0


def test_500_ops_are_accepted(demo, login):
    district = ids_by_code()["048"]
    client = login("inspector1")
    ops = [op(district, "TC.02", {"note": str(n)}, base=0) for n in range(500)]
    results = push(client, ops)
    assert len(results) == 500
    assert {r["status"] for r in results} <= {"applied", "merged"}
    assert observation(district, "TC.02").note == "499"


VALID = {"op_id": "7b1f3c52-4a7e-4d61-9f51-2f7b0c3c9a10", "type": "observation.set",
         "inspection_id": 1, "item_code": "TC.02", "base_version": 0, "fields": {"result": "pass"},
         "at": AT}


MALFORMED = [
    {"data": "{not json", "content_type": "application/json"},
    {"data": "device_id=x", "content_type": "application/x-www-form-urlencoded"},
    {"json": ["tablet", []]},
    {"json": {"ops": [VALID]}},
    {"json": {"device_id": "t"}},
    {"json": {"device_id": "", "ops": [VALID]}},
    {"json": {"device_id": "t" * 101, "ops": [VALID]}},
    {"json": {"device_id": "t", "ops": "many"}},
    {"json": {"device_id": "t", "ops": [{k: v for k, v in VALID.items() if k != "op_id"}]}},
    {"json": {"device_id": "t", "ops": [dict(VALID, op_id="not-a-uuid")]}},
    {"json": {"device_id": "t", "ops": [dict(VALID, type="observation.delete")]}},
    {"json": {"device_id": "t", "ops": [dict(VALID, base_version=-1)]}},
    {"json": {"device_id": "t", "ops": [dict(VALID, inspection_id="1")]}},
    {"json": {"device_id": "t", "ops": [dict(VALID, fields=["result", "pass"])]}},
    {"json": {"device_id": "t", "ops": [dict(VALID, at="yesterday")]}},
    {"json": {"device_id": "t", "ops": [{k: v for k, v in VALID.items() if k != "item_code"}]}},
]


def test_malformed_pushes_are_422_and_change_nothing(demo, login):
    client = login("inspector1")
    for kwargs in MALFORMED:
        response = client.post("/api/v1/sync/push", headers={"X-CSRF-Token": client.csrf}, **kwargs)
        assert response.status_code == 422, (kwargs, response.get_json())
        body = response.get_json()
        assert body["code"] == "invalid", kwargs
        assert body["message"], kwargs
    assert count(AppliedOp) == 0


def test_push_needs_the_csrf_header(demo, login):
    district = ids_by_code()["048"]
    client = login("inspector1")
    response = client.post("/api/v1/sync/push",
                           json={"device_id": "t",
                                 "ops": [op(district, "TC.02", {"result": "pass"})]})
    assert response.status_code == 400
    assert response.get_json()["code"] == "csrf_failed"
    assert count(AppliedOp) == 0
    assert observation(district, "TC.02") is None


def test_sync_needs_a_session(demo, client):
    assert client.post("/api/v1/sync/push", json={"device_id": "t", "ops": []}).status_code == 401
    assert client.get("/api/v1/sync/pull").status_code == 401
    assert client.get("/api/v1/assignments").status_code == 401


def test_an_empty_push_is_fine(demo, login):
    assert push(login("inspector1"), []) == []


# -- pulling -------------------------------------------------------------------------------

def pull(client, **params):
    response = client.get("/api/v1/sync/pull", query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_pull_pages_through_the_feed_by_cursor(demo, login):
    district = ids_by_code()["048"]
    one = login("inspector1")
    push(one, [op(district, f"TC.0{n}", {"result": "pass"}) for n in range(2, 6)])
    everything = pull(login("leader"), since=0, limit=1000)
    assert everything["more"] is False
    cursors = [c["cursor"] for c in everything["changes"]]
    assert cursors == sorted(cursors) and len(set(cursors)) == len(cursors)
    assert everything["cursor"] == cursors[-1] == db.session.scalar(select(func.max(ChangeLog.id)))
    # The same feed, two at a time.
    leader, seen, since = login("leader"), [], 0
    while True:
        page = pull(leader, since=since, limit=2)
        assert len(page["changes"]) <= 2
        seen.extend(page["changes"])
        assert page["cursor"] == (page["changes"][-1]["cursor"] if page["changes"] else since)
        since = page["cursor"]
        if not page["more"]:
            break
    assert seen == everything["changes"]
    # Nothing new: an empty page that keeps the cursor.
    assert pull(leader, since=since) == {"changes": [], "cursor": since, "more": False}
    # Changes from another device arrive after the cursor, from any author.
    push(login("inspector2"), [op(district, "TC.02", {"note": "thêm"}, base=1)], device="tablet-2")
    fresh = pull(leader, since=since)
    assert [c["data"]["item_code"] for c in fresh["changes"]] == ["TC.02"]
    assert fresh["changes"][0]["data"]["note"] == "thêm"
    assert fresh["changes"][0]["kind"] == "observation"
    assert fresh["changes"][0]["inspection_id"] == district


def test_pull_shows_only_inspections_the_user_may_see(demo, login):
    ids = ids_by_code()
    elsewhere = other_trip(members=("inspector3",))
    push(login("inspector3"), [op(elsewhere.id, "TC.02", {"result": "pass"})], device="t3")
    push(login("inspector1"), [op(ids["048"], "TC.02", {"result": "pass"})])

    def inspections(username, **params):
        return {c["inspection_id"] for c in pull(login(username), limit=1000, **params)["changes"]}

    assert inspections("inspector3") == {elsewhere.id}
    assert elsewhere.id not in inspections("inspector1")
    assert ids["048"] in inspections("inspector1")
    assert inspections("unitrep") <= {ids["01567"]}
    assert inspections("admin") >= {elsewhere.id, ids["048"]}
    assert inspections("inspector1", inspection_id=ids["048"]) == {ids["048"]}
    refused = login("inspector1").get("/api/v1/sync/pull",
                                      query_string={"inspection_id": elsewhere.id})
    assert refused.status_code == 404


def test_pull_refuses_bad_parameters(demo, login):
    leader = login("leader")
    for params in ({"limit": 0}, {"limit": 1001}, {"since": -1}, {"since": "x"}):
        response = leader.get("/api/v1/sync/pull", query_string=params)
        assert response.status_code == 422, params
        assert response.get_json()["code"] == "invalid"


def test_push_and_pull_are_in_the_openapi_document(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert "post" in paths["/api/v1/sync/push"]
    assert "get" in paths["/api/v1/sync/pull"]
    assert "get" in paths["/api/v1/assignments"]


def test_the_fast_push_parser_agrees_with_the_schema():
    """load_push checks well-formed batches by hand and leaves the rest to PushSchema: whatever
    the hand check accepts, the schema accepts with the same result."""
    from inspection.schemas.sync import PushSchema, _fast_load_push

    valid = [
        {"device_id": "t", "ops": [VALID]},
        {"device_id": "t", "ops": []},
        {"device_id": "t" * 100,
         "ops": [dict(VALID, at="2026-03-02T09:15:00"), dict(VALID, fields={})]},
        {"device_id": "t", "extra": 1, "ops": [dict(VALID, local_seq=4, fields={"note": None})]},
    ]
    for body in valid:
        assert _fast_load_push(body) == PushSchema().load(body)
    for case in MALFORMED:
        if "json" in case:
            assert _fast_load_push(case["json"]) is None, case
    # Cases the hand check leaves to the schema (which may accept them).
    assert _fast_load_push({"device_id": "t", "ops": [dict(VALID, inspection_id=True)]}) is None
    assert _fast_load_push({"device_id": "t", "ops": [dict(VALID, fields={1: "x"})]}) is None


def test_pushed_results_keep_the_score_snapshots_current(demo, login):
    from inspection.models import InspectionScore

    district = ids_by_code()["048"]
    before = db.session.get(InspectionScore, district)
    answered = before.answered if before else 0
    push(login("inspector1"), [op(district, "TC.02", {"result": "pass"}),
                               op(district, "TC.03", {"result": "fail"})])
    db.session.expire_all()
    after = db.session.get(InspectionScore, district)
    assert after.answered == answered + 2
