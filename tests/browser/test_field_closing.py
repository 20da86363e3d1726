"""The closing meeting on the tablet with no network (issue 15, items 1, 2 and 4): the leader
enters findings, recommendations (from the tablet's suggestions), attendees, times and the
unit's comments with the server stopped; shows and prints the draft minutes; reloads; and once
the server is back, one sync puts it all on the server and the office's review page shows it.
The leader's approval from the field comes back with the server's reasons when it is blocked."""
from __future__ import annotations

import re
import subprocess

import pytest
from field_helpers import ha_lang_id, inspection_id_of, sync_and_wait, wait_unsent
from playwright.sync_api import expect
from sqlalchemy import select

from inspection.extensions import db
from inspection.models import Finding, Inspection, InspectionState, Recommendation

pytestmark = pytest.mark.browser

STRENGTH = "Bộ phận Một cửa bố trí khoa học, niêm yết đủ 221 thủ tục."
WEAKNESS = "Tỷ lệ hồ sơ giải quyết đúng hạn 86,5 %, thấp hơn mục tiêu 98 %."
OWN_REC = "Rà soát quy trình luân chuyển hồ sơ giữa các bộ phận."
COMMENTS = "Đơn vị nhất trí với kết quả kiểm tra và sẽ khắc phục trong quý IV/2021."


def pdf_text(pdf: bytes) -> str:
    return subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True,
                          timeout=60).stdout.decode("utf-8")


