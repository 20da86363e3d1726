"""Following recommendations up at the next visit, across the 2025 merger, and keeping score
snapshots in step with observations."""
from datetime import date

import pytest

from inspection.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from inspection.extensions import db
from inspection.models import AdminUnit, Inspection, InspectionScore, Plan, User
from inspection.services.evaluation import evaluate_inspection
from inspection.services.followup import previous_recommendations, record_follow_up, report_done
from inspection.services.observations import record_observation
from inspection.services.planning import create_trip
from inspection.services.reports import is_overdue
from inspection.services.review import add_recommendation


def user(name):
    return db.session.query(User).filter_by(username=name).one()


def inspection_of(code, year=2021):
    return next(i for i in db.session.query(Inspection) if i.unit.code == code
                and i.scheduled_on.year == year)


@pytest.fixture
def visit_2025(demo):
    """Recommendations made at Cô Ngân and Vinh Quý in 2021, and a 2025 visit to xã Vinh Quý (2025),
    the commune that absorbed Cô Ngân, An Lạc, Kim Loan and the old Vinh Quý."""
    leader = user("leader")
    co_ngan, vinh_quy = inspection_of("01567"), inspection_of("01561")
    recs = [add_recommendation(co_ngan, leader, "Niêm yết đầy đủ thủ tục hành chính.",
                               "2022-03-31"),
            add_recommendation(co_ngan, leader, "Tăng tỷ lệ văn bản ký số.", "2022-06-30"),
            add_recommendation(vinh_quy, leader, "Cập nhật hồ sơ một cửa điện tử.", None)]
    new_commune = (db.session.query(AdminUnit).filter_by(code="01561")
                   .order_by(AdminUnit.valid_from.desc()).first())
    trip = create_trip(db.session.query(Plan).one(), "Kiểm tra CCHC năm 2025 tại xã Vinh Quý",
                       "2025-09-15", "2025-09-15", leader, [user("inspector1")], [new_commune])
    db.session.commit()
    return trip.inspections[0], recs


def test_the_next_inspection_of_the_merged_commune_lists_the_old_communes_recommendations(
        visit_2025):
    inspection, recs = visit_2025
    assert [r.id for r in previous_recommendations(inspection)] == [r.id for r in recs]
    # The 2021 inspections themselves do not follow up their own recommendations.
    assert previous_recommendations(inspection_of("01567")) == []


def test_done_verifies_partly_and_not_done_keep_it_open(visit_2025):
    inspection, (first, second, third) = visit_2025
    leader = user("leader")
    record_follow_up(first, inspection, leader, "done", "Đã xem bảng niêm yết tại bộ phận một cửa.")
    record_follow_up(second, inspection, leader, "partly", "Tỷ lệ ký số 70%.")
    record_follow_up(third, inspection, leader, "not_done", "")
    db.session.commit()
    assert (first.status, first.follow_up_result,
            first.followed_up_in_id) == ("verified", "done", inspection.id)
    assert (second.status, second.follow_up_result) == ("open", "partly")
    assert (third.status, third.follow_up_evidence) == ("open", None)
    # Still listed at this inspection (so the leader can correct), with what was recorded.
    assert {r.id for r in previous_recommendations(inspection)} == {first.id, second.id, third.id}
    record_follow_up(second, inspection, leader, "done", "Đã đạt 95%.")
    assert second.status == "verified"


def test_only_the_leader_records_and_evidence_is_required_when_done(visit_2025):
    inspection, (first, *_rest) = visit_2025
    with pytest.raises(PermissionDenied):
        record_follow_up(first, inspection, user("inspector1"), "done", "x")
    with pytest.raises(ValidationFailed) as refused:
        record_follow_up(first, inspection, user("leader"), "done", "   ")
    assert "Cần ghi bằng chứng" in refused.value.message_vi
    with pytest.raises(ValidationFailed):
        record_follow_up(first, inspection, user("leader"), "maybe", "x")
    assert first.status == "open"


def test_a_recommendation_of_another_unit_cannot_be_followed_up_here(visit_2025, demo):
    inspection, _recs = visit_2025
    district = inspection_of("048")
    foreign = add_recommendation(district, user("leader"), "Huyện: kiện toàn bộ phận một cửa.",
                                 None)
    with pytest.raises(NotFound):
        record_follow_up(foreign, inspection, user("leader"), "done", "x")


def test_verified_at_a_later_visit_cannot_be_rejudged_at_an_earlier_one(visit_2025):
    inspection, (first, *_rest) = visit_2025
    leader = user("leader")
    record_follow_up(first, inspection, leader, "partly", "Một phần.")
    later_trip = create_trip(db.session.query(Plan).one(), "Kiểm tra lại 2026", "2026-03-02",
                             "2026-03-02", leader, [], [inspection.unit])
    later = later_trip.inspections[0]
    record_follow_up(first, later, leader, "done", "Đã hoàn thành.")
    assert first.status == "verified" and first.followed_up_in_id == later.id
    with pytest.raises((Conflict, NotFound)):
        record_follow_up(first, inspection, leader, "not_done", "")


def test_the_unit_reports_done_then_the_team_verifies(visit_2025):
    inspection, (first, *_rest) = visit_2025
    report_done(first, user("unitrep"), "Đã niêm yết bổ sung.")
    assert first.status == "done"
    with pytest.raises(Conflict):
        report_done(first, user("unitrep"))
    with pytest.raises(NotFound):  # Vinh Quý's: Cô Ngân's representative does not see it at all
        report_done(_rest[1], user("unitrep"))
    with pytest.raises(PermissionDenied):  # the leader sees it, but only the unit reports
        report_done(_rest[1], user("leader"))
    assert first.id in {r.id for r in previous_recommendations(inspection)}
    record_follow_up(first, inspection, user("leader"), "done", "Đã kiểm tra bảng niêm yết.")
    assert first.status == "verified"


def test_overdue_means_open_and_past_its_due_date(visit_2025):
    _inspection, (first, _second, third) = visit_2025
    assert is_overdue(first, date(2022, 4, 1)) and not is_overdue(first, date(2022, 3, 31))
    assert not is_overdue(third, date(2030, 1, 1))  # no due date
    first.status = "verified"
    assert not is_overdue(first, date(2030, 1, 1))


def test_score_snapshot_follows_every_observation_change(demo):
    vinh_quy = inspection_of("01561")
    before = db.session.get(InspectionScore, vinh_quy.id)
    assert before.percent == evaluate_inspection(vinh_quy)["score"]["percent"]
    record_observation(vinh_quy, "TTHC.25", {"value": 100}, None)
    record_observation(vinh_quy, "TTHC.26", {"value": 90}, None)
    db.session.commit()
    after = db.session.get(InspectionScore, vinh_quy.id)
    evaluation = evaluate_inspection(vinh_quy)
    assert after.percent == evaluation["score"]["percent"]
    assert after.total == evaluation["score"]["total"]
    assert after.on_time_rate == 90.0 and after.on_time_met is False and after.on_time_target == 98
    assert (after.year, after.level, after.era) == (2021, "commune", "3cap")
    assert after.sections == [[s["code"], s["points"], s["max"],
                               s["percent"]] for s in evaluation["score"]["sections"]]
