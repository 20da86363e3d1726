"""Field-level merge of device ops (services.sync.apply_ops), called directly."""
import threading
import uuid

import pytest
from sqlalchemy import func, select

from inspection.extensions import db
from inspection.models import AppliedOp, ChangeLog, Conflict, Inspection, Observation, User
from inspection.services import feed, sync
from inspection.services.observations import record_observation
from inspection.services.sync import apply_ops, field_meta


def user(username):
    return db.session.scalar(select(User).where(User.username == username))


def district():
    return next(i for i in db.session.query(Inspection) if i.unit.code == "048")


def op(inspection_id, item_code, fields, base=0, op_id=None):
    return {"op_id": op_id or uuid.uuid4(), "type": "observation.set",
            "inspection_id": inspection_id,
            "item_code": item_code, "base_version": base, "fields": fields, "at": None}


def run(username, device, ops):
    results = apply_ops(user(username), device, ops)
    db.session.commit()
    return results


def statuses(results):
    return [r["status"] for r in results]


def obs(inspection_id, code):
    db.session.expire_all()
    return db.session.scalar(select(Observation).where(Observation.inspection_id == inspection_id,
                                                       Observation.item_code == code))


def conflicts():
    return db.session.scalars(select(Conflict).order_by(Conflict.id)).all()


def test_each_field_remembers_its_version_and_writer(demo):
    target = district().id
    run("inspector1", "a", [op(target, "TC.02", {"result": "pass", "note": "n1"})])
    run("inspector2", "b", [op(target, "TC.02", {"note": "n2"}, base=1)])
    found = obs(target, "TC.02")
    me, other = user("inspector1").id, user("inspector2").id
    assert field_meta(found.field_versions, "result") == (1, [f"{me}:a"])
    assert field_meta(found.field_versions, "note") == (2, [f"{other}:b"])
    assert field_meta(found.field_versions, "value") == (0, [])
    assert found.version == 2


def test_office_entries_with_bare_versions_still_merge(demo):
    target = district()
    # The demo data and office entry write {"value": 1}; a device edit from base 0 clashes with it.
    assert field_meta(obs(target.id, "TTHC.20").field_versions, "value") == (1, [])
    [result] = run("inspector1", "a", [op(target.id, "TTHC.20", {"value": 1000}, base=0)])
    assert result["status"] == "conflict"
    assert obs(target.id, "TTHC.20").value == 1081
    # The office changes it again (version 2): an edit made from version 1 clashes with that,
    # an edit made from version 2 does not.
    record_observation(target, "TTHC.20", {"value": 1085}, user("leader"))
    db.session.commit()
    [result] = run("inspector1", "a", [op(target.id, "TTHC.20", {"value": 1001}, base=1)])
    assert result["status"] == "conflict"
    [result] = run("inspector1", "a", [op(target.id, "TTHC.20", {"value": 1002}, base=2)])
    assert result["status"] == "applied"
    assert obs(target.id, "TTHC.20").value == 1002
    assert [c.incoming_value["value"] for c in conflicts()] == [1000, 1001]
    assert conflicts()[1].current_value["value"] == 1085


def test_agreeing_writers_are_remembered(demo):
    """A and B both set "pass" offline; later A changes its mind (no clash: B agreed with A's
    value, and A changes its own value); then B, still on the old base, changes it too: that
    clashes, because B never saw A's new value."""
    target = district().id
    assert statuses(run("inspector1", "A",
                        [op(target, "TC.05", {"result": "pass"})])) == ["applied"]
    assert statuses(run("inspector2", "B", [op(target, "TC.05", {"result": "pass"})])) == ["merged"]
    assert statuses(run("inspector1", "A",
                        [op(target, "TC.05", {"result": "partial"})])) == ["merged"]
    assert obs(target, "TC.05").result == "partial"
    assert statuses(run("inspector2", "B",
                        [op(target, "TC.05", {"result": "fail"})])) == ["conflict"]
    assert obs(target, "TC.05").result == "partial"
    [conflict] = conflicts()
    assert (conflict.current_value["value"],
            conflict.incoming_value["value"]) == ("partial", "fail")


