"""Everything printed in the inspection minutes (biên bản kiểm tra), as plain frozen data.

`inspection.services.minutes_data` fills these from the database; `inspection.pdf.minutes`
turns them into PDF bytes. Nothing here knows about the ORM or Flask, so the renderer can be
tested, benchmarked and run anywhere.

Text is given as the people wrote it: the renderer normalises it to NFC, drops control
characters and escapes markup, so `<b>` in a note is printed as `<b>`.

One document can cover one inspected unit or a whole trip (a district and its communes): a
`MinutesData` has one `UnitPart` per inspected unit. With one part the layout is the classic
Mẫu 1.9 (I. Thành phần … V. Ý kiến của đơn vị); with several, the team is listed once and each
unit gets its own part ("PHẦN 1. UBND HUYỆN HẠ LANG" …) with sections I–V.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

# Field names of the signature fields the renderer prepares in the signature blocks; the
# signing service fills them (leader first, then the unit representatives).
LEADER_FIELD = "SigLeader"


def unit_field(index: int = 1) -> str:
    """Name of the signature field of the representative of the index-th unit (from 1)."""
    return f"SigUnit{index}"


@dataclass(frozen=True)
class Person:
    """A team member or unit representative: "Nguyễn Văn An, Phó Giám đốc Sở Nội vụ – Trưởng
    đoàn"."""

    name: str
    position: str = ""  # chức vụ, e.g. "Phó Giám đốc Sở Nội vụ"
    role: str = ""  # role in the team, e.g. "Trưởng đoàn", "Thành viên", "Thư ký"


@dataclass(frozen=True)
class CriterionRow:
    """One criterion with the team's result. `result` is printed as given ("Đạt", "Không đạt")."""

    code: str
    title: str
    result: str = ""
    points: float | None = None
    max_points: float | None = None
    note: str = ""


@dataclass(frozen=True)
class CountRow:
    """A count (số liệu) with its unit of measure: "Tổng số hồ sơ tiếp nhận … 1.081 hồ sơ"."""

    code: str
    title: str
    value: float | None  # None: not entered
    unit: str = ""
    note: str = ""


@dataclass(frozen=True)
class RateRow:
    """A rate derived from counts, with its target and whether it is met.

    `value` is a percentage (86.5 for 86,5 %); `met` is None when there is no target or no value;
    `status` tells why there is no value: "missing" (counts not entered), "no_cases"
    (denominator 0, "không phát sinh"), "na" (not applicable).
    """

    code: str
    title: str
    value: float | None
    numerator: float | None = None
    denominator: float | None = None
    target: float | None = None
    met: bool | None = None
    status: str = "computed"


@dataclass(frozen=True)
class SampleTable:
    """The samples of one repeat group, printed as a table: "Hồ sơ kiểm tra xác suất" with a
    column per field ("Mã hồ sơ", "Ngày tiếp nhận" …) and a row per sample, the values already
    written as people read them ("05/08/2025", "Có")."""

    code: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...] = ()
    minimum: int = 0
    maximum: int = 0
    kinds: tuple[str, ...] = ()  # each column's field kind: a text column is printed wider


@dataclass(frozen=True)
class SectionResult:
    """One numbered subsection of part II: a checklist section with its points."""

    code: str
    title: str
    points: float | None = None
    max_points: float | None = None
    criteria: tuple[CriterionRow, ...] = ()
    counts: tuple[CountRow, ...] = ()
    rates: tuple[RateRow, ...] = ()
    notes: tuple[str, ...] = ()  # free-text observations of the team for this section
    skipped: bool = False  # optional section not assessed (e.g. no citizen survey held)
    # Codes of the criteria without a result that are not rows of `criteria`: printed as one
    # line ("Chưa đánh giá 3 tiêu chí: TC.02, TC.03, TC.05.").
    unassessed: tuple[str, ...] = ()
    # The section's condition is false for this unit: printed as not applicable, no rows.
    not_applicable: bool = False
    samples: tuple[SampleTable, ...] = ()  # the repeat groups of the section that apply


@dataclass(frozen=True)
class ScoreSummary:
    """The overall result: "đạt 72,5/94 điểm (77,1%), xếp loại C – Trung bình"."""

    points: float | None
    max_points: float | None
    percent: float | None = None
    class_label: str = ""  # e.g. "C – Trung bình"


@dataclass(frozen=True)
class ChartBar:
    """One section in the score chart: points against the maximum."""

    label: str  # short label under the bar, e.g. the section code "TTHC"
    points: float
    max_points: float


@dataclass(frozen=True)
class RecommendationItem:
    """A numbered recommendation (kiến nghị) with its due date."""

    text: str
    due_on: date | None = None


