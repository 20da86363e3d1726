"""Samples of repeat groups over the sync API (DESIGN §4): sample.set and sample.delete with
idempotency, field merge, conflicts, tombstones, bounds and refusals; assignments and the pull
feed carry them; the evaluation reads them."""
import uuid
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from inspection.errors import ValidationFailed
from inspection.extensions import db
from inspection.models import (
    Conflict,
    Inspection,
    InspectionState,
    LateSubmission,
    Plan,
    Sample,
    User,
)
from inspection.services.checklists import import_checklist
from inspection.services.planning import create_trip
from inspection.services.review import (
    decide_late_submission,
    described_conflicts,
    described_late_submissions,
    resolve_conflict,
)
from inspection.services.units import unit_valid_on

AT = "2026-03-02T09:15:00+07:00"

EXAMPLE = Path(__file__).resolve().parents[2] / "docs/examples/cchc-xa-2cap-caobang.json"

DOSSIER = {"HS.MA": "000.00.12.H10-250801-0001", "HS.NHAN": "2025-08-01",
           "HS.HEN": "2025-08-10", "HS.TRA": "2025-08-09", "HS.XINLOI": False}


def user(username):
    return db.session.scalar(select(User).where(User.username == username))


def count(model):
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def push(client, ops, device="tablet-1"):
    response = client.post("/api/v1/sync/push", json={"device_id": device, "ops": ops},
                           headers={"X-CSRF-Token": client.csrf})
    assert response.status_code == 200, response.get_json()
    results = response.get_json()["results"]
    assert [r["op_id"] for r in results] == [o["op_id"] for o in ops]
    return results


def op(inspection_id, item_code, fields, base=0):
    return {"op_id": str(uuid.uuid4()), "type": "observation.set",
            "inspection_id": inspection_id, "item_code": item_code, "base_version": base,
            "fields": fields, "at": AT}


@pytest.fixture
def sampled(demo):
    """An inspection of the team inspector1 + inspector2 on the example checklist with its
    group HS of 5–10 sampled dossiers."""
    version, _ = import_checklist(EXAMPLE.read_bytes(), publish=True)
    day = date(2021, 10, 2)
    trip = create_trip(db.session.scalar(select(Plan)), "Đợt kiểm tra hồ sơ mẫu", day, day,
                       user("leader"), [user("inspector1"), user("inspector2")],
                       [unit_valid_on("01555", day)])
    inspection = trip.inspections[0]
    inspection.checklist_version_id = version.id
    db.session.commit()
    return inspection.id


def sample_op(inspection_id, sample_id, fields=None, base=0, kind="sample.set", group="HS"):
    body = {"op_id": str(uuid.uuid4()), "type": kind, "inspection_id": inspection_id,
            "group": group, "sample_id": str(sample_id), "base_version": base, "at": AT}
    if fields is not None:
        body["fields"] = fields
    return body


def stored(sample_id):
    db.session.expire_all()
    return db.session.scalar(select(Sample).where(Sample.client_uuid == sample_id))


def test_a_sample_is_stored_once_and_devices_learn_of_it(sampled, login):
    client = login("inspector1")
    sample_id = uuid.uuid4()
    first = sample_op(sampled, sample_id, DOSSIER)
    [result] = push(client, [first])
    assert result["status"] == "applied" and result["version"] == 1
    assert stored(sample_id).values == DOSSIER
    [again] = push(client, [first])
    assert again["status"] == "duplicate" and again["original_status"] == "applied"
    assert count(Sample) == 1

    other = login("inspector2")
    listed = other.get("/api/v1/assignments").get_json()
    mine = next(a for a in listed["assignments"] if a["inspection"]["id"] == sampled)
    assert mine["samples"] == [{"group": "HS", "sample_id": str(sample_id), "fields": DOSSIER,
                                "version": 1, "deleted": False,
                                "created_at": mine["samples"][0]["created_at"]}]
    pulled = other.get(f"/api/v1/sync/pull?inspection_id={sampled}").get_json()["changes"]
    feed = [c["data"] for c in pulled if c["kind"] == "sample"]
    assert [(d["sample_id"], d["fields"], d["deleted"]) for d in feed] == [
        (str(sample_id), DOSSIER, False)]
    # The first sample started the planned inspection.
    assert db.session.get(Inspection, sampled).state == InspectionState.in_progress