def words(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_the_whole_closing_meeting_offline_then_synced_to_the_office(live_server, context,
                                                                       sign_in):
    page = sign_in(context, "leader")
    inspection_id = ha_lang_id(live_server)
    live_server.stop()  # no signal in the commune from here on
    context.set_offline(True)
    page.click("a.assignment:has-text('Huyện Hạ Lang')")
    page.click("#open-closing")
    expect(page.locator("#closing-sync")).to_have_text("Đã gửi hết lên máy chủ")

    page.fill("#closing-meeting_start", "08:00")
    page.fill("#closing-meeting_end", "11:30")
    page.uncheck("#present-" + str(page.evaluate(
        "() => import('/static/js/db.js').then(async (m) => (await m.getAll('assignments'))"
        ".flatMap((a) => a.inspection.team).find((t) => t.role === 'member').user_id)")))
    page.click("#add-official")
    page.fill("#official-name-0", "Nông Văn Bình")
    page.fill("#official-position-0", "Chủ tịch UBND huyện")
    page.click("#add-strength")
    page.locator("#findings-strength textarea").fill(STRENGTH)
    expect(page.locator("#findings-weakness h2")).to_have_text("Tồn tại, hạn chế")
    page.click("#add-weakness")
    page.locator("#findings-weakness textarea").fill(WEAKNESS)
    suggestion = page.locator("#recommendations .suggestion").first
    suggested = suggestion.locator("p").first.inner_text()
    suggestion.locator("button").click()
    page.locator("#recommendations .closing-row input[type=date]").first.fill("2021-12-31")
    page.click("#add-recommendation")
    page.locator("#recommendations .closing-row textarea").last.fill(OWN_REC)
    rows = page.locator("#recommendations .closing-row")
    rows.last.get_by_role("button", name="Lên trên").click()
    expect(page.locator("#recommendations .closing-row textarea").first).to_have_value(OWN_REC)
    page.fill("#closing-unit_comments", COMMENTS)
    page.locator("h1").click()  # leave the last field: what was typed becomes an op at once
    expect(page.locator("#closing-sync")).to_contain_text("thay đổi chưa gửi")
    wait_unsent(page, 9)  # 2 times, team, officials, 2 findings, 2 recommendations, comments

    # The draft, from IndexedDB alone, printed to A4 by the browser.
    page.click("#open-minutes")
    minutes = page.locator("#minutes")
    expect(minutes).to_contain_text("DỰ THẢO")
    draft = minutes.inner_text()
    for text in (STRENGTH, WEAKNESS, OWN_REC.rstrip("."), COMMENTS,
                 "Nông Văn Bình, Chủ tịch UBND huyện",
                 "vào hồi 08 giờ 00 ngày 01 tháng 10 năm 2021", "kết thúc vào hồi 11 giờ 30"):
        assert text in draft, text
    assert f"{suggested.rstrip('.')} (thời hạn: 31/12/2021)" in draft
    printed = words(pdf_text(page.pdf(format="A4")))
    for text in ("DỰ THẢO", "I. THÀNH PHẦN", "V. Ý KIẾN CỦA ĐƠN VỊ ĐƯỢC KIỂM TRA", STRENGTH,
                 OWN_REC.rstrip("."), COMMENTS, "Máy chủ chưa lập biên bản"):
        assert words(text) in printed, text
    assert "Đồng bộ ngay" not in printed

    # A reload (the tab closed and opened again): everything is still there, still unsent.
    page.reload()
    expect(page.locator("#minutes")).to_contain_text(STRENGTH)
    page.click("text=← Họp kết thúc")
    expect(page.locator("#findings-weakness textarea")).to_have_value(WEAKNESS)
    expect(page.locator("#closing-meeting_end")).to_have_value("11:30")
    wait_unsent(page, 9)

    # The network and the server come back: one sync, and the server holds it all.
    live_server.start()
    context.set_offline(False)
    sync_and_wait(page)
    wait_unsent(page, 0)
    expect(page.locator("#closing-sync")).to_have_text("Đã gửi hết lên máy chủ")

    def on_server():
        inspection = db.session.get(Inspection, inspection_id)
        findings = db.session.scalars(select(Finding).where(
            Finding.inspection_id == inspection_id).order_by(Finding.position)).all()
        recs = db.session.scalars(select(Recommendation).where(
            Recommendation.inspection_id == inspection_id)
            .order_by(Recommendation.position)).all()
        return {
            "times": (inspection.meeting_start.strftime("%H:%M"),
                      inspection.meeting_end.strftime("%H:%M")),
            "officials": inspection.unit_officials, "comments": inspection.unit_comments,
            "present": len(inspection.team_present or []), "team": len(inspection.trip.members),
            "findings": [(f.kind, f.text) for f in findings],
            "recs": [(r.text, r.due_on.isoformat() if r.due_on else None, r.library_code)
                     for r in recs],
        }

    held = live_server.query(on_server)
    assert held["times"] == ("08:00", "11:30")
    assert held["officials"] == [{"name": "Nông Văn Bình", "position": "Chủ tịch UBND huyện"}]
    assert held["comments"] == COMMENTS
    assert held["present"] == held["team"] - 1
    assert held["findings"] == [("strength", STRENGTH), ("weakness", WEAKNESS)]
    assert [r[0] for r in held["recs"]] == [OWN_REC, suggested]  # moved up on the tablet
    assert held["recs"][1][1] == "2021-12-31" and held["recs"][1][2]

    # The office's review page shows what the tablet recorded.
    office = context.new_page()
    office.goto(f"{live_server.url}/inspections/{inspection_id}")
    body = office.locator("body")
    for text in (STRENGTH, WEAKNESS, OWN_REC, COMMENTS):
        expect(body).to_contain_text(text)


def test_approval_from_the_field_comes_back_with_the_servers_reasons(live_server, context,
                                                                      sign_in):
    page = sign_in(context, "leader")
    inspection_id = inspection_id_of(live_server, "01561")  # xã Vinh Quý, submitted
    page.goto(f"{live_server.url}/app/#/i/{inspection_id}/closing")
    context.set_offline(True)
    page.click("#approve-open")
    page.click("#approve-send")
    expect(page.locator(".approve-form .form-error")).to_be_visible()  # confirmation needed
    page.check("#approve-confirm")
    page.fill("#approve-reason", "Đơn vị không có số liệu khảo sát")
    # Meanwhile the office changes the unit's comments: the leader has not seen it, and writes
    # other comments on the tablet from the older version.
    live_server.query(lambda: _office_edit(inspection_id))
    page.fill("#closing-unit_comments", "Ý kiến ghi trên máy tính bảng.")
    page.click("#approve-send")
    expect(page.locator("#approval-waiting")).to_be_visible()
    context.set_offline(False)
    sync_and_wait(page)
    kept = page.locator("#closing-refused .closing-conflict")
    expect(kept).to_contain_text("Ý kiến do văn phòng ghi.")  # the office's value is kept
    expect(page.locator("#closing-unit_comments")).to_have_value("Ý kiến do văn phòng ghi.")
    kept.get_by_role("button", name="Đã hiểu").click()
    expect(kept).to_have_count(0)
    refused = page.locator("#closing-refused .approval-refused")
    expect(refused).to_contain_text("máy chủ chưa duyệt")
    expect(refused.locator(".closing-errors li")).not_to_have_count(0)
    assert live_server.query(lambda: db.session.get(Inspection, inspection_id).state) \
        != InspectionState.approved
    # Seen now (the sync pulled it): approving again goes through.
    refused.get_by_role("button", name="Đã hiểu").click()
    page.click("#approve-open")
    page.check("#approve-confirm")
    page.fill("#approve-reason", "Đơn vị không có số liệu khảo sát")
    page.click("#approve-send")
    sync_and_wait(page)
    expect(page.locator("#approval")).to_contain_text("Kết quả đã được duyệt")
    assert live_server.query(lambda: db.session.get(Inspection, inspection_id).state) \
        == InspectionState.approved


def _office_edit(inspection_id: int) -> None:
    from inspection.models import User
    from inspection.services.closing import log_closing, office_writer

    inspection = db.session.get(Inspection, inspection_id)
    admin = db.session.scalar(select(User).where(User.username == "admin"))
    inspection.set_closing("unit_comments", "Ý kiến do văn phòng ghi.", office_writer(admin))
    log_closing(inspection, admin)
    db.session.commit()


def test_a_team_member_reads_the_closing_meeting_without_editing_it(live_server, context,
                                                                    sign_in):
    page = sign_in(context, "inspector1")
    page.goto(f"{live_server.url}/app/#/i/{ha_lang_id(live_server)}/closing")
    expect(page.locator("#closing-readonly")).to_contain_text("Chỉ trưởng đoàn và thư ký")
    expect(page.locator("#closing-unit_comments")).to_be_disabled()
    expect(page.locator("#add-strength, #add-recommendation, #approve-open")).to_have_count(0)
    page.click("#open-minutes")
    expect(page.locator("#minutes")).to_contain_text("I. THÀNH PHẦN")
