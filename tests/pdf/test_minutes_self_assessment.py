"""The minutes set the unit's self-assessment against the appraisal: both totals, and a table
of the criteria whose appraised result differs (demo: xã Vinh Quý)."""
from __future__ import annotations

from pdf_samples import flat, pdftotext

from inspection.extensions import db
from inspection.models import Inspection
from inspection.pdf import render_minutes
from inspection.services.minutes_data import minutes_data_for_inspection
from inspection.services.self_assessment import self_score


def inspection_of(code: str) -> Inspection:
    return next(i for i in db.session.query(Inspection) if i.unit.code == code)


def test_the_minutes_print_both_totals_and_the_differing_criteria(demo):
    vinh_quy = inspection_of("01561")
    data = minutes_data_for_inspection(vinh_quy, "https://cchc.example.vn/")
    [part] = data.parts
    summary = part.self_assessment
    claimed = self_score(vinh_quy)
    assert (summary.self_points, summary.self_max) == (claimed["total"], claimed["max"])
    assert summary.appraised_points == part.score.points
    assert [(r.code, r.claimed, r.appraised) for r in summary.rows] == [
        ("CDDH.10", "Không đạt", "Đạt"), ("TC.03", "Không đạt", "Đạt")]
    assert all(r.claimed_points == 0 and r.appraised_points > 0 for r in summary.rows)
    text = flat(pdftotext(render_minutes(data)))
    assert "Đơn vị tự đánh giá đạt" in text and "Đoàn kiểm tra thẩm định đạt" in text
    assert "Các tiêu chí có kết quả thẩm định khác tự đánh giá (2)" in text
    assert "CDDH.10" in text and "TC.03" in text


def test_without_a_submitted_self_assessment_the_minutes_say_nothing_of_it(demo):
    [part] = minutes_data_for_inspection(inspection_of("01567"), "https://x.vn/").parts
    assert part.self_assessment is None
    assert "tự đánh giá" not in flat(pdftotext(render_minutes(
        minutes_data_for_inspection(inspection_of("01567"), "https://x.vn/"))))
