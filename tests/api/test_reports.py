"""Read-only report JSON under /api/v1/reports: ranking, indicators, inspection counts and the
recommendations to follow up, checked against figures computed independently in the test."""
from datetime import date

import pytest
from database_states import database_state, load_demo
from report_expectations import expected_ranking, make_province

from inspection.extensions import db
from inspection.models import Recommendation
from inspection.services.reports import local_today


@pytest.fixture
def province(app):
    """The demo data and the generated province, built once per backend and run."""

    def build():
        load_demo(app)
        return make_province()

    return database_state(app, "reports-province", build)


def test_ranking_matches_an_independent_computation_for_every_year(province, login):
    api = login("admin")
    for year, era in ((2023, "3cap"), (2024, "3cap"), (2025, "2cap")):
        response = api.get(f"/api/v1/reports/ranking?year={year}&level=commune")
        assert response.status_code == 200
        # 2025: the era of the year's latest inspections
        assert response.headers["X-Report-Era"] == era
        got = response.get_json()
        expected = expected_ranking(province, year, "commune", era)
        assert len(got) == len(expected) > 40
        assert [(r["unit"]["code"], r["percent"], r["class"]["code"],
                 r["previous"]) for r in got] == \
               [(e["code"], e["percent"], e["class"], e["previous"]) for e in expected]
        assert got[0]["rank"] == 1 and got[0]["percent"] >= got[-1]["percent"]
        for row in got:
            if row["previous"] is not None:
                assert row["change"] == round(row["percent"] - row["previous"], 1)
        assert [r["indicators"]["on_time_rate"]["value"]
                for r in got] == [e["on_time_rate"] for e in expected]


def test_a_merged_commune_takes_its_history_from_the_communes_it_absorbed(province, login):
    rows = login("admin").get("/api/v1/reports/ranking?year=2025&level=commune&era=2cap").get_json()
    merged = [r for r in rows if len(r["previous_detail"]) > 1]
    assert merged, "some 2025 communes were formed from several old communes"
    for row in merged:
        assert all(d["scheduled_on"].startswith("2024") for d in row["previous_detail"])
        detail = row["previous_detail"]
        assert row["previous"] == round(sum(d["percent"] for d in detail) / len(detail), 1)
        assert {d["unit"]["id"]
                for d in row["previous_detail"]} <= set(province.merges[row["unit"]["id"]])


def test_district_ranking_and_indicators(province, login):
    api = login("leader")
    rows = api.get("/api/v1/reports/ranking?year=2024&level=district").get_json()
    expected = expected_ranking(province, 2024, "district", "3cap")
    assert [(r["unit"]["code"], r["percent"], r["previous"]) for r in rows] == \
           [(e["code"], e["percent"], e["previous"]) for e in expected]
    answer = api.get("/api/v1/reports/indicators?year=2024&level=district").get_json()
    indicators = {i["indicator"]: i for i in answer}
    on_time = [e["on_time_rate"] for e in expected]
    assert indicators["on_time_rate"]["units"] == len(on_time)
    assert indicators["on_time_rate"]["mean"] == round(sum(on_time) / len(on_time), 1)
    assert indicators["on_time_rate"]["target"] == 98
    assert indicators["on_time_rate"]["met"] == sum(1 for v in on_time if v >= 98)


def test_recommendations_by_status_and_overdue(province, login):
    today = local_today()
    everything = db.session.query(Recommendation).all()
    overdue = [r for r in everything if r.status == "open" and r.due_on is not None
               and r.due_on < today]
    api = login("admin")
    response = api.get("/api/v1/reports/recommendations?overdue=true&per_page=5000")
    assert response.status_code == 200
    got = response.get_json()
    assert int(response.headers["X-Total-Count"]) == len(overdue) == len(got) > 0
    assert {r["id"] for r in got} == {r.id for r in overdue}
    assert all(r["overdue"] and r["status"] == "open" for r in got)
    verified = api.get("/api/v1/reports/recommendations?status=verified&per_page=5000").get_json()
    assert {r["id"] for r in verified} == {r.id for r in everything if r.status == "verified"}
    assert all(r["follow_up_result"] == "done" and r["followed_up_in_id"] for r in verified)
    page = api.get("/api/v1/reports/recommendations?per_page=10&page=2")
    assert len(page.get_json()) == 10 and int(page.headers["X-Total-Count"]) == len(everything)


def test_unknown_filters_and_impossible_values_are_refused_clearly(demo, login):
    api = login("admin")
    unknown = api.get("/api/v1/reports/ranking?year=2021&levle=commune")
    assert unknown.status_code == 422
    assert unknown.get_json()["message"].startswith("Bộ lọc không được hỗ trợ: levle")
    bad = api.get("/api/v1/reports/ranking?level=province", headers={"Accept-Language": "en"})
    assert bad.status_code == 422
    assert ("Invalid value for level: “province” (expected district or commune)"
            in bad.get_json()["message"])
    dates = api.get("/api/v1/reports/recommendations?due_from=2026-01-01&due_to=2025-01-01")
    assert dates.status_code == 422
    assert "Khoảng ngày không hợp lệ" in dates.get_json()["message"]
    assert api.get("/api/v1/reports/recommendations?overdue=perhaps").status_code == 422


