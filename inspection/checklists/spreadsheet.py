"""Checklist templates as XLSX workbooks the secretariat can write in a spreadsheet program.

One sheet per part of the template (``cai_dat`` settings, ``xep_loai`` classes, ``linh_vuc``
sections, ``tieu_chi`` criteria, ``so_lieu`` counts and rates, ``quy_tac`` rules, ``kien_nghi``
recommendation texts, ``nhom_mau`` repeat groups, ``truong_mau`` their fields) with Vietnamese
column headers, plus a ``huong_dan`` sheet that explains every column (with its English name,
the key of the JSON format). docs/checklists.md describes the format for people.

Pure functions, bytes in and out: ``write_workbook(document)`` and ``read_workbook(data)``.
Reading builds the same document the JSON format holds but does not judge it: the caller
validates it (``inspection.checklists.format``) and turns each problem's path into a sheet, a
row and a column with ``Reading.locate``. What the reader itself refuses, it reports the same
way: a file that is not XLSX, too big, a ZIP bomb, a missing sheet or column, an unknown
column, a formula or an error in a cell, a value of the wrong type.

Workbooks come from outside, so reading is bounded before openpyxl sees a byte: the file size,
the number of parts and their declared uncompressed size (zipfile never inflates past the
declared size), rows and columns per sheet; openpyxl reads in read-only mode, and XML entities
are refused (defusedxml).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

MAX_BYTES = 5 * 1024 * 1024
MAX_UNCOMPRESSED = 30 * 1024 * 1024  # all parts together, as declared in the ZIP directory
MAX_PARTS = 400
MAX_ROWS = 3000  # rows with values per sheet: a checklist has a few hundred
MAX_SCANNED_ROWS = 20000  # rows read at all, empty (formatted) ones included
MAX_COLUMNS = 60
MAX_CELL_TEXT = 32767  # what Excel can hold in one cell
TOO_BIG_EN = "The file is larger than 5 MB (5,242,880 bytes), the most a checklist file may be."
TOO_BIG_VI = "Tệp lớn hơn 5 MB (5.242.880 byte), mức tối đa của tệp danh mục."
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
GUIDE_SHEET = "huong_dan"


class SpreadsheetError(ValueError):
    """A document that cannot be written as XLSX; ``errors`` as in TemplateError."""

    def __init__(self, errors: list[dict]) -> None:
        super().__init__(errors)
        self.errors = errors


# ----------------------------------------------------------------------------- the layout


@dataclass(frozen=True)
class Column:
    """One column: its Vietnamese header, the JSON key it holds, how its cells are read."""

    key: str
    name: str  # the English name: the key in the JSON document
    kind: str  # text, code, version, number, integer, flag, codes, defaults, target, date
    vi: str
    en: str
    required: bool = False
    width: int = 14
    example: str = ""


@dataclass(frozen=True)
class Sheet:
    """One sheet: its name, what it holds, and its columns in order."""

    name: str
    vi: str
    en: str
    columns: tuple[Column, ...]

    def column(self, key: str) -> Column:
        """The column with this key (the JSON format's name)."""
        return next(c for c in self.columns if c.key == key)


def _c(key, name, kind, vi, en, *, required=False, width=14, example=""):
    return Column(key, name, kind, vi, en, required, width, example)


_TITLES = (
    _c("ten_vi", "title_vi", "text", "Tên tiếng Việt", "Vietnamese title", required=True,
       width=48),
    _c("ten_en", "title_en", "text", "Tên tiếng Anh", "English title", required=True, width=40),
)
_HINTS = (
    _c("goi_y_vi", "evidence_hint_vi", "text", "Gợi ý tài liệu kiểm chứng (tiếng Việt)",
       "Evidence hint (Vietnamese)", width=36),
    _c("goi_y_en", "evidence_hint_en", "text", "Gợi ý tài liệu kiểm chứng (tiếng Anh)",
       "Evidence hint (English)", width=30),
    _c("ghi_chu_vi", "note_vi", "text", "Ghi chú (tiếng Việt)", "Note (Vietnamese)", width=24),
    _c("ghi_chu_en", "note_en", "text", "Ghi chú (tiếng Anh)", "Note (English)", width=24),
    _c("dieu_kien", "relevant", "text",
       "Điều kiện áp dụng: biểu thức; khi sai thì tiêu chí không áp dụng (không tính vào điểm "
       "tối đa). Để trống: luôn áp dụng",
       "Condition (relevant): when false the item does not apply and leaves the maximum. Empty: "
       "always applies", width=26, example="TTHC.23 > 0"),
)
_ORDER = _c("stt", "(position)", "number",
            "Số thứ tự trong lĩnh vực (chung cho tieu_chi và so_lieu); có thể dùng số thập phân "
            "như 3.5 để chèn giữa hai dòng",
            "Position within the section, shared by tieu_chi and so_lieu; a decimal such as 3.5 "
            "inserts between two rows", required=True, width=6)
_CODE = _c("ma", "code", "code", "Mã chỉ tiêu: mã lĩnh vực, dấu chấm, số", "Item code: the "
           "section's code, a dot, a number", required=True, width=10, example="TTHC.25")

SETTINGS = Sheet("cai_dat", "Thông tin chung của mẫu danh mục: mỗi dòng một khóa và giá trị",
                 "General settings: one key and its value per row", (
                     _c("khoa", "(key)", "code", "Khóa (xem danh sách bên dưới)",
                        "Key (listed below)", required=True, width=22),
                     _c("gia_tri", "(value)", "text", "Giá trị", "Value", required=True,
                        width=70),
                     _c("giai_thich", "(explanation)", "text",
                        "Giải thích (chỉ để đọc, khi nhập bỏ qua)",
                        "Explanation (for reading; ignored on import)", width=60),
                 ))


@dataclass(frozen=True)
class Setting:
    """One row of the settings sheet: its key, where it goes in the document, its kind."""

    key: str
    path: str  # code, scoring.scale, extends.code, basis[], terms.
    kind: str
    vi: str
    en: str
    required: bool = False


SETTING_ROWS = (
    Setting("dinh_dang", "format", "code", "Định dạng (cchc-checklist/1)",
            "Format (cchc-checklist/1)"),
    Setting("ma_mau", "code", "code", "Mã mẫu danh mục, chữ thường không dấu và gạch nối",
            "Template code: lower case, digits and hyphens", True),
    Setting("phien_ban", "version", "version", "Phiên bản (gõ dạng văn bản, ví dụ 2026.1)",
            "Version (typed as text, e.g. 2026.1)", True),
    Setting("ten_vi", "title_vi", "text", "Tên mẫu (tiếng Việt)", "Title (Vietnamese)", True),
    Setting("ten_en", "title_en", "text", "Tên mẫu (tiếng Anh)", "Title (English)", True),
    Setting("ap_dung_cho", "applies_to", "code", "Áp dụng cho: huyen, xa_3cap hoặc xa_2cap",
            "Applies to: huyen, xa_3cap or xa_2cap", True),
    Setting("cap_don_vi", "unit_level", "code", "Cấp đơn vị: district hoặc commune",
            "Unit level: district or commune", True),
    Setting("mo_hinh", "era", "code", "Mô hình chính quyền: 3cap hoặc 2cap",
            "Local-government model: 3cap or 2cap", True),
    Setting("hieu_luc_tu", "valid_from", "date", "Hiệu lực từ ngày (YYYY-MM-DD)",
            "Valid from (YYYY-MM-DD)"),
    Setting("hieu_luc_den", "valid_to", "date", "Hiệu lực đến ngày (YYYY-MM-DD)",
            "Valid to (YYYY-MM-DD)"),
    Setting("ghi_chu_vi", "notes_vi", "text", "Ghi chú (tiếng Việt)", "Notes (Vietnamese)"),
    Setting("ghi_chu_en", "notes_en", "text", "Ghi chú (tiếng Anh)", "Notes (English)"),
    Setting("thang_diem", "scoring.scale", "number",
            "Thang điểm: bằng tổng điểm tối đa các lĩnh vực", "Scale: the sections' points "
            "add up to it", True),
    Setting("cach_tinh_ty_le", "scoring.ratio_method", "code",
            "Cách chấm tỷ lệ: proportional (theo tỷ lệ đạt so với mục tiêu) hoặc threshold "
            "(đạt mục tiêu mới có điểm)", "Ratio scoring: proportional or threshold", True),
    Setting("he_so_dat_mot_phan", "scoring.partial_factor", "number",
            "Hệ số điểm khi đạt một phần (0 đến 1)", "Share of the points for 'partial' (0-1)",
            True),
    Setting("ke_thua_ma", "extends.code", "code",
            "Kế thừa: mã mẫu gốc đã ban hành (để trống nếu không kế thừa)",
            "Extends: code of the published base template (empty if none)"),
    Setting("ke_thua_phien_ban", "extends.version", "version",
            "Kế thừa: phiên bản của mẫu gốc", "Extends: version of the base template"),
    Setting("can_cu", "basis[]", "text", "Căn cứ: mỗi văn bản một dòng (lặp lại khóa can_cu)",
            "Legal basis: one document per row (repeat the key)"),
    Setting("thuat_ngu.", "terms.", "text",
            "Thuật ngữ theo mô hình, ví dụ thuat_ngu.one_stop_vi", "Era-dependent terms, e.g. "
            "thuat_ngu.one_stop_vi"),
)

CLASSES = Sheet("xep_loai", "Các mức xếp loại, mức cao nhất trước",
                "Result classes, best first", (
                    _c("ma", "code", "code", "Mã mức", "Class code", required=True, width=8),
                    _c("toi_thieu", "min", "number", "Tỷ lệ điểm tối thiểu (%)",
                       "Lowest percent of the class", required=True, width=10),
                    _c("ten_vi", "vi", "text", "Tên mức (tiếng Việt)", "Name (Vietnamese)",
                       required=True, width=20),
                    _c("ten_en", "en", "text", "Tên mức (tiếng Anh)", "Name (English)",
                       required=True, width=20),
                ))

SECTIONS = Sheet("linh_vuc", "Các lĩnh vực, theo thứ tự trong danh mục",
                 "Sections, in checklist order", (
                     _c("thu_tu", "order", "integer", "Thứ tự hiển thị", "Display order",
                        required=True, width=7),
                     _c("ma", "code", "code", "Mã lĩnh vực (chữ in hoa, số)",
                        "Section code (capitals, digits)", required=True, width=9,
                        example="TTHC"),
                     *_TITLES,
                     _c("diem_toi_da", "max_points", "number",
                        "Điểm tối đa: bằng tổng điểm các chỉ tiêu của lĩnh vực",
                        "Points: the items' points add up to it", required=True, width=12),
                     _c("khong_bat_buoc", "optional", "flag",
                        "Không bắt buộc ('có'): nếu không chấm chỉ tiêu nào thì bỏ khỏi điểm "
                        "tối đa", "Optional ('có'): left out when nothing in it is answered",
                        width=9),
                     _c("dieu_kien", "relevant", "text",
                        "Điều kiện áp dụng cả lĩnh vực (không dùng chỉ tiêu của chính lĩnh vực)",
                        "Condition for the whole section (not over its own items)", width=26,
                        example='unit.kind == "Phường"'),
                 ))

CRITERIA = Sheet("tieu_chi", "Tiêu chí chấm: có/không (yesno), chấm điểm (score), văn bản "
                 "(text), ảnh (photo)", "Criteria: yesno, score, text, photo", (
                     _ORDER, _CODE,
                     _c("loai", "kind", "code", "Loại: yesno, score, text hoặc photo",
                        "Kind: yesno, score, text or photo", required=True, width=8),
                     *_TITLES,
                     _c("diem_toi_da", "max_points", "number",
                        "Điểm tối đa (yesno, score); để trống với text, photo",
                        "Points (yesno, score); empty for text, photo", width=12),
                     *_HINTS,
                 ))

COUNTS = Sheet("so_lieu", "Số liệu (count) và tỷ lệ (ratio) tính từ số liệu",
               "Counts and rates computed from counts", (
                   _ORDER, _CODE,
                   _c("loai", "kind", "code", "Loại: count hoặc ratio", "Kind: count or ratio",
                      required=True, width=8),
                   *_TITLES,
                   _c("don_vi_vi", "unit_vi", "text", "Đơn vị tính (tiếng Việt, số liệu)",
                      "Unit (Vietnamese, counts)", width=10),
                   _c("don_vi_en", "unit_en", "text", "Đơn vị tính (tiếng Anh, số liệu)",
                      "Unit (English, counts)", width=10),
                   _c("tu_so", "ratio.numerator", "codes",
                      "Tử số của tỷ lệ: mã số liệu, nối bằng +", "Ratio numerator: count codes "
                      "joined by +", width=16, example="TTHC.27 + TTHC.29"),
                   _c("mau_so", "ratio.denominator", "codes", "Mẫu số của tỷ lệ",
                      "Ratio denominator", width=16),
                   _c("muc_tieu", "target", "target", "Mục tiêu của tỷ lệ, %",
                      "Ratio target, percent", width=9, example=">= 98"),
                   _c("nguon_muc_tieu", "target.source", "text", "Nguồn của mục tiêu",
                      "Source of the target", width=24),
                   _c("diem_toi_da", "max_points", "number",
                      "Điểm tối đa (tỷ lệ có mục tiêu)", "Points (a ratio with a target)",
                      width=9),
                   _c("chi_so", "indicator", "code", "Tên chỉ số dùng trong báo cáo",
                      "Indicator key for reports", width=14, example="on_time_rate"),
                   _c("cong_thuc", "compute", "text",
                      "Công thức của số liệu tính tự động (thay cho nhập tay)",
                      "Formula of a computed count (instead of typing it)", width=26,
                      example="count(HS, HS.TRA > HS.HEN)"),
                   *_HINTS,
               ))

RULES = Sheet("quy_tac", "Quy tắc kiểm tra tính nhất quán của số liệu",
              "Consistency rules over the counts", (
                  _c("ma", "id", "code", "Mã quy tắc", "Rule id", required=True, width=7,
                     example="R08"),
                  _c("muc_do", "severity", "code", "Mức: error, warning, finding hoặc info",
                     "Severity: error, warning, finding or info", required=True, width=9),
                  _c("bieu_thuc", "expr", "text", "Biểu thức so sánh", "Comparison",
                     required=True, width=36, example="TTHC.26 <= TTHC.25"),
                  _c("mac_dinh", "defaults", "defaults",
                     "Giá trị dùng khi số liệu để trống: MÃ = số; nhiều mã cách nhau bằng ;",
                     "Values for empty counts: CODE = number, separated by ;", width=18,
                     example="TTHC.30 = 0"),
                  _c("thong_bao_vi", "message_vi", "text", "Thông báo khi vi phạm (tiếng Việt)",
                     "Message (Vietnamese)", required=True, width=48),
                  _c("thong_bao_en", "message_en", "text", "Thông báo (tiếng Anh)",
                     "Message (English)", required=True, width=40),
                  _c("goi_y_kien_nghi", "suggests", "codes",
                     "Kiến nghị gợi ý khi vi phạm: mã, cách nhau bằng dấu phẩy",
                     "Recommendations to offer: codes separated by commas", width=16),
              ))

RECOMMENDATIONS = Sheet("kien_nghi", "Thư viện kiến nghị", "Recommendation library", (
    _c("ma", "code", "code", "Mã kiến nghị", "Code", required=True, width=14,
       example="REC.TTHC.02"),
    _c("linh_vuc", "section", "code", "Mã lĩnh vực", "Section code", required=True, width=9),
    _c("tieu_chi", "items", "codes",
       "Gợi ý khi các chỉ tiêu này không đạt (mã, cách nhau bằng dấu phẩy); để trống: "
       "kiến nghị chung của lĩnh vực", "Offered when these items fall short; empty: the "
       "section's general recommendation", width=16),
    _c("noi_dung_vi", "text_vi", "text", "Nội dung (tiếng Việt)", "Text (Vietnamese)",
       required=True, width=60),
    _c("noi_dung_en", "text_en", "text", "Nội dung (tiếng Anh)", "Text (English)",
       required=True, width=50),
    _c("nguon", "source", "text", "Nguồn", "Source", width=20),
))

GROUPS = Sheet("nhom_mau", "Nhóm lặp: các trường ghi cho từng mẫu (ví dụ từng hồ sơ kiểm tra "
               "xác suất)", "Repeat groups: fields recorded for each sample (e.g. each sampled "
               "dossier)", (
                   _c("ma", "code", "code", "Mã nhóm (không trùng mã lĩnh vực)",
                      "Group code (not a section's code)", required=True, width=8,
                      example="HS"),
                   _c("linh_vuc", "section", "code", "Lĩnh vực hiển thị nhóm",
                      "Section it is shown in", required=True, width=9),
                   *_TITLES,
                   _c("so_mau_toi_thieu", "min", "integer", "Số mẫu tối thiểu",
                      "Smallest number of samples", required=True, width=9),
                   _c("so_mau_toi_da", "max", "integer", "Số mẫu tối đa (1 đến 100)",
                      "Largest number of samples (1-100)", required=True, width=9),
                   _c("huong_dan_vi", "hint_vi", "text", "Hướng dẫn chọn mẫu (tiếng Việt)",
                      "How to sample (Vietnamese)", width=30),
                   _c("huong_dan_en", "hint_en", "text", "Hướng dẫn chọn mẫu (tiếng Anh)",
                      "How to sample (English)", width=26),
                   _c("dieu_kien", "relevant", "text", "Điều kiện áp dụng nhóm",
                      "Condition for the group", width=20, example="TTHC.20 > 0"),
               ))

FIELDS = Sheet("truong_mau", "Các trường của nhóm lặp, theo thứ tự hiển thị",
               "Fields of the repeat groups, in display order", (
                   _c("ma", "code", "code", "Mã trường: mã nhóm, dấu chấm, tên",
                      "Field code: the group's code, a dot, a name", required=True, width=12,
                      example="HS.HEN"),
                   _c("loai", "kind", "code", "Loại: yesno, number, date hoặc text",
                      "Kind: yesno, number, date or text", required=True, width=8),
                   *_TITLES,
                   _c("huong_dan_vi", "hint_vi", "text", "Hướng dẫn (tiếng Việt)",
                      "Hint (Vietnamese)", width=30),
                   _c("huong_dan_en", "hint_en", "text", "Hướng dẫn (tiếng Anh)",
                      "Hint (English)", width=26),
               ))

SHEETS = (SETTINGS, CLASSES, SECTIONS, CRITERIA, COUNTS, RULES, RECOMMENDATIONS, GROUPS,
          FIELDS)
CRITERIA_KINDS = ("yesno", "score", "text", "photo")
COUNT_KINDS = ("count", "ratio")
# Items fields in the JSON format, in the order they are written.
_ITEM_KEYS = ("code", "kind", "title_vi", "title_en", "max_points", "evidence_hint_vi",
              "evidence_hint_en", "unit_vi", "unit_en", "ratio", "target", "indicator",
              "note_vi", "note_en", "relevant", "compute")


# ----------------------------------------------------------------------------- writing


def _show(number: Any) -> str:
    """A number as people write it: 12, 1.5 (never 12.0 or 1.5000000001)."""
    if isinstance(number, float) and number.is_integer():
        return str(int(number))
    return str(number)


def _cell_value(value: Any, kind: str) -> Any:
    """What a document value becomes in a cell."""
    if value is None:
        return None
    if kind == "codes":
        return ", ".join(value) or None
    if kind == "defaults":
        return "; ".join(f"{code} = {_show(v)}" for code, v in value.items()) or None
    if kind == "target":
        return f"{value['op']} {_show(value['value'])}"
    if kind == "flag":
        return "có" if value else None
    return value


def _row_for_item(item: dict, position: int, sheet: Sheet) -> list:
    values = []
    for column in sheet.columns:
        if column.key == "stt":
            values.append(position)
        elif column.name == "ratio.numerator":
            values.append(" + ".join(item["ratio"]["numerator"]) if item.get("ratio") else None)
        elif column.name == "ratio.denominator":
            values.append(" + ".join(item["ratio"]["denominator"]) if item.get("ratio")
                          else None)
        elif column.name == "target.source":
            values.append((item.get("target") or {}).get("source"))
        else:
            values.append(_cell_value(item.get(column.name), column.kind))
    return values


def _settings_rows(doc: dict) -> list[list]:
    rows = []
    notes = {s.key: s for s in SETTING_ROWS}
    for setting in SETTING_ROWS:
        if setting.path == "basis[]":
            for entry in doc.get("basis") or []:
                rows.append([setting.key, entry, setting.vi])
            continue
        if setting.path == "terms.":
            for key, value in (doc.get("terms") or {}).items():
                rows.append([setting.key + key, value, setting.vi])
            continue
        value: Any = doc
        for part in setting.path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is None and not setting.required and setting.key != "dinh_dang":
            continue
        rows.append([setting.key, value, notes[setting.key].vi])
    return rows


def workbook_rows(doc: dict) -> dict[str, list[list]]:
    """The rows (without header) of every sheet for a validated template document."""
    rows: dict[str, list[list]] = {sheet.name: [] for sheet in SHEETS}
    rows[SETTINGS.name] = _settings_rows(doc)
    for cls in doc["scoring"]["classes"]:
        rows[CLASSES.name].append([cls["code"], cls["min"], cls["vi"], cls["en"]])
    for section in doc["sections"]:
        rows[SECTIONS.name].append([_cell_value(section.get(c.name), c.kind)
                                    for c in SECTIONS.columns])
        for position, item in enumerate(section["items"], start=1):
            sheet = COUNTS if item["kind"] in COUNT_KINDS else CRITERIA
            rows[sheet.name].append(_row_for_item(item, position, sheet))
    for rule in doc.get("rules", []):
        rows[RULES.name].append([_cell_value(rule.get(c.name), c.kind) for c in RULES.columns])
    for rec in doc.get("recommendations", []):
        rows[RECOMMENDATIONS.name].append([_cell_value(rec.get(c.name), c.kind)
                                           for c in RECOMMENDATIONS.columns])
    for group in doc.get("repeats", []):
        rows[GROUPS.name].append([_cell_value(group.get(c.name), c.kind)
                                  for c in GROUPS.columns])
        for field_ in group["fields"]:
            rows[FIELDS.name].append([_cell_value(field_.get(c.name), c.kind)
                                      for c in FIELDS.columns])
    return rows


def guide_rows() -> list[list]:
    """The rows of the huong_dan sheet: every sheet and column, in both languages."""
    rows = [["trang (sheet)", "cột (column)", "tên tiếng Anh (English name)", "bắt buộc",
             "ý nghĩa", "meaning", "ví dụ (example)"]]
    for sheet in SHEETS:
        rows.append([sheet.name, "", "", "", sheet.vi, sheet.en, ""])
        for column in sheet.columns:
            rows.append([sheet.name, column.key, column.name, "có" if column.required else "",
                         column.vi, column.en, column.example])
    for setting in SETTING_ROWS:
        rows.append([SETTINGS.name + " · khoa", setting.key, setting.path,
                     "có" if setting.required else "", setting.vi, setting.en, ""])
    for vi, en, example in _LANGUAGE_NOTES:
        rows.append(["biểu thức", "", "", "", vi, en, example])
    return rows


_LANGUAGE_NOTES = (
    ("Quy tắc, điều kiện và công thức dùng mã chỉ tiêu số liệu, số, + - * /, so sánh "
     "(== != < <= > >=), and, or và dấu ngoặc.", "Rules, conditions and formulas use count "
     "codes, numbers, + - * /, comparisons, and, or, parentheses.", "TTHC.26 <= TTHC.25"),
    ("Điều kiện có thể so sánh loại hoặc cấp đơn vị với một chuỗi trong dấu nháy (không phân "
     "biệt hoa thường).", "Conditions may compare the unit's kind or level with a quoted text "
     "(case-insensitive).", 'unit.kind != "Phường" and unit.level == "commune"'),
    ("Với nhóm lặp: count(HS) là số mẫu; count(HS, điều kiện) số mẫu thỏa điều kiện; "
     "sum(HS, giá trị) tổng; share(HS, điều kiện) tỷ lệ % mẫu thỏa điều kiện. Trường có/không "
     "là 1/0, ngày là số ngày (trừ hai ngày ra số ngày chênh lệch).", "Over repeat groups: "
     "count(HS), count(HS, cond), sum(HS, value), share(HS, cond) in percent. Yes/no fields "
     "are 1/0, dates are days.", "share(HS, HS.TRA <= HS.HEN) >= 95"),
    ("Các ô chỉ chứa giá trị, không dùng công thức Excel (dán bằng Paste Special → Values).",
     "Cells hold values only, no Excel formulas (paste as values).", ""),
)


def write_workbook(doc: dict) -> bytes:
    """A validated template document as XLSX bytes (one sheet per part, and huong_dan)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.utils.exceptions import IllegalCharacterError
    from openpyxl.worksheet.datavalidation import DataValidation

    problems: list[dict] = []
    workbook = Workbook()
    workbook.remove(workbook.active)
    header_font = Font(bold=True, color="FFFFFF")
    header_fill = PatternFill("solid", fgColor="1F4E79")
    wrap = Alignment(wrap_text=True, vertical="top")
    all_rows = workbook_rows(doc)
    layout = [(sheet, [c.key for c in sheet.columns], [c.width for c in sheet.columns],
               all_rows[sheet.name]) for sheet in SHEETS]
    guide = guide_rows()
    layout.append((None, guide[0], [16, 18, 22, 8, 60, 50, 30], guide[1:]))
    for sheet, header, widths, rows in layout:
        ws = workbook.create_sheet(sheet.name if sheet else GUIDE_SHEET)
        ws.append(header)
        for cell in ws[1]:
            cell.font, cell.fill = header_font, header_fill
        for r, row in enumerate(rows, start=2):
            for c, value in enumerate(row, start=1):
                if isinstance(value, str) and len(value) > MAX_CELL_TEXT:
                    problems.append(_writing_problem(ws.title, r, header[c - 1], "too_long"))
                    continue
                try:
                    cell = ws.cell(r, c, value)
                except IllegalCharacterError:
                    problems.append(_writing_problem(ws.title, r, header[c - 1], "control"))
                    continue
                cell.alignment = wrap
                if isinstance(value, str):
                    cell.data_type = "s"  # a text starting with "=" stays text, not a formula
        for c, width in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(c)].width = width
        # Spreadsheet programs do not grow rows to fit wrapped text when they open a file, so
        # each row gets the height its longest text needs (about one line per column width).
        for r, row in enumerate(rows, start=2):
            lines = max([1] + [sum(-(-len(part) // max(widths[c] - 1, 1)) or 1
                                   for part in value.split("\n"))
                               for c, value in enumerate(row) if isinstance(value, str)])
            if lines > 1:
                ws.row_dimensions[r].height = min(15 * lines, 400)
        ws.freeze_panes = "A2"
        ws.print_title_rows = "1:1"
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        if sheet is not None:
            for c, column in enumerate(sheet.columns, start=1):
                choices = _CHOICES.get((sheet.name, column.key))
                if choices:
                    letter = get_column_letter(c)
                    rule = DataValidation(type="list", formula1=f'"{",".join(choices)}"',
                                          allow_blank=True)
                    rule.add(f"{letter}2:{letter}{MAX_ROWS}")
                    ws.add_data_validation(rule)
    if problems:
        raise SpreadsheetError(problems)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


_CHOICES = {
    ("tieu_chi", "loai"): CRITERIA_KINDS,
    ("so_lieu", "loai"): COUNT_KINDS,
    ("quy_tac", "muc_do"): ("error", "warning", "finding", "info"),
    ("truong_mau", "loai"): ("yesno", "number", "date", "text"),
    ("linh_vuc", "khong_bat_buoc"): ("có", "không"),
}


def _writing_problem(sheet: str, row: int, column: str, why: str) -> dict:
    en, vi = {
        "too_long": (f"longer than the {MAX_CELL_TEXT} characters a cell can hold",
                     f"dài hơn {MAX_CELL_TEXT} ký tự mà một ô chứa được"),
        "control": ("holds control characters that XLSX cannot store",
                    "có ký tự điều khiển mà XLSX không lưu được"),
    }[why]
    return {"path": "", "sheet": sheet, "row": row, "column": column,
            "message": f"The text is {en}.", "message_vi": f"Nội dung {vi}."}


# ----------------------------------------------------------------------------- reading


@dataclass
class Reading:
    """What a workbook held: the document built from it, the problems found while reading,
    and where each part of the document came from (``locate``)."""

    document: dict
    problems: list[dict] = field(default_factory=list)
    locations: dict[str, dict] = field(default_factory=dict)

    @property
    def blocked(self) -> bool:
        """Whether the file's structure is broken (so the document is not worth validating)."""
        return any(p.get("structure") for p in self.problems)

    def locate(self, path: str) -> dict | None:
        """The sheet, row, column, cell and value a document path came from (the nearest
        enclosing part that has one), or None for the file as a whole."""
        while True:
            if path in self.locations:
                return self.locations[path]
            trimmed = re.sub(r'(\[[^\]]*\]|\.[A-Za-z_][A-Za-z0-9_]*)$', "", path)
            if trimmed == path or not path:
                return self.locations.get("")
            path = trimmed

    def problem(self, path: str, message: str, message_vi: str) -> dict:
        """A problem about a document path, placed at its cell."""
        where = self.locate(path) or {}
        return {"path": path, **where, "message": message, "message_vi": message_vi}


def _problem(message: str, message_vi: str, **where) -> dict:
    return {"path": "", **where, "message": message, "message_vi": message_vi}


def _blocking(message: str, message_vi: str, **where) -> dict:
    """A problem with the file's structure (not XLSX, a sheet, column or setting missing): the
    document built from it is not worth validating until it is fixed."""
    return _problem(message, message_vi, **where) | {"structure": True}


def _key(header: Any) -> str:
    """A header as a key: no diacritics, lower case, spaces as underscores ("Điểm tối đa" is
    diem_toi_da)."""
    text = unicodedata.normalize("NFD", str(header)).replace("đ", "d").replace("Đ", "D")
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"[\s\-]+", "_", text.strip().lower())


