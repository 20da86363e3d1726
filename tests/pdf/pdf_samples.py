"""Minutes data for the pure render and signing tests: Hạ Lang district on 1/10/2021 with the
published figures, built without a database (checklist JSON + scoring + the pure helpers)."""
from __future__ import annotations

import io
import subprocess
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

from PIL import Image

from inspection.checklists import load_default
from inspection.checklists.scoring import evaluate
from inspection.pdf.data import (
    LEADER_FIELD,
    MinutesData,
    Person,
    PhotoItem,
    RecommendationItem,
    SignatureBlock,
    UnitPart,
    unit_field,
)
from inspection.services.demo import HA_LANG_FIGURES
from inspection.services.minutes_data import (
    chart_from_evaluation,
    score_from_evaluation,
    sections_from_evaluation,
)

VN = timezone(timedelta(hours=7))


def pdftotext(pdf: bytes, *args: str) -> str:
    """Text of the PDF as `pdftotext -layout` gives it."""
    result = subprocess.run(["pdftotext", "-layout", *args, "-", "-"], input=pdf,
                            capture_output=True, check=True)
    return result.stdout.decode("utf-8")


def flat(text: str) -> str:
    """Whitespace collapsed, so sentences wrapped across lines can be searched."""
    return " ".join(text.split())


RECOMMENDATIONS = (
    RecommendationItem("Chấn chỉnh tình trạng giải quyết hồ sơ quá hạn, nâng tỷ lệ hồ sơ giải "
                       "quyết đúng hạn đạt mục tiêu của tỉnh", date(2021, 12, 31)),
    RecommendationItem("Thực hiện nghiêm việc gửi Phiếu xin lỗi và hẹn lại ngày trả kết quả đối "
                       "với hồ sơ quá hạn", date(2021, 11, 30)),
    RecommendationItem("Cụ thể hóa nội dung, đa dạng hóa hình thức tuyên truyền cải cách hành "
                       "chính"),
)


def jpeg(width: int = 400, height: int = 300, color=(40, 110, 160)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "JPEG", quality=80)
    return out.getvalue()


def ha_lang_part(index: int = 1, photos: tuple[PhotoItem, ...] = (), **overrides) -> UnitPart:
    template = load_default("cchc-huyen")
    observations = {code: {"value": value} for code, value in HA_LANG_FIGURES.items()}
    observations["CQS.01"] = {"result": "pass"}
    observations["CQS.02"] = {"text": "TCVN ISO 9001:2015"}
    observations["CDDH.01"] = {"result": "pass"}
    observations["CDDH.06"] = {"result": "partial", "note": "Nội dung tuyên truyền còn chung chung"}
    observations["TTHC.35"] = {"result": "fail"}
    evaluation = evaluate(template, observations)
    part = UnitPart(
        unit_name="UBND huyện Hạ Lang",
        time_place=("Hôm nay, vào hồi 08 giờ 00 ngày 01 tháng 10 năm 2021, tại trụ sở UBND huyện "
                    "Hạ Lang, Đoàn kiểm tra công tác cải cách hành chính tỉnh Cao Bằng tiến hành "
                    "kiểm tra công tác cải cách hành chính năm 2021 tại "
                    "UBND huyện Hạ Lang như sau:"),
        representatives=(Person("Hoàng Văn Bình", "Phó Chủ tịch UBND huyện Hạ Lang"),
                         Person("La Thị Cúc", "Chánh Văn phòng HĐND và UBND huyện")),
        sections=sections_from_evaluation(template, observations, evaluation),
        score=score_from_evaluation(evaluation),
        chart=chart_from_evaluation(evaluation),
        strengths=("Tiếp nhận 1.081 hồ sơ, trong đó 434 hồ sơ trực tuyến.",
                   "Duy trì Hệ thống quản lý chất lượng theo TCVN ISO 9001:2015."),
        weaknesses=("Tỷ lệ hồ sơ giải quyết đúng hạn chưa đạt mục tiêu của tỉnh.",),
        recommendations=RECOMMENDATIONS,
        report_due=date(2021, 12, 31),
        unit_comments="UBND huyện Hạ Lang nhất trí với nội dung biên bản.",
        photos=photos,
        signature=SignatureBlock(("ĐẠI DIỆN ĐƠN VỊ ĐƯỢC KIỂM TRA", "PHÓ CHỦ TỊCH UBND HUYỆN"),
                                 "Hoàng Văn Bình", unit_field(index)),
    )
    return replace(part, **overrides)


def sample_photos(count: int = 3) -> tuple[PhotoItem, ...]:
    return tuple(PhotoItem(caption=f"Bộ phận Một cửa huyện Hạ Lang, ảnh {n + 1}", data=jpeg(),
                           captured_at=datetime(2021, 10, 1, 9, 15 + n, tzinfo=VN),
                           latitude=22.7061, longitude=106.6895, item_code="TTHC.42",
                           item_title="Bộ phận Một cửa bố trí đúng quy định",
                           place="trụ sở UBND huyện Hạ Lang", visit_date=date(2021, 10, 1))
                 for n in range(count))


def ha_lang_minutes(parts: tuple[UnitPart, ...] | None = None, **overrides) -> MinutesData:
    data = MinutesData(
        issuing_body=("UBND TỈNH CAO BẰNG", "ĐOÀN KIỂM TRA CCHC"),
        document_number="05/BB-ĐKT",
        place="Hạ Lang",
        date=date(2021, 10, 1),
        summary="Kiểm tra công tác cải cách hành chính năm 2021 tại UBND huyện Hạ Lang",
        parts=parts if parts is not None else (ha_lang_part(photos=sample_photos()),),
        team=(Person("Nguyễn Văn An", "Phó Giám đốc Sở Nội vụ", "Trưởng đoàn"),
              Person("Trần Thị Bình", "Chuyên viên Sở Nội vụ", "Thành viên"),
              Person("Lê Minh Cường", "Chuyên viên Văn phòng UBND tỉnh", "Thành viên")),
        legal_basis=("Căn cứ Kế hoạch số 3199/KH-UBND ngày 22/12/2020 của UBND tỉnh Cao Bằng về "
                     "cải cách hành chính nhà nước tỉnh Cao Bằng năm 2021;",),
        closing=("Buổi kiểm tra kết thúc vào hồi 11 giờ 30 cùng ngày. Biên bản đã được đọc lại "
                 "cho các thành phần tham dự cùng nghe và nhất trí thông qua. Biên bản được lập "
                 "thành 02 bản có giá trị như nhau, Đoàn kiểm tra giữ 01 bản, đơn vị được kiểm "
                 "tra giữ 01 bản."),
        leader_signature=SignatureBlock(("TRƯỞNG ĐOÀN KIỂM TRA",), "Nguyễn Văn An", LEADER_FIELD),
        qr_url="https://cchc.example.vn/minutes/verify?inspection=1&revision=1",
        revision=1,
    )
    return replace(data, **overrides)
