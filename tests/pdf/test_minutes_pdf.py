"""The minutes PDF (no database): exact Vietnamese text, number formats, escaping, NFC, layout,
prepared signature fields, trip documents and the photo appendix."""
from __future__ import annotations

import io
import subprocess
import unicodedata
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from pdf_samples import RECOMMENDATIONS, flat, ha_lang_minutes, ha_lang_part, jpeg, pdftotext
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import enumerate_sig_fields

from inspection.pdf import render_minutes
from inspection.pdf.data import CountRow, PhotoItem, SectionResult, UnitPart
from inspection.pdf.minutes import clean, esc, fmt_date_long, fmt_gps, fmt_number, fmt_percent


def sig_fields(pdf: bytes) -> dict[str, bool]:
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    return {name: value is not None for name, value, _ in enumerate_sig_fields(reader)}


def test_numbers_and_dates_are_written_the_vietnamese_way():
    assert fmt_number(1081) == "1.081"
    assert fmt_number(1068.0) == "1.068"
    assert fmt_number(924) == "924"
    assert fmt_number(1234567.891) == "1.234.567,89"
    assert fmt_number(8.5) == "8,5"
    assert fmt_number(None) == "–"
    assert fmt_percent(86.5) == "86,5%"
    assert fmt_percent(100.0) == "100%"
    assert fmt_percent(40.1) == "40,1%"
    assert fmt_date_long(date(2021, 1, 5)) == "ngày 05 tháng 01 năm 2021"
    assert fmt_gps(22.7061, 106.6895) == "22,70610° B, 106,68950° Đ"
    assert fmt_gps(-1.5, -2.25) == "1,50000° N, 2,25000° T"


def test_clean_and_escape_user_text():
    assert esc("<b>x</b> & <font>") == "&lt;b&gt;x&lt;/b&gt; &amp; &lt;font&gt;"
    assert clean("a\x00b\x1bc\u200bd\te") == "abcd e"
    assert clean("dòng 1\r\ndòng 2\u2028dòng 3") == "dòng 1\ndòng 2\ndòng 3"
    assert clean(unicodedata.normalize("NFD", "Hạ Lang")) == "Hạ Lang"


def test_text_extraction_shows_the_exact_vietnamese_text(minutes_pdf):
    text = pdftotext(minutes_pdf)
    lines = [line.strip() for line in text.splitlines()]
    words = flat(text)
    assert "BIÊN BẢN" in lines
    assert "Kiểm tra công tác cải cách hành chính năm 2021 tại UBND huyện Hạ Lang" in lines
    for expected in [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
        "UBND TỈNH CAO BẰNG", "ĐOÀN KIỂM TRA CCHC", "Số: 05/BB-ĐKT",
        "Hạ Lang, ngày 01 tháng 10 năm 2021",
        "Căn cứ Kế hoạch số 3199/KH-UBND ngày 22/12/2020 của UBND tỉnh Cao Bằng",
        "Hôm nay, vào hồi 08 giờ 00 ngày 01 tháng 10 năm 2021, tại trụ sở UBND huyện Hạ Lang",
        "I. THÀNH PHẦN", "1. Đoàn kiểm tra:",
        "Nguyễn Văn An, Phó Giám đốc Sở Nội vụ – Trưởng đoàn;",
        "2. Đại diện đơn vị được kiểm tra (UBND huyện Hạ Lang):",
        "Hoàng Văn Bình, Phó Chủ tịch UBND huyện Hạ Lang;",
        "II. NỘI DUNG, KẾT QUẢ KIỂM TRA",
        "Cải cách thủ tục hành chính (gồm cơ chế một cửa, một cửa liên thông)",
        "1.081 hồ sơ", "1.068 hồ sơ", "924 hồ sơ", "434 hồ sơ", "3.601 văn bản", "3.432 văn bản",
        "86,5% (924/1.068)", "≥ 98%", "Chưa đạt", "40,1% (434/1.081)", "95,3% (3.432/3.601)",
        "Biểu đồ điểm theo lĩnh vực", "Điểm đạt", "Điểm tối đa",
        "III. NHẬN XÉT, ĐÁNH GIÁ", "1. Ưu điểm", "2. Tồn tại, hạn chế",
        "Tỷ lệ hồ sơ giải quyết đúng hạn chưa đạt mục tiêu của tỉnh.",
        "IV. KIẾN NGHỊ", "Đoàn kiểm tra đề nghị UBND huyện Hạ Lang:",
        "1. Chấn chỉnh tình trạng giải quyết hồ sơ quá hạn, nâng tỷ lệ hồ sơ giải quyết đúng hạn "
        "đạt mục tiêu của tỉnh (thời hạn: 31/12/2021);",
        "3. Cụ thể hóa nội dung, đa dạng hóa hình thức tuyên truyền cải cách hành chính;",
        "4. Báo cáo kết quả khắc phục về Sở Nội vụ trước ngày 31/12/2021.",
        "V. Ý KIẾN CỦA ĐƠN VỊ ĐƯỢC KIỂM TRA", "UBND huyện Hạ Lang nhất trí với nội dung biên bản.",
        "Biên bản đã được đọc lại cho các thành phần tham dự cùng nghe và nhất trí thông qua.",
        "ĐẠI DIỆN ĐƠN VỊ ĐƯỢC KIỂM TRA", "TRƯỞNG ĐOÀN KIỂM TRA", "Hoàng Văn Bình",
        "PHỤ LỤC: ẢNH MINH CHỨNG", "(Kèm theo Biên bản số 05/BB-ĐKT ngày 01 tháng 10 năm 2021)",
        # the third photo is alone on its row (two photos side by side interleave their lines)
        "TTHC.42 – Bộ phận Một cửa bố trí đúng quy định Bộ phận Một cửa huyện Hạ Lang, ảnh 3 "
        "Nơi chụp: trụ sở UBND huyện Hạ Lang (22,70610° B, 106,68950° Đ) "
        "Chụp lúc: 01/10/2021 09:17",
        "https://cchc.example.vn/minutes/verify?inspection=1&revision=1",
    ]:
        assert expected in words, expected
    assert len(RECOMMENDATIONS) == 3


