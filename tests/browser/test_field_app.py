"""The field app in a real browser: offline work, sync, conflicts, duplicates, installability.

These are the acceptance criteria of the field app (issue 4, DESIGN §7): after one online
visit the app works with the network off, across reloads, and everything reaches the server
exactly once when the network returns.
"""
from __future__ import annotations

import base64
import hashlib

import pytest
from field_helpers import (
    HA_LANG,
    go_to_item,
    ha_lang_id,
    open_inspection,
    outbox,
    stored_photos,
    wait_unsent,
)
from sqlalchemy import func, select

from inspection.extensions import db
from inspection.models import AppliedOp, Conflict, Observation, Photo

pytestmark = pytest.mark.browser

def test_offline_work_survives_reloads_and_reaches_the_server_exactly_once(
        live_server, context, sign_in, camera_jpeg, tmp_path):
    page = sign_in(context, "inspector1")
    inspection_id = ha_lang_id(live_server)

    context.set_offline(True)
    page.reload()
    page.wait_for_selector(f"a.assignment:has-text('{HA_LANG}')")
    assert page.locator("#sync-online").inner_text() == "Không có mạng"
    open_inspection(page)

    card = go_to_item(page, "CDDH.01")
    card.get_by_role("button", name="Đạt", exact=True).click()
    card.locator("textarea.note").fill("Kế hoạch số 12/KH-UBND ngày 10/01/2021")
    count = go_to_item(page, "CDDH.02")
    count.locator("input.count").fill("7")
    photo_path = tmp_path / "camera.jpg"
    photo_path.write_bytes(camera_jpeg())
    photo_card = go_to_item(page, "CDDH.12")
    photo_card.locator("input[data-photo=gallery]").set_input_files(str(photo_path))
    photo_card.locator("li.thumb img").wait_for()
    wait_unsent(page, 3, 1)
    ops_sent = len(outbox(page))
    assert ops_sent == 3  # one op per field: typing "7" and the note were coalesced

    page.reload()  # still offline
    page.wait_for_selector("article.item")
    assert page.locator("#sync-online").inner_text() == "Không có mạng"
    card = go_to_item(page, "CDDH.01")
    assert card.get_by_role("button", name="Đạt",
                            exact=True).get_attribute("aria-pressed") == "true"
    assert card.locator("textarea.note").input_value() == "Kế hoạch số 12/KH-UBND ngày 10/01/2021"
    assert go_to_item(page, "CDDH.02").locator("input.count").input_value() == "7"
    assert go_to_item(page, "CDDH.12").locator("li.thumb img").count() == 1
    [photo] = stored_photos(page)
    uploaded = base64.b64decode(photo["b64"])
    assert hashlib.sha256(uploaded).hexdigest() == photo["sha256"]
    assert max(photo["width"], photo["height"]) <= 2048

    context.set_offline(False)
    wait_unsent(page, 0, 0, timeout=15000)
    page.wait_for_selector("li.thumb-done")

    def server_state():
        observations = {o.item_code: o for o in db.session.scalars(
            select(Observation).where(Observation.inspection_id == inspection_id))}
        return {
            "result": observations["CDDH.01"].result,
            "note": observations["CDDH.01"].note,
            "value": observations["CDDH.02"].value,
            "applied_ops": db.session.scalar(select(func.count()).select_from(AppliedOp)),
            "photos": [(p.sha256, p.item_code, p.size) for p in db.session.scalars(select(Photo))],
        }

    state = live_server.query(server_state)
    assert state["result"] == "pass"
    assert state["note"] == "Kế hoạch số 12/KH-UBND ngày 10/01/2021"
    assert state["value"] == 7
    assert state["applied_ops"] == ops_sent
    assert state["photos"] == [(hashlib.sha256(uploaded).hexdigest(), "CDDH.12", len(uploaded))]


def test_two_inspectors_offline_merge_by_field_and_keep_both_values_of_a_clash(
        live_server, browser, sign_in):
    inspection_id = ha_lang_id(live_server)
    first_context, second_context = browser.new_context(), browser.new_context()
    try:
        first = sign_in(first_context, "inspector1")
        second = sign_in(second_context, "inspector2")
        for context, page in ((first_context, first), (second_context, second)):
            context.set_offline(True)
            open_inspection(page)
        # Different items…
        go_to_item(first, "CDDH.01").get_by_role("button", name="Đạt", exact=True).click()
        go_to_item(second, "CDDH.05").get_by_role("button", name="Không đạt", exact=True).click()
        # …and the same field of the same item, with different values.
        go_to_item(first, "CDDH.02").locator("input.count").fill("7")
        go_to_item(second, "CDDH.02").locator("input.count").fill("8")
        wait_unsent(first, 2)
        wait_unsent(second, 2)

        first_context.set_offline(False)
        wait_unsent(first, 0)
        second_context.set_offline(False)
        wait_unsent(second, 0)
        # The clash is a note for the inspector, not an error.
        conflict_note = go_to_item(second, "CDDH.02").locator(".flag-conflict")
        conflict_note.wait_for()
        assert "trưởng đoàn sẽ quyết định" in conflict_note.inner_text()
    finally:
        first_context.close()
        second_context.close()

    def server_state():
        observations = {o.item_code: o for o in db.session.scalars(
            select(Observation).where(Observation.inspection_id == inspection_id))}
        conflicts = db.session.scalars(select(Conflict)).all()
        return {
            "CDDH.01": observations["CDDH.01"].result,
            "CDDH.05": observations["CDDH.05"].result,
            "CDDH.02": observations["CDDH.02"].value,
            "conflicts": [(c.item_code, c.field, c.current_value["value"],
                           c.incoming_value["value"])
                          for c in conflicts],
            "applied_ops": db.session.scalar(select(func.count()).select_from(AppliedOp)),
            "rows": db.session.scalar(select(func.count()).select_from(Observation).where(
                Observation.inspection_id == inspection_id, Observation.item_code.like("CDDH.%"))),
        }

    state = live_server.query(server_state)
    assert state["CDDH.01"] == "pass"
    assert state["CDDH.05"] == "fail"
    assert state["CDDH.02"] == 7  # the first to arrive; the second value is kept in the Conflict
    assert state["conflicts"] == [("CDDH.02", "value", 7, 8)]
    assert state["applied_ops"] == 4
    assert state["rows"] == 3


