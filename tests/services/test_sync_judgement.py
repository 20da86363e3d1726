"""A result and what explains it are decided together (issue 14, "Merges mix two people's
judgements"); tablets learn when the leader has settled a conflict or a late change; photos are
captioned and deleted through sync ops until approval."""
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from inspection.extensions import db
from inspection.models import (
    AuditEvent,
    Conflict,
    Inspection,
    LateSubmission,
    Observation,
    Photo,
    User,
)
from inspection.services import review
from inspection.services.feed import pull_changes
from inspection.services.sync import apply_ops, assignments_for


def user(username):
    return db.session.scalar(select(User).where(User.username == username))


def inspection(code="048"):
    return next(i for i in db.session.query(Inspection) if i.unit.code == code)


def op(inspection_id, item_code, fields, base=0, op_type="observation.set"):
    return {"op_id": uuid.uuid4(), "type": op_type, "inspection_id": inspection_id,
            "item_code": item_code, "base_version": base, "fields": fields, "at": None}


def run(username, device, ops):
    results = apply_ops(user(username), device, ops)
    db.session.commit()
    return results


def obs(inspection_id, code):
    db.session.expire_all()
    return db.session.scalar(select(Observation).where(Observation.inspection_id == inspection_id,
                                                       Observation.item_code == code))


def open_conflicts(inspection_id):
    db.session.expire_all()
    return db.session.scalars(select(Conflict).where(Conflict.inspection_id == inspection_id,
                                                     Conflict.resolved_at.is_(None))
                              .order_by(Conflict.id)).all()


def feed(inspection_id, kind):
    return [c for c in pull_changes(user("leader"), 0, inspection_id, 1000)["changes"]
            if c["kind"] == kind]


@pytest.fixture
def disagreement(demo):
    """inspector1 says TC.02 passes; inspector2, from the same base, says it fails."""
    target = inspection().id
    run("inspector1", "a", [op(target, "TC.02", {"result": "pass"})])
    return target


def test_a_note_sent_with_a_result_in_conflict_waits_with_it(disagreement):
    [result] = run("inspector2", "b", [
        op(disagreement, "TC.02", {"result": "fail", "note": "Chưa niêm yết thủ tục"})])
    assert (result["status"], result["conflicts"], result["held"]) == \
        ("conflict", ["result"], ["note"])
    found = obs(disagreement, "TC.02")
    # The minutes can no longer print "Đạt" next to a note saying the criterion is not met.
    assert (found.result, found.note) == ("pass", None)
    [conflict] = open_conflicts(disagreement)
    assert conflict.incoming_value["value"] == "fail"
    assert conflict.incoming_value["with"] == {"note": "Chưa niêm yết thủ tục"}
    assert conflict.current_value["with"] == {"points": None, "note": None}


def test_a_note_typed_after_the_result_in_the_same_push_waits_too(disagreement):
    results = run("inspector2", "b", [op(disagreement, "TC.02", {"result": "fail"}),
                                      op(disagreement, "TC.02", {"note": "Không đạt"})])
    assert [r["status"] for r in results] == ["conflict", "conflict"]
    assert results[1]["held"] == ["note"] and "conflicts" not in results[1]
    assert obs(disagreement, "TC.02").note is None
    [conflict] = open_conflicts(disagreement)
    assert conflict.incoming_value["with"] == {"note": "Không đạt"}


def test_a_later_note_waits_and_the_leaders_choice_applies_both(disagreement):
    [first] = run("inspector2", "b", [op(disagreement, "TC.02", {"result": "fail"})])
    # A later push (the next sync) of the same inspector's note, then an edit of it.
    run("inspector2", "b", [op(disagreement, "TC.02", {"note": "Thiếu hồ sơ"},
                               base=first["version"])])
    [again] = run("inspector2", "b", [op(disagreement, "TC.02", {"note": "Thiếu 3 hồ sơ"},
                                         base=first["version"])])
    assert again["held"] == ["note"]
    assert obs(disagreement, "TC.02").note is None
    # A teammate's note on another item is not held.
    [other] = run("inspector2", "b", [op(disagreement, "TC.03", {"note": "Đủ"})])
    assert other["status"] == "applied"

    [conflict] = open_conflicts(disagreement)
    review.resolve_conflict(conflict, user("leader"), "incoming")
    db.session.commit()
    found = obs(disagreement, "TC.02")
    assert (found.result, found.note) == ("fail", "Thiếu 3 hồ sơ")
    # Settled: the inspector's next note applies as usual.
    [free] = run("inspector2", "b", [op(disagreement, "TC.02", {"note": "Đã bổ sung"},
                                        base=found.version)])
    assert free["status"] == "applied" and obs(disagreement, "TC.02").note == "Đã bổ sung"