def test_page_numbers_start_on_page_two_and_fonts_are_embedded(minutes_pdf, tmp_path):
    first = pdftotext(minutes_pdf, "-f", "1", "-l", "1").strip().splitlines()[0]
    second = pdftotext(minutes_pdf, "-f", "2", "-l", "2").strip().splitlines()[0]
    assert first.split()[0] == "UBND"
    assert second.strip() == "2"
    path = tmp_path / "m.pdf"
    path.write_bytes(minutes_pdf)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True)
    rows = [line.split() for line in fonts.stdout.splitlines()[2:]]
    used = {row[0].split("+")[-1]: row for row in rows}
    assert {"LiberationSerif", "LiberationSerif-Bold", "LiberationSerif-Italic"} <= set(used)
    for name in ("LiberationSerif", "LiberationSerif-Bold"):
        assert used[name][-5:-2] == ["yes", "yes", "yes"]  # embedded, subset, ToUnicode


def test_empty_signature_fields_sit_in_the_signature_blocks(minutes_pdf):
    assert sig_fields(minutes_pdf) == {"SigUnit1": False, "SigLeader": False}
    reader = PdfFileReader(io.BytesIO(minutes_pdf), strict=False)
    boxes = {name: [float(v) for v in ref.get_object()["/Rect"]]
             for name, _, ref in enumerate_sig_fields(reader)}
    middle = (30 + 165 / 2) * 72 / 25.4  # of the text area (left margin 30 mm, width 165 mm)
    assert boxes["SigUnit1"][0] > 30 * 72 / 25.4
    assert boxes["SigUnit1"][2] < middle < boxes["SigLeader"][0]  # left / right
    assert boxes["SigUnit1"][1] == pytest.approx(boxes["SigLeader"][1])  # same row


def test_markup_and_control_characters_are_printed_literally():
    nasty = "<b>x</b> & <font> \x00 \x1b[31m <para> &amp; <img src='a'/>"
    part = ha_lang_part(
        unit_comments=nasty + "\nDòng thứ hai",
        strengths=(nasty,),
        recommendations=(replace(RECOMMENDATIONS[0], text=nasty),),
        photos=(PhotoItem(caption=nasty, data=jpeg()),),
        representatives=(),
    )
    data = ha_lang_minutes(parts=(part,), summary="Kiểm tra <i>CCHC</i> & \x07 năm 2021",
                           document_number="<05>/BB-ĐKT")
    text = pdftotext(render_minutes(data))
    assert "<b>x</b> & <font>" in text
    assert "<para> &amp; <img src='a'/>" in text
    assert "Kiểm tra <i>CCHC</i> & năm 2021" in flat(text)
    assert "Số: <05>/BB-ĐKT" in text
    assert "Dòng thứ hai" in text
    assert not any(ch in text for ch in "\x00\x1b\x07")


