"""The unit's self-assessment in the office pages: the representative fills it criterion by
criterion with evidence files, submits and withdraws; the team reads the claims beside its
appraisal; the leader asks for explanations, the unit answers, approval warns of the rest."""
from __future__ import annotations

import io
from datetime import date

import pytest
from sqlalchemy import func, select

from inspection.extensions import db
from inspection.models import Inspection, Plan, SelfAssessmentEvidence, User
from inspection.services.observations import record_observation
from inspection.services.planning import create_trip
from inspection.services.units import unit_valid_on
from inspection.services.workflow import transition_inspection

VISIT = date(2022, 10, 3)


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


@pytest.fixture
def co_ngan(demo):
    """A planned 2022 visit to xã Cô Ngân (the demo representative's unit)."""
    plan = db.session.scalar(select(Plan))
    trip = create_trip(plan, "Kiểm tra CCHC năm 2022", VISIT, VISIT, user("leader"),
                       [user("inspector1")], [unit_valid_on("01567", VISIT)], by=user("admin"))
    db.session.commit()
    return trip.inspections[0].id


@pytest.fixture
def office(app, form_token):
    """Factory: a browser session signed in through the sign-in page."""
    def sign_in(username):
        client = app.test_client()
        client.post("/login", data={"username": username, "password": "demo1234",
                                    "csrf_token": form_token(client, "/login")})
        return client
    return sign_in


def page_url(inspection_id):
    return f"/inspections/{inspection_id}/self-assessment"