def test_keeping_the_current_result_drops_the_proposals_note_from_the_record(disagreement):
    run("inspector1", "a", [op(disagreement, "TC.02", {"note": "Đã niêm yết đầy đủ"}, base=1)])
    run("inspector2", "b", [op(disagreement, "TC.02", {"result": "fail", "note": "Chưa niêm yết"})])
    # Both fields clashed (inspector1 had written a note too): one decision settles both.
    conflict, note_conflict = open_conflicts(disagreement)
    assert (conflict.field, note_conflict.field) == ("result", "note")
    assert conflict.current_value["with"]["note"] == "Đã niêm yết đầy đủ"
    assert conflict.incoming_value["with"] == {"note": "Chưa niêm yết"}
    review.resolve_conflict(conflict, user("leader"), "current")
    db.session.commit()
    found = obs(disagreement, "TC.02")
    assert (found.result, found.note) == ("pass", "Đã niêm yết đầy đủ")
    assert open_conflicts(disagreement) == []
    assert db.session.get(Conflict, note_conflict.id).resolution["choice"] == "current"


def test_a_note_applied_before_its_result_clashed_is_taken_back(disagreement):
    # inspector2 worked offline from nothing (base 0): its note reaches the server first (no one
    # else wrote a note: no clash), then its result clashes with inspector1's. The note goes
    # back to what it was and waits in the Conflict with the result it explains.
    results = run("inspector2", "b", [op(disagreement, "TC.02", {"note": "Không đạt: thiếu"})])
    assert (results[0]["status"] == "merged"
            and obs(disagreement, "TC.02").note == "Không đạt: thiếu")
    [result] = run("inspector2", "b", [op(disagreement, "TC.02", {"result": "fail"})])
    assert result["status"] == "conflict" and result["held"] == ["note"]
    found = obs(disagreement, "TC.02")
    assert (found.result, found.note) == ("pass", None)
    [conflict] = open_conflicts(disagreement)
    assert conflict.incoming_value["with"] == {"note": "Không đạt: thiếu"}
    assert conflict.current_value["with"]["note"] is None
    [entry] = [c for c in feed(disagreement, "observation")
               if c["data"].get("op_id") == result["op_id"]]
    assert entry["data"]["note"] is None and "note" in entry["data"]["reverted"]
    # A note of inspector1 (whose result is kept) applies as usual.
    [kept] = run("inspector1", "a", [op(disagreement, "TC.02", {"note": "Đã niêm yết"},
                                        base=found.version)])
    assert kept["status"] == "applied" and obs(disagreement, "TC.02").note == "Đã niêm yết"


def test_result_and_points_in_conflict_are_one_decision(demo):
    target = inspection().id
    run("inspector1", "a", [op(target, "CDDH.01", {"result": "pass", "points": 2})])
    run("inspector2", "b", [op(target, "CDDH.01",
                               {"result": "fail", "points": 0, "note": "Thiếu"})])
    conflicts = open_conflicts(target)
    assert sorted(c.field for c in conflicts) == ["points", "result"]
    result_conflict = next(c for c in conflicts if c.field == "result")
    assert result_conflict.incoming_value["with"] == {"note": "Thiếu", "points": 0}
    review.resolve_conflict(result_conflict, user("leader"), "incoming")
    db.session.commit()
    found = obs(target, "CDDH.01")
    assert (found.result, found.points, found.note) == ("fail", 0, "Thiếu")
    assert open_conflicts(target) == []


def test_a_newer_result_of_the_same_inspector_frees_its_notes(disagreement):
    [first] = run("inspector2", "b", [op(disagreement, "TC.02", {"result": "fail"})])
    # inspector2 pulled, saw the kept value and agreed with it (a fresh base): its notes apply.
    run("inspector2", "b", [op(disagreement, "TC.02", {"result": "pass"}, base=first["version"])])
    [note] = run("inspector2", "b", [op(disagreement, "TC.02", {"note": "Đạt sau khi xem lại"},
                                        base=first["version"])])
    assert note["status"] in ("applied", "merged") and "held" not in note
    assert obs(disagreement, "TC.02").note == "Đạt sau khi xem lại"