_YES = {"co", "x", "yes", "true", "1", "dung"}
_NO = {"khong", "no", "false", "0", "sai", ""}
_NUMBER = re.compile(r"[+-]?[0-9]+(?:[.,][0-9]+)?")
_TARGET = re.compile(r"(>=|≥|>|<=|≤|<|==|=)?\s*([+-]?[0-9]+(?:[.,][0-9]+)?)\s*%?")
_DEFAULT = re.compile(r"([A-Za-z][A-Za-z0-9]*\.[A-Za-z0-9]+)\s*=\s*([+-]?[0-9]+(?:[.,][0-9]+)?)")


class _Bad(ValueError):
    """A cell whose value is not of its column's kind."""

    def __init__(self, en: str, vi: str) -> None:
        super().__init__(en)
        self.en, self.vi = en, vi


def _as_number(text: str) -> int | float:
    text = text.replace(",", ".")
    return float(text) if "." in text else int(text)


def _parse(value: Any, kind: str) -> Any:
    """A cell's value as its column's kind wants it; None for an empty cell."""
    if isinstance(value, str) and not value.strip():
        return None
    if value is None:
        return None
    if kind in ("text", "code", "version", "date"):
        if isinstance(value, bool):
            raise _Bad("Not a text (a TRUE/FALSE cell).", "Không phải văn bản (ô TRUE/FALSE).")
        if isinstance(value, dt.datetime):
            value = value.date() if value.time() == dt.time() else value
        if isinstance(value, (dt.date, dt.datetime)):
            return value.isoformat()
        if isinstance(value, (int, float)):
            return _show(value)
        return value.strip() if kind != "text" else value
    if kind in ("number", "integer"):
        if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
            value = _as_number(value.strip())
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _Bad("Not a number.", "Không phải là số.")
        if kind == "integer":
            if not float(value).is_integer():
                raise _Bad("Not a whole number.", "Không phải số nguyên.")
            return int(value)
        return value
    if kind == "flag":
        if isinstance(value, bool):
            return value
        word = _key(_show(value) if isinstance(value, (int, float)) else value)
        if word in _YES:
            return True
        if word in _NO:
            return False
        raise _Bad("Not yes or no: write 'có' or leave the cell empty.",
                   "Không phải có/không: ghi 'có' hoặc để trống.")
    text = _show(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
        else value
    if not isinstance(text, str):
        raise _Bad("Not a text.", "Không phải văn bản.")
    if kind == "codes":
        return [code for code in re.split(r"[\s,;+]+", text) if code]
    if kind == "defaults":
        defaults = {}
        for part in (p.strip() for p in re.split(r"[;\n]", text)):
            match = _DEFAULT.fullmatch(part)
            if part and not match:
                raise _Bad(f"{part!r} is not 'CODE = number'.",
                           f"{part!r} không có dạng 'MÃ = số'.")
            if match:
                defaults[match.group(1)] = _as_number(match.group(2))
        return defaults
    if kind == "target":
        match = _TARGET.fullmatch(text.strip())
        if not match:
            raise _Bad("Not a target such as '>= 98'.", "Không phải mục tiêu dạng '>= 98'.")
        op = {"≥": ">=", "≤": "<=", "=": "=="}.get(match.group(1), match.group(1) or ">=")
        return {"op": op, "value": _as_number(match.group(2))}
    raise AssertionError(kind)


def _shown(value: Any) -> str:
    """A cell's value as a problem quotes it (shortened)."""
    text = _show(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
        else str(value)
    text = re.sub(r"[\x00-\x1f\x7f]", " ", text)
    return text if len(text) <= 60 else text[:57] + "…"


def _sniff(data: bytes) -> list[dict]:
    """Problems that make ``data`` no XLSX workbook we will open, checked on the raw bytes."""
    if len(data) > MAX_BYTES:
        return [_blocking(TOO_BIG_EN, TOO_BIG_VI)]
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return [_blocking(
            "This is an Excel 97-2003 (.xls) or password-protected file: save it as an "
            "unprotected Excel workbook (.xlsx).",
            "Đây là tệp Excel 97-2003 (.xls) hoặc tệp có mật khẩu: hãy lưu lại thành tệp "
            "Excel Workbook (.xlsx) không đặt mật khẩu.")]
    not_xlsx = _blocking("This is not an XLSX workbook (nor a JSON template).",
                        "Tệp này không phải bảng tính XLSX (cũng không phải JSON).")
    if not data.startswith(b"PK\x03\x04"):
        return [not_xlsx]
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
            names = {p.filename for p in parts}
            mimetype = archive.read("mimetype")[:80] if "mimetype" in names \
                and archive.getinfo("mimetype").file_size < 200 else b""
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
        return [_blocking("The file is damaged: it is not a readable XLSX (ZIP) archive.",
                         "Tệp bị hỏng: không đọc được như một bảng tính XLSX (ZIP).")]
    if b"opendocument" in mimetype:
        return [_blocking("This is an OpenDocument spreadsheet (.ods): save it as .xlsx.",
                         "Đây là bảng tính OpenDocument (.ods): hãy lưu lại thành .xlsx.")]
    if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
        return [not_xlsx]
    if len(parts) > MAX_PARTS or sum(p.file_size for p in parts) > MAX_UNCOMPRESSED \
            or any(p.file_size > MAX_UNCOMPRESSED for p in parts):
        return [_blocking(
            f"The workbook unpacks to more than {MAX_UNCOMPRESSED // (1024 * 1024)} MB or "
            f"{MAX_PARTS} parts: far more than a checklist needs (a ZIP bomb?).",
            f"Bảng tính giải nén ra hơn {MAX_UNCOMPRESSED // (1024 * 1024)} MB hoặc "
            f"{MAX_PARTS} phần: quá nhiều so với một danh mục (có thể là tệp độc hại).")]
    return []


@dataclass
class _Row:
    """One data row of a sheet: its number, the parsed values by column key, the raw cells."""

    number: int
    values: dict[str, Any]
    cells: dict[str, tuple[str, Any]]  # column key -> (cell reference, raw value)


def _read_sheet(ws, sheet: Sheet | None, problems: list[dict]) -> list[_Row]:
    """Header and rows of one sheet; problems for unknown, missing or repeated columns and for
    every cell that is a formula, an error or of the wrong kind."""
    from openpyxl.utils import get_column_letter

    name = ws.title
    columns = {c.key: c for c in sheet.columns}
    aliases = {_key(c.name): c.key for c in sheet.columns if not c.name.startswith("(")}
    header: dict[int, str] = {}
    rows: list[_Row] = []
    for r, cells in enumerate(ws.iter_rows(max_col=MAX_COLUMNS), start=1):
        # Rows that are only formatted count towards the second, larger limit.
        if len(rows) >= MAX_ROWS or r > MAX_SCANNED_ROWS:
            problems.append(_blocking(
                f"Sheet '{name}' has more than {MAX_ROWS} rows.",
                f"Trang '{name}' có hơn {MAX_ROWS} dòng.", sheet=name, row=r))
            break
        if r == 1:
            for c, cell in enumerate(cells, start=1):
                if cell.value is None or str(cell.value).strip() == "":
                    continue
                key = _key(cell.value)
                key = aliases.get(key, key)
                where = {"sheet": name, "row": 1, "cell": f"{get_column_letter(c)}1",
                         "value": _shown(cell.value)}
                if key not in columns:
                    problems.append(_blocking(
                        f"Unknown column {str(cell.value)!r} (see the huong_dan sheet).",
                        f"Cột {str(cell.value)!r} không có trong mẫu (xem trang huong_dan).",
                        **where))
                elif key in header.values():
                    problems.append(_blocking(f"Column {key!r} appears twice.",
                                             f"Cột {key!r} xuất hiện hai lần.", **where))
                else:
                    header[c] = key
            for column in sheet.columns:
                if column.required and column.key not in header.values():
                    problems.append(_blocking(
                        f"Sheet '{name}' has no column {column.key!r} ({column.name}).",
                        f"Trang '{name}' thiếu cột {column.key!r} ({column.vi}).",
                        sheet=name, row=1, column=column.key))
            continue
        row = _Row(r, {}, {})
        for c, cell in enumerate(cells, start=1):
            value = cell.value
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            ref = f"{get_column_letter(c)}{r}"
            key = header.get(c)
            where = {"sheet": name, "row": r, "column": key or get_column_letter(c),
                     "cell": ref, "value": _shown(value)}
            if key is None:
                problems.append(_problem(
                    "A value in a column without a known header.",
                    "Có giá trị trong một cột không có tiêu đề hợp lệ.", **where))
                continue
            row.cells[key] = (ref, value)
            if cell.data_type == "f":
                problems.append(_problem(
                    "A formula: cells must hold values (paste as values).",
                    "Ô chứa công thức: chỉ được chứa giá trị (dán bằng Paste Special → "
                    "Values).", **where))
                continue
            if cell.data_type == "e":
                problems.append(_problem("The cell holds an error value.",
                                         "Ô đang chứa giá trị lỗi.", **where))
                continue
            try:
                parsed = _parse(value, columns[key].kind)
            except _Bad as bad:
                problems.append(_problem(bad.en, bad.vi, **where))
                continue
            if parsed is not None:
                row.values[key] = parsed
        if row.cells:
            rows.append(row)
    return rows


def _load(data: bytes, problems: list[dict]):
    """The openpyxl workbook (read-only), or None with a problem saying why not."""
    import openpyxl

    try:
        with warnings.catch_warnings():
            # openpyxl warns about parts it skips (extensions, styles): nothing to tell people.
            warnings.simplefilter("ignore")
            return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False,
                                          keep_links=False, keep_vba=False)
    except Exception:  # noqa: BLE001 — hostile files make openpyxl raise almost anything
        problems.append(_blocking("The workbook is damaged or not in the XLSX format.",
                                  "Bảng tính bị hỏng hoặc không đúng định dạng XLSX."))
        return None


def read_workbook(data: bytes) -> Reading:
    """Read a workbook into a template document (not yet validated) with its problems and the
    place every part of the document came from."""
    reading = Reading({})
    reading.problems = _sniff(data)
    if reading.problems:
        return reading
    workbook = _load(data, reading.problems)
    if workbook is None:
        return reading
    sheets: dict[str, list[_Row]] = {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            names = {_key(n): n for n in workbook.sheetnames}
            for sheet in SHEETS:
                if sheet.name not in names:
                    reading.problems.append(_blocking(
                        f"The workbook has no sheet {sheet.name!r} ({sheet.en}).",
                        f"Bảng tính thiếu trang {sheet.name!r} ({sheet.vi}).",
                        sheet=sheet.name))
                    continue
                sheets[sheet.name] = _read_sheet(workbook[names[sheet.name]], sheet,
                                                 reading.problems)
    except Exception:  # noqa: BLE001 — a damaged sheet part fails while rows are read
        reading.problems.append(_blocking("The workbook is damaged or not in the XLSX format.",
                                          "Bảng tính bị hỏng hoặc không đúng định dạng XLSX."))
        return reading
    finally:
        workbook.close()
    if len(sheets) == len(SHEETS):
        _build(reading, sheets)
    return reading


# --------------------------------------------------------------------- rows to a document


def _place(reading: Reading, path: str, sheet: str, row: _Row, key: str | None) -> None:
    """Remember that ``path`` came from this row (and column, when given)."""
    where: dict[str, Any] = {"sheet": sheet, "row": row.number}
    if key is not None:
        where["column"] = key
        if key in row.cells:
            ref, raw = row.cells[key]
            where["cell"], where["value"] = ref, _shown(raw)
    reading.locations[path] = where


def _record(reading: Reading, path: str, sheet: Sheet, row: _Row,
            names: Iterable[tuple[str, str]] | None = None) -> dict:
    """A document object from a row: each column's value under its JSON name (empty cells
    left out, so the schema's defaults apply), with the place of each."""
    _place(reading, path, sheet.name, row, None)
    out: dict[str, Any] = {}
    pairs = names or [(c.key, c.name) for c in sheet.columns]
    for key, name in pairs:
        _place(reading, f"{path}.{name}", sheet.name, row, key)
        if key in row.values:
            out[name] = row.values[key]
    return out


def _build(reading: Reading, sheets: dict[str, list[_Row]]) -> None:
    doc = reading.document
    problems = reading.problems
    _build_settings(reading, sheets[SETTINGS.name])

    classes = []
    for i, row in enumerate(sheets[CLASSES.name]):
        classes.append(_record(reading, f"scoring.classes[{i}]", CLASSES, row))
    doc.setdefault("scoring", {})["classes"] = classes
    reading.locations.setdefault("scoring.classes", {"sheet": CLASSES.name})

    sections: list[dict] = []
    by_code: dict[str, tuple[int, list]] = {}
    for s, row in enumerate(sheets[SECTIONS.name]):
        section = _record(reading, f"sections[{s}]", SECTIONS, row)
        sections.append(section)
        by_code.setdefault(section.get("code"), (s, []))
    doc["sections"] = sections
    reading.locations.setdefault("sections", {"sheet": SECTIONS.name})

    for sheet in (CRITERIA, COUNTS):
        other = COUNTS if sheet is CRITERIA else CRITERIA
        for n, row in enumerate(sheets[sheet.name]):
            code = row.values.get("ma")
            where = {"sheet": sheet.name, "row": row.number}
            if not isinstance(code, str):
                if "ma" not in row.cells:
                    problems.append(_problem("The item has no code.", "Chỉ tiêu chưa có mã.",
                                             column="ma", **where))
                continue
            kind = row.values.get("loai")
            if kind in (COUNT_KINDS if other is COUNTS else CRITERIA_KINDS):
                ref, raw = row.cells["loai"]
                problems.append(_problem(
                    f"A {kind} item belongs in sheet {other.name!r}.",
                    f"Chỉ tiêu loại {kind} phải ghi ở trang {other.name!r}.", column="loai",
                    cell=ref, value=_shown(raw), **where))
                continue
            found = by_code.get(code.split(".", 1)[0]) if "." in code else None
            if found is None:
                ref, raw = row.cells["ma"]
                problems.append(_problem(
                    f"Item {code!r} names no section of sheet 'linh_vuc' (the part before "
                    f"the dot is the section's code).",
                    f"Chỉ tiêu {code!r} không thuộc lĩnh vực nào ở trang 'linh_vuc' (phần "
                    f"trước dấu chấm là mã lĩnh vực).", column="ma", cell=ref,
                    value=_shown(raw), **where))
                continue
            order = row.values.get("stt")
            if order is None and "stt" not in row.cells:
                problems.append(_problem("The item has no position (stt).",
                                         "Chỉ tiêu chưa có số thứ tự (stt).", column="stt",
                                         **where))
            found[1].append((order if order is not None else float("inf"), sheet, n, row))

    for code, (s, rows) in by_code.items():
        rows.sort(key=lambda entry: (entry[0], entry[1] is COUNTS, entry[2]))
        seen: dict = {}
        items = []
        for i, (order, sheet, _n, row) in enumerate(rows):
            if order in seen and order != float("inf"):
                ref, raw = row.cells["stt"]
                problems.append(_problem(
                    f"Position {_show(order)} of section {code!r} is already used (sheet "
                    f"{seen[order][0]!r}, row {seen[order][1]}).",
                    f"Số thứ tự {_show(order)} trong lĩnh vực {code!r} đã dùng (trang "
                    f"{seen[order][0]!r}, dòng {seen[order][1]}).", sheet=sheet.name,
                    row=row.number, column="stt", cell=ref, value=_shown(raw)))
            seen.setdefault(order, (sheet.name, row.number))
            items.append(_item(reading, f"sections[{s}].items[{i}]", sheet, row))
        sections[s]["items"] = items

    rules = []
    for r, row in enumerate(sheets[RULES.name]):
        rules.append(_record(reading, f"rules[{r}]", RULES, row))
    doc["rules"] = rules
    recs = []
    for r, row in enumerate(sheets[RECOMMENDATIONS.name]):
        recs.append(_record(reading, f"recommendations[{r}]", RECOMMENDATIONS, row))
    doc["recommendations"] = recs

    if sheets[GROUPS.name] or sheets[FIELDS.name]:
        groups = []
        group_index: dict[str, dict] = {}
        for g, row in enumerate(sheets[GROUPS.name]):
            group = _record(reading, f"repeats[{g}]", GROUPS, row)
            group["fields"] = []
            groups.append(group)
            group_index.setdefault(group.get("code"), group)
            reading.locations[f"repeats[{g}].fields"] = {"sheet": GROUPS.name,
                                                         "row": row.number}
        for row in sheets[FIELDS.name]:
            code = row.values.get("ma")
            group = group_index.get(code.split(".", 1)[0]) if isinstance(code, str) else None
            if group is None:
                if isinstance(code, str):
                    ref, raw = row.cells["ma"]
                    problems.append(_problem(
                        f"Field {code!r} names no group of sheet 'nhom_mau' (the part before "
                        f"the dot is the group's code).",
                        f"Trường {code!r} không thuộc nhóm nào ở trang 'nhom_mau' (phần "
                        f"trước dấu chấm là mã nhóm).", sheet=FIELDS.name, row=row.number,
                        column="ma", cell=ref, value=_shown(raw)))
                elif "ma" not in row.cells:
                    problems.append(_problem("The field has no code.", "Trường chưa có mã.",
                                             sheet=FIELDS.name, row=row.number, column="ma"))
                continue
            g = groups.index(group)
            path = f"repeats[{g}].fields[{len(group['fields'])}]"
            group["fields"].append(_record(reading, path, FIELDS, row))
        doc["repeats"] = groups


def _item(reading: Reading, path: str, sheet: Sheet, row: _Row) -> dict:
    """An item from a tieu_chi or so_lieu row."""
    pairs = [(c.key, c.name) for c in sheet.columns if c.key != "stt"
             and not c.name.startswith(("ratio.", "target"))]
    item = _record(reading, path, sheet, row, pairs)
    if sheet is COUNTS:
        for key, part in (("tu_so", "numerator"), ("mau_so", "denominator")):
            _place(reading, f"{path}.ratio.{part}", sheet.name, row, key)
        _place(reading, f"{path}.ratio", sheet.name, row,
               "tu_so" if "tu_so" in row.cells or "mau_so" not in row.cells else "mau_so")
        if "tu_so" in row.values or "mau_so" in row.values:
            item["ratio"] = {"numerator": row.values.get("tu_so", []),
                             "denominator": row.values.get("mau_so", [])}
        for key in ("target", "target.op", "target.value"):
            _place(reading, f"{path}.{key}", sheet.name, row, "muc_tieu")
        _place(reading, f"{path}.target.source", sheet.name, row, "nguon_muc_tieu")
        if "muc_tieu" in row.values:
            item["target"] = dict(row.values["muc_tieu"])
            if "nguon_muc_tieu" in row.values:
                item["target"]["source"] = row.values["nguon_muc_tieu"]
        elif "nguon_muc_tieu" in row.values:
            item["target"] = {"source": row.values["nguon_muc_tieu"]}
    return item


def _build_settings(reading: Reading, rows: list[_Row]) -> None:
    doc = reading.document
    by_key = {s.key: s for s in SETTING_ROWS}
    seen: dict[str, int] = {}
    for row in rows:
        key = row.values.get("khoa")
        if key is None:
            if "gia_tri" in row.values:
                reading.problems.append(_problem(
                    "A value without a key.", "Có giá trị nhưng thiếu khóa.",
                    sheet=SETTINGS.name, row=row.number, column="khoa"))
            continue
        key = _key(key)
        where = {"sheet": SETTINGS.name, "row": row.number, "column": "khoa",
                 "cell": row.cells["khoa"][0], "value": _shown(row.cells["khoa"][1])}
        setting = by_key.get("thuat_ngu." if key.startswith("thuat_ngu.") else key)
        if setting is None:
            reading.problems.append(_problem(
                f"Unknown key {key!r} (see the huong_dan sheet).",
                f"Khóa {key!r} không có trong mẫu (xem trang huong_dan).", **where))
            continue
        if setting.path not in ("basis[]", "terms.") and key in seen:
            reading.problems.append(_problem(
                f"Key {key!r} appears twice (rows {seen[key]} and {row.number}).",
                f"Khóa {key!r} xuất hiện hai lần (dòng {seen[key]} và {row.number}).", **where))
            continue
        seen[key] = row.number
        try:
            value = _parse(row.cells["gia_tri"][1], setting.kind) if "gia_tri" in row.cells \
                else None
        except _Bad as bad:
            ref, raw = row.cells["gia_tri"]
            reading.problems.append(_problem(bad.en, bad.vi, sheet=SETTINGS.name,
                                             row=row.number, column="gia_tri", cell=ref,
                                             value=_shown(raw)))
            continue
        if setting.path == "basis[]":
            basis = doc.setdefault("basis", [])
            _place(reading, f"basis[{len(basis)}]", SETTINGS.name, row, "gia_tri")
            reading.locations.setdefault("basis", reading.locations[f"basis[{len(basis)}]"])
            if value is not None:
                basis.append(value)
            continue
        if setting.path == "terms.":
            term = key[len("thuat_ngu."):]
            terms = doc.setdefault("terms", {})
            path = f'terms["{term}"]' if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", term) \
                else f"terms.{term}"
            _place(reading, path, SETTINGS.name, row, "gia_tri")
            if value is not None:
                terms[term] = value
            continue
        _place(reading, setting.path, SETTINGS.name, row, "gia_tri")
        if value is None:
            continue
        target = doc
        *parents, last = setting.path.split(".")
        for part in parents:
            target = target.setdefault(part, {})
        target[last] = value
    doc.setdefault("format", "cchc-checklist/1")
    # Problems about a part as a whole (the sections' points against the scale, a rule the
    # base has and this one lacks) are shown at its sheet; the scoring object at the scale.
    if "scoring.scale" in reading.locations:
        reading.locations.setdefault("scoring", reading.locations["scoring.scale"])
    for path, sheet in (("rules", RULES), ("recommendations", RECOMMENDATIONS),
                        ("repeats", GROUPS), ("basis", SETTINGS), ("terms", SETTINGS)):
        reading.locations.setdefault(path, {"sheet": sheet.name})
    for setting in SETTING_ROWS:
        if setting.required and setting.path not in reading.locations:
            reading.locations[setting.path] = {"sheet": SETTINGS.name, "column": setting.key}
            reading.problems.append(_blocking(
                f"Sheet 'cai_dat' has no row {setting.key!r} ({setting.en}).",
                f"Trang 'cai_dat' thiếu dòng {setting.key!r} ({setting.vi}).",
                sheet=SETTINGS.name, column="khoa", value=setting.key))


def describe(problem: dict, language: str = "vi") -> str:
    """One line for a person: where the problem is, the value, and what is wrong."""
    vi = language != "en"
    message = problem.get("message_vi" if vi else "message") or problem.get("message", "")
    if not problem.get("sheet"):
        where = problem.get("path") or ""
        if problem.get("line"):
            return message
        return f"{where}: {message}" if where else message
    parts = [f"Trang '{problem['sheet']}'" if vi else f"Sheet '{problem['sheet']}'"]
    if problem.get("row"):
        parts.append(f"dòng {problem['row']}" if vi else f"row {problem['row']}")
    if problem.get("column"):
        cell = f" ({problem['cell']})" if problem.get("cell") else ""
        parts.append((f"cột '{problem['column']}'" if vi else f"column '{problem['column']}'")
                     + cell)
    value = f"'{problem['value']}' — " if problem.get("value") not in (None, "") else ""
    return ", ".join(parts) + ": " + value + message


def located(problems: Iterable[dict], reading: Reading | None) -> list[dict]:
    """Schema or extension problems (with document paths) placed at their cells."""
    if reading is None:
        return list(problems)
    return [reading.problem(p["path"], p["message"], p["message_vi"]) | {
        k: v for k, v in p.items() if k not in ("path", "message", "message_vi")}
        for p in problems]


def without_repeats(reader: list[dict], validator: list[dict]) -> list[dict]:
    """The reader's problems, then the validator's except those about a cell the reader has
    already refused (an unreadable value is also a missing one to the validator)."""
    refused = {(p.get("sheet"), p.get("cell")) for p in reader if p.get("cell")}
    return reader + [p for p in validator
                     if not (p.get("cell") and (p.get("sheet"), p.get("cell")) in refused)]


def sheet_names() -> list[str]:
    """The sheets a workbook must have, in order (huong_dan is optional and ignored)."""
    return [sheet.name for sheet in SHEETS]



# What the editor's forms reuse: a typed text read as a column of that kind reads it ("1,5" is
# one and a half, "TTHC.30 = 0; TTHC.29 = 0" a rule's defaults, ">= 98" a target).
BadValue = _Bad
parse_value = _parse
