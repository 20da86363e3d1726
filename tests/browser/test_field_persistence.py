"""Storage the tablet keeps (issue 15, item 5): when the browser refuses persistent storage, or
the last successful sync is days old (Safari deletes the data of a site unused for 7 days), the
device page says so plainly with the count of unsent work and the export one tap away, and the
header bar carries a short line that leads there."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from field_helpers import go_to_item, open_inspection, wait_unsent
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

REFUSE_PERSISTENCE = """
if (navigator.storage) {
  navigator.storage.persist = async () => false;
  navigator.storage.persisted = async () => false;
}
"""


def test_refused_persistence_and_old_data_are_said_plainly_with_the_export_at_hand(
        live_server, context, sign_in):
    context.add_init_script(REFUSE_PERSISTENCE)
    page = sign_in(context, "inspector1")
    bar = page.locator("#sync-storage")
    expect(bar).to_have_text("Dữ liệu có thể bị xoá · 0 chưa gửi")

    context.set_offline(True)
    open_inspection(page)
    go_to_item(page, "CDDH.01").get_by_role("button", name="Đạt", exact=True).click()
    wait_unsent(page, 1)
    expect(bar).to_have_text("Dữ liệu có thể bị xoá · 1 chưa gửi")
    page.set_viewport_size({"width": 800, "height": 1280})  # portrait: still one line
    box = page.locator(".statusbar").first.bounding_box()
    tops = page.evaluate("""() => [...document.querySelectorAll(
        '#sync-online, #sync-unsent, #sync-storage, .bar-actions')]
        .filter((e) => e.offsetParent !== null)
        .map((e) => e.getBoundingClientRect())
        .map((r) => Math.round(r.top + r.height / 2))""")
    assert box["height"] <= 66 and len(tops) == 4 and max(tops) - min(tops) <= 4, (box, tops)
    page.set_viewport_size({"width": 1280, "height": 800})

    bar.click()  # the bar's line leads to the device page
    warning = page.locator("#storage-risk")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("Trình duyệt chưa cho lưu trữ bền vững")
    expect(warning).to_contain_text("Còn 1 mục chưa gửi lên máy chủ")
    with page.expect_download() as download:
        page.click("#risk-export")
    exported = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert [op["fields"] for op in exported["outbox"]] == [{"result": "pass"}]

    # Five days without a successful sync (the tablet stayed offline): the words say how long.
    page.evaluate("""async () => {
        const { setMeta } = await import('/static/js/db.js');
        await setMeta('last_sync', new Date(Date.now() - 5 * 86400000 - 60000).toISOString());
    }""")
    page.reload()
    expect(bar).to_have_text("5 ngày chưa đồng bộ · 1 chưa gửi")
    page.goto(live_server.url + "/app/#/device")
    expect(page.locator("#storage-risk")).to_contain_text(
        "Lần đồng bộ thành công gần nhất cách đây 5 ngày")
    page.click("#language")
    expect(page.locator("#storage-risk")).to_contain_text(
        "The browser has not granted persistent storage")
    expect(bar).to_have_text("5 days without sync · 1 unsent")


def test_granted_persistence_and_a_fresh_sync_say_nothing(live_server, context, sign_in):
    context.add_init_script("""
if (navigator.storage) {
  navigator.storage.persist = async () => true;
  navigator.storage.persisted = async () => true;
}""")
    page = sign_in(context, "inspector1")
    page.goto(live_server.url + "/app/#/device")
    page.locator("#storage-card").wait_for()
    expect(page.locator("#storage-risk")).to_be_hidden()
    expect(page.locator("#sync-storage")).to_be_hidden()
