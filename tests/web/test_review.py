"""The leader's review on the inspection page: conflicts, late changes, corrections, findings,
recommendations, the unit's comments, and what blocks approval."""
import uuid

import pytest

from inspection.extensions import db
from inspection.models import (
    Conflict,
    Finding,
    Inspection,
    LateSubmission,
    Observation,
    Recommendation,
    User,
)
from inspection.services.observations import record_observation


@pytest.fixture
def as_user(client, form_token):
    def sign_in(username):
        token = form_token(client, "/login")
        client.post("/login",
                    data={"username": username, "password": "demo1234", "csrf_token": token})
        return client
    return sign_in


def inspection(code):
    return next(i for i in db.session.query(Inspection) if i.unit.code == code)


def post(client, form_token, url, page, **data):
    data["csrf_token"] = form_token(client, page)
    return client.post(url, data=data)


def add_conflict(target, item_code="TTHC.20", field="value", current=1081, incoming=1090,
                 by="inspector2"):
    author = db.session.query(User).filter_by(username=by).one()
    conflict = Conflict(inspection_id=target.id, item_code=item_code, field=field, base_version=1,
                        current_value={"value": current, "by": None},
                        incoming_value={"value": incoming, "by": author.id},
                        incoming_op_id=uuid.uuid4(), author_id=author.id)
    db.session.add(conflict)
    db.session.commit()
    return conflict


def test_open_conflict_blocks_approval_until_the_leader_picks_a_value(
        demo, as_user, form_token, login):
    vinh_quy = inspection("01561")  # submitted
    record_observation(vinh_quy, "TTHC.20", {"value": 50}, None)
    conflict = add_conflict(vinh_quy, current=50, incoming=55)
    api = login("leader")
    refused = api.post(f"/api/v1/inspections/{vinh_quy.id}/transitions", json={"action": "approve"},
                       headers={"X-CSRF-Token": api.csrf})
    assert refused.status_code == 409
    assert refused.get_json()["errors"][0]["kind"] == "conflict"
    # In words: the item's title, the field, both values with their unit.
    assert ("Xung đột chưa xử lý: Tổng số hồ sơ TTHC tiếp nhận trong kỳ (kể cả kỳ trước chuyển "
            "sang) (TTHC.20), số liệu: hiện tại 50 hồ sơ, mới gửi 55 hồ sơ"
            in refused.get_json()["message"])

    client = as_user("leader")
    page_url = f"/inspections/{vinh_quy.id}"
    page = client.get(page_url).get_data(as_text=True)
    assert "Xung đột cần xử lý (1)" in page and "Chưa thể duyệt:" in page
    conflict_card = page[page.index('id="conflicts"'):page.index('id="results"')]
    assert "Tổng số hồ sơ TTHC tiếp nhận trong kỳ" in conflict_card
    assert "<b>50 hồ sơ</b>" in conflict_card and "<b>55 hồ sơ</b>" in conflict_card
    assert "Giá trị hiện tại" in conflict_card and "Giá trị mới gửi" in conflict_card
    assert "Lê Minh Cường" in conflict_card  # inspector2 sent the incoming value
    assert "value:" not in conflict_card and "· value" not in conflict_card
    response = post(client, form_token, f"{page_url}/conflicts/{conflict.id}", page_url,
                    choice="incoming")
    assert response.status_code == 302
    assert db.session.get(Conflict, conflict.id).resolved_at is not None
    assert db.session.query(Observation).filter_by(inspection_id=vinh_quy.id,
                                                   item_code="TTHC.20").one().value == 55
    approved = api.post(f"/api/v1/inspections/{vinh_quy.id}/transitions",
                        json={"action": "approve", "confirm_unanswered": True,
                              "reason": "Đủ căn cứ"},
                        headers={"X-CSRF-Token": api.csrf})
    assert approved.status_code == 200


def test_a_result_conflict_is_settled_with_a_picker_not_free_text(demo, as_user, form_token):
    vinh_quy = inspection("01561")
    conflict = add_conflict(vinh_quy, item_code="CDDH.01", field="result", current="pass",
                            incoming="fail")
    client = as_user("leader")
    page_url = f"/inspections/{vinh_quy.id}"
    page = client.get(page_url).get_data(as_text=True)
    card = page[page.index('id="conflicts"'):page.index('id="results"')]
    assert "<b>Đạt</b>" in card and "<b>Không đạt</b>" in card  # not "pass … fail"
    assert ('<select name="custom">' in card
            and '<option value="partial">Đạt một phần</option>' in card)
    post(client, form_token, f"{page_url}/conflicts/{conflict.id}", page_url, choice="custom",
         custom="đạt")
    assert db.session.get(Conflict, conflict.id).resolved_at is None  # not a result: refused
    assert "Hãy chọn một kết quả trong danh sách." in client.get(page_url).get_data(as_text=True)
    post(client, form_token, f"{page_url}/conflicts/{conflict.id}", page_url, choice="custom",
         custom="partial")
    assert db.session.get(Conflict, conflict.id).resolved_at is not None
    assert db.session.query(Observation).filter_by(inspection_id=vinh_quy.id,
                                                   item_code="CDDH.01").one().result == "partial"


