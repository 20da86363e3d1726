"""Assembling the minutes from the database (demo data: Hạ Lang 1/10/2021)."""
from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time

from pdf_samples import flat, jpeg, pdftotext

from inspection.extensions import db
from inspection.models import Finding, Inspection, Photo, Recommendation, Trip
from inspection.pdf import LEADER_FIELD, render_minutes, unit_field
from inspection.services.minutes_data import minutes_data_for_inspection, minutes_data_for_trip


def inspection_of(code: str) -> Inspection:
    return next(i for i in db.session.query(Inspection) if i.unit.code == code)


def test_district_minutes_carry_the_published_figures(demo):
    ha_lang = inspection_of("048")
    data = minutes_data_for_inspection(ha_lang, "https://cchc.example.vn/",
                                       document_number="05/BB-ĐKT",
                                       revision=2, start_time=time(8, 0), end_time=time(11, 30))
    assert data.issuing_body == ("UBND TỈNH CAO BẰNG", "ĐOÀN KIỂM TRA CCHC")
    assert data.document_number == "05/BB-ĐKT"
    assert (data.place, data.date) == ("Hạ Lang", date(2021, 10, 1))
    assert data.summary == "Kiểm tra công tác cải cách hành chính năm 2021 tại UBND huyện Hạ Lang"
    assert data.legal_basis[0] == ("Căn cứ Kế hoạch số 3199/KH-UBND ngày 22/12/2020 của UBND tỉnh "
                                   "Cao Bằng về cải cách hành chính nhà nước tỉnh Cao Bằng "
                                   "năm 2021;")
    assert data.legal_basis[1] == ("Căn cứ Quyết định số 1520/QĐ-UBND ngày 24/09/2021 về việc "
                                   "thành lập Đoàn kiểm tra công tác CCHC năm 2021 của UBND "
                                   "tỉnh Cao Bằng;")
    assert [(p.name, p.position, p.role) for p in data.team] == [
        ("Nguyễn Văn An", "Phó Giám đốc Sở Nội vụ", "Trưởng đoàn"),
        ("Trần Thị Bình", "Chuyên viên Sở Nội vụ", "Thành viên"),
        ("Lê Minh Cường", "Chuyên viên Văn phòng UBND tỉnh", "Thành viên")]
    assert data.leader_signature.name == "Nguyễn Văn An"
    assert data.leader_signature.field_name == LEADER_FIELD
    assert data.qr_url == f"https://cchc.example.vn/minutes/verify?inspection={ha_lang.id}&revision=2"
    assert data.closing.startswith("Buổi kiểm tra kết thúc vào hồi 11 giờ 30 cùng ngày.")

    (part,) = data.parts
    assert part.unit_name == "UBND huyện Hạ Lang"
    assert part.time_place.startswith("Hôm nay, vào hồi 08 giờ 00 ngày 01 tháng 10 năm 2021, "
                                      "tại trụ sở UBND huyện Hạ Lang")
    assert part.representatives == ()  # no account represents the district in the demo
    assert part.signature.field_name == unit_field(1) and part.signature.name == ""
    sections = {s.code: s for s in part.sections}
    counts = {c.code: (c.value, c.unit) for s in part.sections for c in s.counts}
    assert counts["TTHC.20"] == (1081, "hồ sơ") and counts["TTHC.25"] == (1068, "hồ sơ")
    assert counts["TTHC.26"] == (924, "hồ sơ") and counts["CQS.04"] == (3432, "văn bản")
    rates = {r.code: r for s in part.sections for r in s.rates}
    assert (rates["TTHC.32"].value, rates["TTHC.32"].target,
            rates["TTHC.32"].met) == (86.5, 98, False)
    assert (rates["CQS.05"].value, rates["CQS.05"].met) == (95.3, True)
    assert rates["TTHC.33"].value == 40.1 and rates["TTHC.33"].met is None
    assert "CDDH.04" not in rates  # its counts are not entered: out of the score too
    assert {c.code: c.result for c in sections["CQS"].criteria}["CQS.01"] == "Đạt"
    assert "TC.02" in sections["TC"].unassessed  # summed up in one line, not a row
    assert "TC.02" not in {c.code for c in sections["TC"].criteria}
    assert "Phiên bản tiêu chuẩn áp dụng: TCVN ISO 9001:2015" in sections["CQS"].notes
    assert sections["TD"].skipped and not sections["TD"].criteria
    assert [b.label for b in part.chart] == ["CDDH", "TC", "TTHC", "TCBM", "CV", "TCC", "CQS"]
    # In progress with criteria not assessed: no class yet, and the remark says how many.
    assert part.score.max_points and part.score.class_label == ""
    assert part.assessment_remark.startswith("Ghi chú: đã đánh giá ")
    assert "Trưởng đoàn duyệt" not in part.assessment_remark  # not approved: no reason

    words = flat(pdftotext(render_minutes(data)))
    for expected in ["Kiểm tra công tác cải cách hành chính năm 2021 tại UBND huyện Hạ Lang",
                     "1.081 hồ sơ", "1.068 hồ sơ", "924 hồ sơ", "86,5% (924/1.068)",
                     "95,3% (3.432/3.601)", "Số: 05/BB-ĐKT", "Hạ Lang, ngày 01 tháng 10 năm 2021"]:
        assert expected in words, expected


