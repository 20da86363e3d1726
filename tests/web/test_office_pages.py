"""Office pages read as words in one time zone: the ranking without “None”, the activity list in
sentences, Vietnam time on pages and in exports, English mode complete, readable exports."""
import csv
import io
import re
from datetime import UTC, date, datetime

import pytest
from flask import render_template_string

from inspection.extensions import db
from inspection.localtime import format_date, format_datetime, iso_local
from inspection.models import AuditEvent, Inspection, Observation, User


@pytest.fixture
def as_user(client, form_token):
    def sign_in(username, lang=None):
        token = form_token(client, "/login")
        client.post("/login", data={"username": username, "password": "demo1234",
                                    "csrf_token": token})
        if lang:
            client.get(f"/lang/{lang}")
        return client
    return sign_in


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_one_time_zone_for_stored_moments():
    # 18:30 UTC on 3 December is already 4 December in Hà Nội; SQLite returns it naive (UTC).
    late_evening = datetime(2026, 12, 3, 18, 30)
    assert format_date(late_evening) == "04/12/2026"
    assert format_date(late_evening.replace(tzinfo=UTC)) == "04/12/2026"
    assert format_datetime(late_evening) == "04/12/2026 01:30"
    assert iso_local(late_evening) == "2026-12-04T01:30:00+07:00"
    assert (format_date(date(2021, 10, 1)) == "01/10/2021"
            and iso_local(date(2021, 10, 1)) == "2021-10-01")
    assert format_date(None) == "" and iso_local(None) is None


def test_page_filters_show_vietnam_dates(app):
    with app.test_request_context():
        html = render_template_string("{{ d|vndate }} {{ d|vndatetime }}",
                                      d=datetime(2026, 12, 3, 18, 30))
    assert html == "04/12/2026 04/12/2026 01:30"


def test_ranking_without_indicator_figures_says_so_instead_of_none(demo, as_user):
    html = as_user("admin").get("/overview/ranking").get_data(as_text=True)
    section = html[html.index('id="indicators"'):]
    assert "None" not in text_of(html)
    assert "Chưa có đơn vị nào có số liệu chỉ tiêu." in section


def recorded_actions() -> set[str]:
    """Every audit action the application records: the literal ones in its source, and the
    ones built from a state (inspection moves, late changes, uploads, export tables)."""
    from pathlib import Path

    from inspection.models import LateStatus
    from inspection.models.checklists import UploadStatus
    from inspection.models.inspections import USER_ACTIONS
    from inspection.services.export import TABLES

    package = Path(__file__).resolve().parents[2] / "inspection"
    found = set()
    for path in package.rglob("*.py"):
        found |= set(re.findall(r'audit\.record\(\s*"([a-z_.]+)"', path.read_text("utf-8")))
    found |= {f"inspection.{action}" for action in (*USER_ACTIONS, "sign")}
    found |= {f"late_submission.{s}" for s in LateStatus if s != LateStatus.pending}
    found |= {f"checklist.upload_{s}" for s in UploadStatus}
    found |= {f"export.{table}" for table in TABLES}
    return found - {"export."}  # the prefix of the export tables above


def test_every_recorded_action_reads_as_a_sentence():
    from inspection.web.activity import ACTIVITY

    actions = recorded_actions()
    assert {"trip.update", "photo.delete", "minutes.details", "user.login"} <= actions
    assert sorted(actions - set(ACTIVITY)) == []
    assert sorted(set(ACTIVITY) - actions) == []  # no sentence for an action nobody records


def test_activity_list_reads_as_sentences_in_vietnam_time(demo, as_user):
    admin = db.session.query(User).filter_by(username="admin").one()
    co_ngan = next(i for i in db.session.query(Inspection) if i.unit.code == "01567")
    db.session.add(AuditEvent(action="inspection.approve", object_type="inspections",
                              object_id=str(co_ngan.id), user_id=admin.id, details={},
                              at=datetime(2031, 10, 1, 17, 45, tzinfo=UTC)))
    # A photo deleted since is named by the inspection its event kept.
    db.session.add(AuditEvent(action="photo.delete", object_type="photos", object_id="99999",
                              user_id=admin.id, details={"inspection_id": co_ngan.id},
                              at=datetime(2031, 10, 1, 17, 40, tzinfo=UTC)))
    db.session.commit()
    client = as_user("admin")
    html = client.get("/").get_data(as_text=True)
    events = text_of(html[html.index('class="events"'):])
    assert "02/10/2031 00:45 · Phạm Thu Hà duyệt kết quả kiểm tra Xã Cô Ngân" in events
    assert "Phạm Thu Hà xoá một ảnh của Xã Cô Ngân" in events
    assert "Phạm Thu Hà đăng nhập" in events
    assert "user.login" not in events and "#" not in events
    client.get("/lang/en")
    events = text_of(client.get("/").get_data(as_text=True))
    assert ("Phạm Thu Hà approved the results of Xã Cô Ngân" in events
            and "Phạm Thu Hà signed in" in events)
    history = text_of(client.get(f"/inspections/{co_ngan.id}").get_data(as_text=True))
    # The inspection's own history says what happened to it, in English too.
    assert "Phạm Thu Hà · Approved the results" in history and " set" not in history


