"""The storage lifecycle in WebKit (issue 18), where photos are stored as bytes (storage in
memory, as in Safari's private browsing) and there is no navigator.storage: a photo of an approved
inspection keeps its thumbnail and opens from the server; inspections no longer assigned leave
the tablet; the device page still shows what the app stores."""
from __future__ import annotations

import pytest
from field_helpers import ha_lang_id, webkit_go_to_item, webkit_open_inspection, webkit_wait_unsent
from sqlalchemy import delete, select

from inspection.extensions import db
from inspection.models import Inspection, TripMember, User
from inspection.services.workflow import transition_inspection

pytestmark = [pytest.mark.browser, pytest.mark.webkit]

PHOTOS = """return Promise.all([import('/static/js/db.js'), import('/static/js/store.js')])
    .then(async ([{ getAll }, { asBlob }]) => (await getAll('photos')).map((p) => ({
        status: p.status, width: p.width, photo_id: p.photo_id,
        full: p.blob ? asBlob(p.blob).size : null, thumb: p.thumb ? asBlob(p.thumb).size : null,
        stored_as: p.blob ? (p.blob instanceof Blob ? 'Blob' : 'bytes') : null })));"""


def test_webkit_frees_approved_photos_and_forgets_inspections_no_longer_assigned(
        live_server, webkit, webkit_sign_in, camera_jpeg, tmp_path):
    inspection_id = ha_lang_id(live_server)
    page = webkit_sign_in(webkit, "inspector1")
    webkit_open_inspection(page)
    picture = tmp_path / "camera.jpg"
    picture.write_bytes(camera_jpeg(2400, 1800))
    card = webkit_go_to_item(page, "CDDH.12")
    page.set_files(f"{card} input[data-photo=gallery]", picture)
    page.wait_for(f"{card} li.thumb-done", timeout=30)
    [taken] = page.evaluate(PHOTOS)
    assert taken["stored_as"] == "bytes" and taken["full"] > 0 and taken["thumb"] > 0

    def approve():
        inspection = db.session.get(Inspection, inspection_id)
        leader = db.session.scalar(select(User).where(User.username == "leader"))
        for action in ("submit", "approve"):
            transition_inspection(inspection, action, leader, "Duyệt thử", confirm_unanswered=True)
        db.session.commit()

    live_server.query(approve)
    page.click("#sync-now", text="Đồng bộ ngay")
    page.wait_until("""return import('/static/js/db.js').then(async ({ getAll }) =>
        (await getAll('photos')).every((p) => !p.blob));""", message="the full image never left")
    [kept] = page.evaluate(PHOTOS)
    assert kept["full"] is None and kept["thumb"] == taken["thumb"]
    page.wait_for(f"{card} li.thumb .thumb-status", text="Đã gửi · gốc ở máy chủ")
    assert page.evaluate(f"return document.querySelector(\"{card} li.thumb img\").naturalWidth > 0")

    page.click(f"{card} button.thumb-open")
    page.wait_until("const img = document.querySelector('dialog.photo-viewer img.viewer-image');"
                    " return img && img.complete && img.naturalWidth === 2048",
                    message="the original did not open from the server")
    assert page.evaluate("return document.querySelector('dialog.photo-viewer').dataset.source") \
        == "server"
    page.click("dialog.photo-viewer button", text="Đóng")
    page.wait_gone("dialog.photo-viewer")

    # No navigator.storage in WebKitGTK: the device page still shows what the app itself stores.
    page.click("#device-link")
    page.wait_for("#storage-total")
    assert page.find_all("#storage-browser") == []
    assert len(page.find_all("#storage-use tbody tr")) == 3

    def leave_the_team():
        inspector = db.session.scalar(select(User).where(User.username == "inspector1"))
        db.session.execute(delete(TripMember).where(TripMember.user_id == inspector.id))
        db.session.commit()

    live_server.query(leave_the_team)
    page.click("#sync-now", text="Đồng bộ ngay")
    page.click("#brand")
    page.wait_for("#cleared-unassigned", has_text="3 cuộc kiểm tra")
    left = page.evaluate("""return import('/static/js/db.js').then(async (m) =>
        [await m.count('assignments'), await m.count('observations'), await m.count('photos')]);""")
    assert left == [0, 0, 0]
    webkit_wait_unsent(page, 0)