def test_edits_merge_field_by_field_and_a_clash_is_kept_for_the_leader(sampled, login):
    sample_id = uuid.uuid4()
    push(login("inspector1"), [sample_op(sampled, sample_id, DOSSIER)], device="tablet-a")
    a, b = login("inspector1"), login("inspector2")
    [mine] = push(a, [sample_op(sampled, sample_id, {"HS.TRA": "2025-08-12"}, base=1)],
                  device="tablet-a")
    assert mine["status"] == "applied" and mine["version"] == 2
    # From the same base, another device: another field merges, the same field clashes.
    [theirs] = push(b, [sample_op(sampled, sample_id, {"HS.XINLOI": True,
                                                       "HS.TRA": "2025-08-11"}, base=1)],
                    device="tablet-b")
    assert theirs["status"] == "conflict" and theirs["conflicts"] == ["HS.TRA"]
    sample = stored(sample_id)
    assert sample.values["HS.TRA"] == "2025-08-12" and sample.values["HS.XINLOI"] is True
    conflict = db.session.scalar(select(Conflict).where(Conflict.inspection_id == sampled))
    assert conflict.item_code == "HS" and conflict.field == "sample"
    assert (conflict.current_value["value"], conflict.incoming_value["value"]) == (
        "2025-08-12", "2025-08-11")
    # The leader reads it in words: the group, the sample's field, both dates.
    [words] = described_conflicts(db.session.get(Inspection, sampled))
    assert words["title_vi"] == "Hồ sơ kiểm tra xác suất"
    assert words["field_vi"].endswith("Ngày trả kết quả")
    assert (words["current_vi"], words["incoming_vi"]) == ("2025-08-12", "2025-08-11")
    with pytest.raises(ValidationFailed):  # a sample's conflict: one side or the other
        resolve_conflict(conflict, user("leader"), "custom", "2025-08-13")
    db.session.rollback()
    # A stale edit of a field nobody else touched is merged.
    [merged] = push(b, [sample_op(sampled, sample_id, {"HS.MA": "HS-2"}, base=1)],
                    device="tablet-b")
    assert merged["status"] == "merged"
    assert stored(sample_id).values["HS.MA"] == "HS-2"
    # The leader takes the proposal.
    resolve_conflict(conflict, user("leader"),
                     "incoming")
    db.session.commit()
    assert stored(sample_id).values["HS.TRA"] == "2025-08-11"


def test_refusals_name_the_group_the_field_or_the_bound(sampled, login):
    client = login("inspector1")
    results = push(client, [
        sample_op(sampled, uuid.uuid4(), DOSSIER, group="XX"),
        sample_op(sampled, uuid.uuid4(), {"HS.KHAC": 1}),
        sample_op(sampled, uuid.uuid4(), {"HS.NHAN": "mùng 1"}),
        sample_op(sampled, uuid.uuid4(), {"HS.XINLOI": "có"}),
    ])
    assert [(r["status"], r["reason"]) for r in results] == [
        ("rejected", "unknown_group"), ("rejected", "unknown_field"),
        ("rejected", "invalid_field"), ("rejected", "invalid_field")]
    assert "XX" in results[0]["message"] and "HS.KHAC" in results[1]["message"]
    assert "YYYY-MM-DD" in results[2]["message"]
    assert count(Sample) == 0
    ten = push(client, [sample_op(sampled, uuid.uuid4(), DOSSIER) for _ in range(10)])
    assert {r["status"] for r in ten} == {"applied"}
    [eleventh] = push(client, [sample_op(sampled, uuid.uuid4(), DOSSIER)])
    assert (eleventh["status"], eleventh["reason"]) == ("rejected", "too_many")
    assert "10" in eleventh["message"]
    # Without a group or sample id the request is malformed.
    bad = sample_op(sampled, uuid.uuid4(), DOSSIER)
    del bad["sample_id"]
    response = client.post("/api/v1/sync/push", json={"device_id": "t", "ops": [bad]},
                           headers={"X-CSRF-Token": client.csrf})
    assert response.status_code == 422


