"""Take the README screenshots from a running demo server (scripts/serve.sh).

    .venv/bin/python scripts/screenshots.py [http://127.0.0.1:5000] [docs]
"""
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:5000"
OUT = Path(sys.argv[2] if len(sys.argv) > 2 else "docs")
PAGES = [
    ("leader", "/", "screenshot-home.png"),
    ("admin", "/admin/units?level=commune", "screenshot-units.png"),
]

with sync_playwright() as p:
    browser = p.chromium.launch(executable_path="/usr/bin/chromium")
    for username, path, name in PAGES:
        context = browser.new_context(viewport={"width": 1180, "height": 820},
                                      device_scale_factor=1)
        page = context.new_page()
        page.goto(BASE + "/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", "demo1234")
        page.click("button[type=submit]")
        page.goto(BASE + path)
        page.screenshot(path=str(OUT / name), full_page=False)
        context.close()
    browser.close()
