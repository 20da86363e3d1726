"""The inspection minutes (biên bản kiểm tra) as a PDF: `render_minutes(MinutesData) -> bytes`.

Layout after Decree 30/2020/NĐ-CP (Mẫu 1.9, Phụ lục III; see docs/DESIGN.md §5): A4 portrait,
margins 20/20/30/15 mm, Liberation Serif (Times New Roman metrics, full Vietnamese) at 13 pt,
justified with a 1 cm first-line indent; a two-column header (issuing body and number; national
motto with place and date); page numbers centred at the top from page 2.

Every string that comes from data is normalised to NFC, stripped of control characters and
XML-escaped before it reaches a reportlab Paragraph, so user text is printed literally.

The signature blocks carry empty PDF signature fields (`SignatureBlock.field_name`) in the
space between title and name, so the visible stamps of `inspection.services.signing` land
exactly inside the printed blocks.
"""
from __future__ import annotations

import io
import re
import threading
import unicodedata
from datetime import date, datetime
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab import rl_config
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfdoc import PDFArray, PDFDictionary, PDFName, PDFString
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    Image,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from ..localtime import format_datetime, local_date
from .data import (
    ChartBar,
    MinutesData,
    Person,
    PhotoItem,
    RateRow,
    SampleTable,
    SectionResult,
    SignatureBlock,
    UnitPart,
)

# reportlab's default ASCII85 encoding of images is pure Python: about 3 s for 10 MB of JPEG.
rl_config.useA85 = 0

FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONT = "MinutesSerif"
FONT_B, FONT_I, FONT_BI = FONT + "-Bold", FONT + "-Italic", FONT + "-BoldItalic"

PAGE_W, PAGE_H = A4
MARGIN_TOP, MARGIN_BOTTOM, MARGIN_LEFT, MARGIN_RIGHT = 20 * mm, 20 * mm, 30 * mm, 15 * mm
TEXT_W = PAGE_W - MARGIN_LEFT - MARGIN_RIGHT  # 165 mm

BODY = 13  # pt
TABLE = 11.5
NOTE_MAX_HEIGHT = (PAGE_H - MARGIN_TOP - MARGIN_BOTTOM) / 3  # of a note inside a table cell


def dots(width: float, size: float = BODY) -> str:
    """A dotted line ("……") about `width` points long, for parts filled in by hand."""
    return "…" * max(3, int(width / pdfmetrics.stringWidth("…", FONT, size)))

_fonts_lock = threading.Lock()
_fonts_ready = False


def register_fonts() -> None:
    """Register the bundled Liberation Serif family with reportlab (once per process)."""
    global _fonts_ready
    if _fonts_ready:
        return
    with _fonts_lock:
        if _fonts_ready:
            return
        for name, style in ((FONT, "Regular"), (FONT_B, "Bold"), (FONT_I, "Italic"),
                            (FONT_BI, "BoldItalic")):
            pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / f"LiberationSerif-{style}.ttf")))
        pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_B, italic=FONT_I,
                                      boldItalic=FONT_BI)
        _fonts_ready = True


# --- text ---------------------------------------------------------------------------------

_LINE_BREAKS = re.compile(r"\r\n|[\r\u2028\u2029\x85\x0b\x0c]")
# C0/C1 controls (but \n and \t), surrogates, format characters (zero-width, bidi controls,
# soft hyphen, BOM…) and the noncharacters U+FFFE/U+FFFF.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u180e"
    "\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    "\ufffe\uffff\ud800-\udfff]")


def clean(text: object) -> str:
    """NFC text with control, format and surrogate characters removed (tabs become spaces,
    newlines are kept); None becomes ""."""
    if text is None:
        return ""
    text = _LINE_BREAKS.sub("\n", str(text)).replace("\t", " ")
    return unicodedata.normalize("NFC", _INVISIBLE.sub("", text))


def esc(text: object) -> str:
    """Clean text escaped for a reportlab Paragraph (which parses markup); newlines → <br/>."""
    return escape(clean(text)).replace("\n", "<br/>")


def lines_of(text: object) -> list[str]:
    """The non-empty lines of a clean multi-line text."""
    return [line.strip() for line in clean(text).split("\n") if line.strip()]


# --- numbers and dates, the Vietnamese way -------------------------------------------------

def fmt_number(value: float | int | None, decimals: int = 2) -> str:
    """1081 → "1.081"; 8.5 → "8,5"; 12.0 → "12"; None → "–"."""
    if value is None:
        return "–"
    text = f"{round(float(value), decimals):,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def fmt_percent(value: float | None) -> str:
    """86.5 → "86,5%"; 100.0 → "100%"."""
    return "–" if value is None else fmt_number(value, 1) + "%"


def fmt_date_long(day: date) -> str:
    """ngày 01 tháng 10 năm 2021 (leading zeros, as Decree 30 asks)."""
    return f"ngày {day.day:02d} tháng {day.month:02d} năm {day.year}"


