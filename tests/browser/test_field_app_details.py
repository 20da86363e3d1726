"""The field app's behaviour around the edges: refused work, an ended session, live checks,
the English switch, and the "new version" prompt of the service worker."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from field_helpers import go_to_item, ha_lang_id, open_inspection, wait_unsent
from playwright.sync_api import expect
from sqlalchemy import func, select

from inspection.extensions import db
from inspection.models import AppliedOp, Observation
from inspection.web import fieldapp

pytestmark = pytest.mark.browser


def test_a_refused_change_is_kept_for_attention_and_dismissed_only_after_export(
        live_server, context, sign_in):
    page = sign_in(context, "inspector1")
    context.set_offline(True)
    open_inspection(page)
    go_to_item(page, "CDDH.01").get_by_role("button", name="Đạt", exact=True).click()
    wait_unsent(page, 1)

    # The server refuses the op (as it would a value it cannot take). A change sent after
    # approval is not refused but kept for the leader: test_field_record.py.
    def refuse(route):
        ops = route.request.post_data_json["ops"]
        route.fulfill(json={"results": [
            {"op_id": op["op_id"], "status": "rejected", "reason": "invalid_field",
             "message": "Giá trị không hợp lệ cho tiêu chí này"} for op in ops]})

    page.route("**/api/v1/sync/push", refuse)
    context.set_offline(False)
    wait_unsent(page, 0)
    page.locator("#device-link .badge").wait_for()
    assert page.locator("#device-link .badge").inner_text() == "1"
    assert page.locator("#sync-unsent").inner_text() == "Đã gửi hết · 1 bị từ chối"
    flag = go_to_item(page, "CDDH.01").locator(".flag-rejected")
    assert "Giá trị không hợp lệ" in flag.inner_text()

    page.click("#device-link")
    entry = page.locator("#attention li.attention-rejected")
    assert "Máy chủ trả lời: Giá trị không hợp lệ" in entry.inner_text()
    assert entry.get_by_role("button", name="Bỏ qua").is_disabled()
    page.click("#logout")
    expect(page.locator("#logout-message")).to_contain_text("1 mục cần xử lý")

    with page.expect_download() as download:
        page.click("#export")
    exported = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert exported["format"] == "cchc-field-export/1"
    [kept] = exported["attention"]
    assert kept["op"]["fields"] == {"result": "pass"} and kept["item_code"] == "CDDH.01"

    page.locator("#attention li.attention-rejected").get_by_role("button", name="Bỏ qua").click()
    page.locator("#attention li.attention-rejected").wait_for(state="detached")
    page.click("#logout")
    page.wait_for_selector("input[name=username]")


def test_an_ended_session_asks_to_sign_in_again_and_keeps_unsent_work(
        live_server, context, sign_in):
    page = sign_in(context, "inspector1")
    open_inspection(page)
    # the session ended on the server side (expired, or signed out elsewhere)
    context.clear_cookies()
    go_to_item(page, "CDDH.01").get_by_role("button", name="Không đạt", exact=True).click()
    page.locator("#sync-now").click()
    banner = page.locator("#banner-auth")
    banner.wait_for()
    assert "Công việc chưa gửi vẫn được giữ" in banner.inner_text()
    assert page.locator("#sync-unsent").get_attribute("data-ops") == "1"

    banner.get_by_role("link", name="Đăng nhập lại").click()
    assert page.locator("input[name=username]").input_value() == "inspector1"
    page.fill("input[name=password]", "demo1234")
    page.click("button[type=submit]")
    wait_unsent(page, 0)
    assert page.locator("#banner-auth").count() == 0


def test_consistency_rules_and_ratios_follow_the_counts_as_they_are_typed(
        live_server, context, sign_in):
    page = sign_in(context, "inspector1")
    context.set_offline(True)  # all of it is computed on the device
    open_inspection(page)
    ratio = go_to_item(page, "TTHC.32").locator(".ratio")
    # The demo figures: 924 of 1,068 dossiers resolved on time, against a target of 98 %.
    assert "86,5 %" in ratio.inner_text() and "Chưa đạt mục tiêu" in ratio.inner_text()

    go_to_item(page, "TTHC.26").locator("input.count").fill("1070")  # more on time than resolved
    section_checks = page.locator("#section-checks")
    check = section_checks.locator("li.check.severity-error",
                                   has_text="không được vượt số hồ sơ đã giải quyết")
    check.wait_for()
    assert "Lỗi" in check.text_content()
    assert "TTHC.26" in check.inner_text()

    go_to_item(page, "TTHC.26").locator("input.count").fill("1068")
    check.wait_for(state="detached")
    assert "100 %" in ratio.inner_text() and "Đạt mục tiêu" in ratio.inner_text()

    go_to_item(page, "TTHC.26").locator("input.count").fill("12a")
    assert "số nguyên" in go_to_item(page, "TTHC.26").locator(".field-error").inner_text()


def test_the_interface_switches_to_english_and_remembers_it(live_server, context, sign_in):
    page = sign_in(context, "inspector1")
    open_inspection(page)
    page.click("#language")
    page.get_by_role("button", name="Pass", exact=True).first.wait_for()
    page.reload()
    page.wait_for_selector("article.item")
    expect(page.locator("#sync-now")).to_have_text("Sync now")
    expect(page.locator("#sync-online")).to_have_text("Online")
    assert page.locator("html").get_attribute("lang") == "en"


def test_a_new_version_is_offered_and_installed_on_request(live_server, context, sign_in,
                                                           monkeypatch):
    page = sign_in(context, "inspector1")
    # The shell's cache (the evidence files a unit sent have a cache of their own, kept across
    # versions).
    old = [name for name in page.evaluate("caches.keys()") if name != "cchc-evidence"]
    assert len(old) == 1 and old[0].startswith("cchc-shell-")

    # Deploy "a new version": the server now hands out a worker with another VERSION.
    static = live_server.app.static_folder
    monkeypatch.setitem(fieldapp._precache, static,
                        dataclasses.replace(fieldapp.precache_for(static), version="next"))
    page.evaluate("navigator.serviceWorker.getRegistration().then((r) => r.update())")
    banner = page.locator("#banner-update")
    banner.wait_for()
    with page.expect_navigation():
        banner.get_by_role("button", name="Tải lại").click()
    page.wait_for_selector("a.assignment")
    page.wait_for_function("() => caches.keys().then((keys) => { const k = keys.filter((n) => "
                           "n.startsWith('cchc-shell-')); return k.length === 1 && k[0] === "
                           "'cchc-shell-next'; })")


def test_two_tabs_never_send_the_same_op_twice(live_server, context, sign_in):
    first = sign_in(context, "inspector1")
    second = context.new_page()
    second.goto(live_server.url + "/app/")
    second.wait_for_selector("a.assignment")
    sent = []

    def record(request):
        if request.url.endswith("/sync/push"):
            sent.extend(op["op_id"] for op in request.post_data_json["ops"])

    for page in (first, second):
        page.on("request", record)
    context.set_offline(True)
    open_inspection(first)
    for code in ("CDDH.01", "CDDH.05", "CDDH.06", "CDDH.07"):
        go_to_item(first, code).get_by_role("button", name="Đạt", exact=True).click()
    wait_unsent(first, 4)
    context.set_offline(False)  # both tabs hear "online" and both try to sync at once
    wait_unsent(first, 0)
    wait_unsent(second, 0)
    assert len(sent) == 4 and len(set(sent)) == 4
    applied = select(func.count()).select_from(AppliedOp)
    assert live_server.query(lambda: db.session.scalar(applied)) == 4


def test_typing_is_kept_when_the_tab_is_closed_before_it_was_saved(live_server, context, sign_in):
    page = sign_in(context, "inspector1")
    context.set_offline(True)
    open_inspection(page)
    go_to_item(page, "CDDH.02").locator("input.count").fill("42")
    page.close()  # at once: the pause after typing has not passed, nothing reached IndexedDB yet

    page = context.new_page()
    page.goto(f"{live_server.url}/app/#/i/{ha_lang_id(live_server)}/CDDH/CDDH.02")
    card = page.locator("article.item[data-code='CDDH.02']")
    expect(card.locator("input.count")).to_have_value("42")
    wait_unsent(page, 1)
    context.set_offline(False)
    wait_unsent(page, 0)
    value = live_server.query(lambda: db.session.scalar(
        select(Observation.value).where(Observation.item_code == "CDDH.02",
                                        Observation.inspection_id == ha_lang_id(live_server))))
    assert value == 42
