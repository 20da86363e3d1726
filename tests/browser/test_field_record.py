"""The field app tells the inspector what happened (issue 14, "Field app"): a tapped result stays
pressed, the consistency panel speaks words, the header stays one line offline, the leader's
decisions reach the tablets, a change sent after approval is labelled as kept for the leader,
both inspectors of a disagreement see it, and photos are captioned and deleted until approval."""
from __future__ import annotations

import uuid

import pytest
from field_helpers import (
    go_to_item,
    ha_lang_id,
    inspection_id_of,
    open_inspection,
    save_screenshot,
    sync_and_wait,
    wait_unsent,
)
from playwright.sync_api import expect
from sqlalchemy import select

from inspection.extensions import db
from inspection.models import (
    AuditEvent,
    Conflict,
    Inspection,
    LateSubmission,
    Observation,
    Photo,
    User,
)
from inspection.services import review
from inspection.services.sync import apply_ops

pytestmark = pytest.mark.browser



def pressed(card) -> list[str]:
    return [b.get_attribute("data-result")
            for b in card.locator("button.result[aria-pressed='true']").all()]


def test_a_tapped_result_stays_pressed_at_once_online_and_offline(live_server, context, sign_in):
    page = sign_in(context, "inspector1")
    open_inspection(page)
    card = go_to_item(page, "CDDH.01")
    # Online: pressed at once, still pressed after the save and the sync that follows it.
    card.get_by_role("button", name="Đạt", exact=True).click()
    assert pressed(card) == ["pass"]
    expect(card.locator(".flag-unsent")).to_be_visible()
    assert pressed(card) == ["pass"]
    wait_unsent(page, 0)
    assert pressed(card) == ["pass"]
    # Offline: another result, pressed at once and after the save; a second tap clears it.
    context.set_offline(True)
    card = go_to_item(page, "CDDH.05")
    card.get_by_role("button", name="Không đạt", exact=True).click()
    assert pressed(card) == ["fail"]
    wait_unsent(page, 1)
    assert pressed(card) == ["fail"]
    card.get_by_role("button", name="Không đạt", exact=True).click()
    assert pressed(card) == []
    page.wait_for_timeout(300)  # the save of the clearing has landed
    assert pressed(card) == []
    card.get_by_role("button", name="Đạt một phần", exact=True).click()
    page.wait_for_timeout(300)
    assert pressed(card) == ["partial"]


def test_the_consistency_panel_never_shows_null(live_server, context, sign_in):
    page = sign_in(context, "inspector1")
    seen = []
    for unit in ("Huyện Hạ Lang", "Xã Vinh Quý", "Xã Cô Ngân"):
        page.goto(live_server.url + "/app/#/")
        open_inspection(page, unit)
        panel = page.locator("#checks")
        text = panel.inner_text()
        assert "null" not in text, (unit, text)
        seen.append(text)
    # At least one of them has nothing failing and says so in words.
    assert any("không mâu thuẫn" in text for text in seen), seen


@pytest.mark.parametrize("width,height", [(1024, 768), (800, 1280)])
def test_offline_the_header_stays_one_line_and_covers_nothing(live_server, browser, sign_in,
                                                              width, height):
    context = browser.new_context(viewport={"width": width, "height": height})
    try:
        page = sign_in(context, "inspector1")
        open_inspection(page)
        online_height = (page.locator("#statusbar, header.statusbar, .statusbar").first
                         .bounding_box()["height"])
        context.set_offline(True)
        go_to_item(page, "CDDH.01").get_by_role("button", name="Đạt", exact=True).click()
        wait_unsent(page, 1)
        page.locator("#sync-error").wait_for(state="attached")
        assert "sẽ tự gửi khi có mạng" in page.locator("#sync-online").get_attribute("title")
        bar = page.locator(".statusbar").first.bounding_box()
        assert bar["height"] <= 66, bar  # one row of 48 px touch targets and its padding
        assert bar["height"] <= online_height + 1
        # Nothing of the bar wraps: brand, state and buttons share one row.
        tops = page.evaluate("""() => [...document.querySelectorAll(
            '.statusbar .brand, #sync-online, #sync-unsent, #sync-error, .bar-actions')]
            .filter((e) => e.offsetParent !== null)
            .map((e) => Math.round(e.getBoundingClientRect().top
                + e.getBoundingClientRect().height / 2))""")
        assert max(tops) - min(tops) <= 4, tops
        # The card's title is below the bar, not under it.
        page.evaluate("window.scrollTo(0, 0)")
        head = page.locator("article.item[data-code='CDDH.01']")
        head.scroll_into_view_if_needed()
        page.locator("#jump").fill("CDDH.01")
        page.locator("#jump").press("Enter")
        page.wait_for_timeout(300)
        title = head.locator(".item-head").bounding_box()
        assert title["y"] >= bar["y"] + bar["height"] - 1, (title, bar)
        save_screenshot(page, f"screenshot-record-field-offline-{width}x{height}.png")
    finally:
        context.close()