def test_approval_with_unanswered_criteria_on_the_page(demo, as_user, form_token):
    vinh_quy = inspection("01561")
    client = as_user("leader")
    page_url = f"/inspections/{vinh_quy.id}"
    page = client.get(page_url).get_data(as_text=True)
    warning = page[page.index('id="unanswered"'):page.index('class="actions"')]
    assert "tiêu chí chưa được đánh giá" in warning
    assert "Tỷ lệ hồ sơ giải quyết trước hạn, đúng hạn" in warning and "(TTHC.32)" in warning
    assert 'name="confirm_unanswered"' in page
    post(client, form_token, page_url, page_url, action="approve")  # no confirmation
    assert db.session.get(Inspection, vinh_quy.id).state.value == "submitted"
    assert ("Muốn duyệt khi chưa đủ, hãy xác nhận và nêu lý do."
            in client.get(page_url).get_data(as_text=True))
    post(client, form_token, page_url, page_url, action="approve", confirm_unanswered="1",
         reason="Xã chưa có số liệu hồ sơ")
    approved = db.session.get(Inspection, vinh_quy.id)
    assert (approved.state.value == "approved"
            and approved.approval_reason == "Xã chưa có số liệu hồ sơ")
    page = client.get(page_url).get_data(as_text=True)
    record = page[page.index('id="approval-reason"'):]
    assert "Xã chưa có số liệu hồ sơ" in record and "tiêu chí chưa đánh giá" in record
    history = page[page.index("Lịch sử"):]
    assert "Duyệt kết quả" in history and "— lý do: Xã chưa có số liệu hồ sơ" in history


def test_the_leader_approves_without_sending_to_himself(demo, as_user, form_token):
    ha_lang = inspection("048")  # in progress
    page_url = f"/inspections/{ha_lang.id}"
    leader_page = as_user("leader").get(page_url).get_data(as_text=True)
    actions = leader_page[leader_page.index('id="actions"'):leader_page.index('id="evaluation"')]
    assert "Duyệt kết quả" in actions and "Gửi trưởng đoàn" not in actions
    member_page = as_user("inspector1").get(page_url).get_data(as_text=True)
    actions = member_page[member_page.index('id="actions"'):member_page.index('id="evaluation"')]
    assert "Gửi trưởng đoàn" in actions and "Duyệt kết quả" not in actions


def test_history_and_late_changes_in_words(demo, as_user, form_token):
    co_ngan = inspection("01567")  # approved
    author = db.session.query(User).filter_by(username="inspector1").one()
    db.session.add(LateSubmission(inspection_id=co_ngan.id, op_id=uuid.uuid4(), author_id=author.id,
                                  payload={"item_code": "CDDH.01", "fields": {"result": "fail"}}))
    db.session.commit()
    client = as_user("leader")
    page_url = f"/inspections/{co_ngan.id}"
    page = client.get(page_url).get_data(as_text=True)
    late = page[page.index('id="late"'):page.index('id="results"')]
    assert "Kết quả" in late and "<td>Đạt</td>" in late and "<b>Không đạt</b>" in late
    assert author.full_name in late and "result =" not in late
    ha_lang = inspection("048")
    page_url = f"/inspections/{ha_lang.id}"
    observation = db.session.query(Observation).filter_by(inspection_id=ha_lang.id,
                                                          item_code="TTHC.20").one()
    post(client, form_token, f"{page_url}/observations", page_url, item_code="TTHC.20",
         field="value", value="1082", version=str(observation.version))
    history = client.get(page_url).get_data(as_text=True)
    history = history[history.index("Lịch sử"):]
    assert "Sửa kết quả ghi nhận: Tổng số hồ sơ TTHC tiếp nhận trong kỳ" in history
    assert "(TTHC.20), số liệu" in history and "· set" not in history


def test_error_level_rule_failure_blocks_approval(demo, login):
    vinh_quy = inspection("01561")
    record_observation(vinh_quy, "TTHC.25", {"value": 10}, None)
    record_observation(vinh_quy, "TTHC.26", {"value": 12}, None)  # on time > resolved: R03
    db.session.commit()
    api = login("leader")
    refused = api.post(f"/api/v1/inspections/{vinh_quy.id}/transitions", json={"action": "approve"},
                       headers={"X-CSRF-Token": api.csrf})
    assert refused.status_code == 409
    assert "R03" in [b["id"] for b in refused.get_json()["errors"]]


def test_only_the_leader_resolves_conflicts(demo, as_user, form_token):
    vinh_quy = inspection("01561")
    conflict = add_conflict(vinh_quy)
    client = as_user("inspector1")
    page_url = f"/inspections/{vinh_quy.id}"
    assert "Giữ giá trị hiện tại" not in client.get(page_url).get_data(as_text=True)
    post(client, form_token, f"{page_url}/conflicts/{conflict.id}", page_url, choice="incoming")
    assert db.session.get(Conflict, conflict.id).resolved_at is None