def test_reports_need_a_session_and_are_in_the_openapi_document(demo, client):
    assert client.get("/api/v1/reports/ranking").status_code == 401
    paths = client.get("/api/openapi.json").get_json()["paths"]
    for path in ("/api/v1/reports/ranking", "/api/v1/reports/recommendations",
                 "/api/v1/reports/indicators", "/api/v1/reports/inspections"):
        assert "get" in paths[path]
    parameters = {p["name"] for p in paths["/api/v1/reports/ranking"]["get"]["parameters"]}
    assert {"year", "level", "era"} <= parameters


def test_demo_ranking_and_who_sees_what(demo, login):
    from inspection.models import Inspection
    from inspection.services.review import add_recommendation

    co_ngan = next(i for i in db.session.query(Inspection) if i.unit.code == "01567")
    leader = co_ngan.trip.leader
    add_recommendation(co_ngan, leader, "Niêm yết đầy đủ thủ tục hành chính.", date(2021, 12, 31))
    db.session.commit()
    # Only approved inspections are ranked: Cô Ngân (approved), not Vinh Quý (submitted).
    rows = login("admin").get("/api/v1/reports/ranking?year=2021&level=commune").get_json()
    assert [r["unit"]["name"] for r in rows] == ["Cô Ngân"]
    # Only yes/no results were illustrated: 63 of 100 points, approved as a partial assessment.
    assert (rows[0]["percent"] == 63.0 and rows[0]["class"]["code"] == "D"
            and rows[0]["previous"] is None)
    assert rows[0]["partial"] and rows[0]["assessed"] < rows[0]["criteria"]
    assert (login("unitrep").get("/api/v1/reports/ranking?year=2021&level=commune")
            .get_json()[0]["unit"]["name"] == "Cô Ngân")
    assert (login("inspector3").get("/api/v1/reports/ranking?year=2021&level=commune")
            .get_json() == [])
    assert len(login("unitrep").get("/api/v1/reports/recommendations").get_json()) == 1
    assert login("inspector3").get("/api/v1/reports/recommendations").get_json() == []
    counts = login("inspector1").get("/api/v1/reports/inspections").get_json()
    assert counts["total"] == 3 and counts["states"]["approved"] == 1
    assert login("unitrep").get("/api/v1/reports/inspections").get_json()["total"] == 1


@pytest.mark.parametrize("query", ["era=", "year=", "level=&year=2021"])
def test_the_api_refuses_empty_filters_the_pages_ignore(demo, login, query):
    """Pages send empty form fields for “all”; an API client sending one gets told."""
    leader = login("leader")
    refused = leader.get(f"/api/v1/reports/ranking?{query}")
    assert refused.status_code == 422
    assert "Giá trị không hợp lệ cho" in refused.get_json()["message"]
    assert leader.get(f"/overview/ranking?{query}").status_code == 200


def test_a_partial_assessment_never_ranks_above_a_full_one(demo, login, form_token):
    """Cô Ngân (approved with criteria not assessed, 63 %) and Vinh Quý, here fully assessed
    with a lower percent: Vinh Quý ranks first, Cô Ngân after it, and the pages say why."""
    from inspection.models import Inspection, InspectionScore, User
    from inspection.services.workflow import transition_inspection

    vinh_quy = next(i for i in db.session.query(Inspection) if i.unit.code == "01561")
    leader = db.session.query(User).filter_by(username="leader").one()
    transition_inspection(vinh_quy, "approve", leader, "Thử", confirm_unanswered=True)
    db.session.flush()
    # The ranking reads the snapshots: make Vinh Quý's a full assessment that scored less.
    row = db.session.get(InspectionScore, vinh_quy.id)
    row.percent, row.partial, row.assessed = 40.0, False, row.criteria
    db.session.commit()
    rows = login("admin").get("/api/v1/reports/ranking?year=2021&level=commune").get_json()
    assert [(r["unit"]["name"], r["rank"], r["partial"]) for r in rows] == [
        ("Vinh Quý", 1, False), ("Cô Ngân", 2, True)]
    page = login("admin").get("/overview/ranking?year=2021&level=commune").get_data(as_text=True)
    co_ngan = rows[1]
    assert (f"{co_ngan['assessed']}/{co_ngan['criteria']} tiêu chí đã đánh giá "
            "· đánh giá chưa đủ" in page)
    assert page.index("Xã Vinh Quý") < page.index("Xã Cô Ngân")
    listed = login("admin").get("/overview/inspections").get_data(as_text=True)
    assert f"{co_ngan['assessed']}/{co_ngan['criteria']} tiêu chí đã đánh giá" in listed