def test_findings_recommendations_comments_and_photos_come_from_the_database(demo):
    co_ngan = inspection_of("01567")
    db.session.add_all([
        Finding(inspection_id=co_ngan.id, kind="strength", text="Bộ phận Một cửa bố trí khoa học.",
                position=1),
        Finding(inspection_id=co_ngan.id, kind="weakness", text="Chưa số hóa hồ sơ.", position=1),
        Recommendation(inspection_id=co_ngan.id, unit_id=co_ngan.unit_id, position=2,
                       text="Thực hiện số hóa hồ sơ, kết quả giải quyết TTHC.",
                       due_on=date(2021, 12, 15)),
        Recommendation(inspection_id=co_ngan.id, unit_id=co_ngan.unit_id, position=1,
                       text="Niêm yết đầy đủ TTHC.", due_on=date(2021, 11, 30)),
        Photo(client_uuid=uuid.uuid4(), inspection_id=co_ngan.id, item_code="TTHC.42",
              sha256="a" * 64, size=1000, width=400, height=300, content_type="image/jpeg",
              captured_at=datetime(2021, 10, 1, 2, 30, tzinfo=UTC), latitude=22.71, longitude=106.7,
              caption="Bộ phận Một cửa xã Cô Ngân"),
    ])
    co_ngan.unit_comments = "Xã Cô Ngân nhất trí với nội dung biên bản."
    db.session.commit()
    asked = []

    def photo_bytes(photo):
        asked.append(photo.sha256)
        return jpeg()

    data = minutes_data_for_inspection(co_ngan, "", photo_bytes=photo_bytes)
    assert not db.session.new and not db.session.dirty  # read-only
    (part,) = data.parts
    assert part.unit_name == "UBND xã Cô Ngân"
    assert [(p.name, p.position) for p in part.representatives] == [  # written on the form
        ("Nông Văn Én", "Chủ tịch UBND xã Cô Ngân"),
        ("Lương Thị Hoa", "Công chức Văn phòng - Thống kê xã")]
    assert part.signature.heading == ("ĐẠI DIỆN ĐƠN VỊ ĐƯỢC KIỂM TRA", "CHỦ TỊCH UBND XÃ CÔ NGÂN")
    assert part.signature.name == "Nông Văn Én"
    assert part.strengths == ("Bộ phận Một cửa bố trí khoa học.",)
    assert part.weaknesses == ("Chưa số hóa hồ sơ.",)
    assert [r.text for r in part.recommendations] == ["Niêm yết đầy đủ TTHC.",
                                                      "Thực hiện số hóa hồ sơ, kết quả giải quyết "
                                                      "TTHC."]
    assert part.report_due == date(2021, 12, 15)
    assert part.unit_comments == "Xã Cô Ngân nhất trí với nội dung biên bản."
    assert asked == ["a" * 64] and part.photos[0].data and part.photos[0].caption
    assert data.qr_url == ""
    assert data.document_number == "…/BB-ĐKT"
    assert "vào hồi … giờ …" in part.time_place

    words = flat(pdftotext(render_minutes(data)))
    for expected in ["Kiểm tra công tác cải cách hành chính năm 2021 tại UBND xã Cô Ngân",
                     "2. Thực hiện số hóa hồ sơ, kết quả giải quyết TTHC (thời hạn: 15/12/2021);",
                     "3. Báo cáo kết quả khắc phục về Sở Nội vụ trước ngày 15/12/2021.",
                     "Xã Cô Ngân nhất trí với nội dung biên bản.", "Nông Văn Én",
                     "Nơi chụp: trụ sở UBND xã Cô Ngân (22,71000° B, 106,70000° Đ) "
                     "Chụp lúc: 01/10/2021 09:30",
                     "Số: …/BB-ĐKT"]:
        assert expected in words, expected