def test_a_deletion_is_a_tombstone_that_an_edit_cannot_undo_silently(sampled, login):
    a, b = login("inspector1"), login("inspector2")
    sample_id = uuid.uuid4()
    push(a, [sample_op(sampled, sample_id, DOSSIER)], device="tablet-a")
    [deleted] = push(a, [sample_op(sampled, sample_id, kind="sample.delete", base=1)],
                     device="tablet-a")
    assert deleted["status"] == "applied"
    assert stored(sample_id).deleted and stored(sample_id).values == DOSSIER
    listed = b.get("/api/v1/assignments").get_json()
    mine = next(x for x in listed["assignments"] if x["inspection"]["id"] == sampled)
    assert [s["deleted"] for s in mine["samples"]] == [True]
    # A teammate's edit made before the deletion arrives late: a conflict, not a resurrection.
    [late] = push(b, [sample_op(sampled, sample_id, {"HS.MA": "HS-9"}, base=1)],
                  device="tablet-b")
    assert late["status"] == "conflict"
    assert stored(sample_id).deleted
    conflict = db.session.scalar(select(Conflict).where(Conflict.field == "sample.deleted"))
    resolve_conflict(conflict, user("leader"),
                     "incoming")
    db.session.commit()
    assert not stored(sample_id).deleted and stored(sample_id).values["HS.MA"] == "HS-9"
    # Deleting a sample a teammate edited after this device saw it: the leader decides.
    version = stored(sample_id).version
    [edit] = push(b, [sample_op(sampled, sample_id, {"HS.MA": "HS-10"}, base=version)],
                  device="tablet-b")
    assert edit["status"] == "applied"
    [clash] = push(a, [sample_op(sampled, sample_id, kind="sample.delete", base=version)],
                   device="tablet-a")
    assert clash["status"] == "conflict" and not stored(sample_id).deleted
    # Deleting what is already gone changes nothing.
    gone = uuid.uuid4()
    assert push(a, [sample_op(sampled, gone, kind="sample.delete")])[0]["status"] == "applied"
    assert push(a, [sample_op(sampled, gone, kind="sample.delete")])[0]["status"] == "applied"


def test_after_approval_a_sample_waits_for_the_leader(sampled, login):
    inspection = db.session.get(Inspection, sampled)
    inspection.state = InspectionState.approved
    db.session.commit()
    sample_id = uuid.uuid4()
    [result] = push(login("inspector1"), [sample_op(sampled, sample_id, DOSSIER)])
    assert (result["status"], result["reason"]) == ("rejected", "locked")
    assert count(Sample) == 0
    late = db.session.scalar(select(LateSubmission))
    assert late.payload["group"] == "HS" and late.payload["sample_id"] == str(sample_id)
    [words] = described_late_submissions(inspection)
    assert words["title_vi"] == "Hồ sơ kiểm tra xác suất"
    assert [c["field_vi"].split(": ")[1] for c in words["changes"]] == [
        "Mã hồ sơ", "Ngày tiếp nhận", "Ngày hẹn trả", "Ngày trả kết quả",
        "Có Phiếu xin lỗi và hẹn lại (nếu trễ)"]
    inspection.state = InspectionState.in_progress  # reopened, the leader accepts it
    db.session.commit()
    decide_late_submission(late, user("leader"),
                           accept=True)
    db.session.commit()
    assert stored(sample_id).values == DOSSIER


def test_the_evaluation_reads_the_stored_samples(sampled, login):
    client = login("inspector1")
    push(client, [op(sampled, "TTHC.20", {"value": 40})])  # dossiers received: MAU applies
    late = {**DOSSIER, "HS.TRA": "2025-08-12", "HS.XINLOI": True}
    ids = [uuid.uuid4() for _ in range(3)]
    push(client, [sample_op(sampled, ids[0], DOSSIER), sample_op(sampled, ids[1], DOSSIER),
                  sample_op(sampled, ids[2], late)])
    body = client.get(f"/api/v1/inspections/{sampled}/evaluation").get_json()
    warning = [c for c in body["checks"] if c["rule_id"] == "HS"]
    assert [c["severity"] for c in warning] == ["warning"]
    assert "3" in warning[0]["message_vi"]
    section = next(s for s in body["score"]["sections"] if s["code"] == "MAU")
    assert not section["not_applicable"]
    # 2 of 3 on time: a share of the 2 points (the checklist scores rates in proportion to
    # their 98 % target); the late one had its apology slip: 2 of 2.
    assert section["points"] == pytest.approx(2 * (200 / 3) / 98 + 2, abs=0.01)
    # Two more samples: within bounds, no warning; a deleted one no longer counts.
    more = [uuid.uuid4(), uuid.uuid4()]
    push(client, [sample_op(sampled, s, DOSSIER) for s in more])
    body = client.get(f"/api/v1/inspections/{sampled}/evaluation").get_json()
    assert not [c for c in body["checks"] if c["rule_id"] == "HS"]
    push(client, [sample_op(sampled, ids[2], kind="sample.delete", base=1)])
    body = client.get(f"/api/v1/inspections/{sampled}/evaluation").get_json()
    assert [c["rule_id"] for c in body["checks"] if c["rule_id"] == "HS"] == ["HS"]
    section = next(s for s in body["score"]["sections"] if s["code"] == "MAU")
    # 4 of 4 on time: 2 of 2; with no late dossier the second rate has nothing to measure.
    assert (section["points"], section["max"]) == (2, 2)