def test_english_mode_names_classes_and_units_of_measure_in_english(demo, as_user):
    client = as_user("admin", "en")
    ranking = text_of(client.get("/overview/ranking").get_data(as_text=True))
    # The demo's communes are approved as partial assessments (class D: Poor).
    assert "Poor" in ranking and "Yếu" not in ranking
    district = next(i for i in db.session.query(Inspection) if i.unit.code == "048")
    page = text_of(client.get(f"/inspections/{district.id}").get_data(as_text=True))
    assert "dossiers" in page and "hồ sơ" not in page


def test_sync_rejections_come_in_the_app_language(demo, login):
    client = login("inspector1")
    op = {"op_id": "7d0c6a55-6f0e-4c39-9d7e-0d5f3f0c1a01", "type": "observation.set",
          "inspection_id": 999999,
          "item_code": "TTHC.01", "fields": {"result": "pass"}, "base_version": 0,
          "at": "2021-10-01T09:00:00+07:00"}
    body = {"device_id": "tablet-en", "ops": [op]}
    english = client.post("/api/v1/sync/push", json=body,
                          headers={"X-CSRF-Token": client.csrf,
                                   "Accept-Language": "en"}).get_json()
    assert english["results"][0]["message"] == "Inspection not found (or you may not see it)."
    op["op_id"] = "7d0c6a55-6f0e-4c39-9d7e-0d5f3f0c1a02"
    vietnamese = client.post("/api/v1/sync/push", json=body,
                             headers={"X-CSRF-Token": client.csrf,
                                      "Accept-Language": "vi"}).get_json()
    assert vietnamese["results"][0]["message"].startswith("Không tìm thấy cuộc kiểm tra")
    district = next(i for i in db.session.query(Inspection) if i.unit.code == "048")
    op.update(op_id="7d0c6a55-6f0e-4c39-9d7e-0d5f3f0c1a03", inspection_id=district.id,
              item_code="TTHC.20", fields={"value": "một trăm"})
    english = client.post("/api/v1/sync/push", json=body,
                          headers={"X-CSRF-Token": client.csrf,
                                   "Accept-Language": "en"}).get_json()
    assert english["results"][0]["reason"] == "invalid_field"
    assert english["results"][0]["message"] == "'value' must be a number"


