"""Screenshots of the field app (/app/) on a throwaway demo server, landscape and portrait.

    .venv/bin/python scripts/screenshots_app.py [OUT_DIR]

Writes list, inspection, offline and device views at 1280×800 (10-inch tablet, landscape) and
800×1280 (portrait) into OUT_DIR (default: a temporary folder, printed). The README's
docs/screenshot-field-app*.png are two of them.
"""
from __future__ import annotations

import logging
import sys
import tempfile
from pathlib import Path

from bench_app import camera_photo, serve  # scripts/ is on sys.path when run as a script
from playwright.sync_api import sync_playwright

SIZES = {"landscape": {"width": 1280, "height": 800}, "portrait": {"width": 800, "height": 1280}}


def main() -> None:
    logging.disable(logging.INFO)
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="field-app-"))
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as instance, sync_playwright() as p:
        base, server, _ = serve(instance)
        photo = Path(instance) / "photo.jpg"
        photo.write_bytes(camera_photo(1600, 1200))
        browser = p.chromium.launch(executable_path="/usr/bin/chromium")
        for name, viewport in SIZES.items():
            context = browser.new_context(viewport=viewport, device_scale_factor=1)
            page = context.new_page()
            page.goto(base + "/app/")
            page.screenshot(path=str(out / f"{name}-login.png"))
            page.fill("input[name=username]", "inspector1")
            page.fill("input[name=password]", "demo1234")
            page.click("button[type=submit]")
            page.wait_for_selector("a.assignment")
            page.wait_for_function("() => navigator.serviceWorker.controller !== null")
            page.wait_for_timeout(500)
            page.screenshot(path=str(out / f"{name}-list.png"))

            page.click("a.assignment:has-text('Hạ Lang')")
            page.wait_for_selector("article.item")
            page.screenshot(path=str(out / f"{name}-inspection.png"))

            context.set_offline(True)
            page.fill("#jump", "TTHC.20")
            page.press("#jump", "Enter")
            page.locator("article.item[data-code='TTHC.27'] input.count").fill("150")
            page.locator("article.item[data-code='TTHC.24'] input.count").fill("700")
            card = page.locator("article.item[data-code='TTHC.21']")
            card.locator("input.count").fill("12")
            card.locator("textarea.note").fill("Số liệu lấy từ sổ theo dõi hồ sơ năm 2021")
            card.locator("input[data-photo=gallery]").set_input_files(str(photo))
            card.locator("li.thumb img").wait_for()
            page.evaluate("document.activeElement.blur()")
            page.wait_for_timeout(900)  # the typing is committed; the bar counts it
            page.evaluate("document.querySelector('.section-head').scrollIntoView()")
            page.screenshot(path=str(out / f"{name}-offline.png"))

            page.fill("#jump", "TTHC.32")
            page.press("#jump", "Enter")
            page.evaluate("document.activeElement.blur()")
            page.wait_for_timeout(300)
            page.screenshot(path=str(out / f"{name}-ratio.png"))

            page.goto(base + "/app/#/device")
            page.click("#logout")
            page.wait_for_selector("#logout-message:not([hidden])")
            page.screenshot(path=str(out / f"{name}-device.png"))
            context.close()
        browser.close()
        server.shutdown()
    print(out)


if __name__ == "__main__":
    main()
