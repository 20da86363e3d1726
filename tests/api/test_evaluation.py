"""The Hạ Lang demo inspection, filled with the published figures, evaluates as the issue says —
through the API and on the inspection page."""
import pytest

from inspection.extensions import db
from inspection.models import Inspection


def ha_lang():
    return next(i for i in db.session.query(Inspection) if i.unit.code == "048")


def test_ha_lang_evaluation_through_the_api(demo, login):
    client = login("leader")
    response = client.get(f"/api/v1/inspections/{ha_lang().id}/evaluation")
    assert response.status_code == 200
    body = response.get_json()
    indicators = {i["indicator"]: i for i in body["indicators"]}
    assert indicators["online_share"]["value"] == 40.1
    assert indicators["signed_share"]["value"] == 95.3
    assert indicators["signed_share"]["met"] is True
    assert indicators["on_time_rate"]["value"] == 86.5
    assert indicators["on_time_rate"]["met"] is False
    fired = {c["rule_id"]: c for c in body["checks"]}
    assert "R08" in fired and fired["R08"]["status"] == "fail"
    assert "Phiếu xin lỗi" in fired["R08"]["message_vi"]
    assert "R01" not in fired  # 1,068 + 13 + 0 == 1,081
    assert any("R08" in s["because"] and "Phiếu xin lỗi" in s["text_vi"]
               for s in body["suggestions"])
    assert set(body["score"]) >= {"total", "max", "percent", "sections", "class"}
    assert {s["code"] for s in body["score"]["sections"]} == {"CDDH", "TC", "TTHC", "TCBM", "CV",
                                                              "TCC", "CQS", "TD"}


def test_evaluation_follows_new_figures(demo, login):
    """Entering the late dossiers and as many apology slips silences R08."""
    from inspection.services.observations import record_observation

    inspection = ha_lang()
    record_observation(inspection, "TTHC.27", {"value": 144}, None)
    record_observation(inspection, "TTHC.31", {"value": 144}, None)
    db.session.commit()
    body = login("inspector1").get(f"/api/v1/inspections/{inspection.id}/evaluation").get_json()
    assert "R08" not in {c["rule_id"] for c in body["checks"]}


@pytest.mark.parametrize("username", ["inspector3", "unitrep"])
def test_evaluation_is_private_to_the_team(demo, login, username):
    assert login(username).get(f"/api/v1/inspections/{ha_lang().id}/evaluation").status_code == 404


def test_ha_lang_evaluation_on_the_page(demo, client, form_token):
    token = form_token(client, "/login")
    client.post("/login", data={"username": "leader", "password": "demo1234", "csrf_token": token})
    page = client.get(f"/inspections/{ha_lang().id}").get_data(as_text=True)
    assert "Kết quả đánh giá" in page
    assert "40,1%" in page            # online share, Vietnamese decimal comma
    assert "95,3%" in page and "86,5%" in page
    assert "R08" in page and "Phiếu xin lỗi" in page
    assert "924/1.068" in page        # on time / resolved, Vietnamese thousands separator
    client.get("/lang/en")
    english = client.get(f"/inspections/{ha_lang().id}").get_data(as_text=True)
    assert "86.5%" in english and "Evaluation" in english
