"""Trip membership decides who sees an inspection; only the trip's leader approves and reopens."""
import pytest

from inspection.extensions import db
from inspection.models import AuditEvent, Inspection

UNITS = {"048": "Hạ Lang", "01567": "Cô Ngân", "01561": "Vinh Quý"}


def ids_by_code():
    return {i.unit.code: i.id for i in db.session.query(Inspection)}


@pytest.mark.parametrize("username,visible", [
    ("admin", {"048", "01567", "01561"}),
    ("leader", {"048", "01567", "01561"}),
    ("inspector1", {"048", "01567", "01561"}),
    ("inspector2", {"048", "01567", "01561"}),
    ("inspector3", set()),
    ("unitrep", {"01567"}),
])
def test_each_role_sees_only_its_inspections(demo, login, username, visible):
    client = login(username)
    listed = client.get("/api/v1/inspections").get_json()
    assert {i["unit"]["code"] for i in listed} == visible
    for code, inspection_id in ids_by_code().items():
        status = client.get(f"/api/v1/inspections/{inspection_id}").status_code
        assert status == (200 if code in visible else 404)


def test_anonymous_gets_401(demo, client):
    assert client.get("/api/v1/inspections").status_code == 401


def post_action(client, inspection_id, action, reason=None, **extra):
    return client.post(f"/api/v1/inspections/{inspection_id}/transitions",
                       json={"action": action, "reason": reason, **extra},
                       headers={"X-CSRF-Token": client.csrf})


def test_inspector_submits_but_cannot_approve(demo, login):
    ids = ids_by_code()
    inspector = login("inspector1")
    refused = post_action(inspector, ids["01561"], "approve")
    assert refused.status_code == 403
    assert refused.get_json()["message"] == "Chỉ trưởng đoàn mới được thực hiện thao tác này."
    submitted = post_action(inspector, ids["048"], "submit")
    assert submitted.status_code == 200
    assert submitted.get_json()["state"] == "submitted"


def test_leader_approves_and_reopens_with_reason_and_it_is_audited(demo, login):
    ids = ids_by_code()
    leader = login("leader")
    approved = post_action(leader, ids["01561"], "approve", "Xã không có số liệu",
                           confirm_unanswered=True)
    assert approved.get_json()["state"] == "approved"
    no_reason = post_action(leader, ids["01561"], "reopen")
    assert no_reason.status_code == 422
    reopened = post_action(leader, ids["01561"], "reopen", "Bổ sung số liệu hồ sơ quá hạn")
    assert reopened.status_code == 200
    assert reopened.get_json()["state"] == "in_progress"
    assert reopened.get_json()["reopen_reason"] == "Bổ sung số liệu hồ sơ quá hạn"
    actions = [e.action for e in db.session.query(AuditEvent).filter_by(object_id=str(ids["01561"]))
               .order_by(AuditEvent.id)]
    assert actions[-2:] == ["inspection.approve", "inspection.reopen"]


def test_a_refused_move_is_a_409_with_the_state_named(demo, login):
    ids = ids_by_code()
    leader = login("leader")
    response = post_action(leader, ids["01567"], "approve")  # already approved
    assert response.status_code == 409
    assert "đã duyệt" in response.get_json()["message"]


def test_approval_with_unanswered_criteria_needs_a_confirmation_and_a_reason(demo, login):
    ids = ids_by_code()
    leader = login("leader")
    refused = post_action(leader, ids["01561"], "approve")
    assert refused.status_code == 409
    body = refused.get_json()
    assert body["code"] == "unanswered"
    items = body["errors"]["items"]
    assert "TTHC.32" in items  # a ratio whose counts were never entered
    assert f"Còn {len(items)} tiêu chí chưa được đánh giá" in body["message"]
    assert db.session.get(Inspection, ids["01561"]).state.value == "submitted"

    no_reason = post_action(leader, ids["01561"], "approve", "  ", confirm_unanswered=True)
    assert no_reason.status_code == 422 and "reason" in no_reason.get_json()["errors"]
    assert db.session.get(Inspection, ids["01561"]).state.value == "submitted"

    approved = post_action(leader, ids["01561"], "approve", "Xã chưa có số liệu hồ sơ",
                           confirm_unanswered=True)
    assert approved.status_code == 200
    assert approved.get_json()["approval_reason"] == "Xã chưa có số liệu hồ sơ"
    assert approved.get_json()["approved_unanswered"] == items
    event = db.session.query(AuditEvent).filter_by(
        object_id=str(ids["01561"]), action="inspection.approve").one()
    assert event.details["reason"] == "Xã chưa có số liệu hồ sơ"
    assert event.details["unanswered"] == items
    # The class is given again, marked partial, once the approval confirmed it.
    score = leader.get(f"/api/v1/inspections/{ids['01561']}/evaluation").get_json()["score"]
    assert score["partial"] and score["class"] is not None
    assert score["assessed"] == score["items"] - len(items)


