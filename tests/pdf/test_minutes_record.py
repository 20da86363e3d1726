"""What the minutes record (issue 14), read back with pdftotext from documents built out of the
demo data: the team's decision with number and date, the team's secretary and the unit's
officials present, one reporting deadline, answers without the guidance, unassessed criteria in
one line per area, the photo appendix and the recipients block."""
from __future__ import annotations

import subprocess
import uuid
from datetime import UTC, date, datetime

from pdf_samples import flat, jpeg, pdftotext

from inspection.extensions import db
from inspection.models import Inspection, Photo, Recommendation, TripMember, TripRole, User
from inspection.pdf import render_minutes
from inspection.services.minutes_data import (
    answer_label,
    decision_basis,
    minutes_data_for_inspection,
)

LIBRARY_REPORT = ("Khắc phục dứt điểm các tồn tại, hạn chế đã được chỉ ra; báo cáo kết quả khắc "
                  "phục về Sở Nội vụ trước ngày .../.../....")


def inspection_of(code: str) -> Inspection:
    return next(i for i in db.session.query(Inspection) if i.unit.code == code)


def words_of(inspection: Inspection, *, raw: bool = False, **options) -> str:
    """The minutes' words on one line; `raw` keeps the drawing order (the photos' cells one
    after the other, where the layout mode interleaves two cells side by side)."""
    pdf = render_minutes(minutes_data_for_inspection(inspection, "",
                                                     photo_bytes=lambda photo: jpeg(),
                                                     **options))
    if raw:
        return flat(subprocess.run(["pdftotext", "-raw", "-", "-"], input=pdf, capture_output=True,
                                   check=True).stdout.decode("utf-8"))
    return flat(pdftotext(pdf))


def test_the_decision_forming_the_team_is_cited_with_its_number_and_date(demo):
    words = words_of(inspection_of("048"))
    assert ("Căn cứ Quyết định số 1520/QĐ-UBND ngày 24/09/2021 về việc thành lập Đoàn kiểm tra "
            "công tác CCHC năm 2021 của UBND tỉnh Cao Bằng;") in words
    assert decision_basis("", "", None) == ""
    assert decision_basis("", "12/QĐ-SNV", date(2021, 9, 1)) == (
        "Căn cứ Quyết định số 12/QĐ-SNV ngày 01/09/2021 về việc thành lập Đoàn kiểm tra;")
    assert decision_basis("Quyết định số 12/QĐ-SNV của Sở Nội vụ", "12/QĐ-SNV", None) == (
        "Căn cứ Quyết định số 12/QĐ-SNV của Sở Nội vụ;")  # the number is not printed twice


def test_the_secretary_and_the_officials_present_are_named_in_section_one(demo):
    trip = inspection_of("048").trip
    secretary = db.session.query(User).filter_by(username="inspector3").one()
    trip.members.append(TripMember(user=secretary, role=TripRole.secretary))
    district = inspection_of("048")
    district.unit_officials = [{"name": "Hoàng Văn Bình", "position": "Phó Chủ tịch UBND huyện"},
                               {"name": "Nông Thị Mai", "position": ""}]
    db.session.commit()
    words = words_of(district)
    assert "Hoàng Thị Dung, Chuyên viên Sở Tư pháp – Thư ký;" in words
    assert ("2. Đại diện đơn vị được kiểm tra (UBND huyện Hạ Lang): - Hoàng Văn Bình, Phó Chủ "
            "tịch UBND huyện; - Nông Thị Mai; II.") in words
    # With no account for the district, the first official present signs for it.
    signature = minutes_data_for_inspection(district, "").parts[0].signature
    assert signature.heading == ("ĐẠI DIỆN ĐƠN VỊ ĐƯỢC KIỂM TRA", "PHÓ CHỦ TỊCH UBND HUYỆN")
    assert signature.name == "Hoàng Văn Bình"

    district.unit_officials = []
    db.session.commit()
    blank = words_of(district)
    assert "2. Đại diện đơn vị được kiểm tra (UBND huyện Hạ Lang): - ……" in blank  # dots to fill


def test_one_reporting_deadline_fills_the_library_text_and_no_second_item(demo):
    co_ngan = inspection_of("01567")
    db.session.add_all([
        Recommendation(inspection_id=co_ngan.id, unit_id=co_ngan.unit_id, position=1,
                       text="Niêm yết đầy đủ TTHC.", due_on=date(2022, 3, 31)),
        Recommendation(inspection_id=co_ngan.id, unit_id=co_ngan.unit_id, position=2,
                       text=LIBRARY_REPORT),
    ])
    co_ngan.report_due = date(2021, 12, 15)
    db.session.commit()
    words = words_of(co_ngan)
    assert ("2. Khắc phục dứt điểm các tồn tại, hạn chế đã được chỉ ra; báo cáo kết quả khắc phục "
            "về Sở Nội vụ trước ngày 15/12/2021.") in words  # the last item
    assert words.count("Báo cáo kết quả khắc phục") + words.count("báo cáo kết quả khắc phục") == 1
    assert "3. Báo cáo" not in words and ".../.../" not in words and "31/03/2022." not in words

    co_ngan.report_due = None  # not set: the trip's, then the latest due date
    co_ngan.trip.report_due = date(2022, 1, 10)
    db.session.commit()
    assert "về Sở Nội vụ trước ngày 10/01/2022." in words_of(co_ngan)


