"""Issue 14 in WebKit (Safari on the leaders' iPads): offline, a tapped result is pressed at once
and stays pressed through the save, a reload and the sync when the signal returns, and the
header stays one line. WebKit has no offline switch: "no signal" is the live server stopped."""
from __future__ import annotations

import pytest
from field_helpers import (
    ha_lang_id,
    webkit_go_to_item,
    webkit_open_inspection,
    webkit_wait_unsent,
)
from sqlalchemy import select

from inspection.extensions import db
from inspection.models import Observation

pytestmark = [pytest.mark.browser, pytest.mark.webkit]

PRESSED = ("return [...document.querySelectorAll(arguments[0] + "
           "' button.result[aria-pressed=true]')].map((b) => b.dataset.result)")
BAR = """const bar = document.querySelector('.statusbar').getBoundingClientRect();
    const tops = [...document.querySelectorAll(
        '.statusbar .brand, #sync-online, #sync-unsent, .bar-actions')]
      .map((e) => e.getBoundingClientRect()).map((r) => Math.round(r.top + r.height / 2));
    return {height: bar.height, spread: Math.max(...tops) - Math.min(...tops)};"""


def test_offline_a_tapped_result_stays_pressed_and_the_header_one_line(live_server, webkit,
                                                                       webkit_sign_in):
    inspection_id = ha_lang_id(live_server)
    page = webkit_sign_in(webkit, "inspector1")
    webkit_open_inspection(page)
    online_bar = page.evaluate(BAR)

    live_server.stop()  # no signal
    card = webkit_go_to_item(page, "CDDH.05")
    page.click(f"{card} button.result", text="Không đạt")
    assert page.evaluate(PRESSED, card) == ["fail"]  # at once, before anything is saved
    webkit_wait_unsent(page, 1)
    assert page.evaluate(PRESSED, card) == ["fail"]  # and after the save
    page.click("#sync-now")  # it tries, cannot reach the server, and says so in the bar
    page.wait_until("return document.querySelector('#sync-error').textContent === arguments[0]",
                    "Không kết nối được máy chủ; sẽ thử lại.",
                    message="the bar never said the server is out of reach")
    bar = page.evaluate(BAR)
    assert bar["height"] <= max(66, online_bar["height"] + 1), bar
    assert bar["spread"] <= 4, bar

    page.restart()  # closed and opened again without signal
    webkit_open_inspection(page)
    card = webkit_go_to_item(page, "CDDH.05")
    assert page.evaluate(PRESSED, card) == ["fail"]

    live_server.start()  # the signal is back
    page.click("#sync-now")
    webkit_wait_unsent(page, 0)
    assert page.evaluate(PRESSED, card) == ["fail"]
    result = live_server.query(lambda: db.session.scalar(select(Observation.result).where(
        Observation.inspection_id == inspection_id, Observation.item_code == "CDDH.05")))
    assert result == "fail"
