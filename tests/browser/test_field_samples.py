"""Conditions and repeat groups on the tablet (issue 17): a criterion or a whole section that
does not apply is hidden as counts are typed, offline, and comes back when it applies; sampled
dossiers are added, edited and deleted offline, counted at once, and reach the server as ops."""
from __future__ import annotations

import re

import pytest
from field_helpers import open_inspection, outbox, save_screenshot, sync_and_wait, wait_unsent
from playwright.sync_api import expect
from sqlalchemy import select

from inspection.extensions import db
from inspection.models import Inspection, Sample, User
from inspection.models.units import AdminUnit
from inspection.services.demo import SAMPLE_DAY, seed_sample_demo
from inspection.services.units import unit_valid_on

pytestmark = pytest.mark.browser

UNIT = "Xã Hạ Lang"


@pytest.fixture
def sampled(live_server) -> int:
    """The demo's 2025 visit of xã Hạ Lang on the provincial extension (seed-demo adds it)."""

    def seed():
        users = {u.username: u for u in db.session.scalars(select(User))}
        seed_sample_demo(users, unit_valid_on("04", SAMPLE_DAY))
        db.session.commit()
        return db.session.scalar(select(Inspection.id).join(
            AdminUnit, Inspection.unit_id == AdminUnit.id).where(
            AdminUnit.code == "01558", AdminUnit.kind == "Xã"))

    return live_server.query(seed)


def count_input(page, code):
    return page.locator(f"article.item[data-code='{code}'] input.count")


def test_a_condition_hides_and_shows_criteria_and_sections_as_counts_are_typed(
        live_server, context, sign_in, sampled):
    page = sign_in(context, "inspector1")
    open_inspection(page, UNIT)
    context.set_offline(True)
    page.goto(f"{live_server.url}/app/#/i/{sampled}/TTHC")
    postal = page.locator("article.item[data-code='TTHC.50']")
    tthc = page.locator(".section-link[data-section='TTHC'] .section-progress")
    mau = page.locator(".section-link[data-section='MAU']")
    # No dossier came by post (TTHC.23 = 0): the postal-register criterion is hidden.
    count_input(page, "TTHC.23").wait_for()
    expect(postal).to_be_hidden()
    total_without = int(tthc.text_content().split("/")[1])
    count_input(page, "TTHC.23").fill("3")
    expect(postal).to_be_visible()
    # The section list counts it again (the progress of TTHC has one criterion more).
    expect(tthc).to_have_text(re.compile(rf"^\d+/{total_without + 1}$"))
    count_input(page, "TTHC.23").fill("0")
    expect(postal).to_be_hidden()
    expect(tthc).to_have_text(re.compile(rf"^\d+/{total_without}$"))
    # No dossier received at all: the whole sampled-dossier section does not apply.
    expect(mau).not_to_have_class("not-applicable")
    count_input(page, "TTHC.20").fill("0")
    expect(mau).to_have_class("section-link not-applicable")
    expect(mau.locator(".section-progress")).to_have_text("KAD")
    mau.click()
    expect(page.locator("#section-not-applicable")).to_be_visible()
    expect(page.locator("article.item[data-code='MAU.03']")).to_be_hidden()
    expect(page.locator("section.repeat-group[data-group='HS']")).to_be_hidden()
    page.goto(f"{live_server.url}/app/#/i/{sampled}/TTHC")
    count_input(page, "TTHC.20").fill("40")
    expect(mau).not_to_have_class("section-link not-applicable")
    mau.click()
    expect(page.locator("section.repeat-group[data-group='HS']")).to_be_visible()
    expect(page.locator("#section-not-applicable")).to_be_hidden()


def test_samples_are_added_edited_and_deleted_offline_then_synced(
        live_server, context, sign_in, sampled):
    page = sign_in(context, "inspector1")
    open_inspection(page, UNIT)
    page.goto(f"{live_server.url}/app/#/i/{sampled}/MAU")
    group = page.locator("section.repeat-group[data-group='HS']")
    rows = group.locator("li.sample")
    expect(rows).to_have_count(3)  # entered on another tablet, read from IndexedDB
    expect(count_input(page, "MAU.01")).to_have_value("3")
    expect(group.locator(".sample-count")).to_contain_text("còn thiếu 2 mẫu")

    context.set_offline(True)
    group.locator("button.add-sample").click()
    expect(rows).to_have_count(4)
    new = rows.nth(3)
    new.locator("[data-field='HS.MA']").fill("000.00.12.H10-250818-0031")
    new.locator("[data-field='HS.MA']").press("Tab")
    for code, day in (("HS.NHAN", "2025-08-18"), ("HS.HEN", "2025-08-22"),
                      ("HS.TRA", "2025-08-21")):
        new.locator(f"[data-field='{code}']").fill(day)
    new.locator("[data-field='HS.XINLOI']").select_option("yes")
    # The first dossier was returned late after all; the second was not a sample.
    rows.nth(0).locator("[data-field='HS.TRA']").fill("2025-08-08")
    rows.nth(1).locator("button.delete-sample").click()
    expect(rows).to_have_count(3)
    expect(count_input(page, "MAU.01")).to_have_value("3")
    # On time: only the new one (the first is late now, the third was late).
    expect(count_input(page, "MAU.02")).to_have_value("1")
    expect(count_input(page, "MAU.04")).to_have_value("2")
    ops = outbox(page)
    assert {op["type"] for op in ops} == {"sample.set", "sample.delete"}
    assert all(op["group"] == "HS" and op["sample_id"] for op in ops)
    # A reload, still offline: everything is shown again from IndexedDB with the ops pending.
    page.reload()
    expect(rows).to_have_count(3)
    expect(rows.nth(2).locator("[data-field='HS.MA']")).to_have_value("000.00.12.H10-250818-0031")
    expect(rows.nth(0).locator("[data-field='HS.TRA']")).to_have_value("2025-08-08")
    group.evaluate("(el) => { el.scrollIntoView({ block: 'start' }); window.scrollBy(0, -90); }")
    save_screenshot(page, "screenshot-field-samples.png")

    context.set_offline(False)
    sync_and_wait(page)
    wait_unsent(page, 0)

    def on_server():
        samples = db.session.scalars(select(Sample).where(Sample.inspection_id == sampled)
                                     .order_by(Sample.id)).all()
        return [(s.values.get("HS.MA"), s.values.get("HS.TRA"), s.values.get("HS.XINLOI"),
                 s.deleted) for s in samples]

    assert live_server.query(on_server) == [
        ("000.00.12.H10-250801-0001", "2025-08-08", False, False),
        ("000.00.12.H10-250804-0007", "2025-08-11", False, True),
        ("000.00.12.H10-250805-0012", "2025-08-14", True, False),
        ("000.00.12.H10-250818-0031", "2025-08-21", True, False),
    ]
    # At most 10 samples: the add button stops there.
    add = group.locator("button.add-sample")
    for _ in range(7):
        add.click()
    expect(rows).to_have_count(10)
    expect(add).to_be_disabled()
    expect(group.locator(".sample-count")).to_contain_text("đã đủ số mẫu tối đa")