def _user_id(username):
    return db.session.scalar(select(User.id).where(User.username == username))


def test_a_disagreement_is_shown_to_both_and_goes_once_the_leader_decides(live_server, browser,
                                                                          sign_in):
    inspection_id = ha_lang_id(live_server)
    first_context, second_context = browser.new_context(), browser.new_context()
    try:
        kept = sign_in(first_context, "inspector1")
        proposer = sign_in(second_context, "inspector2")
        open_inspection(kept)
        open_inspection(proposer)
        second_context.set_offline(True)
        # inspector1 says CDDH.05 passes (on the server first); inspector2, offline, says it
        # fails and explains why.
        go_to_item(kept, "CDDH.05").get_by_role("button", name="Đạt", exact=True).click()

        def stored_result():
            return db.session.scalar(select(Observation.result).where(
                Observation.inspection_id == inspection_id, Observation.item_code == "CDDH.05"))

        for _ in range(150):  # until the server has it (the save and the push are asynchronous)
            if live_server.query(stored_result) == "pass":
                break
            kept.wait_for_timeout(100)
        assert live_server.query(stored_result) == "pass"
        wait_unsent(kept, 0)
        card = go_to_item(proposer, "CDDH.05")
        card.get_by_role("button", name="Không đạt", exact=True).click()
        card.locator("textarea.note").fill("Chưa công khai kết quả")
        card.locator("textarea.note").blur()
        wait_unsent(proposer, 2)
        second_context.set_offline(False)
        wait_unsent(proposer, 0)

        flag = go_to_item(proposer, "CDDH.05").locator(".flag-conflict").first
        expect(flag).to_contain_text(
            "Bạn đề xuất kết quả “Không đạt”, khác với “Đạt” của Trần Thị Bình")
        expect(go_to_item(proposer, "CDDH.05").locator(".flag-conflict").first).to_contain_text(
            "Chưa công khai kết quả")
        # The note waits with the result: not applied on the server.
        note = live_server.query(lambda: db.session.scalar(select(Observation.note).where(
            Observation.inspection_id == inspection_id, Observation.item_code == "CDDH.05")))
        assert note is None
        # The bar's words and the badge agree.
        badge = proposer.locator("#device-link .badge")
        expect(badge).to_have_text("2")
        expect(proposer.locator("#sync-unsent")).to_have_text(
            "Đã gửi hết · 2 xung đột chờ trưởng đoàn")

        # inspector1, whose value was kept, learns at the next sync that a teammate disagreed.
        sync_and_wait(kept)
        kept_flag = go_to_item(kept, "CDDH.05").locator(".flag-conflict")
        expect(kept_flag).to_contain_text("Lê Minh Cường không đồng ý: đề xuất kết quả “Không đạt”")
        expect(kept_flag).to_contain_text("giá trị “Đạt” của bạn đang được giữ")
        kept.set_viewport_size({"width": 1024, "height": 768})
        go_to_item(kept, "CDDH.05")
        save_screenshot(kept, "screenshot-record-field-disagreement.png")

        def decide():
            conflict = db.session.scalar(select(Conflict).where(Conflict.resolved_at.is_(None)))
            leader = db.session.scalar(select(User).where(User.username == "leader"))
            review.resolve_conflict(conflict, leader, "incoming")
            db.session.commit()

        live_server.query(decide)
        for page in (proposer, kept):
            sync_and_wait(page)
            expect(go_to_item(page, "CDDH.05").locator(".flag-conflict")).to_have_count(0)
        expect(proposer.locator("#device-link .badge")).to_have_count(0)
        expect(proposer.locator("#sync-unsent")).to_have_text("Đã gửi hết")
        # The decision applied the result with its note, and both tablets show them.
        for page in (proposer, kept):
            card = go_to_item(page, "CDDH.05")
            expect(card.locator("button.result[aria-pressed='true']")).to_have_attribute(
                "data-result", "fail")
            expect(card.locator("textarea.note")).to_have_value("Chưa công khai kết quả")
        proposer.click("#device-link")
        expect(proposer.locator("#attention")).not_to_contain_text(
            "Xung đột chờ trưởng đoàn quyết định")
    finally:
        first_context.close()
        second_context.close()


