"""Safari deletes the data of a site not used for 7 days (issue 15, item 5): in WebKit, a tablet
whose last successful sync is days old says so in the header bar and on the device page, with
the count of unsent work and the export at hand."""
from __future__ import annotations

import pytest
from field_helpers import webkit_go_to_item, webkit_open_inspection, webkit_wait_unsent

pytestmark = [pytest.mark.browser, pytest.mark.webkit]


def test_webkit_warns_when_the_last_sync_is_days_old(live_server, webkit, webkit_sign_in):
    page = webkit_sign_in(webkit, "inspector1")
    assert not page.find_all("#sync-storage")  # just synced, nothing said
    live_server.stop()  # no signal in the commune
    webkit_open_inspection(page)
    page.click(f"{webkit_go_to_item(page, 'CDDH.01')} button", text="Đạt")
    webkit_wait_unsent(page, 1)
    page.evaluate("""return import('/static/js/db.js').then(({ setMeta }) =>
        setMeta('last_sync', new Date(Date.now() - 6 * 86400000 - 60000).toISOString()));""")
    page.restart()
    page.wait_for("#sync-storage", text="6 ngày chưa đồng bộ · 1 chưa gửi")
    page.goto("/app/#/device")
    page.wait_for("#storage-risk", has_text="cách đây 6 ngày")
    assert "Còn 1 mục chưa gửi lên máy chủ" in page.text("#storage-risk")
    page.wait_for("#risk-export", text="Xuất tệp JSON")