def test_a_device_does_not_clash_with_itself_but_does_with_another_user_on_it(demo):
    target = district().id
    run("inspector1", "shared-tablet", [op(target, "TC.03", {"result": "pass"})])
    run("inspector1", "shared-tablet", [op(target, "TC.03", {"result": "fail"})])
    assert conflicts() == []
    [result] = run("inspector2", "shared-tablet", [op(target, "TC.03", {"result": "partial"})])
    assert result["status"] == "conflict"


def test_a_current_base_is_applied_over_another_devices_value(demo):
    target = district().id
    run("inspector1", "a", [op(target, "TC.04", {"result": "pass"})])
    [result] = run("inspector2", "b", [op(target, "TC.04", {"result": "fail"}, base=1)])
    assert result == {"op_id": result["op_id"], "status": "applied", "version": 2}
    assert obs(target, "TC.04").result == "fail"


def test_a_field_can_be_cleared(demo):
    target = district().id
    run("inspector1", "a", [op(target, "TC.06", {"text": "Có quy chế", "note": "x"})])
    [result] = run("inspector1", "a", [op(target, "TC.06", {"note": None}, base=1)])
    assert result["status"] == "applied"
    found = obs(target, "TC.06")
    assert (found.text, found.note) == ("Có quy chế", None)


def test_text_is_stored_nfc(demo):
    target = district().id
    decomposed = "Nho\u0302\u0301ng"  # "Nhống" typed with combining marks
    run("inspector1", "a", [op(target, "TC.06", {"text": decomposed})])
    assert obs(target, "TC.06").text == "Nh\u1ed1ng"


def test_a_conflict_and_the_other_fields_in_one_batch(demo):
    target = district().id
    run("inspector1", "a", [op(target, "CDDH.01", {"result": "pass", "points": 2})])
    results = run("inspector2", "b", [
        op(target, "CDDH.01", {"result": "fail", "points": 0, "note": "Thiếu minh chứng"}),
        op(target, "CDDH.05", {"result": "pass"}),
    ])
    assert statuses(results) == ["conflict", "applied"]
    assert sorted(results[0]["conflicts"]) == ["points", "result"]
    found = obs(target, "CDDH.01")
    # The note explains the result in conflict: it waits with it (services.sync JUDGEMENT).
    assert (found.result, found.points, found.note) == ("pass", 2, None)
    assert results[0]["held"] == ["note"]
    assert sorted(c.field for c in conflicts()) == ["points", "result"]
    assert obs(target, "CDDH.05").result == "pass"


def test_another_accounts_op_id_says_nothing(demo):
    target = district().id
    shared = uuid.uuid4()
    run("inspector1", "a", [op(target, "TC.02", {"result": "pass"}, op_id=shared)])
    [result] = run("inspector2", "b", [op(target, "TC.02", {"result": "fail"}, op_id=shared)])
    assert result == {"op_id": str(shared), "status": "duplicate"}
    assert obs(target, "TC.02").result == "pass"