def test_a_change_sent_after_approval_is_kept_for_the_leader_not_refused(live_server, context,
                                                                         sign_in):
    inspection_id = ha_lang_id(live_server)
    page = sign_in(context, "inspector1")
    context.set_offline(True)
    open_inspection(page)
    go_to_item(page, "CDDH.01").get_by_role("button", name="Đạt", exact=True).click()
    wait_unsent(page, 1)

    def approve():  # meanwhile, in the office, the leader approves the inspection
        inspection = db.session.get(Inspection, inspection_id)
        inspection.submit()
        inspection.approve()
        db.session.commit()

    live_server.query(approve)
    context.set_offline(False)
    wait_unsent(page, 0)
    expect(page.locator("#device-link .badge")).to_have_text("1")
    expect(page.locator("#sync-unsent")).to_have_text("Đã gửi hết · 1 chờ trưởng đoàn xem xét")
    flag = go_to_item(page, "CDDH.01").locator(".flag-late")
    expect(flag).to_contain_text("máy chủ đã lưu thay đổi để trưởng đoàn xem xét")
    expect(go_to_item(page, "CDDH.01").locator(".flag-rejected")).to_have_count(0)

    page.click("#device-link")
    entry = page.locator("#late-list li.attention-late")
    expect(entry).to_contain_text("Chờ trưởng đoàn xem xét")
    expect(entry).not_to_contain_text("Bị từ chối")
    expect(page.locator("#attention")).to_contain_text(
        "Gửi sau khi đã duyệt, chờ trưởng đoàn xem xét (1)")
    page.set_viewport_size({"width": 1024, "height": 768})
    page.evaluate("window.scrollTo(0, 0)")
    save_screenshot(page, "screenshot-record-field-late.png")
    # Nothing to export: it is on the server; it may be dismissed at once.
    assert entry.get_by_role("button", name="Bỏ qua").is_enabled()

    # The leader accepts it: at the next sync the entry goes by itself.
    def accept():
        late = db.session.scalar(select(LateSubmission))
        leader = db.session.scalar(select(User).where(User.username == "leader"))
        review.decide_late_submission(late, leader, accept=True)
        db.session.commit()

    live_server.query(accept)
    page.click("#sync-now")
    page.wait_for_function("() => !document.querySelector('#device-link .badge')")
    page.evaluate("location.hash = '#/'")
    page.wait_for_selector("a.assignment")
    page.click("#device-link")
    expect(page.locator("#attention")).to_contain_text("Không có mục nào cần xử lý")
    expect(page.locator("#late-list")).to_have_count(0)
    expect(page.locator("#sync-unsent")).to_have_text("Đã gửi hết")