def test_tablets_learn_what_is_open_and_when_it_is_settled(disagreement):
    run("inspector2", "b", [op(disagreement, "TC.02", {"result": "fail", "note": "Không đạt"})])
    # The inspector whose value was kept sees the disagreement: in the feed and the assignments.
    [opened] = feed(disagreement, "conflicts")
    assert opened["data"]["item_code"] == "TC.02"
    [shown] = opened["data"]["open"]
    assert shown["current"] == {"value": "pass", "by": user("inspector1").id,
                                "with": {"points": None, "note": None}}
    assert shown["incoming"]["value"] == "fail" and shown["incoming"]["by"] == user("inspector2").id
    assert shown["incoming"]["with"] == {"note": "Không đạt"}
    mine = next(a for a in assignments_for(user("inspector1"))["assignments"]
                if a["inspection"]["id"] == disagreement)
    assert [c["item_code"] for c in mine["conflicts"]] == ["TC.02"]

    review.resolve_conflict(open_conflicts(disagreement)[0], user("leader"), "current")
    db.session.commit()
    settled = feed(disagreement, "conflicts")[-1]
    assert settled["data"] == {"item_code": "TC.02", "open": []}
    mine = next(a for a in assignments_for(user("inspector2"))["assignments"]
                if a["inspection"]["id"] == disagreement)
    assert mine["conflicts"] == []


def test_a_late_change_is_listed_until_the_leader_decides(demo):
    approved = inspection("01567")
    before = obs(approved.id, "TC.02")
    [result] = run("inspector1", "a", [op(approved.id, "TC.02", {"result": "fail"},
                                          base=before.version)])
    assert (result["status"], result["reason"]) == ("rejected", "locked")
    mine = next(a for a in assignments_for(user("inspector1"))["assignments"]
                if a["inspection"]["id"] == approved.id)
    assert [late["op_id"] for late in mine["late_submissions"]] == [result["op_id"]]
    late = db.session.scalar(select(LateSubmission))
    review.decide_late_submission(late, user("leader"), accept=True)
    db.session.commit()
    [decided] = feed(approved.id, "late_submission")
    assert decided["data"] == {"op_id": result["op_id"], "item_code": "TC.02", "status": "accepted"}
    mine = next(a for a in assignments_for(user("inspector1"))["assignments"]
                if a["inspection"]["id"] == approved.id)
    assert mine["late_submissions"] == []


# --- photos: caption and delete ----------------------------------------------------------------


def add_photo(target, author="inspector1", caption=""):
    photo = Photo(client_uuid=uuid.uuid4(), inspection_id=target.id, item_code="TC.06",
                  sha256="ab" * 32, size=1000, width=10, height=10, content_type="image/jpeg",
                  captured_at=datetime(2021, 10, 1, 9, 0, tzinfo=UTC), caption=caption,
                  author_id=user(author).id)
    db.session.add(photo)
    db.session.commit()
    return photo


def photo_op(target, photo, kind, **fields):
    return op(target.id, "TC.06", {"photo": str(photo.client_uuid), **fields}, op_type=kind)


def test_a_photo_is_captioned_and_the_team_sees_it(demo):
    target = inspection()
    photo = add_photo(target)
    [result] = run("inspector1", "a", [photo_op(target, photo, "photo.caption",
                                                caption=" Bảng niêm yết ")])
    assert result["status"] == "applied"
    db.session.expire_all()
    assert db.session.get(Photo, photo.id).caption == "Bảng niêm yết"
    [change] = [c for c in feed(target.id, "photo") if c["data"].get("op_id") == result["op_id"]]
    assert change["data"]["caption"] == "Bảng niêm yết"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "photo.caption"))
    assert event.details == {"before": "", "after": "Bảng niêm yết"}