def test_when_the_database_refuses_the_batch_each_op_is_retried_alone(demo, monkeypatch):
    """A concurrent push recorded one of our op_ids between loading and writing: the batch
    falls back to one SAVEPOINT per op; that op is a duplicate, the others apply."""
    target = district().id
    taken = uuid.uuid4()
    db.session.add(AppliedOp(op_id=taken, device_id="other", user_id=user("inspector1").id,
                             inspection_id=target, type="observation.set", status="applied",
                             result={"op_id": str(taken), "status": "applied", "version": 7}))
    db.session.commit()
    changes_before = db.session.scalar(select(func.count()).select_from(ChangeLog))
    real_load = sync._Batch.load
    calls = []

    def forgetful_load(self):
        real_load(self)
        if not calls:  # the first load misses the op recorded "concurrently"
            self.seen.pop(taken, None)
        calls.append(1)

    monkeypatch.setattr(sync._Batch, "load", forgetful_load)
    results = run("inspector1", "a", [op(target, "TC.02", {"result": "pass"}),
                                      op(target, "TC.03", {"result": "fail"}, op_id=taken),
                                      op(target, "TC.04", {"result": "pass"})])
    assert statuses(results) == ["applied", "duplicate", "applied"]
    assert results[1]["version"] == 7
    assert len(calls) >= 2
    assert obs(target, "TC.02").result == "pass"
    assert obs(target, "TC.03") is None
    assert obs(target, "TC.04").result == "pass"
    assert db.session.scalar(select(func.count()).select_from(AppliedOp)) == 3
    assert db.session.scalar(select(func.count()).select_from(ChangeLog)) == changes_before + 2


def test_concurrent_pushes_of_the_same_op_apply_it_once(demo, app):
    target = district().id
    shared = op(target, "TC.02", {"result": "pass"})
    inspector_id = user("inspector1").id
    barrier = threading.Barrier(2)
    results, errors = [], []

    def worker():
        try:
            with app.app_context():
                me = db.session.get(User, inspector_id)
                barrier.wait()
                results.extend(apply_ops(me, "tablet", [dict(shared)]))
                db.session.commit()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(statuses(results)) == ["applied", "duplicate"]
    assert obs(target, "TC.02").version == 1
    assert db.session.scalar(select(func.count()).select_from(AppliedOp)) == 1


def test_concurrent_edits_of_one_field_are_not_lost(demo, app, monkeypatch):
    """Two devices push different values for the same field from the same base at the same
    moment. Without the inspection lock both would read version 1 and both would be applied;
    with it the second sees the first and records a conflict."""
    target = district().id
    ids = {name: user(name).id for name in ("inspector1", "inspector2")}
    barrier = threading.Barrier(2)
    real_load = sync._Batch.load

    def load_then_wait(self):
        real_load(self)
        try:  # give the other push every chance to read the same state
            barrier.wait(timeout=0.5)
        except threading.BrokenBarrierError:
            pass

    monkeypatch.setattr(sync._Batch, "load", load_then_wait)
    results, errors = [], []

    def worker(name, value):
        try:
            with app.app_context():
                me = db.session.get(User, ids[name])
                results.extend(apply_ops(me, name,
                                         [op(target, "TTHC.22", {"value": value}, base=1)]))
                db.session.commit()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=("inspector1", 500)),
               threading.Thread(target=worker, args=("inspector2", 600))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(statuses(results)) == ["applied", "conflict"]
    [conflict] = conflicts()
    assert {conflict.current_value["value"], conflict.incoming_value["value"]} == {500, 600}
    assert obs(target, "TTHC.22").value == conflict.current_value["value"]


def test_the_feed_lock_does_not_wait_for_rows_that_only_reference_the_inspection(demo, app):
    """A photo being stored holds a KEY SHARE lock on its inspection (the foreign key) and then
    locks the inspection to write the feed. A push locking the same inspection meanwhile must not
    wait for it — with FOR UPDATE it did, and the two deadlocked (found by the chaos run)."""
    from sqlalchemy import text

    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks exist only on PostgreSQL (SQLite has one writer at a time)")
    inspection_id = db.session.scalars(select(Inspection.id)).first()
    with db.engine.connect() as photo, db.engine.connect() as push:
        photo.execute(select(Inspection.id).where(Inspection.id == inspection_id)
                      .with_for_update(key_share=True, read=True))  # FOR KEY SHARE
        push.execute(text("SET LOCAL lock_timeout = '3s'"))
        feed.lock_change_feed(push, [inspection_id])  # would time out if it waited
        push.rollback()
        photo.rollback()
