"""Checklists as XLSX workbooks: every shipped template comes back equal, every problem is
reported at its sheet, row and column in both languages, and hostile files are refused."""

from __future__ import annotations

import copy
import io
import json
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inspection.checklists import DEFAULT_TEMPLATES, load_default
from inspection.checklists.format import load_template_json, validate_template
from inspection.checklists.spreadsheet import (
    MAX_BYTES,
    SHEETS,
    describe,
    read_workbook,
    write_workbook,
)
from inspection.errors import ValidationFailed
from inspection.services.checklists import read_checklist

ROOT = Path(__file__).resolve().parents[2]
MINIMAL = load_template_json((ROOT / "tests/data/checklists/minimal.json").read_bytes())
EXAMPLE = ROOT / "docs/examples/cchc-xa-2cap-caobang.json"
CONDITIONS = json.loads((ROOT / "tests/data/conditions_cases.json").read_text("utf-8"))


def edit(data: bytes, change) -> bytes:
    """The workbook with ``change(workbook)`` applied, as bytes again."""
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    change(workbook)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def problems(data: bytes) -> list[dict]:
    """Every problem of a file, as read_checklist reports them (it must refuse the file)."""
    with pytest.raises(ValidationFailed) as refused:
        read_checklist(data)
    found = refused.value.errors
    assert found and all(p["message"] and p["message_vi"] for p in found)
    assert refused.value.message_vi.count("\n") == len(found)  # one line per problem
    return found


def row_of(sheet, code: str) -> int:
    """The row of a code in column B (items) of a sheet."""
    return next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 2).value == code)


# ---------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("path", DEFAULT_TEMPLATES, ids=lambda p: p.stem)
def test_every_shipped_template_comes_back_equal(path):
    original = load_default(path.stem)
    document, _ = read_checklist(write_workbook(original))
    assert document == original


def test_a_template_with_conditions_samples_and_a_base_comes_back_equal():
    for source in (json.loads(EXAMPLE.read_text("utf-8")), CONDITIONS["template"]):
        original = validate_template(copy.deepcopy(source))
        document, _ = read_checklist(write_workbook(original))
        assert document == original
        assert document.get("repeats") == original.get("repeats")


def test_the_workbook_has_one_sheet_per_part_and_a_guide():
    workbook = openpyxl.load_workbook(io.BytesIO(write_workbook(MINIMAL)))
    assert workbook.sheetnames == [s.name for s in SHEETS] + ["huong_dan"]
    headers = [c.value for c in workbook["tieu_chi"][1]]
    assert headers[:6] == ["stt", "ma", "loai", "ten_vi", "ten_en", "diem_toi_da"]
    guide = [[c.value for c in row] for row in workbook["huong_dan"].iter_rows()]
    # Every column of every sheet is explained with its English (JSON) name.
    explained = {(r[0], r[1], r[2]) for r in guide}
    assert ("tieu_chi", "diem_toi_da", "max_points") in explained
    assert ("so_lieu", "cong_thuc", "compute") in explained
    assert ("nhom_mau", "so_mau_toi_da", "max") in explained


def test_text_that_looks_like_a_formula_stays_text():
    template = copy.deepcopy(MINIMAL)
    template["sections"][0]["items"][2]["title_vi"] = "=HYPERLINK(\"http://x\")"
    data = write_workbook(template)
    sheet = openpyxl.load_workbook(io.BytesIO(data))["tieu_chi"]
    cell = sheet.cell(row_of(sheet, "A.03"), 4)
    assert cell.data_type == "s"
    assert read_checklist(data)[0] == template


def test_headers_with_diacritics_or_english_names_are_understood():
    def rename(workbook):
        sheet = workbook["linh_vuc"]
        sheet["E1"] = "Điểm tối đa"
        sheet["C1"] = "title_vi"
    assert read_checklist(edit(write_workbook(MINIMAL), rename))[0] == MINIMAL


# ------------------------------------------------------------------- problems, in place


def test_a_word_for_a_number_is_reported_at_its_cell_in_both_languages():
    data = write_workbook(load_default("cchc-xa-2cap"))
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    row = row_of(workbook["tieu_chi"], "CDDH.05")

    def hai(workbook):
        workbook["tieu_chi"].cell(row, 6, "hai")
    [problem] = problems(edit(data, hai))
    assert (problem["sheet"], problem["row"], problem["column"], problem["cell"],
            problem["value"]) == ("tieu_chi", row, "diem_toi_da", f"F{row}", "hai")
    assert describe(problem) == \
        f"Trang 'tieu_chi', dòng {row}, cột 'diem_toi_da' (F{row}): 'hai' — Không phải là số."
    assert describe(problem, "en") == \
        f"Sheet 'tieu_chi', row {row}, column 'diem_toi_da' (F{row}): 'hai' — Not a number."