def test_a_photo_is_captioned_and_deleted_until_approval(live_server, context, sign_in,
                                                         camera_jpeg, tmp_path):
    inspection_id = ha_lang_id(live_server)
    page = sign_in(context, "inspector1")
    open_inspection(page)
    card = go_to_item(page, "CDDH.01")
    picture = tmp_path / "bang.jpg"
    picture.write_bytes(camera_jpeg(800, 600))
    card.locator("input[data-photo='gallery']").set_input_files(str(picture))
    card.locator("li.thumb").wait_for()

    def photo_rows():
        return [(str(p.client_uuid), p.caption) for p in db.session.scalars(
            select(Photo).where(Photo.inspection_id == inspection_id))]

    for _ in range(200):  # until the upload has completed on the server
        if live_server.query(photo_rows):
            break
        page.wait_for_timeout(100)
    wait_unsent(page, 0, 0, timeout=20000)
    [(client_uuid, caption)] = live_server.query(photo_rows)
    assert caption == ""
    # Caption it in the viewer (saved on the device, sent at the next sync).
    card.locator("li.thumb button.thumb-open").click()
    viewer = page.locator("dialog.photo-viewer")
    viewer.locator("textarea.viewer-caption").fill("Bảng niêm yết thủ tục tại bộ phận một cửa")
    viewer.get_by_role("button", name="Lưu chú thích").click()
    expect(viewer.locator(".viewer-saved")).to_contain_text("Đã lưu chú thích")
    page.set_viewport_size({"width": 1024, "height": 768})
    save_screenshot(page, "screenshot-record-field-photo.png")
    viewer.get_by_role("button", name="Đóng").click()
    expect(card.locator(".thumb-caption")).to_have_text("Bảng niêm yết thủ tục tại bộ phận một cửa")
    wait_unsent(page, 0)
    sync_and_wait(page)
    assert live_server.query(photo_rows) == \
        [(client_uuid, "Bảng niêm yết thủ tục tại bộ phận một cửa")]

    # Delete it (asked first), offline: it goes from the device now and from the server later.
    context.set_offline(True)
    card.locator("li.thumb button.thumb-open").click()
    viewer.get_by_role("button", name="Xoá ảnh").click()
    expect(viewer.locator(".viewer-confirm")).to_contain_text("nhật ký vẫn ghi lại")
    viewer.get_by_role("button", name="Xoá", exact=True).click()
    expect(card.locator("li.thumb")).to_have_count(0)
    wait_unsent(page, 1)
    context.set_offline(False)
    wait_unsent(page, 0)
    assert live_server.query(photo_rows) == []
    deleted = live_server.query(lambda: db.session.scalar(
        select(AuditEvent.details).where(AuditEvent.action == "photo.delete")))
    assert deleted["client_uuid"] == client_uuid
    assert deleted["caption"] == "Bảng niêm yết thủ tục tại bộ phận một cửa"


def test_photos_of_an_approved_inspection_cannot_be_changed(live_server, context, sign_in):
    co_ngan = inspection_id_of(live_server, "01567")

    def add_photo():
        db.session.add(Photo(client_uuid=uuid.uuid4(), inspection_id=co_ngan, item_code="TC.02",
                             sha256="cd" * 32, size=10, width=10, height=10,
                             content_type="image/jpeg",
                             caption="Biên bản", author_id=_user_id("inspector1")))
        db.session.commit()

    live_server.query(add_photo)
    page = sign_in(context, "inspector1")
    open_inspection(page, "Xã Cô Ngân")
    card = go_to_item(page, "TC.02")
    card.locator("li.thumb button.thumb-open").click()
    viewer = page.locator("dialog.photo-viewer")
    expect(viewer.locator(".viewer-locked")).to_contain_text("không sửa hay xoá ảnh được nữa")
    expect(viewer.get_by_role("button", name="Xoá ảnh")).to_have_count(0)
    # An op sent anyway (an older tablet) is refused with the reason.
    answer = live_server.query(lambda: apply_ops(
        db.session.scalar(select(User).where(User.username == "inspector1")), "t",
        [{"op_id": uuid.uuid4(), "type": "photo.delete", "inspection_id": co_ngan,
          "item_code": "TC.02",
          "base_version": 0, "fields": {"photo": str(db.session.scalar(select(Photo.client_uuid)))},
          "at": None}]))
    assert answer[0]["reason"] == "photo_locked"
