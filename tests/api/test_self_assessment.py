"""The unit's self-assessment through the API: claims, evidence over tus, submission and
withdrawal, the self-score, who may read and write, and the refusals (state, deadline, input)."""
from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from datetime import date, timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from inspection.extensions import db
from inspection.models import Inspection, Plan, SelfAssessmentEvidence, Trip, User
from inspection.services.accounts import create_user
from inspection.services.planning import create_trip
from inspection.services.storage import get_storage
from inspection.services.units import unit_valid_on
from inspection.services.workflow import transition_inspection

TUS = {"Tus-Resumable": "1.0.0"}
VISIT = date(2022, 10, 3)


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


@pytest.fixture
def visit(demo):
    """A planned visit to xã Cô Ngân (the demo representative's unit) and xã Vinh Quý, by the
    demo leader and inspector1; returns {unit code: inspection id}."""
    plan = db.session.scalar(select(Plan))
    units = [unit_valid_on("01567", VISIT), unit_valid_on("01561", VISIT)]
    trip = create_trip(plan, "Kiểm tra CCHC năm 2022", VISIT, VISIT, user("leader"),
                       [user("inspector1")], units, by=user("admin"))
    create_user("unitrep_vq", "demo1234", "Hà Văn Quý", "unitrep", "Chủ tịch UBND xã Vinh Quý",
                units[1], check_strength=False)
    db.session.commit()
    return {i.unit.code: i.id for i in trip.inspections}


def url(inspection_id: int, tail: str = "") -> str:
    return f"/api/v1/inspections/{inspection_id}/self-assessment{tail}"


def put(client, inspection_id, code, **fields):
    return client.put(url(inspection_id, f"/{code}"), json=fields,
                      headers={"X-CSRF-Token": client.csrf})


def post(client, inspection_id, action):
    return client.post(url(inspection_id, f"/{action}"), headers={"X-CSRF-Token": client.csrf})


def upload(client, inspection_id, data: bytes, filename: str, **extra):
    meta = {"kind": "evidence", "inspection_id": str(inspection_id),
            "sha256": hashlib.sha256(data).hexdigest(), "filename": filename, **extra}
    header = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in meta.items())
    created = client.post("/api/v1/uploads", headers={
        **TUS, "X-CSRF-Token": client.csrf, "Upload-Length": str(len(data)),
        "Upload-Metadata": header})
    if created.status_code != 201 or "Evidence-Id" in created.headers:
        return created
    location = created.headers["Location"]
    half = len(data) // 2
    first = client.patch(location, data=data[:half], headers={
        **TUS, "X-CSRF-Token": client.csrf, "Upload-Offset": "0",
        "Content-Type": "application/offset+octet-stream"})
    assert first.status_code == 204
    resumed = client.head(location, headers=TUS)
    assert resumed.headers["Upload-Offset"] == str(half)
    return client.patch(location, data=data[half:], headers={
        **TUS, "X-CSRF-Token": client.csrf, "Upload-Offset": str(half),
        "Content-Type": "application/offset+octet-stream"})


def pdf(text: str) -> bytes:
    return b"%PDF-1.4\n%" + text.encode() + b"\n%%EOF\n"


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 200)).save(out, "PNG")
    return out.getvalue()


def docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