def test_nfd_input_renders_as_nfc_text():
    nfd = lambda s: unicodedata.normalize("NFD", s)  # noqa: E731
    part = ha_lang_part(unit_name=nfd("UBND xã Cô Ngân"),
                        unit_comments=nfd("Nhất trí, không ý kiến khác."))
    data = ha_lang_minutes(parts=(part,),
                           summary=nfd("Kiểm tra công tác cải cách hành chính tại xã Cô Ngân"))
    assert nfd("xã Cô Ngân") != "xã Cô Ngân"
    text = pdftotext(render_minutes(data))
    assert "Kiểm tra công tác cải cách hành chính tại xã Cô Ngân" in text
    assert "Nhất trí, không ý kiến khác." in text
    assert "Đoàn kiểm tra đề nghị UBND xã Cô Ngân:" in text
    assert unicodedata.normalize("NFC", text) == text


def test_a_trip_document_has_one_part_per_unit_and_one_field_per_representative():
    parts = (ha_lang_part(1), ha_lang_part(2, unit_name="UBND xã Cô Ngân", photos=()),
             ha_lang_part(3, unit_name="UBND xã Vinh Quý", photos=()))
    parts = tuple(replace(p,
                          signature=replace(p.signature,
                                            heading=(f"ĐẠI DIỆN {p.unit_name.upper()}",)))
                  for p in parts)
    pdf = render_minutes(ha_lang_minutes(parts=parts, summary="Kiểm tra công tác cải cách hành "
                                         "chính năm 2021 tại huyện Hạ Lang"))
    words = flat(pdftotext(pdf))
    for expected in ["THÀNH PHẦN ĐOÀN KIỂM TRA", "PHẦN 1. UBND HUYỆN HẠ LANG",
                     "PHẦN 2. UBND XÃ CÔ NGÂN", "PHẦN 3. UBND XÃ VINH QUÝ",
                     "Đoàn kiểm tra đề nghị UBND xã Vinh Quý:", "ĐẠI DIỆN UBND XÃ CÔ NGÂN"]:
        assert expected in words, expected
    assert words.count("V. Ý KIẾN CỦA ĐƠN VỊ ĐƯỢC KIỂM TRA") == 3
    assert sig_fields(pdf) == {"SigUnit1": False, "SigLeader": False, "SigUnit2": False,
                               "SigUnit3": False}


def test_unreadable_photos_and_empty_parts_do_not_break_the_document(tmp_path):
    broken = PhotoItem(caption="Ảnh hỏng", data=b"\xff\xd8 not really a jpeg")
    missing = PhotoItem(caption="Ảnh không còn tệp", path=str(tmp_path / "none.jpg"))
    on_disk = tmp_path / "ok.jpg"
    on_disk.write_bytes(jpeg(300, 400))
    from_path = PhotoItem(caption="Ảnh từ tệp", path=str(on_disk),
                          captured_at=datetime(2021, 10, 1, 3, 0, tzinfo=UTC))  # 10:00 in Vietnam
    part = UnitPart(unit_name="UBND xã Vinh Quý", time_place="Vào hồi … giờ …",
                    sections=(SectionResult("TD", "Tác động", skipped=True,
                                            counts=(CountRow("TD.01", "Số người", None, "người"),
                                                    )),),
                    photos=(broken, missing, from_path))
    pdf = render_minutes(ha_lang_minutes(parts=(part,), leader_signature=None, qr_url="",
                                         legal_basis=(), team=(), closing=""))
    words = flat(pdftotext(pdf))
    assert words.count("(Không đọc được tệp ảnh)") == 2
    assert "Ảnh từ tệp" in words and "Chụp lúc: 01/10/2021 10:00" in words
    assert "1. Tác động (không đánh giá)" in words and "chưa nhập" in words
    assert "1. Báo cáo kết quả khắc phục về Sở Nội vụ trước ngày …/…/…." in words
    with pytest.raises(ValueError):
        render_minutes(ha_lang_minutes(parts=()))