def test_a_push_repeated_after_a_lost_answer_changes_nothing(live_server, context, sign_in):
    """The server applies a push but the answer never reaches the tablet (signal lost): the app
    sends the same ops again, the server says "duplicate", and no row is added twice."""
    inspection_id = ha_lang_id(live_server)
    page = sign_in(context, "inspector1")
    open_inspection(page)
    lost = []

    def lose_first_answer(route):
        if not lost:
            lost.append(route.fetch())  # the server does the work…
            route.abort("internetdisconnected")  # …and the answer is lost on the way back
        else:
            route.continue_()

    page.route("**/api/v1/sync/push", lose_first_answer)
    go_to_item(page, "CDDH.01").get_by_role("button", name="Không đạt", exact=True).click()
    go_to_item(page, "CDDH.02").locator("input.count").fill("12")
    page.locator("#sync-now").click()
    page.wait_for_function("() => document.querySelector('#sync-error')?.textContent.length > 0")
    assert lost and lost[0].status == 200
    ops = outbox(page)
    assert len(ops) == 2 and all(op["attempts"] == 1 for op in ops)

    def counts():
        return (db.session.scalar(select(func.count()).select_from(AppliedOp)),
                {o.item_code: (o.version, o.result, o.value) for o in db.session.scalars(
                    select(Observation).where(Observation.inspection_id == inspection_id,
                                              Observation.item_code.in_(["CDDH.01", "CDDH.02"])))})

    before = live_server.query(counts)
    assert before[0] == 2
    results = []
    page.on("response", lambda r: results.append(r) if r.url.endswith("/sync/push") else None)
    page.locator("#sync-now").click()
    wait_unsent(page, 0)
    assert [item["status"] for item in results[-1].json()["results"]] == ["duplicate", "duplicate"]
    assert live_server.query(counts) == before
    assert before[1] == {"CDDH.01": (1, "fail", None), "CDDH.02": (1, None, 12.0)}


def test_the_app_is_installable(live_server, playwright, tmp_path):
    context = playwright.chromium.launch_persistent_context(
        str(tmp_path / "profile"), executable_path="/usr/bin/chromium", headless=True)
    try:
        page = context.new_page()
        page.goto(live_server.url + "/app/")
        page.wait_for_function("() => navigator.serviceWorker.controller !== null")
        cdp = context.new_cdp_session(page)
        manifest = cdp.send("Page.getAppManifest")
        assert manifest["errors"] == []
        assert manifest["url"].endswith("/app/manifest.webmanifest")
        assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []
    finally:
        context.close()


def test_logout_is_refused_while_work_is_unsent_and_the_bar_says_so(live_server, context, sign_in):
    page = sign_in(context, "inspector1")
    context.set_offline(True)
    open_inspection(page)
    go_to_item(page, "CDDH.01").get_by_role("button", name="Đạt", exact=True).click()
    wait_unsent(page, 1)
    assert page.locator("#sync-online").inner_text() == "Không có mạng"
    assert page.locator("#sync-unsent").inner_text() == "Chưa gửi: 1 thay đổi"

    page.click("#device-link")
    page.click("#logout")
    message = page.locator("#logout-message")
    message.wait_for()
    assert "Chưa thể đăng xuất" in message.inner_text() and "1 thay đổi" in message.inner_text()
    assert page.evaluate("import('/static/js/store.js').then((m) => "
                         "m.getSession())")["user"]["username"] == "inspector1"

    # Once everything is sent, signing out works and clears the device, even while the sync is
    # still bringing the assignments down (the server's answer is held until sign-out began).
    held = []
    page.route("**/api/v1/assignments", lambda route: held.append((route, route.fetch())))
    with page.expect_request("**/api/v1/assignments"):
        context.set_offline(False)
    wait_unsent(page, 0)
    for _ in range(500):  # the route handler runs while Playwright handles the page's events
        if held:
            break
        page.evaluate("0")
    page.click("#logout")
    # The sign-out has either finished (the sign-in form) or waits for the sync's lock.
    page.wait_for_function("""() => document.querySelector('input[name=username]')
        || navigator.locks.query().then((s) => s.pending.some((l) => l.name === 'cchc-sync'))""")
    [(route, answer)] = held
    assert answer.status == 200
    route.fulfill(response=answer)
    page.wait_for_selector("input[name=username]")
    page.wait_for_function("() => navigator.locks.query().then((s) => s.held.length === 0)")
    assert page.evaluate("import('/static/js/db.js').then((m) => m.count('observations'))") == 0
    assert page.evaluate("import('/static/js/db.js').then((m) => m.count('assignments'))") == 0
