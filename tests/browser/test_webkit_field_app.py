"""The field app in WebKit, the engine of Safari on the leaders' iPads (issue 15, item 6): first
start online, a start with the server out of reach, offline edits that survive the app being
closed, sync once the server is back (each change applied exactly once), and a photo uploaded
with tus. Driven through Selenium and WebKitWebDriver (webkit_driver.py). WebKit has no offline
switch, so "no signal" is the live server stopped, and the signal returning is the server
started again on the same port.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from field_helpers import (
    HA_LANG,
    ha_lang_id,
    webkit_go_to_item,
    webkit_open_inspection,
    webkit_outbox,
    webkit_stored_photos,
    webkit_wait_unsent,
)
from sqlalchemy import select

from inspection.extensions import db
from inspection.models import AppliedOp, Inspection, Observation, Photo, TripMember, User
from inspection.services import storage
from inspection.web.fieldapp import build_precache

pytestmark = [pytest.mark.browser, pytest.mark.webkit]

NOTE = "Kế hoạch số 12/KH-UBND ngày 10/01/2021 — đã ban hành đúng hạn"


def test_first_start_online_signs_in_and_keeps_what_the_field_needs_on_the_device(
        live_server, webkit, webkit_sign_in):
    page = webkit_sign_in(webkit, "inspector1")

    def assigned():  # the inspections of the trips inspector1 is on
        trips = select(TripMember.trip_id).join(User, TripMember.user_id == User.id).where(
            User.username == "inspector1")
        return sorted(db.session.scalars(
            select(Inspection.id).where(Inspection.trip_id.in_(trips))))

    shown = [card.text for card in page.find_all("a.assignment")]
    assert len(shown) == 3
    for unit in (HA_LANG, "Xã Cô Ngân", "Xã Vinh Quý"):
        assert any(unit in text for text in shown), (unit, shown)
    assert page.text("#sync-online") == "Có mạng"
    assert page.text("#sync-unsent") == "Đã gửi hết"

    # Everything the first sync brought is in IndexedDB, and the shell is in the worker's cache.
    stored = page.evaluate("""return import('/static/js/db.js').then(async ({ getAll }) => ({
        assignments: (await getAll('assignments')).map((a) => a.id).sort((x, y) => x - y),
        checklists: (await getAll('checklists')).length,
        observations: (await getAll('observations')).length }));""")
    assert stored["assignments"] == live_server.query(assigned)
    assert stored["checklists"] >= 2  # the district and the commune checklists
    assert stored["observations"] > 0  # the figures already recorded for Hạ Lang
    cached = page.evaluate("""return caches.keys().then(async (names) => {
        const urls = [];
        for (const name of names.filter((n) => n.startsWith('cchc-shell-'))) {
            const cache = await caches.open(name);
            for (const r of await cache.keys()) urls.push(new URL(r.url).pathname);
        }
        return urls.sort(); });""")
    expected = sorted(build_precache(Path(live_server.app.static_folder)).files)
    assert cached == expected


def test_started_without_the_server_the_app_works_and_syncs_each_change_once_when_it_returns(
        live_server, webkit, webkit_sign_in):
    inspection_id = ha_lang_id(live_server)
    page = webkit_sign_in(webkit, "inspector1")

    live_server.stop()
    page.restart()  # the tablet opens the app again in a commune with no signal
    page.wait_for("a.assignment", has_text=HA_LANG)  # shell from the worker, data from IndexedDB
    assert page.evaluate("return navigator.serviceWorker.controller !== null")
    page.wait_for("#sync-error", text="Không kết nối được máy chủ; sẽ thử lại.")
    webkit_open_inspection(page)
    card = webkit_go_to_item(page, "CDDH.01")
    page.click(f"{card} button.result", text="Đạt")
    page.fill(f"{card} textarea.note", NOTE)
    count = webkit_go_to_item(page, "CDDH.02")
    page.fill(f"{count} input.count", "7")
    webkit_wait_unsent(page, 3)
    sent = webkit_outbox(page)
    assert len(sent) == 3  # one op per field: the typing of the note was merged into one

    page.restart()  # closed and opened again, still with no server: nothing is lost
    webkit_open_inspection(page)
    card = webkit_go_to_item(page, "CDDH.01")
    passed = page.wait_for(f"{card} button.result", text="Đạt")
    assert passed.get_attribute("aria-pressed") == "true"
    assert page.value(f"{card} textarea.note") == NOTE
    assert page.value(f"{webkit_go_to_item(page, 'CDDH.02')} input.count") == "7"
    webkit_wait_unsent(page, 3)

    def server_state():
        observations = {o.item_code: o for o in db.session.scalars(
            select(Observation).where(Observation.inspection_id == inspection_id,
                                      Observation.item_code.in_(["CDDH.01", "CDDH.02"])))}
        return {
            "CDDH.01": (observations["CDDH.01"].result, observations["CDDH.01"].note,
                        observations["CDDH.01"].version) if "CDDH.01" in observations else None,
            "CDDH.02": (observations["CDDH.02"].value, observations["CDDH.02"].version)
            if "CDDH.02" in observations else None,
            "applied": sorted(str(op_id) for op_id in db.session.scalars(select(AppliedOp.op_id))),
        }

    assert live_server.query(server_state) == {"CDDH.01": None, "CDDH.02": None, "applied": []}
    live_server.start()  # the signal is back
    page.click("#sync-now", text="Đồng bộ ngay")
    webkit_wait_unsent(page, 0)
    page.wait_gone("#sync-error")
    state = live_server.query(server_state)
    assert state["CDDH.01"] == ("pass", NOTE, 2)  # two changes (result, note): two versions
    assert state["CDDH.02"] == (7, 1)
    assert state["applied"] == sorted(op["op_id"] for op in sent)

    page.click("#sync-now", text="Đồng bộ ngay")  # a second sync sends nothing again
    page.wait_for("#sync-now:enabled", text="Đồng bộ ngay")
    assert live_server.query(server_state) == state


def test_a_photo_taken_offline_is_uploaded_with_tus_when_the_server_returns(
        live_server, webkit, webkit_sign_in, camera_jpeg, tmp_path):
    page = webkit_sign_in(webkit, "inspector1")
    webkit_open_inspection(page)
    live_server.stop()
    picture = tmp_path / "camera.jpg"
    picture.write_bytes(camera_jpeg(2400, 1800))  # larger than the 2048 px the app keeps

    card = webkit_go_to_item(page, "CDDH.12")
    page.set_files(f"{card} input[data-photo=gallery]", picture)
    # The app waits up to 4.5 s for a position; WebKit's WebDriver never answers the prompt.
    page.wait_for(f"{card} li.thumb img", timeout=20)
    webkit_wait_unsent(page, 0, 1)
    [photo] = webkit_stored_photos(page)
    assert (photo["width"], photo["height"]) == (2048, 1536)
    assert photo["size"] > 2 * 256 * 1024  # several tus chunks

    live_server.start()
    page.click("#sync-now", text="Đồng bộ ngay")
    webkit_wait_unsent(page, 0, 0)
    page.wait_for(f"{card} li.thumb-done")

    def stored():
        rows = db.session.scalars(select(Photo)).all()
        return [(p.sha256, p.item_code, p.size, (p.width, p.height),
                 hashlib.sha256(storage.path_for(p.sha256).read_bytes()).hexdigest())
                for p in rows]

    assert live_server.query(stored) == [
        (photo["sha256"], "CDDH.12", photo["size"], (2048, 1536), photo["sha256"])]
