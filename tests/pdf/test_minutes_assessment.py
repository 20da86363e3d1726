"""The minutes say when not every criterion was assessed, and why the leader approved anyway."""
from pdf_samples import flat, ha_lang_minutes, ha_lang_part, pdftotext

from inspection.extensions import db
from inspection.models import Inspection
from inspection.pdf import render_minutes
from inspection.services.demo import DEMO_APPROVAL_REASON
from inspection.services.minutes_data import assessment_remark, minutes_data_for_inspection


def test_the_remark_is_printed_under_the_overall_result():
    remark = assessment_remark({"partial": True, "assessed": 34, "items": 46,
                                "not_assessed": ["TTHC.05", "TTHC.32"]}, "Xã chưa có số liệu.")
    text = flat(pdftotext(render_minutes(ha_lang_minutes((ha_lang_part(
        assessment_remark=remark),)))))
    assert ("Ghi chú: đã đánh giá 34/46 tiêu chí; 2 tiêu chí chưa được đánh giá (TTHC.05, "
            "TTHC.32) không được tính điểm. Trưởng đoàn duyệt kết quả khi chưa đánh giá đủ, lý do: "
            "Xã chưa có số liệu.") in text
    assert text.index("Kết quả chung:") < text.index("Ghi chú: đã đánh giá")


def test_no_remark_when_every_criterion_was_assessed():
    assert assessment_remark({"partial": False, "assessed": 3, "items": 3}, "ignored") == ""
    text = flat(pdftotext(render_minutes(ha_lang_minutes((ha_lang_part(),)))))
    assert "Ghi chú: đã đánh giá" not in text


def test_the_demo_approval_reason_reaches_co_ngans_minutes(demo):
    co_ngan = next(i for i in db.session.query(Inspection) if i.unit.code == "01567")
    assert co_ngan.approval_reason == DEMO_APPROVAL_REASON
    text = flat(pdftotext(render_minutes(minutes_data_for_inspection(co_ngan, "https://x.vn/"))))
    reason = DEMO_APPROVAL_REASON.rstrip(".")
    assert f"Trưởng đoàn duyệt kết quả khi chưa đánh giá đủ, lý do: {reason}." in text
    assert "Kết quả chung: đạt 63/100 điểm (63%), xếp loại D – Yếu" in text, \
        text[text.index("Kết quả chung"):][:80]