def test_the_leader_approves_directly_from_in_progress(demo, login):
    ids = ids_by_code()
    leader = login("leader")
    assert db.session.get(Inspection, ids["048"]).state.value == "in_progress"
    approved = post_action(leader, ids["048"], "approve", "Đủ căn cứ", confirm_unanswered=True)
    assert approved.status_code == 200 and approved.get_json()["state"] == "approved"


@pytest.mark.parametrize("username", ["inspector3", "unitrep"])
def test_outsiders_cannot_move_inspections(demo, login, username):
    ids = ids_by_code()
    client = login(username)
    status = post_action(client, ids["01567"], "reopen", "x").status_code
    assert status in (403, 404)
    assert db.session.get(Inspection, ids["01567"]).state.value == "approved"


def test_writes_without_csrf_token_are_refused(demo, login):
    ids = ids_by_code()
    leader = login("leader")
    response = leader.post(f"/api/v1/inspections/{ids['01561']}/transitions",
                           json={"action": "approve"})
    assert response.status_code == 400
    assert response.get_json()["code"] == "csrf_failed"
    assert db.session.get(Inspection, ids["01561"]).state.value == "submitted"


def test_signed_comes_only_from_the_minutes_signatures(demo, login, form_token):
    """Nobody, not even the trip's leader, can mark an inspection signed by asking for it: it
    becomes signed when the minutes carry every signature (tests/api/test_minutes_api.py)."""
    ids = ids_by_code()
    leader = login("leader")
    refused = post_action(leader, ids["01567"], "sign")
    assert refused.status_code == 422
    assert "action" in refused.get_json()["errors"]["json"]
    page = leader.post(f"/inspections/{ids['01567']}", data={
        "action": "sign", "csrf_token": form_token(leader, f"/inspections/{ids['01567']}")},
        follow_redirects=True)
    assert "khi biên bản có đủ chữ ký" in page.get_data(as_text=True)
    assert db.session.get(Inspection, ids["01567"]).state.value == "approved"


def test_a_signed_out_transition_is_401_whatever_its_body(demo, client):
    inspection_id = ids_by_code()["048"]
    for body in ({"action": "approve"}, {"action": "nonsense"}, {}):
        response = client.post(f"/api/v1/inspections/{inspection_id}/transitions", json=body)
        assert response.status_code == 401, body


def test_the_evaluation_reports_criteria_assessed_and_no_class_on_a_partial_score(demo, login):
    ids = ids_by_code()
    score = (login("leader").get(f"/api/v1/inspections/{ids['01561']}/evaluation")
             .get_json()["score"])
    assert 0 < score["assessed"] < score["items"]
    assert score["partial"] is True and score["class"] is None  # submitted, nothing confirmed
    assert len(score["not_assessed"]) == score["items"] - score["assessed"]


def test_the_openapi_document_states_the_approval_contract(client):
    spec = client.get("/api/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    transition = next(s for name, s in schemas.items() if name.startswith("Transition"))
    assert transition["properties"]["confirm_unanswered"]["type"] == "boolean"
    score = next(s for name, s in schemas.items() if name.startswith("Score"))
    assert {"assessed", "items", "partial", "not_assessed"} <= set(score["properties"])
    post = spec["paths"]["/api/v1/inspections/{inspection_id}/transitions"]["post"]
    assert "unanswered" in post["responses"]["409"]["description"]
    assert "confirm_unanswered" in post["description"]
    sign = spec["paths"]["/api/v1/inspections/{target_id}/minutes/sign"]["post"]
    assert any(p["name"] == "without_latest_comments" for p in sign["parameters"])
