"""Screenshots of the office pages at tablet sizes (1024×768 landscape, 800×1280 portrait): the
header on one row, the recommendations page with a unit's report, the ranking in English.

    .venv/bin/python scripts/screenshots_office.py [docs]

Starts its own server on a free port with the demo data (in a temporary folder), adds one
recommendation to xã Cô Ngân that its representative reported done with a picture, and one
with the unit's reply, then takes the pictures with Debian's Chromium.
"""
import io
import sys
import tempfile
import threading
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright
from werkzeug.datastructures import FileStorage
from werkzeug.serving import make_server

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask_migrate import upgrade  # noqa: E402

from inspection import create_app  # noqa: E402
from inspection.extensions import db  # noqa: E402

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else "docs")
SHOTS = [  # (user, language, path, viewport, file, open the first report form)
    ("admin", "vi", "/", (1024, 768), "screenshot-record-office-header-1024.png", False),
    ("admin", "vi", "/", (800, 1280), "screenshot-record-office-header-800.png", False),
    ("unitrep", "vi", "/overview/recommendations", (1024, 768),
     "screenshot-record-office-recommendations.png", True),
    ("leader", "en", "/overview/ranking", (1024, 768), "screenshot-record-office-ranking-en.png",
     False),
]


def seed(app) -> None:
    from inspection.models import Inspection, User
    from inspection.services.demo import seed_demo
    from inspection.services.followup import reply_to, report_done
    from inspection.services.review import add_recommendation

    with app.app_context():
        upgrade()
        seed_demo(with_minutes=False)
        user = {u.username: u for u in db.session.query(User)}
        co_ngan = next(i for i in db.session.query(Inspection) if i.unit.code == "01567")
        done = add_recommendation(co_ngan, user["leader"],
                                  "Bố trí máy tra cứu thủ tục hành chính tại bộ phận "
                                  "một cửa.", "2022-03-31")
        waiting = add_recommendation(co_ngan, user["leader"],
                                     "Nâng tỷ lệ văn bản đi được ký số lên trên 90%.",
                                     "2022-06-30")
        add_recommendation(co_ngan, user["leader"],
                           "Niêm yết đầy đủ, đúng quy định các thủ tục hành chính.",
                           "2022-03-31")
        picture = io.BytesIO()
        Image.new("RGB", (640, 480), (40, 110, 170)).save(picture, "JPEG")
        picture.seek(0)
        report_done(done, user["unitrep"], "Đã bố trí 01 máy tra cứu từ tháng 02/2022.",
                    [FileStorage(stream=picture, filename="may-tra-cuu.jpg")])
        reply_to(waiting, user["unitrep"],
                 "Đơn vị đang chờ cấp chứng thư số cho 3 cán bộ; dự kiến xong tháng 5/2022.")
        db.session.commit()


def main() -> None:
    folder = tempfile.mkdtemp(prefix="cchc-shots-")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/shots.db",
                      "SECRET_KEY": "screenshots",
                      "SESSION_COOKIE_SECURE": False, "MEDIA_ROOT": f"{folder}/media", "DEMO": True,
                      "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024}, instance_path=folder)
    seed(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium")
        for username, lang, path, (width, height), name, open_form in SHOTS:
            context = browser.new_context(viewport={"width": width, "height": height},
                                          device_scale_factor=1)
            page = context.new_page()
            page.goto(base + "/login")
            page.fill("input[name=username]", username)
            page.fill("input[name=password]", "demo1234")
            page.click("button[type=submit]")
            page.goto(f"{base}/lang/{lang}")
            page.goto(base + path)
            if open_form:
                page.locator("details.report-done summary").first.click()
                page.evaluate("window.scrollTo(0, "
                              "document.querySelector('table.followups').offsetTop - 8)")
            header = page.locator("header.topbar").bounding_box()
            print(f"{name}: header {header['height']:.0f} px high at {width} px")
            page.screenshot(path=str(OUT / name), full_page=False)
            if len(sys.argv) > 2:  # a look at the whole page as well
                page.screenshot(path=str(OUT / ("full-" + name)), full_page=True)
            context.close()
        browser.close()
    server.shutdown()


if __name__ == "__main__":
    main()