def test_trip_minutes_have_one_part_per_unit_district_first(demo):
    trip = db.session.query(Trip).one()
    data = minutes_data_for_trip(trip, "https://cchc.example.vn", document_number="06/BB-ĐKT")
    assert data.is_trip
    assert [p.unit_name for p in data.parts] == ["UBND huyện Hạ Lang", "UBND xã Cô Ngân",
                                                 "UBND xã Vinh Quý"]
    assert data.summary == ("Kiểm tra công tác cải cách hành chính năm 2021 "
                            "tại UBND huyện Hạ Lang, "
                            "UBND xã Cô Ngân và UBND xã Vinh Quý")
    assert [p.signature.field_name for p in data.parts] == ["SigUnit1", "SigUnit2", "SigUnit3"]
    assert data.parts[1].signature.heading == ("ĐẠI DIỆN UBND XÃ CÔ NGÂN",)
    assert data.parts[1].signature.name == "Nông Văn Én"
    assert "04 bản" in data.closing and "mỗi đơn vị được kiểm tra giữ 01 bản" in data.closing
    assert data.qr_url == f"https://cchc.example.vn/minutes/verify?trip={trip.id}"
    # Every yes/no item passed in the demo, but its ratios were never measured: they count as
    # 0, not as out of the maximum (the reported 63/63 = 100 %).
    assert (data.parts[1].score.points, data.parts[1].score.max_points) == (63, 100)
    assert data.parts[1].score.class_label.startswith("D")  # approval confirmed the rest
    assert "lý do: Xã chưa cung cấp số liệu" in data.parts[1].assessment_remark

    words = flat(pdftotext(render_minutes(data)))
    for expected in ["PHẦN 1. UBND HUYỆN HẠ LANG", "PHẦN 2. UBND XÃ CÔ NGÂN",
                     "PHẦN 3. UBND XÃ VINH QUÝ", "1.081 hồ sơ", "ĐẠI DIỆN UBND XÃ VINH QUÝ"]:
        assert expected in words, expected
    only = minutes_data_for_trip(trip, "", inspections=[inspection_of("01561")])
    assert [p.unit_name for p in only.parts] == ["UBND xã Vinh Quý"]


def test_photos_are_read_from_the_media_store_when_no_reader_is_given(demo):
    from inspection.services import storage

    vinh_quy = inspection_of("01561")
    digest = storage.put_bytes(jpeg(640, 480))
    db.session.add_all([
        Photo(client_uuid=uuid.uuid4(), inspection_id=vinh_quy.id, sha256=digest, size=1,
              width=640, height=480, content_type="image/jpeg", caption="Ảnh trong kho"),
        Photo(client_uuid=uuid.uuid4(), inspection_id=vinh_quy.id, sha256="b" * 64, size=1,
              width=640, height=480, content_type="image/jpeg", caption="Ảnh đã mất tệp"),
    ])
    db.session.commit()
    (part,) = minutes_data_for_inspection(vinh_quy, "").parts
    stored, lost = part.photos
    assert stored.path == str(storage.path_for(digest)) and stored.data is None
    words = flat(pdftotext(render_minutes(minutes_data_for_inspection(vinh_quy, ""))))
    assert "Ảnh trong kho" in words and "Ảnh đã mất tệp" in words
    assert words.count("(Không đọc được tệp ảnh)") == 1  # only the photo whose file is gone
    assert lost.caption == "Ảnh đã mất tệp"


def test_minutes_list_only_the_team_members_present_when_recorded(demo):
    vinh_quy = inspection_of("01561")
    whole = minutes_data_for_inspection(vinh_quy, "")
    assert [p.name for p in whole.team] == ["Nguyễn Văn An", "Trần Thị Bình", "Lê Minh Cường"]
    leader = vinh_quy.trip.leader
    vinh_quy.set_closing("team_present", [leader.id], f"{leader.id}:tablet")
    data = minutes_data_for_inspection(vinh_quy, "")
    assert [(p.name, p.role) for p in data.team] == [("Nguyễn Văn An", "Trưởng đoàn")]
    words = flat(pdftotext(render_minutes(data)))
    assert "Nguyễn Văn An" in words and "Trần Thị Bình" not in words
    # The trip's minutes: those present at any of its meetings, once every meeting recorded it.
    assert len(minutes_data_for_trip(vinh_quy.trip, "").team) == 3
    for inspection in vinh_quy.trip.inspections:
        inspection.team_present = [leader.id]
    assert [p.name for p in minutes_data_for_trip(vinh_quy.trip, "").team] == ["Nguyễn Văn An"]