def test_the_representative_fills_submits_and_the_team_reads_the_claims_and_self_score(
        visit, login):
    rep, leader, admin = login("unitrep"), login("leader"), login("admin")
    co_ngan = visit["01567"]
    assert put(rep, co_ngan, "CDDH.01", result="pass", points=2, note="Đã ban hành kế hoạch",
               ).status_code == 200
    assert put(rep, co_ngan, "TTHC.01", value=120).status_code == 200
    assert put(rep, co_ngan, "TTHC.02", value=114).status_code == 200
    answer = put(rep, co_ngan, "TC.02", result="fail", explanation="Chưa có văn bản")
    body = answer.get_json()
    assert body["state"] == "draft"
    assert {i["item_code"] for i in body["items"]} == {"CDDH.01", "TTHC.01", "TTHC.02", "TC.02"}
    tc = next(i for i in body["items"] if i["item_code"] == "TC.02")
    assert tc["explanation"] == "Chưa có văn bản" and tc["evidence"] == []
    # The team sees that a draft exists, not its claims, and no self-score in the evaluation.
    seen = leader.get(url(co_ngan)).get_json()
    assert seen["state"] == "draft" and seen["items"] == []
    assert leader.get(f"/api/v1/inspections/{co_ngan}/evaluation").get_json()["self_score"] is None
    submitted = post(rep, co_ngan, "submit")
    assert submitted.status_code == 200
    assert submitted.get_json()["state"] == "submitted" and submitted.get_json()["submitted_at"]
    for reader in (leader, admin):
        seen = reader.get(url(co_ngan)).get_json()
        assert len(seen["items"]) == 4 and seen["score"]["total"] > 0
    # Scored exactly as the appraisal: the team recording the same values gets the same score.
    self_score = leader.get(f"/api/v1/inspections/{co_ngan}/evaluation").get_json()["self_score"]
    assert self_score == seen["score"]
    inspection = db.session.get(Inspection, co_ngan)
    from inspection.services.observations import record_observation
    transition_inspection(inspection, "start", user("inspector1"))
    for code, fields in {"CDDH.01": {"result": "pass", "points": 2}, "TTHC.01": {"value": 120},
                         "TTHC.02": {"value": 114}, "TC.02": {"result": "fail"}}.items():
        record_observation(inspection, code, fields, user("inspector1"))
    db.session.commit()
    evaluation = leader.get(f"/api/v1/inspections/{co_ngan}/evaluation").get_json()
    assert evaluation["score"]["total"] == self_score["total"]
    assert evaluation["score"]["max"] == self_score["max"]


def test_writes_are_refused_after_submission_after_the_visit_started_and_past_the_deadline(
        visit, login, form_token):
    rep = login("unitrep")
    co_ngan = visit["01567"]
    assert post(rep, co_ngan, "submit").status_code == 422  # nothing claimed yet
    assert post(rep, co_ngan, "withdraw").status_code == 409
    put(rep, co_ngan, "CDDH.01", result="pass")
    post(rep, co_ngan, "submit")
    refused = put(rep, co_ngan, "CDDH.01", result="fail")
    assert refused.status_code == 409 and "rút lại" in refused.get_json()["message"]
    assert post(rep, co_ngan, "submit").status_code == 409
    assert post(rep, co_ngan, "withdraw").get_json()["state"] == "withdrawn"
    assert put(rep, co_ngan, "CDDH.01", result="fail").status_code == 200
    assert post(rep, co_ngan, "submit").status_code == 200
    # The secretariat sets a deadline on the trip form; once it passed, nothing changes.
    trip = db.session.get(Inspection, co_ngan).trip
    admin = login("admin")
    admin.post("/login", data={"username": "admin", "password": "demo1234",
                               "csrf_token": form_token(admin, "/login")})
    page = f"/admin/trips/{trip.id}"
    shown = admin.get(page).get_data(as_text=True)
    assert 'name="self_assessment_due"' in shown
    roles = {m.user.username: m.user_id for m in trip.members}
    form = {"csrf_token": form_token(admin, page), "name": trip.name,
            "starts_on": trip.starts_on.isoformat(), "ends_on": trip.ends_on.isoformat(),
            "leader_id": str(roles["leader"]), "member_ids": [str(roles["inspector1"])]}
    late = admin.post(page, data={**form, "self_assessment_due": "2022-10-09"})
    assert late.status_code == 422  # after the visit starts
    assert admin.post(page, data={**form, "self_assessment_due": "2022-09-30"}).status_code == 302
    assert db.session.get(Trip, trip.id).self_assessment_due == date(2022, 9, 30)
    assert rep.get(url(co_ngan)).get_json()["deadline"] == "2022-09-30"
    refused = post(rep, co_ngan, "withdraw")
    assert refused.status_code == 409 and "30/09/2022" in refused.get_json()["message"]
    vinh_quy = visit["01561"]
    other = login("unitrep_vq")
    refused = put(other, vinh_quy, "CDDH.01", result="pass")
    assert refused.status_code == 409 and "quá hạn" in refused.get_json()["message"]
    # Without a deadline, the visit starting closes it all the same.
    db.session.get(Trip, trip.id).self_assessment_due = date.today() + timedelta(days=1)
    transition_inspection(db.session.get(Inspection, vinh_quy), "start", user("inspector1"))
    db.session.commit()
    refused = other.put(url(vinh_quy, "/CDDH.01"), json={"result": "pass"},
                        headers={"X-CSRF-Token": other.csrf, "Accept-Language": "en"})
    assert refused.status_code == 409 and "visit has started" in refused.get_json()["message"]


