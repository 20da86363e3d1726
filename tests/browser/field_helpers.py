"""Helpers shared by the browser tests: find things in the field app and read its IndexedDB."""
from __future__ import annotations

import os
import time
from pathlib import Path

from sqlalchemy import select

from inspection.extensions import db
from inspection.models import Inspection
from inspection.models.units import AdminUnit

HA_LANG = "Huyện Hạ Lang"


def ha_lang_id(live_server) -> int:
    """The id of the demo inspection of Hạ Lang district."""
    return live_server.query(lambda: db.session.scalar(
        select(Inspection.id).join(AdminUnit, Inspection.unit_id == AdminUnit.id)
        .where(AdminUnit.code == "048")))


def open_inspection(page, unit_name: str = HA_LANG):
    """Open an inspection from the assignment list and wait for its checklist."""
    page.click(f"a.assignment:has-text('{unit_name}')")
    page.wait_for_selector("article.item")


def go_to_item(page, code: str):
    """Use the jump box, as an inspector would, and return the item's card."""
    page.fill("#jump", code)
    page.press("#jump", "Enter")
    card = page.locator(f"article.item[data-code='{code}']")
    card.wait_for()
    return card


def wait_unsent(page, ops: int, photos: int = 0, timeout: float = 10000):
    """Wait until the header bar counts exactly `ops` unsent changes and `photos` photos."""
    page.wait_for_function(
        "([ops, photos]) => { const e = document.querySelector('#sync-unsent');"
        " return e && e.dataset.ops === String(ops) && e.dataset.photos === String(photos); }",
        arg=[ops, photos], timeout=timeout)


def outbox(page) -> list[dict]:
    """The ops waiting in the page's IndexedDB outbox (the app's own module, same instance)."""
    return page.evaluate("import('/static/js/outbox.js').then((m) => m.pendingOps())")


def stored_photos(page) -> list[dict]:
    """Photos in IndexedDB with their bytes as base64."""
    return page.evaluate("""async () => {
        const { getAll } = await import('/static/js/db.js');
        const out = [];
        for (const p of await getAll('photos')) {
            const bytes = p.blob ? new Uint8Array(await p.blob.arrayBuffer()) : new Uint8Array();
            let s = ''; for (const b of bytes) s += String.fromCharCode(b);
            out.push({ uuid: p.client_uuid, sha256: p.sha256, status: p.status, b64: btoa(s),
                       width: p.width, height: p.height });
        }
        return out;
    }""")


def photo_records(page) -> list[dict]:
    """Photo records in IndexedDB as the device keeps them: sizes of the full image and of the
    thumbnail (None when absent), with the metadata."""
    return page.evaluate("""async () => {
        const { getAll } = await import('/static/js/db.js');
        return (await getAll('photos')).map(({ blob, thumb, ...meta }) => ({
            ...meta, blob: blob ? blob.size : null, thumb: thumb ? thumb.size : null }));
    }""")


def store_count(page, store: str, inspection_id: int | None = None) -> int:
    """Records in a store of the page's IndexedDB (of one inspection, by its index)."""
    return page.evaluate("""([store, id]) => import('/static/js/db.js').then((m) =>
        id === null ? m.count(store) : m.count(store, id, 'inspection_id'))""",
                         [store, inspection_id])


def inspection_id_of(live_server, unit_code: str) -> int:
    """The id of the demo inspection of the unit with this GSO code (048, 01561, 01567)."""
    return live_server.query(lambda: db.session.scalar(
        select(Inspection.id).join(AdminUnit, Inspection.unit_id == AdminUnit.id)
        .where(AdminUnit.code == unit_code)))


def wait_until(page, script: str, arg=None, timeout: float = 15000, message: str = ""):
    """Evaluate `script` (may be async) until it returns something truthy; return that.
    page.wait_for_function does not wait for a promise: an async predicate passes at once."""
    deadline = time.monotonic() + timeout / 1000
    while True:
        value = page.evaluate(script, arg)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {message or script}")
        page.wait_for_timeout(100)


def sync_and_wait(page, timeout: float = 15000):
    """Press "sync now" and wait until a sync run that began after the press has succeeded (the
    app records a successful run's start as its "synced at" time)."""
    pressed = page.evaluate("new Date().toISOString()")
    page.locator("#sync-now").click()
    wait_until(page, """async (pressed) => {
        const { getMeta } = await import('/static/js/db.js');
        return (await getMeta('last_sync', '')) >= pressed;
    }""", pressed, timeout, "a sync run begun after the press")


# The same steps in WebKit (a `WebKitPage` from webkit_driver.py, driven through Selenium).

def webkit_open_inspection(page, unit_name: str = HA_LANG):
    """Open an inspection from the assignment list and wait for its checklist."""
    page.click("a.assignment", has_text=unit_name)
    page.wait_for("article.item")


def webkit_go_to_item(page, code: str) -> str:
    """Use the jump box, as an inspector would; returns the CSS selector of the item's card."""
    page.fill("#jump", code)
    page.press_enter("#jump")
    # The app went to the item: its address names it and the box is empty for the next code.
    page.wait_until("return location.hash.endsWith('/' + arguments[0])"
                    " && document.querySelector('#jump').value === ''", code,
                    message=f"Enter in the jump box did not go to {code}")
    card = f"article.item[data-code='{code}']"
    page.wait_for(card)
    return card


def webkit_wait_unsent(page, ops: int, photos: int = 0, timeout: float | None = None):
    """Wait until the header bar counts exactly `ops` unsent changes and `photos` photos."""
    page.wait_until(
        "const e = document.querySelector('#sync-unsent');"
        " return e && e.dataset.ops === String(arguments[0])"
        " && e.dataset.photos === String(arguments[1]);",
        ops, photos, timeout=timeout, message=f"the header bar never counted {ops} unsent "
        f"changes and {photos} photos")


def webkit_outbox(page) -> list[dict]:
    """The ops waiting in the page's IndexedDB outbox (the app's own module, same instance)."""
    return page.evaluate("return import('/static/js/outbox.js').then((m) => m.pendingOps())")


def webkit_stored_photos(page) -> list[dict]:
    """Photos in IndexedDB: id, SHA-256, status, size and dimensions (no bytes). WebKit's
    WebDriver sessions keep storage in memory, where the app stores photos as bytes (store.js)."""
    return page.evaluate("""return Promise.all([import('/static/js/db.js'),
        import('/static/js/store.js')]).then(async ([{ getAll }, { asBlob }]) =>
        (await getAll('photos')).map((p) => ({ uuid: p.client_uuid, sha256: p.sha256,
            status: p.status, size: p.blob ? asBlob(p.blob).size : null, width: p.width,
            height: p.height, stored_as: p.blob instanceof Blob ? 'Blob' : 'bytes' })));""")


def save_screenshot(target, name: str) -> None:
    """Save a page's or an element's screenshot as `name` in the folder CCHC_SCREENSHOTS names
    (e.g. `CCHC_SCREENSHOTS=docs`); without it nothing is written, so a test run leaves the
    checkout as it was."""
    folder = os.environ.get("CCHC_SCREENSHOTS")
    if folder:
        target.screenshot(path=str(Path(folder) / name))
