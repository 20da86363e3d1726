"""The checklist editor in Chromium, as the secretariat uses it on a 1024×768 office screen: a
new draft from the published commune checklist, an item added with the forms (a problem shown
at its field first), and the section previewed with the tablet's own item cards.

With CCHC_SCREENSHOTS=<folder> the test also saves what it sees there
(docs/screenshot-checklist-editor*.png are made so)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import select

from inspection.extensions import db
from inspection.models import ChecklistTemplate, ChecklistVersion

PASSWORD = "demo1234"
SHOTS = os.environ.get("CCHC_SCREENSHOTS")


def shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / f"screenshot-checklist-editor{name}.png"))


@pytest.mark.browser
def test_add_an_item_to_a_new_draft_and_preview_it_as_the_tablet_shows_it(live_server, browser):
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    errors: list[str] = []
    page = context.new_page()
    # The refused form answers 422 by design; anything else failing is a fault.
    page.on("console", lambda m: m.type == "error" and "status of 422" not in m.text
            and errors.append(m.text))
    page.on("response", lambda r: r.status >= 400 and r.status != 422
            and errors.append(f"{r.url} {r.status}"))
    page.on("pageerror", lambda e: errors.append(str(e)))
    base = live_server.url
    published = live_server.query(lambda: db.session.scalar(
        select(ChecklistVersion.id).join(ChecklistTemplate)
        .where(ChecklistTemplate.code == "cchc-xa-2cap")))

    page.goto(base + "/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(base + "/")

    page.goto(f"{base}/admin/checklists/{published}/edit")
    assert "không sửa được nữa" in page.inner_text("main")
    page.fill("#new-draft input[name=version]", "2099.1")
    page.click("#new-draft button[type=submit]")
    page.wait_for_selector("text=Đã tạo bản nháp cchc-xa-2cap 2099.1")
    draft = int(page.url.split("/admin/checklists/")[1].split("/")[0])

    page.click("text=Thêm tiêu chí vào TTHC")
    page.fill("input[name=code]", "TTHC.90")
    page.select_option("select[name=kind]", "yesno")
    page.fill("textarea[name=title_vi]", "Niêm yết số điện thoại đường dây nóng tại Trung tâm")
    page.fill("textarea[name=title_en]", "Hotline number posted at the centre")
    page.fill("input[name=max_points]", "hai")
    page.fill("textarea[name=evidence_hint_vi]", "Ảnh chụp bảng niêm yết")
    page.click("form.editor-form button[type=submit]")
    assert page.inner_text("#err-max_points") == "'hai': Không phải là số."
    page.locator("#err-max_points").scroll_into_view_if_needed()
    shot(page, "-problem")
    page.fill("input[name=max_points]", "1,5")
    page.click("form.editor-form button[type=submit]")
    page.wait_for_selector("#item-TTHC\\.90")
    assert "Đã lưu; danh mục vẫn hợp lệ." in page.inner_text("main")
    assert page.evaluate("location.hash") == "#item-TTHC.90"  # back where the item is
    shot(page, "-items")
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "")

    page.goto(f"{base}/admin/checklists/{draft}/preview/TTHC")
    page.wait_for_selector("#preview[data-ready=true]")
    card = page.locator("article.item#item-TTHC\\.90")
    assert "Niêm yết số điện thoại đường dây nóng tại Trung tâm" in card.inner_text()
    assert "1,5 điểm" in card.inner_text() and "Ảnh chụp bảng niêm yết" in card.inner_text()
    assert page.locator("article.item").count() == 37  # the section's 36 items and the new one
    passed = card.get_by_role("button", name="Đạt", exact=True)
    passed.click()  # the tablet's own buttons answer, but nothing is kept
    assert passed.get_attribute("aria-pressed") == "true"
    card.scroll_into_view_if_needed()
    shot(page, "-preview")

    page.goto(f"{base}/admin/checklists/compare?old={published}&new={draft}")
    assert "Thêm tiêu chí TTHC.90" in " ".join(page.inner_text("main").split())
    shot(page, "-compare")
    assert errors == []
    assert live_server.query(lambda: [i["code"] for s in db.session.get(
        ChecklistVersion, draft).document["sections"] for i in s["items"]
        if i["code"] == "TTHC.90"]) == ["TTHC.90"]
    context.close()