def test_every_problem_is_reported_at_once_and_nothing_is_read_as_valid():
    data = write_workbook(MINIMAL)

    def break_many(workbook):
        workbook["tieu_chi"]["F2"] = "=10+10"                     # a formula
        workbook["so_lieu"]["B3"] = "B.01"                        # a duplicate code
        workbook["quy_tac"]["C2"] = "B.02 = B.01"                 # a rule that does not parse
        workbook["quy_tac"]["C3"] = "B.09 <= B.01"                # an unknown code
        workbook["linh_vuc"]["G3"] = "B.01 > 0"                   # a condition over its own section
        workbook["linh_vuc"]["E2"] = 45                           # points that do not add up
    found = problems(edit(data, break_many))
    where = {(p["sheet"], p.get("cell")) for p in found}
    assert {("tieu_chi", "F2"), ("so_lieu", "B3"), ("quy_tac", "C2"), ("quy_tac", "C3"),
            ("linh_vuc", "G3")} <= where
    text = "\n".join(describe(p, "en") for p in found)
    assert "A formula" in text and "Duplicate code 'B.01'" in text
    assert "Rule does not parse at character 5: Use '==' to test equality" in text
    assert "Unknown item code 'B.09'" in text
    assert "depend on each other in a circle: section B → B.01 → section B" in text


def test_points_that_do_not_add_up_are_shown_at_the_section():
    def more(workbook):
        workbook["linh_vuc"]["E2"] = 45
    section, scale = problems(edit(write_workbook(MINIMAL), more))
    assert (section["sheet"], section["cell"]) == ("linh_vuc", "E2")
    assert "Điểm lĩnh vực 45 không khớp: tổng điểm các chỉ tiêu là 40" in section["message_vi"]
    # The sections now add up to 105: shown at the sections' sheet.
    assert (scale["sheet"], scale.get("row")) == ("linh_vuc", None)
    assert "Tổng điểm các lĩnh vực là 105, khác scoring.scale 100" in scale["message_vi"]


def test_missing_sheets_and_columns_are_named():
    def remove(workbook):
        del workbook["quy_tac"]
        workbook["tieu_chi"].delete_cols(3)  # loai
        workbook["kien_nghi"]["G1"] = "ghi_chu_rieng"
    found = problems(edit(write_workbook(MINIMAL), remove))
    messages = [p["message_vi"] for p in found]
    assert "Bảng tính thiếu trang 'quy_tac' (Quy tắc kiểm tra tính nhất quán của số liệu)." \
        in messages
    assert any("Trang 'tieu_chi' thiếu cột 'loai'" in m for m in messages)
    assert any("Cột 'ghi_chu_rieng' không có trong mẫu" in m for m in messages)


def test_items_are_placed_by_position_and_section():
    def shuffle(workbook):
        sheet = workbook["tieu_chi"]
        sheet.cell(row_of(sheet, "A.03"), 1, 0.5)  # before A.01
        sheet.cell(row_of(sheet, "A.04"), 1, 1)   # the same position as A.01
        sheet.cell(row_of(sheet, "A.02"), 2, "Z.02")  # a section that does not exist
    found = problems(edit(write_workbook(MINIMAL), shuffle))
    texts = [describe(p, "en") for p in found]
    assert any("Position 1 of section 'A' is already used" in t for t in texts)
    assert any("Item 'Z.02' names no section of sheet 'linh_vuc'" in t for t in texts)


def test_repeat_groups_need_bounds_and_fields_need_their_group():
    template = validate_template(copy.deepcopy(CONDITIONS["template"]))

    def unbound(workbook):
        workbook["nhom_mau"]["F2"] = None  # so_mau_toi_da
        workbook["truong_mau"]["A3"] = "XX.TRA"
    found = problems(edit(write_workbook(template), unbound))
    texts = [describe(p) for p in found]
    assert any("Trang 'nhom_mau', dòng 2, cột 'so_mau_toi_da'" in t
               and "Nhóm lặp phải có số mẫu tối đa" in t for t in texts)
    assert any("Trường 'XX.TRA' không thuộc nhóm nào" in t for t in texts)


def test_settings_are_checked_by_key():
    def settings_(workbook):
        sheet = workbook["cai_dat"]
        rows = {sheet.cell(r, 1).value: r for r in range(2, sheet.max_row + 1)}
        sheet.cell(rows["thang_diem"], 2, 90)
        sheet.cell(rows["hieu_luc_tu"], 2, "1/7/2025")
        sheet.append(["mau_sac", "xanh"])
    found = problems(edit(write_workbook(MINIMAL), settings_))
    texts = "\n".join(describe(p, "en") for p in found)
    assert "Unknown key 'mau_sac'" in texts
    assert "column 'gia_tri'" in texts and "Not a date in the form YYYY-MM-DD" in texts


# ------------------------------------------------------------------------ hostile files