def test_a_photo_is_deleted_before_approval_and_the_audit_keeps_it(demo):
    target = inspection()
    photo = add_photo(target, caption="Ảnh nhầm")
    photo_id, client_uuid = photo.id, str(photo.client_uuid)
    # Only its author or the leader may delete it.
    [refused] = run("inspector2", "b", [photo_op(target, photo, "photo.delete")])
    assert (refused["status"], refused["reason"]) == ("rejected", "forbidden")
    assert "người chụp" in refused["message"]
    [result] = run("leader", "l", [photo_op(target, photo, "photo.delete")])
    assert result["status"] == "applied"
    db.session.expire_all()
    assert db.session.get(Photo, photo_id) is None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "photo.delete"))
    assert (event.object_id, event.user_id, event.device_id) == \
        (str(photo_id), user("leader").id, "l")
    assert event.details["caption"] == "Ảnh nhầm" and event.details["sha256"] == "ab" * 32
    [change] = [c for c in feed(target.id, "photo") if c["data"].get("deleted")]
    assert change["data"]["client_uuid"] == client_uuid
    # Another device deleting it too: nothing left to do, not an error.
    again = op(target.id, "TC.06", {"photo": client_uuid}, op_type="photo.delete")
    assert run("inspector1", "a", [again])[0]["status"] == "applied"


def test_photos_of_an_approved_inspection_are_final(demo):
    approved = inspection("01567")
    photo = add_photo(approved)
    results = run("inspector1", "a", [photo_op(approved, photo, "photo.caption", caption="x"),
                                      photo_op(approved, photo, "photo.delete")])
    assert [(r["status"], r["reason"]) for r in results] == [("rejected", "photo_locked")] * 2
    assert "đã được duyệt" in results[0]["message"]
    db.session.expire_all()
    assert db.session.get(Photo, photo.id).caption == ""
    assert db.session.scalar(select(LateSubmission)) is None


def test_a_bad_photo_op_is_rejected_with_a_reason(demo):
    target = inspection()
    photo = add_photo(target)
    results = run("inspector1", "a", [
        op(target.id, "TC.06", {"photo": "not-a-uuid"}, op_type="photo.caption"),
        op(target.id, "TC.06", {"photo": str(uuid.uuid4()), "caption": "x"},
           op_type="photo.caption"),
        photo_op(target, photo, "photo.caption", caption=12),
        photo_op(target, photo, "photo.caption", caption="x" * 2001),
    ])
    assert [r.get("reason") for r in results] == ["invalid_field", "photo_not_found",
                                                  "invalid_field", "invalid_field"]
    assert all(r["message"] for r in results)
    assert not [c for c in feed(target.id, "photo") if c["data"].get("op_id") in
                {r["op_id"] for r in results}]


def test_the_assignments_answer_carries_open_conflicts_and_late_changes(disagreement, login):
    run("inspector2", "b", [op(disagreement, "TC.02", {"result": "fail", "note": "Không đạt"})])
    answer = login("inspector1").get("/api/v1/assignments").get_json()
    entry = next(a for a in answer["assignments"] if a["inspection"]["id"] == disagreement)
    [conflict] = entry["conflicts"]
    assert conflict["current"]["with"] == {"points": None, "note": None}
    assert (conflict["incoming"]["value"], conflict["incoming"]["with"]) == \
        ("fail", {"note": "Không đạt"})
    assert entry["late_submissions"] == []


def test_the_leader_sees_the_note_that_comes_with_a_proposal(disagreement, client, form_token):
    run("inspector2", "b", [op(disagreement, "TC.02", {"result": "fail", "note": "Chưa niêm yết"})])
    response = client.post("/login", data={"username": "leader", "password": "demo1234",
                                           "csrf_token": form_token(client, "/login")})
    assert response.status_code in (200, 302)
    page = client.get(f"/inspections/{disagreement}").get_data(as_text=True)
    assert "Đi kèm đề xuất (áp dụng cùng nếu chọn giá trị mới gửi):" in page
    card = page[page.index('id="conflicts"'):page.index('id="results"')]
    # In words, beside the result it explains: the field's name, not its code.
    assert "Ghi chú: Chưa niêm yết" in card and "note" not in card


def test_every_clash_tells_the_team_not_only_judgements(demo):
    target = inspection().id
    # The office entered 1081 for TTHC.20; a tablet that never saw it sends 1000.
    [result] = run("inspector1", "a", [op(target, "TTHC.20", {"value": 1000})])
    assert result["status"] == "conflict" and "held" not in result
    [entry] = feed(target, "conflicts")
    assert entry["data"]["item_code"] == "TTHC.20"
    [shown] = entry["data"]["open"]
    assert (shown["field"], shown["current"]["value"], shown["incoming"]["value"]) == \
        ("value", 1081, 1000)
