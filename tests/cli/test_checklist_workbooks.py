"""export-checklist / import-checklist with XLSX workbooks, and extensions of a published base,
on each database: equal documents back, every problem listed, nothing half-imported."""
from __future__ import annotations

import copy
import io
import json
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from inspection.checklists import DEFAULT_TEMPLATES, load_default
from inspection.checklists.format import load_template_json
from inspection.checklists.spreadsheet import write_workbook
from inspection.errors import ValidationFailed
from inspection.extensions import db
from inspection.models import (
    AuditEvent,
    ChecklistItem,
    ChecklistSection,
    ChecklistTemplate,
    ChecklistVersion,
)
from inspection.services.checklists import import_checklist

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs/examples/cchc-xa-2cap-caobang.json"
MINIMAL_WORKBOOK = write_workbook(load_template_json(
    (ROOT / "tests/data/checklists/minimal.json").read_bytes()))


def counts() -> tuple[int, ...]:
    return tuple(db.session.scalar(select(func.count()).select_from(model))
                 for model in (ChecklistTemplate, ChecklistVersion, ChecklistSection,
                               ChecklistItem))


def edit(data: bytes, change) -> bytes:
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    change(workbook)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@pytest.mark.parametrize("path", DEFAULT_TEMPLATES, ids=lambda p: p.stem)
def test_export_then_import_gives_the_same_version(app, runner, tmp_path, path):
    assert runner.invoke(args=["import-checklist", str(path), "--publish"]).exit_code == 0
    version = db.session.scalar(select(ChecklistVersion))
    out = tmp_path / "danh-muc.xlsx"
    result = runner.invoke(args=["export-checklist", str(version.id), str(out)])
    assert result.exit_code == 0, result.output
    assert f"{path.stem} {version.version} →" in result.output
    again = runner.invoke(args=["import-checklist", str(out)])
    assert again.exit_code == 0, again.output
    assert "unchanged (published)" in again.output  # the same document, the same fingerprint
    assert counts()[1] == 1


def test_a_changed_workbook_imports_as_a_new_draft(app, runner, tmp_path):
    import_checklist(load_default("cchc-xa-2cap"), publish=True)
    db.session.commit()
    version = db.session.scalar(select(ChecklistVersion))

    def next_year(workbook):
        sheet = workbook["cai_dat"]
        for row in sheet.iter_rows(min_row=2):
            if row[0].value == "phien_ban":
                row[1].value = "2026.1"
        workbook["quy_tac"]["B2"] = "warning"
    path = tmp_path / "2026.xlsx"
    path.write_bytes(edit(write_workbook(version.document), next_year))
    result = runner.invoke(args=["import-checklist", str(path)])
    assert result.exit_code == 0, result.output
    assert "cchc-xa-2cap 2026.1: imported (draft)" in result.output
    draft = db.session.scalar(select(ChecklistVersion).where(ChecklistVersion.version == "2026.1"))
    assert draft.document["rules"][0]["severity"] == "warning"
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "checklist.import")) == 2


def test_a_workbook_with_problems_lists_them_all_and_exits_2(app, runner, tmp_path):
    data = write_workbook(load_default("cchc-xa-2cap"))

    def break_(workbook):
        workbook["tieu_chi"]["F2"] = "hai"
        workbook["linh_vuc"]["B3"] = "CDDH"
        del workbook["kien_nghi"]
    path = tmp_path / "hong.xlsx"
    path.write_bytes(edit(data, break_))
    before = counts()
    result = runner.invoke(args=["import-checklist", str(path)])
    assert result.exit_code == 2
    assert "Bảng tính thiếu trang 'kien_nghi'" in result.output
    assert "The workbook has no sheet 'kien_nghi'" in result.output
    assert "Trang 'tieu_chi', dòng 2, cột 'diem_toi_da' (F2): 'hai' — Không phải là số." \
        in result.output
    assert counts() == before


def test_export_of_an_unknown_version(app, runner, tmp_path):
    result = runner.invoke(args=["export-checklist", "999", str(tmp_path / "x.xlsx")])
    assert result.exit_code == 1 and "no such checklist version" in result.output


# ------------------------------------------------------------------------------ extensions


@pytest.fixture
def base(app):
    version, _ = import_checklist(load_default("cchc-xa-2cap"), publish=True)
    db.session.commit()
    return version


def example() -> dict:
    return json.loads(EXAMPLE.read_text(encoding="utf-8"))


def test_an_extension_of_a_published_base_imports_through_a_workbook(base):
    version, created = import_checklist(write_workbook(
        import_checklist(example())[0].document))
    assert not created  # the workbook holds the same document as the JSON
    assert version.base_version_id == base.id
    assert version.document["extends"] == {"code": "cchc-xa-2cap", "version": "2025.1"}
    assert {g["code"] for g in version.document["repeats"]} == {"HS"}


def test_an_extension_that_changes_or_drops_its_base_is_refused_with_places(base):
    doc = example()
    tthc = next(s for s in doc["sections"] if s["code"] == "TTHC")
    tthc["items"][7]["title_vi"] = "Đã đổi"  # TTHC.08, a yesno criterion
    doc["rules"] = [r for r in doc["rules"] if r["id"] != "R02"]
    data = write_workbook(copy.deepcopy(_validated(doc)))
    before = counts()
    with pytest.raises(ValidationFailed) as refused:
        import_checklist(data)
    texts = refused.value.message_en
    assert f"has item {tthc['items'][7]['code']}; an extension may add to it but not change " \
        f"it (title_vi differ)" in texts
    assert "Sheet 'tieu_chi', row" in texts
    assert "Sheet 'quy_tac': The base version cchc-xa-2cap 2025.1 has rule R02; an extension " \
        "cannot remove it" in texts
    assert "Phiên bản gốc cchc-xa-2cap 2025.1" in refused.value.message_vi
    assert counts() == before


def test_an_extension_needs_a_published_base(app):
    with pytest.raises(ValidationFailed) as refused:
        import_checklist(example())
    assert "cchc-xa-2cap 2025.1 does not exist" in refused.value.message_en
    draft = load_default("cchc-xa-2cap")
    import_checklist(draft)
    with pytest.raises(ValidationFailed) as refused:
        import_checklist(example())
    assert "is not published yet" in refused.value.message_en


def _validated(doc: dict) -> dict:
    from inspection.checklists.format import validate_template
    return validate_template(doc)


# --------------------------------------------------------------------- nothing half-imported


@settings(max_examples=8, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(sheet=st.sampled_from(["linh_vuc", "tieu_chi", "so_lieu", "quy_tac", "kien_nghi"]),
       row=st.integers(2, 12), column=st.integers(1, 8),
       value=st.one_of(st.none(), st.sampled_from(["", "x", "=1", "B.01", "-1", "có"]),
                       st.integers(-5, 200)))
def test_fuzz_a_refused_workbook_leaves_the_database_as_it_was(app, sheet, row, column, value):
    db.session.rollback()
    data = MINIMAL_WORKBOOK

    def change(workbook):
        workbook[sheet].cell(row, column, value)
    before = counts()
    try:
        with db.session.begin_nested():
            import_checklist(edit(data, change))
    except ValidationFailed as refused:
        assert refused.errors
        assert counts() == before
    db.session.rollback()
