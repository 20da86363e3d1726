"""The tablet keeps only what it needs (issue 18): full images leave once the server holds them
and the inspection is approved, inspections no longer assigned or long signed are forgotten when
nothing of them is unsent, the device page shows the storage, and a full device refuses a photo
out loud."""
from __future__ import annotations

import pytest
from field_helpers import (
    go_to_item,
    inspection_id_of,
    open_inspection,
    photo_records,
    store_count,
    sync_and_wait,
    wait_unsent,
)
from playwright.sync_api import expect
from sqlalchemy import delete, select

from inspection.extensions import db
from inspection.models import Inspection, Photo, TripMember, User
from inspection.services.workflow import transition_inspection

pytestmark = pytest.mark.browser

HA_LANG_CODE, VINH_QUY_CODE, CO_NGAN_CODE = "048", "01561", "01567"
QUOTA = 900_000


def move(live_server, unit_code: str, *actions: str, reason: str | None = None):
    """The leader moves an inspection through the workflow in the office (the review page)."""

    def run():
        inspection = db.session.get(Inspection, inspection_id_of(live_server, unit_code))
        leader = db.session.scalar(select(User).where(User.username == "leader"))
        for action in actions:
            transition_inspection(inspection, action, leader, reason=reason or "Duyệt thử",
                                  confirm_unanswered=True)
        db.session.commit()

    live_server.query(run)


def test_a_photo_of_an_approved_inspection_keeps_its_thumbnail_and_opens_from_the_server(
        live_server, context, sign_in, camera_jpeg, tmp_path):
    page = sign_in(context, "inspector1")
    open_inspection(page)
    path = tmp_path / "camera.jpg"
    path.write_bytes(camera_jpeg())
    card = go_to_item(page, "CDDH.12")
    card.locator("input[data-photo=gallery]").set_input_files(str(path))
    card.locator("li.thumb-done").wait_for(timeout=15000)

    # Synced but not approved: the team may still need the picture offline during the visit.
    sync_and_wait(page)
    [taken] = photo_records(page)
    assert taken["status"] == "done" and taken["blob"] == taken["size"] and taken["thumb"] > 0

    move(live_server, HA_LANG_CODE, "submit", "approve")
    sync_and_wait(page)
    [kept] = photo_records(page)
    assert kept["blob"] is None and kept["full_dropped_at"]
    assert kept["thumb"] == taken["thumb"]
    for key in ("client_uuid", "sha256", "size", "width", "height", "captured_at", "photo_id",
                "item_code"):
        assert kept[key] == taken[key], key
    server_photo = live_server.query(lambda: db.session.scalars(select(Photo)).one())
    assert (server_photo.id, server_photo.sha256) == (kept["photo_id"], kept["sha256"])
    thumb = go_to_item(page, "CDDH.12").locator("li.thumb")
    expect(thumb.locator(".thumb-status")).to_have_text("Đã gửi · gốc ở máy chủ")
    assert thumb.locator("img").evaluate("(img) => img.complete && img.naturalWidth > 0")

    # Online, a tap shows the original, fetched from the server (never cached by the browser).
    url = f"/api/v1/photos/{kept['photo_id']}"
    with page.expect_response(lambda response: response.url.endswith(url)) as answer:
        thumb.locator("button.thumb-open").click()
    viewer = page.locator("dialog.photo-viewer")
    viewer.locator("img.viewer-image").wait_for()
    assert viewer.get_attribute("data-source") == "server"
    assert answer.value.status == 200
    assert answer.value.headers["cache-control"] == "private, no-store"
    shown = viewer.locator("img.viewer-image").evaluate(
        "(img) => [img.naturalWidth, img.naturalHeight]")
    assert shown == [kept["width"], kept["height"]]
    # What the viewer fetches is the original, byte for byte.
    fetched = page.evaluate("""async (id) => {
        const { fetchFullImage, sha256Hex } = await import('/static/js/photos.js');
        return sha256Hex(await fetchFullImage(id));
    }""", kept["photo_id"])
    assert fetched == kept["sha256"]
    viewer.get_by_role("button", name="Đóng").click()
    viewer.wait_for(state="detached")

    # Offline, after a reload (nothing in memory), the thumbnail stays and the viewer says why.
    context.set_offline(True)
    page.reload()
    page.wait_for_selector("article.item")
    thumb = go_to_item(page, "CDDH.12").locator("li.thumb")
    thumb.locator("button.thumb-open").click()
    expect(viewer.locator(".viewer-message")).to_contain_text("Cần có mạng để xem ảnh đầy đủ")
    assert viewer.locator("img.viewer-thumb").evaluate(
        "(img) => img.complete && img.naturalWidth > 0")