def test_leader_correction_refused_when_a_tablet_changed_the_figure_meanwhile(
        demo, as_user, form_token):
    ha_lang = inspection("048")
    client = as_user("leader")
    page_url = f"/inspections/{ha_lang.id}"
    observation = db.session.query(Observation).filter_by(inspection_id=ha_lang.id,
                                                          item_code="TTHC.20").one()
    read_version = observation.version
    record_observation(ha_lang, "TTHC.20", {"value": 1082}, None)  # a tablet syncs meanwhile
    db.session.commit()
    post(client, form_token, f"{page_url}/observations", page_url, item_code="TTHC.20",
         field="value", value="1081", version=str(read_version))
    page = client.get(page_url).get_data(as_text=True)
    assert "hãy tải lại trang" in page
    assert db.session.query(Observation).filter_by(inspection_id=ha_lang.id,
                                                   item_code="TTHC.20").one().value == 1082


def test_late_submission_can_be_accepted(demo, as_user, form_token):
    co_ngan = inspection("01567")  # approved
    author = db.session.query(User).filter_by(username="inspector1").one()
    late = LateSubmission(inspection_id=co_ngan.id, op_id=uuid.uuid4(), author_id=author.id,
                          payload={"item_code": "TTHC.20", "fields": {"value": 77}})
    db.session.add(late)
    db.session.commit()
    client = as_user("leader")
    page_url = f"/inspections/{co_ngan.id}"
    assert "Thay đổi gửi sau khi đã duyệt (1)" in client.get(page_url).get_data(as_text=True)
    post(client, form_token, f"{page_url}/late/{late.id}", page_url, decision="accept")
    assert db.session.get(LateSubmission, late.id).status == "accepted"
    assert db.session.query(Observation).filter_by(inspection_id=co_ngan.id,
                                                   item_code="TTHC.20").one().value == 77


def test_findings_and_recommendations_with_escaping(demo, as_user, form_token):
    ha_lang = inspection("048")
    client = as_user("leader")
    page_url = f"/inspections/{ha_lang.id}"
    post(client, form_token, f"{page_url}/findings", page_url, kind="weakness",
         text="<script>alert('x')</script> Chưa gửi Phiếu xin lỗi\x00")
    finding = db.session.query(Finding).one()
    assert "\x00" not in finding.text
    page = client.get(page_url).get_data(as_text=True)
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    too_early = post(client, form_token, f"{page_url}/recommendations", page_url, text="Khắc phục",
                     due_on="2021-09-01")
    assert too_early.status_code == 302
    assert db.session.query(Recommendation).count() == 0
    post(client, form_token, f"{page_url}/recommendations", page_url, library_code="REC.TTHC.02",
         text="Thực hiện nghiêm việc gửi Phiếu xin lỗi.", due_on="2021-12-31", item_codes="R08")
    recommendation = db.session.query(Recommendation).one()
    assert recommendation.due_on.isoformat() == "2021-12-31"
    assert recommendation.unit_id == ha_lang.unit_id
    page = client.get(page_url).get_data(as_text=True)
    assert "Thực hiện nghiêm việc gửi Phiếu xin lỗi." in page


def test_unit_representative_writes_comments_but_nothing_else(demo, as_user, form_token):
    co_ngan = inspection("01567")
    client = as_user("unitrep")
    page_url = f"/inspections/{co_ngan.id}"
    page = client.get(page_url).get_data(as_text=True)
    assert "Lưu ý kiến" in page and "Thêm nhận xét" not in page
    post(client, form_token, f"{page_url}/comments", page_url,
         text="Đơn vị nhất trí với kết quả kiểm tra.", revision=str(co_ngan.revision))
    assert db.session.get(Inspection,
                          co_ngan.id).unit_comments == "Đơn vị nhất trí với kết quả kiểm tra."
    post(client, form_token, f"{page_url}/findings", page_url, kind="strength", text="Tự khen")
    assert db.session.query(Finding).count() == 0
    other = inspection("01561")
    assert client.get(f"/inspections/{other.id}").status_code == 404


def test_the_review_reads_in_english_too(demo, as_user, login):
    vinh_quy = inspection("01561")
    add_conflict(vinh_quy, item_code="CDDH.01", field="result", current="pass", incoming="fail")
    client = as_user("leader")
    client.get("/lang/en?next=/")
    page = client.get(f"/inspections/{vinh_quy.id}").get_data(as_text=True)
    card = page[page.index('id="conflicts"'):page.index('id="results"')]
    assert "Current value" in card and "<b>Met</b>" in card and "<b>Not met</b>" in card
    assert "Result" in card and "Đạt" not in card.split("<select")[0]
    api = login("leader")
    refused = api.post(f"/api/v1/inspections/{vinh_quy.id}/transitions", json={"action": "approve"},
                       headers={"X-CSRF-Token": api.csrf, "Accept-Language": "en"})
    assert refused.get_json()["message"].startswith("Cannot approve yet: Unresolved conflict: ")
    assert "current Met, incoming Not met" in refused.get_json()["message"]
