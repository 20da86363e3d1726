"""Demo data of issue 16: xã Vinh Quý's self-assessment, submitted before the 2021 visit with
a few evidence files; two criteria the unit claimed as not met that the team found met, and
the leader's request to explain one of them, answered with the decision the unit had missed."""
from __future__ import annotations

import io
import zipfile
from datetime import date, datetime

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from ..models import Inspection, User
from ..models.base import VIETNAM
from . import self_assessment
from .storage import get_storage

FONT = "LiberationSerif-Demo"
# Claimed as not met (with the unit's explanation); the team appraises them as met.
MODEST = {"CDDH.10": "Chưa có quyết định công nhận sáng kiến, mô hình mới.",
          "TC.03": "Chưa ban hành quyết định công bố kết quả rà soát năm 2021."}
ASKED = "CDDH.10"
QUESTION = ("Đoàn ghi nhận mô hình “Bộ phận Một cửa thân thiện” đang áp dụng; đề nghị đơn vị "
            "giải trình vì sao tự đánh giá không đạt và gửi văn bản công nhận (nếu có).")
ANSWER = ("Mô hình được Chủ tịch UBND huyện công nhận tại Quyết định số 1187/QĐ-UBND ngày "
          "29/9/2021, sau khi xã đã nộp tự đánh giá; xã gửi kèm Quyết định.")
SUBMITTED_AT = datetime(2021, 9, 27, 9, 30, tzinfo=VIETNAM)
# The explanation: asked on the afternoon of the visit, answered three days later.
ASKED_AT = datetime(2021, 10, 1, 15, 40, tzinfo=VIETNAM)
ANSWERED_AT = datetime(2021, 10, 4, 8, 15, tzinfo=VIETNAM)
DEADLINE = date(2021, 9, 28)


def _pdf(title: str, lines: list[str]) -> bytes:
    from ..pdf.minutes import FONT_DIR

    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, str(FONT_DIR / "LiberationSerif-Regular.ttf")))
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=A4, invariant=1)
    page.setTitle(title)
    page.setFont(FONT, 14)
    page.drawCentredString(A4[0] / 2, A4[1] - 80, title)
    page.setFont(FONT, 12)
    for n, line in enumerate(lines):
        page.drawString(70, A4[1] - 130 - 20 * n, line)
    page.showPage()
    page.save()
    return out.getvalue()


def _docx(lines: list[str]) -> bytes:
    body = "".join(f"<w:p><w:r><w:t>{line}</w:t></w:r></w:p>" for line in lines)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org'
            '/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.'
            'openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
            '"application/xml"/><Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'))
        archive.writestr("_rels/.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxml'
            'formats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas'
            '.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target='
            '"word/document.xml"/></Relationships>'))
        archive.writestr("word/document.xml", (
            '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxml'
            f'formats.org/wordprocessingml/2006/main"><w:body>{body}</w:body></w:document>'))
    return out.getvalue()


def _photo() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (800, 600), (235, 240, 245))
    draw = ImageDraw.Draw(image)
    draw.rectangle((60, 60, 740, 200), fill=(180, 30, 30))  # the one-stop shop's sign
    for n in range(4):
        draw.rectangle((80 + 170 * n, 300, 220 + 170 * n, 520), fill=(90, 110, 140))  # desks
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def seed_self_assessment(inspection: Inspection, rep: User) -> None:
    """Claims for every yes/no criterion (all met but the two of MODEST), evidence files on
    three of them, submitted. Runs while the inspection is planned and the trip has no
    deadline yet; the deadline and the submission time are then set as of 2021."""
    files = {
        "CDDH.01": ("ke-hoach-cchc-2021.pdf", _pdf("KẾ HOẠCH Cải cách hành chính năm 2021", [
            "UBND xã Vinh Quý", "Số: 05/KH-UBND, ngày 15 tháng 01 năm 2021",
            "Căn cứ Kế hoạch số 3199/KH-UBND của UBND tỉnh Cao Bằng …"])),
        "CDDH.05": ("bao-cao-cchc-quy-III-2021.docx", _docx([
            "UBND xã Vinh Quý — Báo cáo công tác CCHC quý III năm 2021",
            "Gửi UBND huyện Hạ Lang ngày 15/9/2021."])),
        "TTHC.36": ("anh-bo-phan-mot-cua.jpg", _photo()),
    }
    for item in inspection.checklist_version.items:
        if item.kind != "yesno":
            continue
        evidence = []
        if item.code in files:
            name, data = files[item.code]
            evidence = [self_assessment.store_evidence_bytes(rep, inspection, name, data).id]
        if item.code in MODEST:
            fields = {"result": "fail", "explanation": MODEST[item.code]}
        else:
            fields = {"result": "pass"}
        self_assessment.save_claim(rep, inspection, item.code, fields, evidence)
    assessment = self_assessment.submit(rep, inspection)
    assessment.submitted_at = SUBMITTED_AT
    inspection.trip.self_assessment_due = DEADLINE


def seed_explanation(inspection: Inspection, leader: User, rep: User) -> None:
    """The leader asks about one criterion; the unit answers with the decision."""
    self_assessment.ask_explanation(leader, inspection, ASKED, QUESTION)
    decision = _pdf("QUYẾT ĐỊNH công nhận mô hình “Bộ phận Một cửa thân thiện”", [
        "UBND huyện Hạ Lang", "Số: 1187/QĐ-UBND, ngày 29 tháng 9 năm 2021"])

    class _File:  # what a form sends
        filename = "quyet-dinh-1187-cong-nhan-mo-hinh.pdf"
        stream = io.BytesIO(decision)

    get_storage().uploads_dir.mkdir(parents=True, exist_ok=True)
    self_assessment.answer_explanation(rep, inspection, ASKED, ANSWER, [_File()])
    for explanation in self_assessment.assessment_of(inspection).explanations:  # not today
        explanation.asked_at, explanation.answered_at = ASKED_AT, ANSWERED_AT