def test_a_reporting_item_is_added_once_when_no_recommendation_asks_for_it(demo):
    co_ngan = inspection_of("01567")
    db.session.add(Recommendation(inspection_id=co_ngan.id, unit_id=co_ngan.unit_id, position=1,
                                  text="Niêm yết đầy đủ TTHC."))
    co_ngan.report_due = date(2021, 11, 30)
    db.session.commit()
    words = words_of(co_ngan)
    assert "2. Báo cáo kết quả khắc phục về Sở Nội vụ trước ngày 30/11/2021." in words
    assert words.count("trước ngày") == 1


def test_answers_are_printed_without_the_guidance_meant_for_the_inspector(demo):
    words = words_of(inspection_of("048"))
    assert "Phiên bản tiêu chuẩn áp dụng: TCVN ISO 9001:2015" in words
    assert "ví dụ TCVN" not in words
    assert answer_label("Số hồ sơ (vd. hồ sơ đất đai) tồn đọng") == "Số hồ sơ tồn đọng"
    assert answer_label("Tổng số cán bộ (và viên chức nếu có)") == \
        "Tổng số cán bộ (và viên chức nếu có)"


def test_unassessed_criteria_are_one_line_per_area_unless_listed(demo):
    district = inspection_of("048")
    template = district.checklist_version.document
    tc_codes = [i["code"] for s in template["sections"] if s["code"] == "TC" for i in s["items"]
                if i["kind"] in ("yesno", "score")]
    td_codes = [i["code"] for s in template["sections"] if s["code"] == "TD" for i in s["items"]
                if i["kind"] in ("yesno", "score")]
    words = words_of(district)
    assert f"- Chưa đánh giá {len(tc_codes)} tiêu chí: {', '.join(tc_codes)}." in words
    assert "Chưa đánh giá –/" not in words  # no row per unanswered criterion
    assert "(không đánh giá)" in words
    assert f"- Lĩnh vực không đánh giá trong đợt kiểm tra ({len(td_codes)} tiêu chí)." in words
    assert not any(f"{code} " in words for code in td_codes)  # the area lists none of them

    listed = words_of(district, list_unassessed=True)  # the MINUTES_LIST_UNASSESSED setting
    assert listed.count("Chưa đánh giá –/") >= len(tc_codes)
    assert "- Chưa đánh giá" not in listed
    assert f"- Lĩnh vực không đánh giá trong đợt kiểm tra ({len(td_codes)} tiêu chí)." in listed


def test_ratios_without_their_counts_are_named_in_their_area_as_not_assessed(demo):
    # Cô Ngân never entered the counts of CV.04 (a rate of the civil service area): it is not
    # assessed, so its area says so, not only the remark under the overall result.
    co_ngan = inspection_of("01567")
    cv = flat(words_of(co_ngan).split("6. Cải cách tài chính công")[0].split("5. Cải cách")[-1])
    assert "- Chưa đánh giá 1 tiêu chí: CV.04." in cv
    listed = words_of(co_ngan, list_unassessed=True)
    assert "CV.04" in listed and "chưa đủ số liệu" in listed


def test_the_photo_appendix_names_the_item_caption_place_and_flags_another_day(demo):
    co_ngan = inspection_of("01567")
    db.session.add_all([
        Photo(client_uuid=uuid.uuid4(), inspection_id=co_ngan.id, item_code="TTHC.42",
              sha256="a" * 64, size=1000, width=400, height=300, content_type="image/jpeg",
              captured_at=datetime(2021, 10, 1, 2, 30, tzinfo=UTC), caption="Quầy tiếp nhận"),
        # 30/9 at 23:10 in Vietnam is 16:10 UTC: the day before the visit
        Photo(client_uuid=uuid.uuid4(), inspection_id=co_ngan.id, item_code="TTHC.42",
              sha256="b" * 64, size=1000, width=400, height=300, content_type="image/jpeg",
              captured_at=datetime(2021, 9, 30, 16, 10, tzinfo=UTC), latitude=22.71,
              longitude=106.7, caption="Ảnh cũ"),
    ])
    db.session.commit()
    title = next(i["title_vi"] for s in co_ngan.checklist_version.document["sections"]
                 for i in s["items"] if i["code"] == "TTHC.42")
    words = words_of(co_ngan, raw=True)
    appendix = words[words.index("PHỤ LỤC: ẢNH MINH CHỨNG"):]
    assert f"TTHC.42 – {title}" in appendix
    assert "Quầy tiếp nhận" in appendix and "Ảnh cũ" in appendix
    assert "Nơi chụp: trụ sở UBND xã Cô Ngân (22,71000° B, 106,70000° Đ)" in appendix
    assert "Nơi chụp: trụ sở UBND xã Cô Ngân Chụp lúc: 01/10/2021 09:30" in appendix
    assert "Chụp lúc: 30/09/2021 23:10 Lưu ý: ảnh chụp ngày khác ngày kiểm tra (01/10/2021)." \
        in appendix
    assert appendix.count("Lưu ý: ảnh chụp ngày khác ngày kiểm tra") == 1  # not the same-day one


def test_the_recipients_block_is_printed_only_when_written(demo):
    co_ngan = inspection_of("01567")  # the demo wrote its recipients on the minutes form
    words = words_of(co_ngan)
    assert "Nơi nhận: - Như trên; - UBND huyện Hạ Lang; - Lưu: VT, Đoàn kiểm tra." in words
    assert "Nơi nhận" not in words_of(inspection_of("01561"))