def fmt_date(day: date | None) -> str:
    """A date as dd/mm/yyyy, or dotted blanks to fill in by hand."""
    return "…/…/…" if day is None else f"{day.day:02d}/{day.month:02d}/{day.year}"


def fmt_datetime(moment: datetime | None) -> str:
    """01/10/2021 09:15 in Vietnam time (a stored moment; naive values are UTC, as stored)."""
    return format_datetime(moment)


def fmt_gps(latitude: float | None, longitude: float | None) -> str:
    """22,70610° B, 106,68950° Đ (B/N = Bắc/Nam, Đ/T = Đông/Tây)."""
    if latitude is None or longitude is None:
        return ""
    lat = f"{abs(latitude):.5f}".replace(".", ",") + ("° B" if latitude >= 0 else "° N")
    lon = f"{abs(longitude):.5f}".replace(".", ",") + ("° Đ" if longitude >= 0 else "° T")
    return f"{lat}, {lon}"


# --- styles --------------------------------------------------------------------------------

def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=FONT, fontSize=BODY, leading=BODY * 1.25,
                          alignment=TA_JUSTIFY, firstLineIndent=10 * mm, spaceAfter=6)
    s = {"body": base}
    s["plain"] = ParagraphStyle("plain", base, firstLineIndent=0)
    s["item"] = ParagraphStyle("item", base, firstLineIndent=10 * mm, spaceAfter=3)
    s["heading"] = ParagraphStyle("heading", base, fontName=FONT_B, firstLineIndent=10 * mm,
                                  spaceBefore=6)
    s["subheading"] = ParagraphStyle("subheading", s["heading"], spaceBefore=3)
    s["part"] = ParagraphStyle("part", base, fontName=FONT_B, alignment=TA_CENTER,
                               firstLineIndent=0, spaceBefore=12, spaceAfter=8)
    s["center"] = ParagraphStyle("center", base, alignment=TA_CENTER, firstLineIndent=0,
                                 spaceAfter=0)
    s["center_b"] = ParagraphStyle("center_b", s["center"], fontName=FONT_B)
    s["center_i"] = ParagraphStyle("center_i", s["center"], fontName=FONT_I)
    s["title"] = ParagraphStyle("title", s["center_b"], fontSize=14, leading=18, spaceBefore=16)
    s["summary"] = ParagraphStyle("summary", s["center_b"], fontSize=13.5, leading=17,
                                  spaceAfter=10)
    s["motto"] = ParagraphStyle("motto", s["center_b"], fontSize=12.5, leading=15.5)
    s["motto2"] = ParagraphStyle("motto2", s["center_b"], fontSize=13.5, leading=16.5)
    s["body_h"] = ParagraphStyle("body_h", s["center"], fontSize=12.5, leading=15.5)
    s["body_hb"] = ParagraphStyle("body_hb", s["body_h"], fontName=FONT_B)
    s["date"] = ParagraphStyle("date", s["center_i"], fontSize=13.5, leading=17)
    s["cell"] = ParagraphStyle("cell", base, fontSize=TABLE, leading=TABLE * 1.2,
                               alignment=TA_LEFT, firstLineIndent=0, spaceAfter=0)
    s["cell_c"] = ParagraphStyle("cell_c", s["cell"], alignment=TA_CENTER)
    s["cell_r"] = ParagraphStyle("cell_r", s["cell"], alignment=TA_RIGHT)
    s["cell_h"] = ParagraphStyle("cell_h", s["cell"], fontName=FONT_B, alignment=TA_CENTER)
    s["cell_note"] = ParagraphStyle("cell_note", s["cell"], fontName=FONT_I, fontSize=10.5,
                                    leading=12.5)
    s["caption"] = ParagraphStyle("caption", s["cell"], fontSize=11, leading=13,
                                  alignment=TA_CENTER)
    s["caption_i"] = ParagraphStyle("caption_i", s["caption"], fontName=FONT_I, fontSize=10,
                                    leading=12)
    s["sign_h"] = ParagraphStyle("sign_h", s["center_b"], fontSize=13, leading=16)
    s["sign_name"] = ParagraphStyle("sign_name", s["center_b"], fontSize=13, leading=16)
    s["small"] = ParagraphStyle("small", s["plain"], fontSize=10, leading=12.5,
                                alignment=TA_LEFT, spaceAfter=0)
    s["pageno"] = ParagraphStyle("pageno", s["center"], fontSize=13)
    s["recipients_h"] = ParagraphStyle("recipients_h", s["plain"], fontSize=12, leading=14,
                                       alignment=TA_LEFT, spaceAfter=0)
    s["recipients"] = ParagraphStyle("recipients", s["plain"], fontSize=11, leading=13,
                                     alignment=TA_LEFT, spaceAfter=0)
    s["caption_flag"] = ParagraphStyle("caption_flag", s["caption_i"], fontName=FONT_BI)
    return s


# --- small flowables ----------------------------------------------------------------------