def test_who_may_read_and_write(visit, login):
    co_ngan = visit["01567"]
    rep = login("unitrep")
    put(rep, co_ngan, "CDDH.01", result="pass")
    for name in ("leader", "inspector1", "admin"):
        reader = login(name)
        assert reader.get(url(co_ngan)).status_code == 200
        assert put(reader, co_ngan, "CDDH.01", result="fail").status_code == 403
        assert post(reader, co_ngan, "submit").status_code == 403
    missing = login("inspector3").get(url(999999))
    for outsider in (login("inspector3"), login("unitrep_vq")):
        for answer in (outsider.get(url(co_ngan)), put(outsider, co_ngan, "CDDH.01", result="pass"),
                       post(outsider, co_ngan, "submit")):
            assert answer.status_code == 404
            assert answer.get_json() == missing.get_json()


def test_bad_input_is_a_clear_422(visit, login):
    rep = login("unitrep")
    co_ngan = visit["01567"]
    unknown = put(rep, co_ngan, "NOPE.99", result="pass")
    assert unknown.status_code == 422 and "NOPE.99" in unknown.get_json()["message"]
    assert put(rep, co_ngan, "CDDH.01", result="maybe").status_code == 422
    over = put(rep, co_ngan, "CDDH.01", points=99)
    assert over.status_code == 422 and "CDDH.01" in over.get_json()["message"]
    assert put(rep, co_ngan, "TTHC.01", value=1.5).status_code == 422
    assert put(rep, co_ngan, "CDDH.01", colour="red").status_code == 422
    assert put(rep, co_ngan, "CDDH.01", evidence=["1"]).status_code == 422
    assert rep.get(url(co_ngan)).get_json()["items"] == []


def test_evidence_files_over_tus_checked_by_content_stored_once(visit, login):
    rep, leader = login("unitrep"), login("leader")
    co_ngan = visit["01567"]
    ids = {}
    for name, data in (("ke-hoach.pdf", pdf("ke hoach")), ("anh.png", png()),
                       ("bao-cao.docx", docx())):
        answer = upload(rep, co_ngan, data, name)
        assert answer.status_code == 204, answer.get_json()
        ids[name] = int(answer.headers["Evidence-Id"])
    # The same bytes again are not sent: the creation answers with the stored file.
    again = upload(rep, co_ngan, pdf("ke hoach"), "ban-sao.pdf")
    assert again.status_code == 201 and int(again.headers["Evidence-Id"]) == ids["ke-hoach.pdf"]
    body = put(rep, co_ngan, "CDDH.01", result="pass",
               evidence=[ids["ke-hoach.pdf"], ids["bao-cao.docx"]]).get_json()
    files = body["items"][0]["evidence"]
    assert [f["name"] for f in files] == ["ke-hoach.pdf", "bao-cao.docx"]
    assert files[0]["content_type"] == "application/pdf"
    assert files[1]["content_type"].endswith("wordprocessingml.document")
    assert files[0]["sha256"] == hashlib.sha256(pdf("ke hoach")).hexdigest()
    # The team opens them once submitted, not before.
    assert leader.get(files[0]["url"]).status_code == 404
    assert rep.get(files[0]["url"], buffered=True).data == pdf("ke hoach")
    post(rep, co_ngan, "submit")
    opened = leader.get(files[0]["url"], buffered=True)
    assert opened.status_code == 200 and opened.data == pdf("ke hoach")
    assert "attachment" in opened.headers["Content-Disposition"]
    assert login("inspector3").get(files[0]["url"]).status_code == 404


