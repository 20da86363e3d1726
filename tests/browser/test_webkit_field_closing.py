"""The closing meeting and the draft minutes in WebKit, offline (issue 15, item 6): the leader's
tablet is often an iPad. With the server stopped, the app opened anew shows the closing screen,
keeps a finding and the unit's comments across closing the app, and draws the draft minutes
from IndexedDB; once the server is back one sync puts them on the server."""
from __future__ import annotations

import pytest
from field_helpers import HA_LANG, ha_lang_id, webkit_open_inspection, webkit_wait_unsent
from sqlalchemy import select

from inspection.extensions import db
from inspection.models import Finding, Inspection

pytestmark = [pytest.mark.browser, pytest.mark.webkit]

WEAKNESS = "Chưa số hoá kết quả giải quyết thủ tục hành chính."
COMMENTS = "Đơn vị nhất trí với nội dung biên bản."


def test_closing_screen_and_draft_minutes_work_offline_in_webkit(live_server, webkit,
                                                                 webkit_sign_in):
    inspection_id = ha_lang_id(live_server)
    page = webkit_sign_in(webkit, "leader")
    live_server.stop()
    page.restart()  # the app opened again with no signal
    page.wait_for("a.assignment", has_text=HA_LANG)
    webkit_open_inspection(page)
    page.click("#open-closing")
    page.wait_for("#closing-sync", text="Đã gửi hết lên máy chủ")
    page.click("#add-weakness")
    page.fill("#findings-weakness textarea", WEAKNESS)
    page.fill("#closing-unit_comments", COMMENTS)
    page.click("h1")  # leave the field: the typing becomes an op
    webkit_wait_unsent(page, 2)

    page.restart(f"/app/#/i/{inspection_id}/minutes")  # closed, then opened on the draft
    draft = page.wait_for("#minutes", has_text=WEAKNESS).text
    assert "DỰ THẢO" in draft and COMMENTS in draft
    assert "III. NHẬN XÉT, ĐÁNH GIÁ" in draft and "Kết quả chung: đạt" in draft
    page.click("a", text="← Họp kết thúc")
    assert page.value("#closing-unit_comments") == COMMENTS
    webkit_wait_unsent(page, 2)

    live_server.start()
    page.click("#sync-now", text="Đồng bộ ngay")
    webkit_wait_unsent(page, 0)
    page.wait_for("#closing-sync", text="Đã gửi hết lên máy chủ")
    held = live_server.query(lambda: (
        db.session.scalars(select(Finding.text).where(Finding.inspection_id == inspection_id,
                                                      Finding.kind == "weakness")).all(),
        db.session.get(Inspection, inspection_id).unit_comments))
    assert held == ([WEAKNESS], COMMENTS)