class Rule(Flowable):
    """A centred horizontal rule of a given width (under the issuing body and the motto)."""

    def __init__(self, width: float, thickness: float = 0.6, space: float = 2):
        super().__init__()
        self.rule_width, self.thickness, self.space = width, thickness, space

    def wrap(self, available_width, available_height):
        """Take the whole available width; the height this flowable needs."""
        self.available = available_width
        return available_width, self.space * 2

    def draw(self):
        """Draw on the canvas at the position ReportLab gives."""
        x0 = (self.available - self.rule_width) / 2
        self.canv.setLineWidth(self.thickness)
        self.canv.line(x0, self.space, x0 + self.rule_width, self.space)


class SignatureField(Flowable):
    """Blank space holding an empty PDF signature field (a /Sig widget) for the signing service."""

    def __init__(self, name: str, width: float, height: float, gap: float = 2.5 * mm):
        super().__init__()
        self.name, self.width, self.height, self.gap = name, width, height, gap

    def wrap(self, available_width, available_height):
        """Take the whole available width; the height this flowable needs."""
        self.available = available_width
        return available_width, self.height

    def draw(self):
        """Draw on the canvas at the position ReportLab gives."""
        if not self.name:
            return
        canv = self.canv
        x0 = max(0, (self.available - self.width) / 2)
        left, bottom = canv.absolutePosition(x0, self.gap)
        right, top = canv.absolutePosition(x0 + min(self.width, self.available),
                                           self.height - self.gap)
        widget = PDFDictionary({
            "FT": PDFName("Sig"), "T": PDFString(self.name), "Type": PDFName("Annot"),
            "Subtype": PDFName("Widget"), "F": 4,  # print
            "Rect": PDFArray([round(v, 2) for v in (left, bottom, right, top)]),
            "P": canv._doc.thisPageRef(),
        })
        canv._addAnnotation(widget)
        form = canv.acroForm
        form.fields.append(form.getRef(widget))


def _qr(url: str, size: float) -> Drawing:
    widget = QrCodeWidget(url, barLevel="M", barBorder=0)
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    return drawing


def _chart(bars: tuple[ChartBar, ...], title: str) -> Drawing:
    """Grouped bars of points earned and maximum per section, with values on top."""
    width, height = TEXT_W, 72 * mm
    drawing = Drawing(width, height)
    chart = VerticalBarChart()
    chart.x, chart.y = 14 * mm, 16 * mm
    chart.width, chart.height = width - 20 * mm, height - 30 * mm
    chart.data = [[b.max_points for b in bars], [b.points for b in bars]]
    chart.categoryAxis.categoryNames = [clean(b.label) for b in bars]
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 9.5
    chart.categoryAxis.labels.dy = -2
    top = max([b.max_points for b in bars] + [b.points for b in bars] + [1])
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = top * 1.15
    chart.valueAxis.valueStep = _nice_step(top)
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontSize = 9
    chart.valueAxis.labelTextFormat = lambda v: fmt_number(v, 1)
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = colors.HexColor("#dddddd")
    chart.bars[0].fillColor = colors.HexColor("#c9d3e0")
    chart.bars[1].fillColor = colors.HexColor("#1f4e8c")
    chart.bars.strokeWidth = 0
    chart.barSpacing = 1
    chart.groupSpacing = 8
    chart.barLabelFormat = lambda v: fmt_number(v, 1)
    chart.barLabels.fontName = FONT
    chart.barLabels.fontSize = 8
    chart.barLabels.nudge = 5
    drawing.add(chart)
    legend = Legend()
    legend.fontName, legend.fontSize = FONT, 10
    legend.x, legend.y = width - 58 * mm, height - 4 * mm
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.deltax = 28 * mm
    legend.colorNamePairs = [(chart.bars[1].fillColor, "Điểm đạt"),
                             (chart.bars[0].fillColor, "Điểm tối đa")]
    drawing.add(legend)
    drawing.add(String(14 * mm, height - 6 * mm, clean(title), fontName=FONT_B, fontSize=11))
    return drawing


def _nice_step(top: float) -> float:
    for step in (1, 2, 5, 10, 20, 25, 50, 100):
        if top / step <= 8:
            return step
    return top / 5


# --- the document ----------------------------------------------------------------------------

