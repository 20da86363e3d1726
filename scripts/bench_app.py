"""Benchmark of the field app (/app/) in headless Chromium, on a throwaway demo server.

    .venv/bin/python scripts/bench_app.py [--runs 10]

Measures, and prints as a table with the aims of issue 4:
  1. bytes the service worker precaches (the app shell without icons, as served: JavaScript and
     CSS minified; icons apart);
  2. time from an offline reload of the inspection page to the checklist on screen
     (performance mark "cchc:checklist", i.e. ms since navigation start), median and worst of
     N runs, also with the CPU slowed down 4× (a mid-range tablet);
  2b. the draft minutes' render time (issue 15) for the 105-item district checklist with every
     criterion answered: from IndexedDB to the document on screen (ui/minutes.js), median and
     worst of N offline reloads of #/i/<id>/minutes;
  3. bytes uploaded for a 12-megapixel camera photo (4000×3000 JPEG, quality 92, drawn with
     Pillow: shapes and gradients with sensor-like noise) after the app downscales it;
  4. bytes sent again when the connection is cut at 90 % of that upload (worst case: the
     chunk in flight is lost entirely), against one tus chunk;
  5. the device's storage after a simulated year (issue 18): 20 inspections × 60 photos taken
     on the tablet (that 12-MP photo, downscaled by the app), uploaded by the app's own sync,
     then every inspection approved and synced once more — the browser's own figure
     (navigator.storage.estimate().usage) before approval (every full image kept, as before
     issue 18) and after (thumbnails and metadata only). `--year I P` changes the numbers.
"""
from __future__ import annotations

import argparse
import base64
import gzip
import io
import logging
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402 (after the sys.path line)
from PIL import Image, ImageDraw  # noqa: E402 (after the sys.path line)
from playwright.sync_api import sync_playwright  # noqa: E402 (after the sys.path line)
from werkzeug.serving import WSGIRequestHandler, make_server  # noqa: E402 (after the sys.path line)

from inspection import create_app  # noqa: E402 (after the sys.path line)
from inspection.extensions import db  # noqa: E402 (after the sys.path line)
from inspection.web.fieldapp import build_precache, served_bytes  # noqa: E402 (after sys.path)

CHROMIUM = "/usr/bin/chromium"
CHUNK = 256 * 1024
AIMS = {"shell": 250 * 1024, "reload_ms": 500, "minutes_ms": 300,
        "photo": 600 * 1024, "year": 50 * 1024 * 1024}
MB = 1024 * 1024


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


def serve(instance: str):
    """The app with demo data on a free port; returns (base URL, server, app)."""
    from inspection.services.demo import seed_demo

    app = create_app({
        "SECRET_KEY": "bench", "SESSION_COOKIE_SECURE": False, "DEMO": True,
        "SQLALCHEMY_DATABASE_URI": "sqlite:///" + os.path.join(instance, "bench.db"),
        "MEDIA_ROOT": os.path.join(instance, "media"),
        "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024,
    }, instance_path=instance)
    with app.app_context():
        upgrade()
        seed_demo()
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server, app


