"""The unit's representative attaches evidence to a criterion of the self-assessment in the office
pages: the file goes to the server resumably with tus (`kind=evidence`), so a connection cut in
the middle of the upload resumes and the criterion is saved with its file."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from inspection.extensions import db
from inspection.models import Plan, SelfAssessmentClaim, SelfAssessmentEvidence, Upload, User
from inspection.services.planning import create_trip
from inspection.services.units import unit_valid_on

VISIT = date(2022, 10, 3)


def planned_visit() -> int:
    """A planned 2022 visit to xã Cô Ngân, the demo representative's unit."""
    users = {u.username: u for u in db.session.scalars(select(User))}
    trip = create_trip(db.session.scalar(select(Plan)), "Kiểm tra CCHC năm 2022", VISIT, VISIT,
                       users["leader"], [users["inspector1"]], [unit_valid_on("01567", VISIT)],
                       by=users["admin"])
    db.session.commit()
    return trip.inspections[0].id


@pytest.mark.browser
def test_an_evidence_file_cut_mid_upload_resumes_and_is_saved_with_the_criterion(
        live_server, browser, tmp_path):
    inspection_id = live_server.query(planned_visit)
    page = browser.new_context(viewport={"width": 1024, "height": 768}).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    base = live_server.url
    page.goto(base + "/login")
    page.fill("input[name=username]", "unitrep")
    page.fill("input[name=password]", "demo1234")
    page.click("main form button[type=submit]")
    page.wait_for_url(base + "/")

    # A 600 KB decision as PDF (three tus chunks); the second chunk's connection is cut once.
    pdf = tmp_path / "quyet-dinh-kiem-tra.pdf"
    pdf.write_bytes(b"%PDF-1.4\n" + b"1 0 obj << >> endobj\n" * 30_000 + b"%%EOF\n")
    patches: list[str] = []

    def cut_once(route):
        patches.append(route.request.url)
        if len(patches) == 2:
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/api/v1/uploads/*", lambda route: cut_once(route)
               if route.request.method == "PATCH" else route.continue_())
    page.goto(f"{base}/inspections/{inspection_id}/self-assessment")
    form = "#item-CDDH.01 form.sa-form".replace(".01", "\\.01")
    page.select_option(f"{form} select[name=result]", "pass")
    page.set_input_files(f"{form} input[type=file]", str(pdf))
    page.click(f"{form} button[type=submit]")
    page.wait_for_selector("text=Đã lưu tiêu chí CDDH.01", timeout=30_000)

    assert len(patches) >= 4  # three chunks, the cut one sent again
    stored = live_server.query(lambda: [
        (e.filename, e.size) for c in db.session.scalars(select(SelfAssessmentClaim))
        if c.item_code == "CDDH.01" and c.self_assessment.inspection_id == inspection_id
        for e in map(db.session.get, [SelfAssessmentEvidence] * len(
            c.evidence_ids), c.evidence_ids)])
    assert stored == [("quyet-dinh-kiem-tra.pdf", pdf.stat().st_size)]
    kinds = live_server.query(lambda: [(u.meta or {}).get("kind")
                                       for u in db.session.scalars(select(Upload))])
    assert "evidence" in kinds  # sent through tus, not in the form's body
    assert "quyet-dinh-kiem-tra.pdf" in page.inner_text(f"{form}")
    assert errors == []