@dataclass(frozen=True)
class PhotoItem:
    """An evidence photo for the appendix: the JPEG/PNG bytes, or a path to the file."""

    caption: str = ""
    data: bytes | None = None
    path: str | None = None
    # a moment (naive = UTC, as stored); printed in Vietnam time
    captured_at: datetime | None = None
    latitude: float | None = None
    longitude: float | None = None
    item_code: str = ""
    item_title: str = ""  # the checklist item the photo documents
    place: str = ""  # where it was taken: "trụ sở UBND xã Cô Ngân"
    visit_date: date | None = None  # the day of the visit: a photo taken another day is flagged


@dataclass(frozen=True)
class SelfAssessmentRow:
    """A criterion whose appraisal differs from the unit's self-assessment."""

    code: str
    title: str
    claimed: str  # "Đạt", "12", …
    appraised: str
    claimed_points: float | None = None
    appraised_points: float | None = None


@dataclass(frozen=True)
class SelfAssessmentSummary:
    """The unit's submitted self-assessment against the appraisal: both totals and the
    criteria that differ (printed after the overall result)."""

    self_points: float
    self_max: float
    self_percent: float | None
    appraised_points: float
    appraised_max: float
    appraised_percent: float | None
    rows: tuple[SelfAssessmentRow, ...] = ()


@dataclass(frozen=True)
class SignatureBlock:
    """One signature block: heading lines in bold capitals, space for the stamp, then the name.

    `field_name` is the PDF signature field prepared in the blank space, which the signing
    service fills (see LEADER_FIELD and unit_field()).
    """

    heading: tuple[str, ...]  # e.g. ("ĐẠI DIỆN ĐƠN VỊ ĐƯỢC KIỂM TRA", "CHỦ TỊCH UBND XÃ CÔ NGÂN")
    name: str = ""
    field_name: str = ""


@dataclass(frozen=True)
class UnitPart:
    """What the minutes say about one inspected unit (sections I.2 to V)."""

    unit_name: str  # as written in the text: "UBND huyện Hạ Lang"
    time_place: str  # "Hôm nay, vào hồi 08 giờ 00 ngày 01 tháng 10 năm 2021, tại …"
    representatives: tuple[Person, ...] = ()  # the unit's officials present (section I.2)
    sections: tuple[SectionResult, ...] = ()
    score: ScoreSummary | None = None
    chart: tuple[ChartBar, ...] = ()
    strengths: tuple[str, ...] = ()  # ưu điểm
    weaknesses: tuple[str, ...] = ()  # tồn tại, hạn chế
    recommendations: tuple[RecommendationItem, ...] = ()
    report_due: date | None = None  # "báo cáo kết quả khắc phục về Sở Nội vụ trước ngày …"
    report_to: str = "Sở Nội vụ"
    unit_comments: str = ""  # V. Ý kiến của đơn vị được kiểm tra
    # Printed under the overall result when not every criterion was assessed: how many were,
    # and the leader's reason for approving anyway (services.minutes_data.assessment_remark).
    assessment_remark: str = ""
    photos: tuple[PhotoItem, ...] = ()
    signature: SignatureBlock | None = None  # the unit representative's block
    self_assessment: SelfAssessmentSummary | None = None  # when the unit submitted one


@dataclass(frozen=True)
class MinutesData:
    """The whole document: header, title, legal basis, team, one part per unit, signatures."""

    issuing_body: tuple[str, ...]  # ("UBND TỈNH CAO BẰNG", "ĐOÀN KIỂM TRA CCHC"); last is bold
    document_number: str  # "05/BB-ĐKT"; printed as "Số: 05/BB-ĐKT"
    place: str  # "Hạ Lang"
    date: date  # printed "Hạ Lang, ngày 01 tháng 10 năm 2021"
    summary: str  # "Kiểm tra công tác cải cách hành chính năm 2021 tại UBND huyện Hạ Lang"
    parts: tuple[UnitPart, ...]
    team: tuple[Person, ...] = ()
    legal_basis: tuple[str, ...] = ()  # each "Căn cứ …;" line
    title: str = "BIÊN BẢN"
    closing: str = ""  # the closing sentence(s)
    leader_signature: SignatureBlock | None = None
    qr_url: str = ""  # the verification page; printed as a QR code with the address
    chart_title: str = "Biểu đồ điểm theo lĩnh vực"
    show_date_line: bool = True  # Mẫu 1.9 may put place and date in the body only
    revision: int | None = None  # printed beside the QR code when given
    issuing_body_bold_from: int = 1  # lines from this index on are bold
    recipients: tuple[str, ...] = ()  # "Nơi nhận:" block, one recipient a line (optional)

    @property
    def is_trip(self) -> bool:
        """Whether the document covers several units (one part each)."""
        return len(self.parts) > 1