def camera_photo(width: int = 4000, height: int = 3000, quality: int = 92) -> bytes:
    """A 12-megapixel picture that compresses like a phone photo (about 4.4 MB): sky, walls and
    doors as flat shapes, with per-pixel colour noise like a small sensor's, at quality 92."""
    rng = random.Random(42)
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width, height // 3), fill=(150, 185, 225))
    for _ in range(60):
        x, y = rng.randrange(width), rng.randrange(height // 3, height)
        w, h = rng.randrange(80, 900), rng.randrange(60, 700)
        colour = tuple(rng.randrange(40, 230) for _ in range(3))
        draw.rectangle((x, y, x + w, y + h), fill=colour, outline=(30, 30, 30), width=6)
    noise = Image.merge("RGB", [Image.effect_noise((width, height), 40) for _ in range(3)])
    image = Image.blend(image, noise, 0.25)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def year_of_trips(app, inspections: int) -> list[int]:
    """Trips of 2021 with `inspections` commune inspections in all (10 a trip), inspector1 on
    each team; returns the inspection ids."""
    from datetime import date

    from inspection.models import AdminUnit, Plan, User
    from inspection.models.units import UnitLevel
    from inspection.services.planning import create_trip

    with app.app_context():
        user = {u.username: u for u in db.session.scalars(db.select(User))}
        plan = db.session.scalars(db.select(Plan)).first()
        day = date(2021, 3, 1)
        communes = [u for u in db.session.scalars(db.select(AdminUnit).where(
            AdminUnit.level == UnitLevel.commune).order_by(AdminUnit.code)) if u.is_valid_on(day)]
        ids, trip = [], 0
        while len(ids) < inspections:
            count = min(10, inspections - len(ids))
            units = [communes[(len(ids) + i) % len(communes)] for i in range(count)]
            made = create_trip(plan, f"Đợt kiểm tra mô phỏng {trip + 1}", day, day, user["leader"],
                               [user["inspector1"]], units)
            db.session.flush()
            ids.extend(i.id for i in made.inspections)
            trip += 1
        db.session.commit()
        return ids


def approve_all(app, ids: list[int]) -> None:
    """The leader approves each inspection (started and submitted first), as in the office."""
    from inspection.models import Inspection, User
    from inspection.services.workflow import transition_inspection

    with app.app_context():
        leader = db.session.scalar(db.select(User).where(User.username == "leader"))
        for inspection_id in ids:
            inspection = db.session.get(Inspection, inspection_id)
            for action in ("start", "submit"):
                if inspection.can(action):
                    transition_inspection(inspection, action, leader)
            # Only photos were taken: the leader confirms the rest as not assessed.
            if inspection.can("approve"):
                transition_inspection(inspection, "approve", leader, "Chỉ chụp ảnh minh chứng",
                                      confirm_unanswered=True)
        db.session.commit()


def wait_until(page, script: str, arg=None, seconds: float = 3600) -> None:
    """Evaluate `script` (may be async) every second until it is truthy (wait_for_function would
    not wait for a promise)."""
    deadline = time.monotonic() + seconds
    while not page.evaluate(script, arg):
        if time.monotonic() > deadline:
            raise TimeoutError(script)
        page.wait_for_timeout(1000)


def press_sync(page) -> None:
    """Press "sync now" once no run is under way (the button is disabled during a run)."""
    page.locator("#sync-now:not([disabled])").click(timeout=3600_000)


def simulated_year(browser, base: str, app, original: bytes, inspections: int,
                   per: int) -> list[tuple]:
    """A year of photos on one tablet, uploaded, then approved: device storage before and after."""
    ids = year_of_trips(app, inspections)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(base + "/app/")
    page.fill("input[name=username]", "inspector1")
    page.fill("input[name=password]", "demo1234")
    page.click("button[type=submit]")
    page.wait_for_selector("a.assignment")
    page.wait_for_function(
        "() => /\\d:\\d/.test(document.querySelector('#sync-last')?.textContent)")
    started = time.perf_counter()
    # One photo prepared by the app (downscaled, thumbnail); each record gets its own copy of the
    # bytes, as separate pictures would.
    page.evaluate("""async ([b64, ids, per]) => {
        const { preparePhoto } = await import('/static/js/photos.js');
        const { savePhoto } = await import('/static/js/store.js');
        const { newId } = await import('/static/js/outbox.js');
        const { getAll } = await import('/static/js/db.js');
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const file = new File([bytes], 'camera.jpg', { type: 'image/jpeg' });
        const assignments = new Map((await getAll('assignments')).map((a) => [a.id, a]));
        const checklists = new Map((await getAll('checklists'))
            .map((c) => [c.version_id, c.document]));
        const first = await preparePhoto(file,
            { inspectionId: ids[0], itemCode: null, askPosition: false });
        const full = await first.blob.arrayBuffer();
        const thumb = await first.thumb.arrayBuffer();
        for (const id of ids) {
            const checklist = checklists.get(assignments.get(id).inspection.checklist_version_id);
            const itemCode = checklist.sections[0].items[0].code;
            for (let n = 0; n < per; n++) {
                await savePhoto({ ...first, client_uuid: newId(), inspection_id: id,
                    item_code: itemCode, blob: new Blob([full], { type: 'image/jpeg' }),
                    thumb: new Blob([thumb], { type: 'image/jpeg' }),
                    created_at: new Date().toISOString() });
            }
        }
    }""", [base64.b64encode(original).decode(), ids, per])
    # The app's sync uploads them (a run may already be under way: then it simply goes on).
    press_sync(page)
    wait_until(page, """async () => {
        const { count } = await import('/static/js/db.js');
        return (await count('photos', 'pending', 'status'))
            + (await count('photos', 'uploading', 'status')) === 0;
    }""")
    upload_s = time.perf_counter() - started
    measure = """async () => {
        const { storageUse } = await import('/static/js/store.js');
        const { getAll } = await import('/static/js/db.js');
        const photos = await getAll('photos');
        return { usage: (await navigator.storage.estimate()).usage, own: (await storageUse()).total,
                 photos: photos.length, full: photos.filter((p) => p.blob).length };
    }"""
    before = page.evaluate(measure)
    approve_all(app, ids)
    # Wait for a sync that began after the approval (the app records a run's start as "synced at").
    pressed = page.evaluate("new Date().toISOString()")
    press_sync(page)
    wait_until(page, """async (pressed) => {
        const { getMeta } = await import('/static/js/db.js');
        return (await getMeta('last_sync', '')) >= pressed;
    }""", pressed)
    after = page.evaluate(measure)
    context.close()
    label = f"{inspections} inspections × {per} photos"
    return [
        (f"Device storage, {label}, synced, before approval (every full image kept)",
         (f"{before['usage'] / MB:,.1f} MB ({before['full']} full images; "
          f"uploaded in {upload_s:,.0f} s)"),
         "(what issue 18 replaces)", None),
        (f"Device storage, {label}, approved and synced",
         (f"{after['usage'] / MB:,.1f} MB ({after['full']} full images, "
          f"{after['photos']} thumbnails; app's own count {after['own'] / MB:,.1f} MB)"),
         f"< {AIMS['year'] // MB} MB", after["usage"] < AIMS["year"] and after["full"] == 0),
    ]


def kb(n: float) -> str:
    return f"{n / 1024:,.0f} KB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="offline reloads to time")
    parser.add_argument("--year", type=int, nargs=2, default=(20, 60),
                        metavar=("INSPECTIONS", "PHOTOS"),
                        help="the simulated year: inspections, photos per inspection (0 0: skip)")
    args = parser.parse_args()
    logging.disable(logging.INFO)
    rows = []

    # 1. What the service worker precaches.
    precache = build_precache(ROOT / "static")
    served = {url: served_bytes(path) for url, path in precache.files.items()}
    shell = {url: len(data) for url, data in served.items() if "/icons/" not in url}
    icons = sum(len(data) for url, data in served.items() if "/icons/" in url)
    shell_gz = sum(len(gzip.compress(served[url])) for url in shell)
    rows.append(("Precached app shell (HTML, CSS, JS, manifest)",
                 f"{kb(sum(shell.values()))} ({len(shell)} files; {kb(shell_gz)} gzipped)",
                 f"≤ {kb(AIMS['shell'])}", sum(shell.values()) <= AIMS["shell"]))
    rows.append(("Precached icons", kb(icons), "(not counted)", None))

    with tempfile.TemporaryDirectory() as instance, sync_playwright() as p:
        base, server, app = serve(instance)
        browser = p.chromium.launch(executable_path=CHROMIUM)
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.goto(base + "/app/")
        page.fill("input[name=username]", "inspector1")
        page.fill("input[name=password]", "demo1234")
        page.click("button[type=submit]")
        page.wait_for_selector("a.assignment")
        page.wait_for_function("() => navigator.serviceWorker.controller !== null")
        page.click("a.assignment:has-text('Hạ Lang')")
        page.wait_for_selector("article.item")

        # 2. Offline reload → checklist on screen.
        context.set_offline(True)
        cdp = context.new_cdp_session(page)
        for label, rate in (("", 1), (", CPU 4× slower", 4)):
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": rate})
            times = []
            for _ in range(args.runs + 1):
                page.reload()
                page.wait_for_selector("article.item")
                times.append(page.evaluate(
                    "() => performance.getEntriesByName('cchc:checklist')[0].startTime"))
            times = times[1:]  # the first reload warms the HTTP/V8 caches of this profile
            median = statistics.median(times)
            rows.append((f"Offline reload → checklist on screen{label} "
                         f"(median / worst of {args.runs})",
                         f"{median:,.0f} / {max(times):,.0f} ms", f"≤ {AIMS['reload_ms']} ms",
                         median <= AIMS["reload_ms"] if rate == 1 else None))
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})

        # 2b. The draft minutes of the 105-item checklist, every criterion answered (offline).
        answered = page.evaluate("""async () => {
            const { getAll } = await import('/static/js/db.js');
            const { saveField } = await import('/static/js/outbox.js');
            const id = Number(location.hash.split('/')[2]);
            const [assignment] = (await getAll('assignments')).filter((a) => a.id === id);
            const [checklist] = (await getAll('checklists')).filter(
                (c) => c.version_id === assignment.inspection.checklist_version_id);
            const items = checklist.document.sections.flatMap((s) => s.items);
            let n = 0;
            for (const item of items.filter((i) => i.kind === 'yesno' || i.kind === 'score')) {
                await saveField(id, item.code, 'result', n++ % 4 ? 'pass' : 'fail');
            }
            return { id, items: items.length, criteria: n };
        }""")
        draft_times = []
        for _ in range(args.runs + 1):
            page.evaluate("(id) => { location.hash = `#/i/${id}/minutes`; }", answered["id"])
            page.reload()
            page.wait_for_selector("#minutes .m-footer")
            draft_times.append(float(page.eval_on_selector("#view", "v => v.dataset.renderMs")))
        draft_times = draft_times[1:]
        rows.append((f"Draft minutes, {answered['items']} items ({answered['criteria']} criteria "
                     f"answered) → on screen (median / worst of {args.runs})",
                     f"{statistics.median(draft_times):,.0f} / {max(draft_times):,.0f} ms",
                     f"≤ {AIMS['minutes_ms']} ms",
                     statistics.median(draft_times) <= AIMS["minutes_ms"]))
        page.evaluate("(id) => { location.hash = `#/i/${id}`; }", answered["id"])
        page.wait_for_selector("article.item")

        # 3. A 12-megapixel photo, taken offline, uploaded when the network is back.
        original = camera_photo()
        path = Path(instance) / "camera.jpg"
        path.write_bytes(original)
        page.fill("#jump", "TTHC.41")
        page.press("#jump", "Enter")
        card = page.locator("article.item[data-code='TTHC.41']")
        started = time.perf_counter()
        card.locator("input[data-photo=camera]").set_input_files(str(path))
        card.locator("li.thumb img").wait_for()
        prepare_ms = (time.perf_counter() - started) * 1000
        context.set_offline(False)
        card.locator("li.thumb-done").wait_for(timeout=60000)
        sent = page.evaluate("""async () => {
            const { getAll } = await import('/static/js/db.js');
            return (await getAll('photos'))[0].sent_bytes;
        }""")
        with app.app_context():
            from inspection.models import Photo

            photo = db.session.scalars(db.select(Photo)).one()
            stored = (photo.size, photo.width, photo.height)
        rows.append(("12-MP photo (4000×3000, q92): original → uploaded",
                     (f"{kb(len(original))} → {kb(sent)} ({stored[1]}×{stored[2]}, "
                      f"prepared in {prepare_ms:,.0f} ms)"),
                     f"≤ {kb(AIMS['photo'])}", sent <= AIMS["photo"] and sent == stored[0]))

        # 4. The same upload cut at 90 %, then resumed.
        blob_b64 = page.evaluate("""async () => {
            const { getAll } = await import('/static/js/db.js');
            const [photo] = await getAll('photos');
            const bytes = new Uint8Array(await photo.blob.arrayBuffer());
            let s = ''; for (const b of bytes) s += String.fromCharCode(b);
            return btoa(s);
        }""")
        with app.app_context():
            inspection_id = photo.inspection_id
        cut = page.evaluate("""async ([b64, inspectionId, chunk]) => {
            const { upload } = await import('/static/js/tus.js');
            const { apiFetch, NetworkError } = await import('/static/js/api.js');
            const { sha256Hex } = await import('/static/js/photos.js');
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const blob = new Blob([bytes], { type: 'image/jpeg' });
            const metadata = { client_uuid: crypto.randomUUID(), inspection_id: inspectionId,
                               item_code: 'TTHC.42', sha256: await sha256Hex(blob) };
            let url = null; let cutDone = false; let sent = 0;
            const send = async (target, init) => {
                if (init.method === 'PATCH') {
                    const offset = Number(init.headers['Upload-Offset']);
                    sent += init.body.size;
                    if (!cutDone && offset + init.body.size >= 0.9 * blob.size) {
                        cutDone = true;
                        throw new NetworkError('cut at 90 %');
                    }
                }
                return apiFetch(target, init);
            };
            const options = { endpoint: '/api/v1/uploads', blob, metadata, chunkSize: chunk, send,
                              onCreated: (u) => { url = u; } };
            try { await upload(options); } catch (err) { /* the cut */ }
            const done = await upload({ ...options, uploadUrl: url });
            return { size: blob.size, sent, photoId: done.photoId };
        }""", [blob_b64, inspection_id, CHUNK])
        resent = cut["sent"] - cut["size"]
        rows.append(("Bytes re-sent after a cut at 90 % (chunk lost entirely)",
                     f"{kb(resent)} of {kb(cut['size'])}", f"≤ one chunk ({kb(CHUNK)})",
                     resent <= CHUNK))

        # 5. A year on one tablet.
        inspections, per = args.year
        if inspections and per:
            rows.extend(simulated_year(browser, base, app, original, inspections, per))
        browser.close()
        server.shutdown()

    width = max(len(r[0]) for r in rows)
    value_width = max(len(r[1]) for r in rows)
    print(f"{'measure':<{width}}  {'result':<{value_width}}  {'aim':<22}  ok")
    print("-" * (width + value_width + 30))
    for name, value, aim, ok in rows:
        print(f"{name:<{width}}  {value:<{value_width}}  {aim:<22}  "
              f"{'' if ok is None else ('yes' if ok else 'NO')}")


if __name__ == "__main__":
    main()