def test_refused_files_store_nothing_and_another_units_evidence_is_404(visit, login, app):
    rep = login("unitrep")
    co_ngan, vinh_quy = visit["01567"], visit["01561"]
    stored = len(list(get_storage().objects_dir.rglob("*"))) if get_storage().objects_dir.exists() \
        else 0
    files_before = db.session.scalar(select(func.count(SelfAssessmentEvidence.id)))
    for name, data in (("virus.exe", b"MZ\x90\x00" + b"\x00" * 200), ("trang.html", b"<html>"),
                       ("gia.pdf.zip", _zip_of_text())):
        answer = upload(rep, co_ngan, data, name)
        assert answer.status_code == 422, name
        assert "PDF" in answer.get_json()["message"]
    app.config["MAX_EVIDENCE_BYTES"] = 1000
    big = upload(rep, co_ngan, pdf("x" * 2000), "lon.pdf")
    assert big.status_code == 413 and "tối đa" in big.get_json()["message"]
    after = len(list(get_storage().objects_dir.rglob("*"))) if get_storage().objects_dir.exists() \
        else 0
    assert after == stored
    assert db.session.scalar(select(func.count(SelfAssessmentEvidence.id))) == files_before
    # Vinh Quý's file cannot be attached to Cô Ngân's claims.
    other = login("unitrep_vq")
    theirs = int(upload(other, vinh_quy, pdf("vinh quy"), "vq.pdf").headers["Evidence-Id"])
    refused = put(rep, co_ngan, "CDDH.01", result="pass", evidence=[theirs])
    assert refused.status_code == 404
    assert rep.get(url(vinh_quy, f"/evidence/{theirs}")).status_code == 404
    assert rep.get(url(co_ngan, f"/evidence/{theirs}")).status_code == 404
    # The team's members cannot upload evidence for the unit.
    assert upload(login("inspector1"), co_ngan, pdf("team"), "t.pdf").status_code == 403


def _zip_of_text() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "not a document")
    return out.getvalue()


def test_the_demo_holds_vinh_quys_submitted_self_assessment(demo, login):
    leader = login("leader")
    vinh_quy = next(i.id for i in db.session.scalars(select(Inspection))
                    if i.unit.code == "01561")
    seen = leader.get(url(vinh_quy)).get_json()
    assert seen["state"] == "submitted" and seen["deadline"] == "2021-09-28"
    files = [f for item in seen["items"] for f in item["evidence"]]
    assert len(files) >= 3 and {f["content_type"] for f in files} >= {"application/pdf",
                                                                      "image/jpeg"}
    for f in files:
        assert leader.get(f["url"], buffered=True).status_code == 200
    evaluation = leader.get(f"/api/v1/inspections/{vinh_quy}/evaluation").get_json()
    claimed = {i["item_code"]: i["result"] for i in seen["items"]}
    from inspection.services.evaluation import observations_by_code
    appraised = observations_by_code(db.session.get(Inspection, vinh_quy))
    differing = [c for c, r in claimed.items() if appraised.get(c, {}).get("result") != r]
    assert len(differing) == 2
    assert evaluation["self_score"]["total"] < evaluation["score"]["total"]
    threads = [i["explanation_request"] for i in seen["items"] if i["explanation_request"]]
    assert len(threads) == 1 and threads[0]["answer"] and threads[0]["evidence"]


def test_assignments_carry_the_submitted_self_assessment_for_offline_work(demo, login):
    inspector = login("inspector2")
    payload = inspector.get("/api/v1/assignments").get_json()
    by_unit = {a["inspection"]["unit"]["code"]: a for a in payload["assignments"]}
    claims = by_unit["01561"]["self_assessment"]
    assert by_unit["01567"]["self_assessment"] is None
    assert claims["state"] == "submitted" and claims["score"]["total"] > 0
    files = {e["id"]: e for e in claims["evidence"]}
    attached = [i for c in claims["claims"] for i in c["evidence"]]
    assert attached and set(attached) <= set(files)
    assert inspector.get(files[attached[0]]["url"], buffered=True).status_code == 200
    [thread] = claims["explanations"]
    assert thread["answer"] and set(thread["evidence"]) <= set(files)
    evaluation = inspector.get(
        f"/api/v1/inspections/{by_unit['01561']['inspection']['id']}/evaluation").get_json()
    assert claims["score"] == evaluation["self_score"]