def test_inspections_no_longer_assigned_leave_the_device_unless_work_is_unsent(
        live_server, context, sign_in):
    page = sign_in(context, "inspector1")
    ha_lang = inspection_id_of(live_server, HA_LANG_CODE)
    vinh_quy = inspection_id_of(live_server, VINH_QUY_CODE)
    assert store_count(page, "observations", ha_lang) > 0
    context.set_offline(True)
    open_inspection(page, "Xã Vinh Quý")
    go_to_item(page, "CDDH.01").locator("textarea.note").fill("Ghi chú chưa gửi")
    wait_unsent(page, 1)

    def leave_the_team():  # the secretariat takes inspector1 off the trip
        inspector = db.session.scalar(select(User).where(User.username == "inspector1"))
        db.session.execute(delete(TripMember).where(TripMember.user_id == inspector.id))
        db.session.commit()

    live_server.query(leave_the_team)
    context.set_offline(False)
    page.goto(live_server.url + "/app/#/")
    page.locator("#cleared-unassigned").wait_for(timeout=15000)
    # Hạ Lang and Cô Ngân had nothing unsent: every record of them is gone.
    expect(page.locator("#cleared-unassigned")).to_contain_text(
        "Đã xoá khỏi máy này 2 cuộc kiểm tra")
    for inspection_id in (ha_lang, inspection_id_of(live_server, CO_NGAN_CODE)):
        for store in ("observations", "photos"):
            assert store_count(page, store, inspection_id) == 0
    expect(page.locator(f"a.assignment[data-inspection='{ha_lang}']")).to_have_count(0)
    # Vinh Quý keeps the change the server refused (not on the team any more) until it is exported.
    kept = page.locator("a.assignment:has-text('Xã Vinh Quý')")
    expect(kept.locator(".unassigned")).to_contain_text("Không còn được giao")
    assert store_count(page, "observations", vinh_quy) > 0
    page.click("#device-link")
    entry = page.locator("#attention li.attention-rejected")
    expect(entry).to_contain_text("Ghi chú chưa gửi")
    with page.expect_download():
        page.click("#export")
    page.locator("#attention li.attention-rejected").get_by_role("button", name="Bỏ qua").click()
    sync_and_wait(page)
    page.click("#brand")
    expect(page.locator("#cleared-unassigned")).to_contain_text("3 cuộc kiểm tra")
    assert store_count(page, "observations") == 0 and store_count(page, "assignments") == 0
    assert store_count(page, "checklists") == 0


def test_a_full_device_refuses_a_photo_out_loud_and_offers_to_clear_finished_inspections(
        live_server, context, sign_in, camera_jpeg, tmp_path):
    # The browser gives the app little room (as WebKit does to a tablet sooner than Chromium).
    # Chromium applies a quota set before the origin first stores something.
    blank = context.new_page()
    cdp = context.new_cdp_session(blank)
    origin = live_server.url
    cdp.send("Storage.overrideQuotaForOrigin", {"origin": origin, "quotaSize": QUOTA})
    page = sign_in(context, "inspector1")
    co_ngan = inspection_id_of(live_server, CO_NGAN_CODE)
    open_inspection(page)
    path = tmp_path / "camera.jpg"
    path.write_bytes(camera_jpeg())
    card = go_to_item(page, "CDDH.12")
    card.locator("input[data-photo=camera]").set_input_files(str(path))
    expect(card.locator(".photo-message")).to_contain_text(
        "Ảnh KHÔNG được lưu: bộ nhớ của máy đã đầy")
    assert card.locator("li.thumb").count() == 0
    assert photo_records(page) == []
    expect(page.locator("#banner-storage")).to_contain_text("Bộ nhớ của máy đã đầy")

    page.locator("#banner-storage").get_by_role("link", name="Xem bộ nhớ").click()
    expect(page.locator("#storage-warning")).to_contain_text("từ chối lưu vì hết chỗ")
    expect(page.locator("#storage-warning")).to_contain_text(
        "Có thể xoá khỏi máy 1 cuộc kiểm tra đã xong")
    rows = page.locator("#storage-use tbody tr")
    assert rows.count() == 3
    row = page.locator(f"#storage-use tr[data-inspection='{co_ngan}']")
    assert row.inner_text().count("Đã ký") == 1
    clear = page.locator("#clear-finished")
    expect(clear).to_have_text("Xoá khỏi máy 1 cuộc kiểm tra đã xong")
    clear.click()
    expect(page.locator("#clear-message")).to_have_text("Đã xoá khỏi máy 1 cuộc kiểm tra đã xong.")
    expect(rows).to_have_count(2)
    expect(page.locator("#storage-warning")).to_be_hidden()
    assert store_count(page, "observations", co_ngan) == 0

    # A sync does not bring the cleared inspection back while nothing changed on it…
    cdp.send("Storage.overrideQuotaForOrigin", {"origin": origin})
    sync_and_wait(page)
    page.click("#brand")
    expect(page.locator("#cleared-finished")).to_contain_text(
        "Đã xoá khỏi máy này 1 cuộc kiểm tra đã xong")
    expect(page.locator("a.assignment")).to_have_count(2)
    # …but when the leader reopens it, it is back on the tablet.
    move(live_server, CO_NGAN_CODE, "reopen", reason="Bổ sung minh chứng")
    sync_and_wait(page)
    expect(page.locator("a.assignment")).to_have_count(3)
    expect(page.locator("#cleared-finished")).to_have_count(0)
    # With space again, the photo is stored.
    open_inspection(page)
    card = go_to_item(page, "CDDH.12")
    card.locator("input[data-photo=camera]").set_input_files(str(path))
    card.locator("li.thumb img").wait_for()
    assert len(photo_records(page)) == 1


def test_a_signed_inspection_leaves_the_device_after_the_retention_days(
        live_server, context, sign_in):
    page = sign_in(context, "inspector1")
    co_ngan = inspection_id_of(live_server, CO_NGAN_CODE)
    assert store_count(page, "observations", co_ngan) > 0
    # The province keeps signed inspections on tablets for 0 days from now on.
    live_server.app.config["DEVICE_RETENTION_DAYS"] = 0
    sync_and_wait(page)
    expect(page.locator("#cleared-finished")).to_contain_text(
        "Đã xoá khỏi máy này 1 cuộc kiểm tra đã xong")
    expect(page.locator("a.assignment")).to_have_count(2)
    assert store_count(page, "observations", co_ngan) == 0
