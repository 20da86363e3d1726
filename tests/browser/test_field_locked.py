"""A deactivated account leaves nothing readable behind (issue 18, item 4), against the server's
real answers (the accounts work: 401 "account_deactivated" and "session_ended")."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from field_helpers import (
    go_to_item,
    inspection_id_of,
    open_inspection,
    store_count,
    wait_unsent,
    wait_until,
)
from playwright.sync_api import expect
from sqlalchemy import select

from inspection.extensions import db
from inspection.models import Observation, User
from inspection.services import accounts

pytestmark = pytest.mark.browser

NOTE = "Biên bản họp ngày 01/10 chưa gửi"


def account(live_server, username: str, change):
    """The secretariat changes an account in the office (deactivate, activate, end sessions)."""

    def run():
        user = db.session.scalar(select(User).where(User.username == username))
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        change(user, admin)
        db.session.commit()

    live_server.query(run)


def server_note(live_server, inspection_id: int):
    return live_server.query(lambda: db.session.scalar(select(Observation.note).where(
        Observation.inspection_id == inspection_id, Observation.item_code == "CDDH.01")))


def wait_for_verifier(page):
    """The offline password check is made in the background after sign-in."""
    wait_until(page, """async () => {
        const { getSession } = await import('/static/js/store.js');
        return Boolean((await getSession())?.verifier);
    }""", timeout=30000, message="the offline password check")


def test_the_offline_password_check_survives_a_slow_session_refresh(live_server, context):
    # The first sync after sign-in asks the server who is signed in (/auth/me) while the tablet
    # makes its offline password check in the background. A slow answer (a weak signal) used to
    # write the session back without the check, so locked work could never be exported.
    def slow(route):
        time.sleep(4)  # longer than the password check takes
        route.continue_()

    context.route("**/api/v1/auth/me", slow)
    page = context.new_page()
    page.goto(live_server.url + "/app/")
    page.fill("input[name=username]", "inspector1")
    page.fill("input[name=password]", "demo1234")
    page.click("button[type=submit]")
    page.wait_for_function(
        "() => /\\d:\\d/.test(document.querySelector('#sync-last')?.textContent)",
        timeout=30000)  # the first sync, with the slow answer, has finished
    wait_for_verifier(page)


def test_a_deactivated_account_wipes_the_tablet_and_locks_unsent_work_for_its_owner(
        live_server, context, sign_in):
    ha_lang = inspection_id_of(live_server, "048")
    page = sign_in(context, "inspector1")
    wait_for_verifier(page)
    context.set_offline(True)
    open_inspection(page)
    go_to_item(page, "CDDH.01").locator("textarea.note").fill(NOTE)
    wait_unsent(page, 1)
    account(live_server, "inspector1", accounts.deactivate_user)  # the tablet was reported lost
    context.set_offline(False)
    page.locator("#sync-now").click()

    # Nothing of the account's data is on screen or in the stores; the unsent note is locked.
    locked = page.locator("#locked")
    expect(locked.locator("#lock-reason")).to_contain_text("Tài khoản Trần Thị Bình (inspector1) "
                                                           "đã bị vô hiệu hoá")
    expect(locked).to_contain_text("Công việc chưa gửi của Trần Thị Bình (inspector1) đang được "
                                   "khoá: 1 thay đổi, 0 ảnh")
    expect(locked).to_contain_text("Huyện Hạ Lang")
    assert NOTE not in page.locator("body").inner_text()
    expect(page.locator("article.item, a.assignment")).to_have_count(0)
    for store in ("assignments", "checklists", "observations", "photos", "outbox", "session"):
        assert store_count(page, store) == 0, store
    assert store_count(page, "locked") == 1

    # Another inspector may use the tablet, but never sees or sends the locked work.
    page.fill("input[name=username]", "inspector2")
    page.fill("input[name=password]", "demo1234")
    page.click("section.login button[type=submit]")
    page.wait_for_selector("a.assignment")
    wait_unsent(page, 0)
    assert NOTE not in page.locator("body").inner_text()
    assert server_note(live_server, ha_lang) != NOTE
    page.click("#device-link")
    page.click("#logout")
    page.wait_for_selector("#locked .locked-work")  # sign-out does not clear someone else's work

    # The owner alone can export it, with their password, checked on the tablet.
    form = page.locator("#locked form.unlock-export")
    form.locator("input[type=password]").fill("not the password")
    form.get_by_role("button", name="Xuất ra tệp").click()
    expect(form.locator(".form-error")).to_contain_text("Mật khẩu không đúng")
    form.locator("input[type=password]").fill("demo1234")
    with page.expect_download() as download:
        form.get_by_role("button", name="Xuất ra tệp").click()
    exported = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert exported["user"]["username"] == "inspector1"
    assert exported["locked"]["reason"] == "account_deactivated"
    assert [op["fields"] for op in exported["outbox"]] == [{"note": NOTE}]

    # Reactivated, the same person signs in again: the work comes back and is sent.
    account(live_server, "inspector1", accounts.activate_user)
    page.fill("input[name=username]", "INSPECTOR1")
    page.fill("input[name=password]", "demo1234")
    page.click("section.login button[type=submit]")
    page.wait_for_selector("a.assignment")
    wait_unsent(page, 0, timeout=15000)
    assert server_note(live_server, ha_lang) == NOTE
    assert store_count(page, "locked") == 0


def test_ended_sessions_with_nothing_unsent_wipe_the_tablet(live_server, context, sign_in):
    page = sign_in(context, "inspector1")
    open_inspection(page)
    account(live_server, "inspector1", accounts.end_all_sessions)
    page.locator("#sync-now").click()
    expect(page.locator("#lock-reason")).to_contain_text("Các phiên đăng nhập của tài khoản "
                                                         "Trần Thị Bình (inspector1) đã bị kết "
                                                         "thúc")
    expect(page.locator("#locked")).to_contain_text("Mọi dữ liệu của tài khoản này trên máy đã "
                                                    "được xoá")
    expect(page.locator("article.item")).to_have_count(0)
    assert store_count(page, "observations") == 0 and store_count(page, "locked") == 0
    # Signing in again brings the inspections back from the server, and the notice goes.
    page.fill("input[name=password]", "demo1234")
    page.fill("input[name=username]", "inspector1")
    page.click("section.login button[type=submit]")
    page.wait_for_selector("a.assignment")
    assert store_count(page, "observations") > 0
    expect(page.locator("#locked")).to_have_count(0)
