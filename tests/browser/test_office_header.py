"""The office header is one row on a 10-inch tablet, landscape (1024×768) and portrait
(800×1280), for the role with the most links (the secretariat), in both languages; the
secretariat's pages stay reachable through its menu."""
import pytest

PASSWORD = "demo1234"
ONE_ROW = 60  # px: the links are 44 px touch targets, the bar adds its padding


@pytest.mark.browser
@pytest.mark.parametrize("width,height", [(1024, 768), (800, 1280)])
def test_the_header_is_one_row_on_a_tablet(live_server, browser, width, height):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    base = live_server.url
    page.goto(base + "/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(base + "/")
    for language in ("vi", "en"):
        page.goto(f"{base}/lang/{language}")
        page.wait_for_load_state()
        header = page.locator("header.topbar").bounding_box()
        assert header["height"] <= ONE_ROW, (language, header)
        # Every link and button of the bar sits on that one row, inside the screen, none on another.
        boxes = page.eval_on_selector_all(
            "header.topbar a:not(.navmenu-items a), header.topbar summary, header.topbar button",
            "els => els.map(e => { const r = e.getBoundingClientRect(); "
            "return [e.textContent.trim(), r.top, r.bottom, r.left, r.right]; })")
        for text, top, bottom, left, right in boxes:
            assert top >= 0 and bottom <= ONE_ROW and left >= 0 and right <= width, (
                language, text, top, right)
        lefts = sorted((left, right, text) for text, _t, _b, left, right in boxes)
        for (_l1, right1, text1), (left2, _r2, text2) in zip(lefts, lefts[1:], strict=False):
            assert right1 <= left2 + 1, f"{text1!r} overlaps {text2!r}"
    page.goto(f"{base}/lang/vi")
    page.click("header .navmenu summary")
    page.click("header .navmenu-items a:has-text('Đơn vị hành chính')")
    page.wait_for_url(base + "/admin/units")
    context.close()