def test_files_that_are_not_xlsx_say_what_they_are():
    cases = {
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 500: "Excel 97-2003",
        b"code,name\n1,2\n": "not an XLSX workbook",
        b"PK\x03\x04broken": "damaged",
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<x/>")
    cases[out.getvalue()] = "OpenDocument"
    for data, words in cases.items():
        [problem] = problems(data)
        assert words in problem["message"], problem


def test_a_file_over_five_megabytes_is_refused_before_it_is_opened():
    data = write_workbook(MINIMAL) + b"\0" * MAX_BYTES
    [problem] = problems(data)
    assert problem["message"] == \
        "The file is larger than 5 MB (5,242,880 bytes), the most a checklist file may be."


def test_a_zip_bomb_is_refused_without_inflating_it():
    data = write_workbook(MINIMAL)
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            archive.writestr(info, source.read(info))
        archive.writestr("xl/media/padding.bin", b"\0" * (40 * 1024 * 1024))
    bomb = out.getvalue()
    assert len(bomb) < MAX_BYTES
    [problem] = problems(bomb)
    assert "ZIP bomb" in problem["message"]


def test_xml_entities_are_not_expanded():
    data = write_workbook(MINIMAL)
    source = zipfile.ZipFile(io.BytesIO(data))
    laughs = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
              + "".join(f'<!ENTITY {n} "{("&" + p + ";") * 10}">'
                        for p, n in zip("abcdefgh", "bcdefghi", strict=True))
              + ']><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
              '<si><t>&i;</t></si></sst>')
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            body = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                body = body.replace(b"<sheetData>", b'<sheetData><row r="99"><c r="A99" t="s">'
                                    b"<v>0</v></c></row>", 1)
            archive.writestr(info, body)
        archive.writestr("xl/sharedStrings.xml", laughs)
    assert problems(out.getvalue())  # refused, quickly, and without a billion "a"s


TYPABLE = st.characters(blacklist_categories=("Cc", "Cs"))  # what a cell can hold


def _set_cell(data):
    return st.tuples(
        st.sampled_from([s.name for s in SHEETS]), st.integers(1, 16), st.integers(1, 21),
        st.one_of(st.none(), st.text(TYPABLE, max_size=24), st.integers(-10**6, 10**6),
                  st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
                  st.sampled_from(["=1+1", "=A1", "#DIV/0!", "B.01 + ", "có", "yesno", ">= 80",
                                   "count(HS", "B.01 = 1; x", "A.01", "R01", "\u0301", "\ufeff"])))


@st.composite
def broken_workbooks(draw):
    """The minimal template's workbook after a few random edits of cells, rows and sheets."""
    edits = draw(st.lists(st.one_of(
        _set_cell(None).map(lambda e: ("cell", *e)),
        st.tuples(st.just("drop_row"), st.sampled_from([s.name for s in SHEETS]),
                  st.integers(1, 8)),
        st.tuples(st.just("drop_sheet"), st.sampled_from([s.name for s in SHEETS])),
        st.tuples(st.just("rename"), st.sampled_from([s.name for s in SHEETS]),
                  st.text(alphabet="abcdeghiklmnostu_ ", min_size=1, max_size=12)),
    ), min_size=1, max_size=5))

    def apply(workbook):
        for change in edits:
            if change[1] not in workbook.sheetnames:
                continue
            sheet = workbook[change[1]]
            if change[0] == "cell":
                sheet.cell(change[2], change[3], change[4])
            elif change[0] == "drop_row":
                sheet.delete_rows(change[2])
            elif change[0] == "drop_sheet":
                del workbook[change[1]]
            elif change[2].strip() and change[2] not in workbook.sheetnames:
                sheet.title = change[2][:31]
    return edit(BASE_WORKBOOK, apply)


BASE_WORKBOOK = write_workbook(MINIMAL)


@settings(max_examples=30, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(broken_workbooks())
def test_fuzz_broken_workbooks_give_problems_never_exceptions(data):
    try:
        document, reading = read_checklist(data)
    except ValidationFailed as refused:
        for problem in refused.errors:
            assert problem["message"] and problem["message_vi"]
            assert describe(problem) and describe(problem, "en")
        return
    assert validate_template(copy.deepcopy(document)) == document


@settings(max_examples=40, deadline=None, database=None)
@given(st.data())
def test_fuzz_damaged_bytes_give_problems_never_exceptions(data):
    raw = bytearray(BASE_WORKBOOK)
    how = data.draw(st.sampled_from(["truncate", "flip", "splice"]))
    if how == "truncate":
        raw = raw[:data.draw(st.integers(0, len(raw) - 1))]
    elif how == "flip":
        for _ in range(data.draw(st.integers(1, 20))):
            at = data.draw(st.integers(0, len(raw) - 1))
            raw[at] ^= data.draw(st.integers(1, 255))
    else:
        at = data.draw(st.integers(0, len(raw)))
        raw[at:at] = data.draw(st.binary(min_size=1, max_size=200))
    try:
        read_checklist(bytes(raw))
    except ValidationFailed as refused:
        assert all(p["message"] and p["message_vi"] for p in refused.errors)


def test_reading_never_writes_a_document_with_problems():
    reading = read_workbook(b"PK\x03\x04")
    assert reading.problems and reading.blocked and reading.document == {}


def test_a_huge_sheet_is_refused_after_its_first_rows():
    def grow(workbook):
        sheet = workbook["kien_nghi"]
        for n in range(3100):
            sheet.append([f"REC.A.{n}", "A", None, "x", "x"])
    [problem] = problems(edit(BASE_WORKBOOK, grow))
    assert problem["message"] == "Sheet 'kien_nghi' has more than 3000 rows."
