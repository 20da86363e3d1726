"""Helpers shared by the browser tests: find things in the field app and read its IndexedDB."""
from __future__ import annotations

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
