"""Screenshots of the closing meeting and the draft minutes in the field app, offline, at
1024×768 (a 10-inch tablet in landscape) and 800×1280 (portrait).

    .venv/bin/python scripts/screenshots_closing.py [OUT_DIR]

Signs in as the demo leader, goes offline, records a closing meeting for Hạ Lang district and
writes closing-*.png and minutes-*.png into OUT_DIR (default: docs/, as
docs/screenshot-closing-{screen,minutes}-{1024x768,800x1280}.png).
"""
from __future__ import annotations

import logging
import sys
import tempfile
from pathlib import Path

from bench_app import serve  # scripts/ is on sys.path when run as a script
from playwright.sync_api import sync_playwright

SIZES = {"1024x768": {"width": 1024, "height": 768}, "800x1280": {"width": 800, "height": 1280}}
DOCS = Path(__file__).resolve().parents[1] / "docs"


def record_meeting(page) -> None:
    """What a secretary types at the meeting (the screen must be editable: closing.can_edit)."""
    page.fill("#closing-meeting_start", "08:00")
    page.fill("#closing-meeting_end", "11:30")
    page.click("#add-official")
    page.fill("#official-name-0", "Nông Văn Bình")
    page.fill("#official-position-0", "Chủ tịch UBND huyện Hạ Lang")
    page.click("#add-strength")
    page.locator("#findings-strength textarea").last.fill(
        "Bộ phận Một cửa bố trí khoa học; 1.068/1.081 hồ sơ được giải quyết.")
    page.click("#add-weakness")
    page.locator("#findings-weakness textarea").last.fill(
        "Tỷ lệ hồ sơ giải quyết đúng hạn 86,5 %, thấp hơn mục tiêu 98 %.")
    page.locator("#recommendations .suggestion button").first.click()
    page.locator("#recommendations textarea").first.wait_for()
    page.fill("#closing-unit_comments",
              "Đơn vị nhất trí với kết quả kiểm tra và sẽ khắc phục trong quý IV.")
    page.evaluate("document.activeElement.blur()")
    page.wait_for_timeout(700)


def main() -> None:
    logging.disable(logging.INFO)
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else DOCS
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as instance, sync_playwright() as p:
        base, server, _ = serve(instance)
        browser = p.chromium.launch(executable_path="/usr/bin/chromium")
        for name, viewport in SIZES.items():
            context = browser.new_context(viewport=viewport, device_scale_factor=1)
            page = context.new_page()
            page.goto(base + "/app/")
            page.fill("input[name=username]", "leader")
            page.fill("input[name=password]", "demo1234")
            page.click("button[type=submit]")
            page.wait_for_selector("a.assignment")
            page.wait_for_function("() => navigator.serviceWorker.controller !== null")
            page.wait_for_function(
                "() => /\\d:\\d/.test(document.querySelector('#sync-last')?.textContent)")
            context.set_offline(True)
            page.click("a.assignment:has-text('Hạ Lang')")
            page.wait_for_selector("article.item")
            page.click("#open-closing")
            page.wait_for_selector("#closing-sync")
            record_meeting(page)
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=str(out / f"screenshot-closing-screen-{name}.png"))
            page.click("#open-minutes")
            page.wait_for_selector("#minutes .m-footer")
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=str(out / f"screenshot-closing-minutes-{name}.png"))
            context.close()
        browser.close()
        server.shutdown()
    print(out)


if __name__ == "__main__":
    main()