def _csv(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def test_exports_have_readable_headers_and_labels_with_codes_kept(demo, as_user):
    co_ngan = next(i for i in db.session.query(Inspection) if i.unit.code == "01567")
    observation = db.session.query(Observation).filter_by(inspection_id=co_ngan.id).first()
    observation.note = "=HYPERLINK(\"http://x\")"
    observation.updated_at = datetime(2021, 10, 1, 17, 30, tzinfo=UTC)
    db.session.commit()
    client = as_user("admin")
    rows = _csv(client, "/overview/export/observations.csv")
    header = rows[0]
    assert header[:4] == ["Số hiệu cuộc kiểm tra", "Mã đơn vị", "Đơn vị", "Ngày kiểm tra"]
    result = header.index("Kết quả (mã)")
    assert header[result + 1] == "Kết quả"
    mine = next(r for r in rows[1:] if r[header.index("Mã tiêu chí")] == observation.item_code
                and r[0] == str(co_ngan.id))
    assert (mine[result], mine[result + 1]) == ("pass", "Đạt")
    assert mine[header.index("Thời điểm ghi (giờ Việt Nam)")] == "2021-10-02T00:30:00+07:00"
    assert mine[header.index("Ghi chú")] == "'=HYPERLINK(\"http://x\")"  # still never a formula

    client.get("/lang/en")
    rows = _csv(client, "/overview/export/inspections.csv")
    header = rows[0]
    assert header[:3] == ["Inspection no.", "Plan", "Inspection trip"]
    state, grade = header.index("State (code)"), header.index("Class (code)")
    row = next(r for r in rows[1:] if r[header.index("Unit")] == "Xã Cô Ngân")
    assert (row[state:state + 2] == ["approved", "Approved"]
            and row[grade:grade + 2] == ["D", "Poor"])
    assert header[header.index("Level (code)") + 1] == "Level"


def test_the_unit_reports_a_recommendation_done_with_a_picture_then_withdraws_and_replies(
        demo, as_user, form_token):
    from PIL import Image

    from inspection.models import Recommendation
    from inspection.services.review import add_recommendation

    leader = db.session.query(User).filter_by(username="leader").one()
    co_ngan = next(i for i in db.session.query(Inspection) if i.unit.code == "01567")
    rec = add_recommendation(co_ngan, leader, "Bố trí máy tra cứu thủ tục.", "2022-03-31")
    db.session.commit()
    client = as_user("unitrep")
    url = "/overview/recommendations"
    html = client.get(url).get_data(as_text=True)
    assert "Báo đã thực hiện…" in html and 'name="confirm"' in html and 'type="file"' in html

    # Without the confirmation nothing changes, and the page says why.
    response = client.post(f"{url}/{rec.id}/done",
                           data={"csrf_token": form_token(client, url), "note": "Đã bố trí."})
    assert response.status_code == 302
    assert "Hãy đánh dấu xác nhận" in client.get(url).get_data(as_text=True)
    assert db.session.get(Recommendation, rec.id).status == "open"

    picture = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 120, 200)).save(picture, "JPEG")
    response = client.post(f"{url}/{rec.id}/done", content_type="multipart/form-data", data={
        "csrf_token": form_token(client, url),
        "note": "Đã bố trí 01 máy tra cứu tại bộ phận một cửa.",
        "confirm": "yes", "files": (io.BytesIO(picture.getvalue()), "may-tra-cuu.jpg")})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"#rec-{rec.id}")
    html = client.get(url).get_data(as_text=True)
    row = text_of(html[html.index(f'id="rec-{rec.id}"'):])
    assert ("Đơn vị báo đã thực hiện" in row
            and "Đã bố trí 01 máy tra cứu tại bộ phận một cửa." in row)
    assert "Rút lại báo cáo" in row
    evidence = db.session.get(Recommendation, rec.id).evidence[0]
    link = f"{url}/{rec.id}/evidence/{evidence.id}"
    assert link in html
    file = client.get(link, buffered=True)
    assert (file.status_code == 200 and file.data == picture.getvalue()
            and file.mimetype == "image/jpeg")
    assert client.get(link + "?thumb=1", buffered=True).data.startswith(b"\xff\xd8")

    # The leader sees the report on the list too, and may open the picture.
    client.post("/logout", data={"csrf_token": form_token(client, "/")})
    leader_client = as_user("leader")
    assert "Đã bố trí 01 máy tra cứu" in leader_client.get(url).get_data(as_text=True)
    opened = leader_client.get(link, buffered=True)
    assert opened.status_code == 200 and opened.data == picture.getvalue()
    leader_client.post("/logout", data={"csrf_token": form_token(leader_client, "/")})

    client = as_user("unitrep")
    client.post(f"{url}/{rec.id}/undo", data={"csrf_token": form_token(client, url)})
    saved = db.session.get(Recommendation, rec.id)
    assert (saved.status, saved.report_note, saved.evidence) == ("open", None, [])
    assert "Đã rút lại báo cáo" in client.get(url).get_data(as_text=True)

    client.post(f"{url}/{rec.id}/reply",
                data={"csrf_token": form_token(client, url),
                      "reply": "Đơn vị đang chờ kinh phí, dự kiến xong tháng 6/2022."})
    html = client.get(url).get_data(as_text=True)
    assert "Phản hồi của đơn vị" in html and "dự kiến xong tháng 6/2022" in html
    client.get("/lang/en")
    html = client.get(url).get_data(as_text=True)
    assert ("Report done…" in html and "Edit the reply" in html
            and "The unit's reply" in text_of(html))


def test_the_leader_of_the_next_visit_sees_what_the_unit_reported(demo, as_user, form_token):
    from PIL import Image
    from werkzeug.datastructures import FileStorage

    from inspection.models import Plan
    from inspection.services.followup import report_done
    from inspection.services.planning import create_trip
    from inspection.services.review import add_recommendation

    users = {u.username: u for u in db.session.query(User)}
    co_ngan = next(i for i in db.session.query(Inspection) if i.unit.code == "01567")
    rec = add_recommendation(co_ngan, users["leader"], "Bố trí máy tra cứu thủ tục.", "2022-03-31")
    picture = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 20)).save(picture, "PNG")
    picture.seek(0)
    report_done(rec, users["unitrep"], "Đã bố trí máy tra cứu.",
                [FileStorage(stream=picture, filename="may.png")])
    later = create_trip(db.session.query(Plan).one(), "Kiểm tra năm 2022", "2022-10-03",
                        "2022-10-03", users["leader"], [users["inspector1"]],
                        [co_ngan.unit]).inspections[0]
    db.session.commit()
    html = as_user("leader").get(f"/inspections/{later.id}").get_data(as_text=True)
    panel = html[html.index('id="followup"'):]
    assert "Đơn vị báo đã thực hiện" in text_of(panel) and "Đã bố trí máy tra cứu." in panel
    assert f"/overview/recommendations/{rec.id}/evidence/{rec.evidence[0].id}" in panel