class _Builder:
    """Turns MinutesData into platypus flowables."""

    def __init__(self, data: MinutesData):
        self.data = data
        self.s = _styles()
        self.story: list = []

    def p(self, text_markup: str, style: str = "body") -> None:
        if style in ("heading", "subheading", "part"):
            # A heading never ends a page: it moves on when less than 35 mm is left.
            self.story.append(CondPageBreak(35 * mm))
        self.story.append(Paragraph(text_markup, self.s[style]))

    # header, title, basis
    def header(self) -> None:
        d, s = self.data, self.s
        left: list = []
        body_lines = list(d.issuing_body) or [""]
        for i, line in enumerate(body_lines):
            bold = i >= d.issuing_body_bold_from
            left.append(Paragraph(esc(clean(line).upper()), s["body_hb" if bold else "body_h"]))
        last = clean(body_lines[-1]).upper()
        left.append(Rule(pdfmetrics.stringWidth(last, FONT_B, 12.5) * 0.4))
        motto2 = "Độc lập - Tự do - Hạnh phúc"
        right = [Paragraph("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", s["motto"]),
                 Paragraph(motto2, s["motto2"]),
                 Rule(pdfmetrics.stringWidth(motto2, FONT_B, 13.5))]
        number = Paragraph("Số: " + esc(d.document_number), s["body_h"])
        when = ""
        if d.show_date_line:
            when = Paragraph(esc(f"{clean(d.place)}, {fmt_date_long(d.date)}"), s["date"])
        table = Table([[left, right], [number, when]], colWidths=[0.4 * TEXT_W, 0.6 * TEXT_W])
        table.setStyle(TableStyle([
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ("TOPPADDING", (0, 0), (-1, -1), 0), ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ("TOPPADDING", (0, 1), (-1, 1), 4),
        ]))
        self.story.append(table)

    def title(self) -> None:
        self.p(esc(clean(self.data.title).upper()), "title")
        self.p(esc(self.data.summary), "summary")

    def basis(self) -> None:
        for line in self.data.legal_basis:
            self.p(esc(line), "item")

    # section I
    def team(self, heading: str) -> None:
        self.p(heading, "subheading")
        for person in self.data.team:
            self.p(esc("- " + _person_line(person)), "item")

    def representatives(self, heading: str, people: tuple[Person, ...]) -> None:
        self.p(heading, "subheading")
        if not people:
            self.p(esc("- " + dots(TEXT_W - 20 * mm)), "item")
        for person in people:
            self.p(esc("- " + _person_line(person)), "item")

    # section II
    def results(self, part: UnitPart) -> None:
        for n, section in enumerate(part.sections, 1):
            self.section(n, section)
        if part.score is not None:
            score = part.score
            text = (f"Kết quả chung: đạt {fmt_number(score.points)}/{fmt_number(score.max_points)}"
                    f" điểm ({fmt_percent(score.percent)})")
            if score.class_label:
                text += f", xếp loại {clean(score.class_label)}"
            self.p("<b>" + esc(text + ".") + "</b>", "body")
        self.assessment_remark(part)
        self.self_assessment(part)
        if part.chart:
            self.story.append(CondPageBreak(75 * mm))
            self.story.append(_chart(part.chart, self.data.chart_title))
            self.story.append(Spacer(1, 4))

    def assessment_remark(self, part: UnitPart) -> None:
        """The remark that not every criterion was assessed, and why the leader approved."""
        if part.assessment_remark:
            self.p("<i>" + esc(part.assessment_remark) + "</i>", "body")

    def self_assessment(self, part: UnitPart) -> None:
        """Both totals, and the table of criteria whose appraisal differs from the claim."""
        summary = part.self_assessment
        if summary is None:
            return
        self.p(esc(f"Đơn vị tự đánh giá đạt {fmt_number(summary.self_points)}/"
                   f"{fmt_number(summary.self_max)} điểm ({fmt_percent(summary.self_percent)}); "
                   f"Đoàn kiểm tra thẩm định đạt {fmt_number(summary.appraised_points)}/"
                   f"{fmt_number(summary.appraised_max)} điểm "
                   f"({fmt_percent(summary.appraised_percent)})."), "body")
        if not summary.rows:
            self.p(esc("Kết quả thẩm định thống nhất với tự đánh giá của đơn vị ở mọi tiêu chí "
                       "đơn vị đã tự đánh giá."), "body")
            return
        self.p(esc(f"Các tiêu chí có kết quả thẩm định khác tự đánh giá ({len(summary.rows)}):"),
               "body")
        widths = [20 * mm, TEXT_W - 96 * mm, 26 * mm, 26 * mm, 24 * mm]
        rows: list = [["Mã", "Tiêu chí", "Tự đánh giá", "Thẩm định", "Điểm"]]
        for row in summary.rows:
            points = ""
            if row.claimed_points is not None or row.appraised_points is not None:
                mine, theirs = (fmt_number(p) if p is not None else "–"
                                for p in (row.claimed_points, row.appraised_points))
                points = f"{mine} → {theirs}"
            rows.append([self._fit(row.code, widths[0]), self._fit(row.title, widths[1]),
                         self._fit(row.claimed, widths[2], "cell_c"),
                         self._fit(row.appraised, widths[3], "cell_c"),
                         self._fit(points, widths[4], "cell_c")])
        self._table(rows, widths, [("ALIGN", (2, 1), (4, -1), "CENTER")])

    def section(self, n: int, section: SectionResult) -> None:
        heading = f"{n}. {clean(section.title)}"
        if section.not_applicable:
            self.p(esc(heading + " (không áp dụng)"), "subheading")
            self.p("<i>" + esc("- Lĩnh vực không áp dụng đối với đơn vị được kiểm tra "
                               "(không tính vào điểm tối đa).") + "</i>", "item")
            return
        if section.skipped:
            heading += " (không đánh giá)"
        elif section.max_points:
            heading += f": đạt {fmt_number(section.points)}/{fmt_number(section.max_points)} điểm"
        self.p(esc(heading), "subheading")
        if section.criteria:
            self.criteria_table(section)
        if section.counts:
            self.counts_table(section)
        if section.rates:
            self.rates_table(section.rates)
        for table in section.samples:
            self.sample_table(table)
        for note in section.notes:
            for line in lines_of(note):
                self.p(esc("- " + line), "item")
        self.unassessed(section)

    def unassessed(self, section: SectionResult) -> None:
        """One line for the criteria without a result, however many they are."""
        codes = [clean(code) for code in section.unassessed if clean(code).strip()]
        if not codes:
            return
        if section.skipped:
            text = f"- Lĩnh vực không đánh giá trong đợt kiểm tra ({len(codes)} tiêu chí)."
        else:
            text = f"- Chưa đánh giá {len(codes)} tiêu chí: {', '.join(codes)}."
        self.p("<i>" + esc(text) + "</i>", "item")

    def _table(self, rows: list, widths: list[float], extra: list | None = None) -> None:
        table = Table(rows, colWidths=widths, repeatRows=1)
        style = [
            ("FONT", (0, 0), (-1, -1), FONT, TABLE, TABLE * 1.2),
            ("FONT", (0, 0), (-1, 0), FONT_B, TABLE, TABLE * 1.2),
            ("ALIGN", (0, 0), (-1, 0), "CENTER"),
            ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
            ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3),
            ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ]
        table.setStyle(TableStyle(style + (extra or [])))
        self.story.append(table)
        self.story.append(Spacer(1, 6))

    def _fit(self, text: str, width: float, style: str = "cell") -> str | Paragraph:
        """A short cell as a plain string (no markup parsing: fast, and literal by nature);
        a Paragraph that wraps when it does not fit on one line."""
        text = clean(text).strip()
        font = FONT_B if style == "cell_h" else FONT
        if "\n" not in text and pdfmetrics.stringWidth(text, font, TABLE) <= width - 6:
            return text
        return Paragraph(esc(text), self.s[style])

    def _title_cell(self, code: str, title: str, note: str, width: float, below: list) -> list:
        cell = [Paragraph(esc(title), self.s["cell"])]
        note = clean(note).strip()
        if note:
            paragraph = Paragraph(esc("Ghi chú: " + note), self.s["cell_note"])
            # A table row cannot break across pages: a note taller than a third of a page goes
            # below the table (appended to `below`), where it wraps onto the next page.
            if paragraph.wrap(width - 6, PAGE_H)[1] > NOTE_MAX_HEIGHT:
                below.append(f"Ghi chú {clean(code)}: {note}")
                paragraph = Paragraph("Ghi chú: xem dưới bảng.", self.s["cell_note"])
            cell.append(paragraph)
        return cell

    def _notes_below(self, notes: list[str]) -> None:
        for note in notes:
            self.p(esc(note), "item")

    def criteria_table(self, section: SectionResult) -> None:
        widths = [20 * mm, TEXT_W - 70 * mm, 28 * mm, 22 * mm]
        rows: list = [["Mã", "Tiêu chí", "Kết quả", "Điểm"]]
        below: list[str] = []
        for row in section.criteria:
            points = ""
            if row.max_points:
                earned = fmt_number(row.points) if row.points is not None else "–"
                points = f"{earned}/{fmt_number(row.max_points)}"
            rows.append([self._fit(row.code, widths[0]),
                         self._title_cell(row.code, row.title, row.note, widths[1], below),
                         self._fit(row.result, widths[2], "cell_c"),
                         self._fit(points, widths[3], "cell_c")])
        self._table(rows, widths, [("ALIGN", (2, 1), (3, -1), "CENTER")])
        self._notes_below(below)

    def counts_table(self, section: SectionResult) -> None:
        widths = [20 * mm, TEXT_W - 55 * mm, 35 * mm]
        rows: list = [["Mã", "Số liệu", "Số lượng"]]
        below: list[str] = []
        for row in section.counts:
            value = "chưa nhập" if row.value is None else \
                f"{fmt_number(row.value)} {clean(row.unit)}".strip()
            rows.append([self._fit(row.code, widths[0]),
                         self._title_cell(row.code, row.title, row.note, widths[1], below),
                         self._fit(value, widths[2], "cell_r")])
        self._table(rows, widths, [("ALIGN", (2, 1), (2, -1), "RIGHT")])
        self._notes_below(below)

    def rates_table(self, rates: tuple[RateRow, ...]) -> None:
        widths = [20 * mm, TEXT_W - 105 * mm, 37 * mm, 22 * mm, 26 * mm]
        rows: list = [["Mã", "Tỷ lệ", "Kết quả", "Mục tiêu", "Đánh giá"]]
        extra = [("ALIGN", (2, 1), (4, -1), "CENTER")]
        for n, rate in enumerate(rates, 1):
            if rate.value is not None:
                value = fmt_percent(rate.value)
                if rate.numerator is not None and rate.denominator is not None:
                    value += f" ({fmt_number(rate.numerator)}/{fmt_number(rate.denominator)})"
            else:
                value = {"no_cases": "không phát sinh", "na": "không áp dụng"}.get(
                    rate.status, "chưa đủ số liệu")
            target = "" if rate.target is None else "≥ " + fmt_percent(rate.target)
            verdict = {True: "Đạt", False: "Chưa đạt"}.get(
                rate.met, "–" if rate.target is not None else "theo dõi")
            if rate.met is False:
                extra.append(("FONT", (4, n), (4, n), FONT_B, TABLE, TABLE * 1.2))
            rows.append([self._fit(rate.code, widths[0]),
                         Paragraph(esc(rate.title), self.s["cell"]),
                         self._fit(value, widths[2], "cell_c"),
                         self._fit(target, widths[3], "cell_c"),
                         self._fit(verdict, widths[4],
                                   "cell_h" if rate.met is False else "cell_c")])
        self._table(rows, widths, extra)

    def sample_table(self, table: SampleTable) -> None:
        """A repeat group's samples: its title with how many there are and the bounds, then a
        numbered row per sample with a column per field."""
        n = len(table.rows)
        heading = f"{clean(table.title)}: {n} mẫu (cần từ {table.minimum} đến {table.maximum})"
        if n < table.minimum or n > table.maximum:
            heading += ", chưa đủ số mẫu" if n < table.minimum else ", vượt số mẫu tối đa"
        self.p("<i>" + esc(heading + ".") + "</i>", "item")
        if not table.rows:
            return
        first = 10 * mm
        weights = [2.2 if kind == "text" else 1.0
                   for kind in (table.kinds or ("",) * len(table.columns))]
        widths = [first] + [(TEXT_W - first) * w / sum(weights) for w in weights]
        rows: list = [["STT"] + [self._fit(title, width, "cell_h")
                                 for title, width in zip(table.columns, widths[1:], strict=True)]]
        for number, row in enumerate(table.rows, 1):
            rows.append([str(number)] + [self._fit(value, width, "cell_c")
                                         for value, width in zip(row, widths[1:], strict=True)])
        self._table(rows, widths, [("ALIGN", (0, 1), (-1, -1), "CENTER")])

    # sections III-V
    def findings(self, part: UnitPart) -> None:
        self.p("1. Ưu điểm", "subheading")
        self._bullets(part.strengths)
        self.p("2. Tồn tại, hạn chế", "subheading")
        self._bullets(part.weaknesses)

    def _bullets(self, texts: tuple[str, ...]) -> None:
        lines = [line for text in texts for line in lines_of(text)]
        if not lines:
            self.p(esc("- " + dots(TEXT_W - 20 * mm)), "item")
        for line in lines:
            self.p(esc("- " + line), "item")

    def recommendations(self, part: UnitPart) -> None:
        """The numbered recommendations, then the one reporting deadline: a recommendation that
        already asks for the report (a library text "… trước ngày .../.../....") gets the
        deadline written into it, and no second reporting item is added."""
        self.p(esc(f"Đoàn kiểm tra đề nghị {clean(part.unit_name)}:"), "body")
        items = []
        reported = False
        for rec in part.recommendations:
            text = " ".join(lines_of(rec.text))
            if not text:
                continue
            if _REPORT_ITEM.search(text):
                reported = True
                text = _BLANK_DATE.sub(fmt_date(part.report_due), text)
            if rec.due_on is not None:
                text = text.rstrip(" .;") + f" (thời hạn: {fmt_date(rec.due_on)})"
            items.append(text.rstrip(" .;"))
        if not reported:
            items.append(f"Báo cáo kết quả khắc phục về {clean(part.report_to)} trước "
                         f"ngày {fmt_date(part.report_due)}")
        for n, text in enumerate(items, 1):
            self.p(esc(f"{n}. {text}{'.' if n == len(items) else ';'}"), "item")

    def comments(self, part: UnitPart) -> None:
        lines = lines_of(part.unit_comments)
        if not lines:
            for _ in range(3):
                self.p(esc(dots(TEXT_W - 3 * mm)), "plain")
        for line in lines:
            self.p(esc(line), "body")

    # one unit
    def part_body(self, part: UnitPart, single: bool) -> None:
        self.p(esc(part.time_place), "body")
        self.p("I. THÀNH PHẦN", "heading")
        if single:
            self.team("1. Đoàn kiểm tra:")
            self.representatives(esc(f"2. Đại diện đơn vị được kiểm tra "
                                     f"({clean(part.unit_name)}):"),
                                 part.representatives)
        else:
            self.representatives(esc(f"Đại diện đơn vị được kiểm tra ({clean(part.unit_name)}):"),
                                 part.representatives)
        self.p("II. NỘI DUNG, KẾT QUẢ KIỂM TRA", "heading")
        self.results(part)
        self.p("III. NHẬN XÉT, ĐÁNH GIÁ", "heading")
        self.findings(part)
        self.p("IV. KIẾN NGHỊ", "heading")
        self.recommendations(part)
        self.p("V. Ý KIẾN CỦA ĐƠN VỊ ĐƯỢC KIỂM TRA", "heading")
        self.comments(part)

    def signatures(self) -> None:
        d = self.data
        units = [p.signature for p in d.parts if p.signature is not None]
        leader = d.leader_signature
        # Row 1: first unit (left) and the leader (right); more units follow two per row.
        cells: list[SignatureBlock | None] = [units[0] if units else None, leader]
        cells += units[1:]
        if len(cells) % 2:
            cells.append(None)
        # Three table rows per pair of blocks (titles, stamp space, names), so the stamps and
        # the names line up even when one title takes more lines than the other.
        rows: list = []
        style = [
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 2), ("RIGHTPADDING", (0, 0), (-1, -1), 2),
            ("TOPPADDING", (0, 0), (-1, -1), 0), ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
        ]
        for i in range(0, len(cells), 2):
            left, right = self._signature_parts(cells[i]), self._signature_parts(cells[i + 1])
            rows += [[left[k], right[k]] for k in range(3)]
            style.append(("BOTTOMPADDING", (0, len(rows) - 1), (-1, len(rows) - 1), 14))
        table = Table(rows, colWidths=[TEXT_W / 2, TEXT_W / 2])
        table.setStyle(TableStyle(style))
        closing = [Paragraph(esc(line), self.s["body"]) for line in lines_of(d.closing)]
        # The closing sentence, the signatures and the QR code stay on one page.
        self.story.append(KeepTogether(closing + [Spacer(1, 6), table] + self._qr()))
        self.recipients()

    def recipients(self) -> None:
        """The optional "Nơi nhận:" block (Decree 30: 12 pt bold italic, the list in 11 pt)."""
        lines = [line for text in self.data.recipients for line in lines_of(text)]
        if not lines:
            return
        block = [Spacer(1, 8), Paragraph("<b><i>Nơi nhận:</i></b>", self.s["recipients_h"])]
        block += [Paragraph(esc(f"- {line.rstrip(' ;.')};" if n < len(lines) else
                                f"- {line.rstrip(' ;.')}."), self.s["recipients"])
                  for n, line in enumerate(lines, 1)]
        self.story.append(KeepTogether(block))

    def _signature_parts(self, block: SignatureBlock | None) -> tuple:
        """(title lines, stamp space holding the signature field, name) of one block."""
        if block is None:
            return "", "", ""
        heading = [Paragraph(esc(clean(line).upper()), self.s["sign_h"]) for line in block.heading]
        name = clean(block.name).strip() or dots(50 * mm)
        return (heading, SignatureField(block.field_name, 72 * mm, 31 * mm),
                Paragraph(esc(name), self.s["sign_name"]))

    def _qr(self) -> list:
        """The verification QR code with its address, as flowables ([] without a URL)."""
        d = self.data
        url = clean(d.qr_url).strip()
        if not url:
            return []
        text = ("Quét mã QR hoặc truy cập địa chỉ dưới đây để kiểm tra chữ ký số và tính toàn vẹn "
                f"của biên bản số {clean(d.document_number)}")
        if d.revision is not None:
            text += f" (phiên bản {d.revision})"
        cell = [Paragraph(esc(text + ":"), self.s["small"]), Paragraph(esc(url), self.s["small"])]
        table = Table([[_qr(url, 22 * mm), cell]], colWidths=[26 * mm, TEXT_W - 26 * mm])
        table.setStyle(TableStyle([
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0),
        ]))
        return [Spacer(1, 4), table]

    def appendix(self) -> None:
        d = self.data
        parts = [p for p in d.parts if p.photos]
        if not parts:
            return
        self.story.append(PageBreak())
        self.p("PHỤ LỤC: ẢNH MINH CHỨNG", "title")
        self.p(esc(f"(Kèm theo Biên bản số {clean(d.document_number)} {fmt_date_long(d.date)})"),
               "center_i")
        self.story.append(Spacer(1, 8))
        for part in parts:
            if d.is_trip:
                self.p(esc(clean(part.unit_name).upper()), "part")
            cells = [self._photo_cell(photo) for photo in part.photos]
            if len(cells) % 2:
                cells.append([])
            rows = [cells[i:i + 2] for i in range(0, len(cells), 2)]
            table = Table(rows, colWidths=[TEXT_W / 2, TEXT_W / 2])
            table.setStyle(TableStyle([
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 4), ("RIGHTPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 10),
            ]))
            self.story.append(table)

    def _photo_cell(self, photo: PhotoItem) -> list:
        s = self.s
        cell: list = []
        image = _photo_flowable(photo, TEXT_W / 2 - 10 * mm, 62 * mm)
        cell.append(image if image is not None else
                    Paragraph("(Không đọc được tệp ảnh)", s["caption_i"]))
        cell.append(Spacer(1, 2))
        item = " – ".join(filter(None, (clean(photo.item_code).strip(),
                                        clean(photo.item_title).strip())))
        if item:
            cell.append(Paragraph("<b>" + esc(item) + "</b>", s["caption"]))
        caption = clean(photo.caption).strip()
        if caption:
            cell.append(Paragraph(esc(caption), s["caption"]))
        place = clean(photo.place).strip()
        gps = fmt_gps(photo.latitude, photo.longitude)
        if place or gps:
            where = f"{place} ({gps})" if place and gps else place or gps
            cell.append(Paragraph(esc("Nơi chụp: " + where), s["caption_i"]))
        if photo.captured_at is not None:
            cell.append(Paragraph(esc("Chụp lúc: " + fmt_datetime(photo.captured_at)),
                                  s["caption_i"]))
            if photo.visit_date is not None and local_date(photo.captured_at) != photo.visit_date:
                cell.append(Paragraph(esc(f"Lưu ý: ảnh chụp ngày khác ngày kiểm tra "
                                          f"({fmt_date(photo.visit_date)})."), s["caption_flag"]))
        return cell

    def build(self) -> list:
        d = self.data
        self.header()
        self.title()
        self.basis()
        if not d.is_trip:
            self.part_body(d.parts[0], single=True)
        else:
            self.p("THÀNH PHẦN ĐOÀN KIỂM TRA", "heading")
            self.team("Đoàn kiểm tra gồm:")
            for n, part in enumerate(d.parts, 1):
                self.p(esc(f"PHẦN {n}. {clean(part.unit_name).upper()}"), "part")
                self.part_body(part, single=False)
        self.signatures()
        self.appendix()
        return self.story


