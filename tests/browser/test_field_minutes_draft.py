"""The draft minutes on the tablet say what the server's PDF says (issue 15, item 2): for each
demo inspection, the draft drawn offline from IndexedDB and the PDF built from the database have
the same headings (I–V, every numbered area with its points) and the same figures (overall
points, maximum, percent and class). Chromium prints the draft on A4 (page.pdf)."""
from __future__ import annotations

import re
import subprocess

import pytest
from field_helpers import inspection_id_of

from inspection.extensions import db
from inspection.models import Inspection
from inspection.pdf.minutes import render_minutes
from inspection.services.minutes_data import minutes_data_for_inspection

pytestmark = pytest.mark.browser

DEMO_UNITS = ("048", "01561", "01567")  # Hạ Lang district, xã Vinh Quý, xã Cô Ngân


def words(text: str) -> str:
    """Text with every run of white space made one space (PDF lines wrap anywhere)."""
    return re.sub(r"\s+", " ", text).strip()


def pdf_text(pdf: bytes) -> str:
    return subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True,
                          timeout=60).stdout.decode("utf-8")


def server_pdf(live_server, inspection_id: int) -> bytes:
    return live_server.query(lambda: render_minutes(minutes_data_for_inspection(
        db.session.get(Inspection, inspection_id), "")))


def test_the_draft_has_the_pdfs_sections_and_figures_for_every_demo_inspection(
        live_server, context, sign_in):
    page = sign_in(context, "leader")
    for code in DEMO_UNITS:
        inspection_id = inspection_id_of(live_server, code)
        page.goto(f"{live_server.url}/app/#/i/{inspection_id}/minutes")
        page.wait_for_selector("#minutes .m-footer")
        draft = page.inner_text("#minutes")
        printed = words(pdf_text(server_pdf(live_server, inspection_id)))
        headings = [line.strip() for line in draft.splitlines()
                    if re.match(r"^(I|II|III|IV|V)\. [A-ZĐ]", line.strip())
                    or re.match(r"^\d+\. .+: đạt [\d.,]+/[\d.,]+ điểm$", line.strip())
                    or line.strip().endswith("(không đánh giá)")]
        assert len(headings) >= 5 + 3, (code, headings)
        for heading in headings:
            assert words(heading) in printed, (code, heading)
        score = re.search(r"Kết quả chung: đạt [^\n]+", draft)
        assert score, code
        assert words(score.group(0)) in printed, (code, score.group(0))
        # The rows of part II: every criterion code with its result and points, in order.
        rows = page.eval_on_selector_all(
            "#minutes .m-criteria tbody tr",
            "rows => rows.map(r => [...r.cells].map(c => c.innerText.trim()))")
        assert rows, code
        for code_cell, _title, result, points in rows:
            row = rf"{re.escape(code_cell)}\b.*?{re.escape(result)}\s+{re.escape(points)}"
            assert re.search(row, printed, re.S), (code, code_cell, result, points)
        for sentence in ("Đoàn kiểm tra đề nghị", "Biên bản đã được đọc lại cho các thành phần"):
            assert sentence in draft and sentence in printed
        approved = page.evaluate(f"""() => import('/static/js/db.js').then(async (m) =>
            (await m.get('assignments', {inspection_id})).inspection.state)""") in (
            "approved", "signed")
        assert ("DỰ THẢO" in draft) is not approved, code


def test_the_draft_prints_on_a4_with_its_draft_mark_and_footer(live_server, context, sign_in):
    page = sign_in(context, "leader")
    inspection_id = inspection_id_of(live_server, "048")
    page.goto(f"{live_server.url}/app/#/i/{inspection_id}/minutes")
    page.wait_for_selector("#minutes .m-footer")
    pdf = page.pdf(format="A4")
    text = pdf_text(pdf)
    assert "DỰ THẢO" in text
    assert "BIÊN BẢN" in text and "II. NỘI DUNG, KẾT QUẢ KIỂM TRA" in text
    assert "Đồng bộ ngay" not in text and "In biên bản" not in text  # the app around it is hidden
    assert "Máy chủ chưa lập biên bản" in text
    pages = int(re.search(rb"/Count (\d+)", pdf).group(1))
    assert pages >= 2
