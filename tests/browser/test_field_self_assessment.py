"""The unit's self-assessment on the tablet, offline (issue 16, item 2): the leader sees Vinh
Quý's claims, evidence files and explanation thread with no network, confirms a claim with one
tap (an ordinary observation in the outbox), sees the difference flag and the section's count
go, and once the server is back one sync puts the observation on the server."""
from __future__ import annotations

import pytest
from field_helpers import (
    go_to_item,
    inspection_id_of,
    open_inspection,
    outbox,
    sync_and_wait,
    wait_unsent,
)
from playwright.sync_api import expect
from sqlalchemy import select

from inspection.extensions import db
from inspection.models import Observation

pytestmark = pytest.mark.browser


def test_a_claim_confirmed_offline_becomes_the_observation(live_server, context, sign_in):
    page = sign_in(context, "leader")
    inspection_id = inspection_id_of(live_server, "01561")
    # Online at the office: the plan (a PDF) is opened once, so the tablet keeps it.
    open_inspection(page, "Vinh Quý")
    with page.expect_download() as opened:
        go_to_item(page, "CDDH.01").locator(".claim-evidence a").click()
    assert opened.value.suggested_filename == "ke-hoach-cchc-2021.pdf"
    live_server.stop()  # no signal in the commune
    context.set_offline(True)
    page.goto(live_server.url + "/app/")  # the app opened again, offline
    open_inspection(page, "Vinh Quý")
    # The photo among the evidence was kept at the sync; the opened PDF opens again offline; the
    # report never opened says it is not on the device.
    photo = go_to_item(page, "TTHC.36").locator("img.evidence-thumb")
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0",
                           arg=photo.element_handle())
    with page.expect_download() as again:
        go_to_item(page, "CDDH.01").locator(".claim-evidence a").click()
    assert again.value.suggested_filename == "ke-hoach-cchc-2021.pdf"
    report = go_to_item(page, "CDDH.05").locator(".claim-evidence a")
    report.click()
    expect(report).to_have_class("evidence-file evidence-missing")
    cddh = page.locator(".section-link[data-section='CDDH']")
    expect(cddh.locator(".section-differs")).to_have_text("1 khác tự đánh giá")

    plan = go_to_item(page, "CDDH.01")
    expect(plan.locator(".claim-value")).to_have_text("Đạt")
    expect(plan.locator(".claim-evidence a")).to_have_text("ke-hoach-cchc-2021.pdf")
    expect(plan.locator(".flag-differs")).to_have_count(0)
    expect(plan.get_by_role("button", name="Xác nhận")).to_have_count(0)  # already as claimed

    card = go_to_item(page, "CDDH.10")
    expect(card.locator(".claim-value")).to_have_text("Không đạt")
    expect(card.locator(".flag-differs")).to_have_text("Khác tự đánh giá")
    expect(card.locator(".claim-thread")).to_contain_text("Quyết định số 1187/QĐ-UBND")
    expect(card.locator(".claim-thread a")).to_have_text("quyet-dinh-1187-cong-nhan-mo-hinh.pdf")
    appraised = card.get_by_role("button", name="Đạt", exact=True)
    assert appraised.get_attribute("aria-pressed") == "true"  # as the team recorded it
    assert "null" not in card.locator(".claim").inner_text()  # fields the unit left empty

    card.get_by_role("button", name="Xác nhận").click()
    wait_unsent(page, 1)
    expect(card.locator(".flag-differs")).to_have_count(0)
    expect(card.get_by_role("button", name="Xác nhận")).to_have_count(0)
    expect(cddh.locator(".section-differs")).to_have_count(0)
    assert card.get_by_role("button", name="Không đạt",
                            exact=True).get_attribute("aria-pressed") == "true"
    [op] = outbox(page)
    assert (op["type"], op["item_code"], op["fields"]) == ("observation.set", "CDDH.10",
                                                           {"result": "fail"})

    live_server.start()
    context.set_offline(False)
    sync_and_wait(page)
    wait_unsent(page, 0)
    result = live_server.query(lambda: db.session.scalar(
        select(Observation.result).where(Observation.inspection_id == inspection_id,
                                         Observation.item_code == "CDDH.10")))
    assert result == "fail"