# A recommendation asking for the remedies' report, and the blank date it leaves to fill.
_REPORT_ITEM = re.compile(r"báo cáo kết quả khắc phục", re.IGNORECASE)
_BLANK_DATE = re.compile(r"(?:\.{2,}|…+)\s*/\s*(?:\.{2,}|…+)\s*/\s*(?:\.{2,}|…+)")


def _person_line(person: Person) -> str:
    text = clean(person.name).strip()
    if clean(person.position).strip():
        text += ", " + clean(person.position).strip()
    if clean(person.role).strip():
        text += " – " + clean(person.role).strip()
    return text + ";"


def _photo_flowable(photo: PhotoItem, max_w: float, max_h: float) -> Image | None:
    """The photo scaled to fit, or None when the file is missing or not an image."""
    try:
        if photo.data is not None:
            source = io.BytesIO(photo.data)
        elif photo.path:
            source = photo.path
        else:
            return None
        width, height = ImageReader(source).getSize()
        if width <= 0 or height <= 0:
            return None
        if isinstance(source, io.BytesIO):
            source.seek(0)
        scale = min(max_w / width, max_h / height)
        image = Image(source, width * scale, height * scale)
        image.hAlign = "CENTER"
        return image
    except Exception:  # noqa: BLE001 - any unreadable photo becomes a placeholder
        return None