def save(client, form_token, inspection_id, code, files=(), **fields):
    data = {"csrf_token": form_token(client, page_url(inspection_id)), **fields}
    if files:
        data["files"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post(f"{page_url(inspection_id)}/items/{code}", data=data,
                       content_type="multipart/form-data", follow_redirects=True)


def post(client, form_token, url, back, **fields):
    return client.post(url, data={"csrf_token": form_token(client, back), **fields},
                       follow_redirects=True)


PDF = b"%PDF-1.4\n% quyet dinh\n%%EOF\n"


def test_the_representative_fills_submits_withdraws_and_the_team_reads(co_ngan, office,
                                                                       form_token):
    rep = office("unitrep")
    home = rep.get(f"/inspections/{co_ngan}").get_data(as_text=True)
    assert page_url(co_ngan) in home
    shown = save(rep, form_token, co_ngan, "CDDH.01", files=[("quyet-dinh.pdf", PDF)],
                 result="pass", note="Kế hoạch CCHC năm 2022").get_data(as_text=True)
    assert "Đã lưu tiêu chí CDDH.01" in shown and "quyet-dinh.pdf" in shown
    evidence_id = db.session.scalar(select(SelfAssessmentEvidence.id).where(
        SelfAssessmentEvidence.filename == "quyet-dinh.pdf"))
    files_before = db.session.scalar(select(func.count(SelfAssessmentEvidence.id)))
    # The file is offered for the next criterion too; ticking it attaches it there.
    shown = save(rep, form_token, co_ngan, "TC.02", result="fail",
                 explanation="Chưa ban hành", evidence=str(evidence_id)).get_data(as_text=True)
    assert "Đã lưu tiêu chí TC.02" in shown
    refused = save(rep, form_token, co_ngan, "TC.03", files=[("virus.exe", b"MZ" + b"\0" * 99)],
                   result="pass").get_data(as_text=True)
    assert "virus.exe" in refused and "không được chấp nhận" in refused
    assert db.session.scalar(select(func.count(SelfAssessmentEvidence.id))) == files_before
    over = save(rep, form_token, co_ngan, "CDDH.01", points="abc").get_data(as_text=True)
    assert "phải là số" in over or "không hợp lệ" in over
    submitted = post(rep, form_token, f"{page_url(co_ngan)}/submit",
                     page_url(co_ngan)).get_data(as_text=True)
    assert "Đã nộp tự đánh giá" in submitted and 'name="note"' not in submitted
    assert "Rút lại để sửa" in submitted
    # The leader sees the claims beside the appraisal, the differing one flagged.
    inspection = db.session.get(Inspection, co_ngan)
    transition_inspection(inspection, "start", user("inspector1"))
    record_observation(inspection, "CDDH.01", {"result": "fail"}, user("inspector1"))
    record_observation(inspection, "TC.02", {"result": "fail"}, user("inspector1"))
    db.session.commit()
    leader = office("leader")
    review = leader.get(f"/inspections/{co_ngan}").get_data(as_text=True)
    assert 'id="self-assessment"' in review
    assert "1 tiêu chí khác kết quả thẩm định" in review
    full = leader.get(page_url(co_ngan)).get_data(as_text=True)
    assert "Kế hoạch CCHC năm 2022" in full and "Chưa ban hành" in full
    assert full.count("khác tự đánh giá") == 1
    download = leader.get(f"{page_url(co_ngan)}/evidence/{evidence_id}", buffered=True)
    assert download.data == PDF
    # The visit started: the representative can no longer withdraw, and is told why.
    after = rep.get(page_url(co_ngan)).get_data(as_text=True)
    assert "Rút lại để sửa" not in after and "đã bắt đầu" in after
    assert office("inspector3").get(page_url(co_ngan)).status_code == 404


def test_explanations_asked_answered_and_warned_at_approval(co_ngan, office, form_token):
    rep = office("unitrep")
    save(rep, form_token, co_ngan, "CDDH.01", result="pass")
    save(rep, form_token, co_ngan, "TC.02", result="pass")
    post(rep, form_token, f"{page_url(co_ngan)}/submit", page_url(co_ngan))
    inspection = db.session.get(Inspection, co_ngan)
    transition_inspection(inspection, "start", user("inspector1"))
    db.session.commit()
    leader = office("leader")
    for code in ("CDDH.01", "TC.02"):
        asked = post(leader, form_token, f"{page_url(co_ngan)}/explanations/{code}",
                     page_url(co_ngan), question=f"Đề nghị cung cấp văn bản của {code}")
        assert f"Đã đề nghị đơn vị giải trình tiêu chí {code}" in asked.get_data(as_text=True)
    again = post(leader, form_token, f"{page_url(co_ngan)}/explanations/TC.02",
                 page_url(co_ngan), question="Lần hai")
    assert "Đã đề nghị giải trình tiêu chí TC.02" in again.get_data(as_text=True)
    refused = post(rep, form_token, f"{page_url(co_ngan)}/explanations/TC.02", page_url(co_ngan),
                   question="?")
    assert "Chỉ trưởng đoàn mới đề nghị đơn vị giải trình" in refused.get_data(as_text=True)
    answered = rep.post(f"{page_url(co_ngan)}/explanations/CDDH.01/answer", data={
        "csrf_token": form_token(rep, page_url(co_ngan)),
        "answer": "Kế hoạch ban hành ngày 15/01/2022",
        "files": [(io.BytesIO(PDF), "ke-hoach.pdf")]}, content_type="multipart/form-data",
        follow_redirects=True).get_data(as_text=True)
    assert "Đã gửi giải trình tiêu chí CDDH.01" in answered
    full = leader.get(page_url(co_ngan)).get_data(as_text=True)
    assert "Kế hoạch ban hành ngày 15/01/2022" in full and "ke-hoach.pdf" in full
    assert "Còn 1 đề nghị giải trình chưa được trả lời: TC.02" in full
    review = leader.get(f"/inspections/{co_ngan}").get_data(as_text=True)
    assert 'id="explanations-unanswered"' in review and "TC.02" in review
    # A warning, not a block: the leader approves all the same.
    approved = post(leader, form_token, f"/inspections/{co_ngan}", f"/inspections/{co_ngan}",
                    action="approve", confirm_unanswered="1", reason="Duyệt thử")
    assert "Đã cập nhật trạng thái" in approved.get_data(as_text=True)