def _page_number(canvas, doc) -> None:
    canvas.saveState()
    canvas.setFont(FONT, 13)
    canvas.drawCentredString(PAGE_W / 2, PAGE_H - 12 * mm, str(doc.page))
    canvas.restoreState()


def _first_page(canvas, doc) -> None:
    """Page 1 carries no number (Decree 30/2020)."""


class _Sink:
    """A write-only file that keeps what reportlab writes (the whole PDF, in one call) without
    the two 10 MB copies a BytesIO and its getvalue() would make for a document with photos."""

    name = "<minutes>"

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(data)
        return len(data)

    def getvalue(self) -> bytes:
        return self.parts[0] if len(self.parts) == 1 else b"".join(self.parts)


def render_minutes(data: MinutesData) -> bytes:
    """The minutes as PDF bytes (unsigned, one revision, with empty signature fields)."""
    if not data.parts:
        raise ValueError("minutes need at least one inspected unit")
    register_fonts()
    out = _Sink()
    doc = SimpleDocTemplate(
        out, pagesize=A4, leftMargin=MARGIN_LEFT, rightMargin=MARGIN_RIGHT,
        topMargin=MARGIN_TOP, bottomMargin=MARGIN_BOTTOM,
        title=clean(f"{data.title} {data.summary}"), author=clean(" ".join(data.issuing_body)),
        subject=clean(f"Số: {data.document_number}"), creator="Kiểm tra CCHC",
        lang="vi-VN",
    )
    doc.build(_Builder(data).build(), onFirstPage=_first_page, onLaterPages=_page_number)
    return out.getvalue()
