"""The `flask --app inspection …` commands."""
from inspection.extensions import db
from inspection.models import AdminUnit, ChecklistVersion, Inspection, MinutesRevision, Plan, User
from inspection.services.demo import ACCOUNTS

UNITS_HEADER = "code,name,kind,level,parent_code,valid_from,valid_to,merged_from\n"


def test_seed_demo_loads_everything_once(app, runner):
    from inspection.services.evaluation import evaluate_inspection, samples_by_group

    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "units: 19 added" in first.output
    assert db.session.query(User).count() == len(ACCOUNTS)
    assert {p.number for p in db.session.query(Plan)} == {"3199/KH-UBND", "125/KH-UBND"}
    states = {(i.unit.kind, i.unit.name): i.state.value for i in db.session.query(Inspection)}
    assert states == {("Huyện", "Hạ Lang"): "in_progress", ("Xã", "Cô Ngân"): "signed",
                      ("Xã", "Vinh Quý"): "submitted", ("Xã", "Hạ Lang"): "in_progress"}
    # The 2025 visit shows conditions and samples: the postal criterion does not apply, three
    # sampled dossiers of the 5 to 10 needed are entered.
    sampled = next(i for i in db.session.query(Inspection) if i.unit.kind == "Xã"
                   and i.unit.name == "Hạ Lang")
    evaluation = evaluate_inspection(sampled)
    tthc = next(s for s in evaluation["score"]["sections"] if s["code"] == "TTHC")
    assert "TTHC.50" in tthc["not_applicable_items"]
    assert [c["rule_id"] for c in evaluation["checks"] if c["rule_id"] == "HS"] == ["HS"]
    assert len(samples_by_group(sampled)["HS"]) == 3
    co_ngan_minutes = db.session.query(MinutesRevision).one()
    assert co_ngan_minutes.status == "signed"
    assert [s.signer.username for s in co_ngan_minutes.signatures] == ["leader", "unitrep"]
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0
    assert "already present" in second.output
    assert db.session.query(User).count() == len(ACCOUNTS)


def test_demo_units_follow_the_2025_merge(demo):
    vinh_quy_2025 = (db.session.query(AdminUnit).filter_by(code="01561")
                     .order_by(AdminUnit.valid_from.desc()).first())
    assert vinh_quy_2025.parent.name == "Cao Bằng"
    assert {u.name for u in vinh_quy_2025.merged_from} == {"Cô Ngân", "An Lạc", "Kim Loan",
                                                           "Vinh Quý"}
    communes_2021 = db.session.query(AdminUnit).filter(AdminUnit.parent.has(code="048")).count()
    assert communes_2021 == 13


def test_create_user(app, runner):
    result = runner.invoke(args=["create-user", "truongdoan2", "--role", "leader", "--name",
                                 "Đỗ Văn Giang", "--password", "mat-khau-rat-dai"])
    assert result.exit_code == 0, result.output
    assert db.session.query(User).filter_by(username="truongdoan2").one().role.value == "leader"
    duplicate = runner.invoke(args=["create-user", "truongdoan2", "--role", "leader", "--name", "X",
                                    "--password", "mat-khau-rat-dai"])
    assert duplicate.exit_code == 1
    assert "Tên đăng nhập đã tồn tại." in duplicate.output
    short = runner.invoke(args=["create-user", "ab", "--role", "inspector", "--name", "X",
                                "--password", "123"])
    assert short.exit_code == 1
    assert "ít nhất 8 ký tự" in short.output


def test_import_units_is_idempotent_and_reports(app, runner, tmp_path):
    csv_file = tmp_path / "units.csv"
    csv_file.write_text(UNITS_HEADER
                        + "04,Cao Bằng,Tỉnh,province,,2020-01-01,,\n"
                        + "048,Hạ Lang,Huyện,district,04,2020-01-01,2025-06-30,\n"
                        + "01567,Cô Ngân,Xã,commune,048,2020-01-01,2025-06-30,\n", encoding="utf-8")
    first = runner.invoke(args=["import-units", str(csv_file)])
    assert first.exit_code == 0, first.output
    assert "3 added, 0 updated, 0 unchanged, 0 rejected" in first.output
    again = runner.invoke(args=["import-units", str(csv_file)])
    assert "0 added, 0 updated, 3 unchanged, 0 rejected" in again.output
    csv_file.write_text(UNITS_HEADER + "01567,Cô Ngân,Xã,commune,048,2020-01-01,2025-06-30,\n"
                        .replace("Cô Ngân", "Cô Ngân (sửa)"), encoding="utf-8")
    updated = runner.invoke(args=["import-units", str(csv_file)])
    assert "0 added, 1 updated" in updated.output
    assert db.session.query(AdminUnit).filter_by(code="01567").one().name == "Cô Ngân (sửa)"


def test_import_units_rejects_bad_rows_with_reasons_and_keeps_good_ones(app, runner, tmp_path):
    csv_file = tmp_path / "units.csv"
    csv_file.write_text(UNITS_HEADER
                        + "04,Cao Bằng,Tỉnh,province,,2020-01-01,,\n"      # line 2: good
                        + "4x8,Hạ Lang,Huyện,district,04,2020-01-01,,\n"    # line 3: bad code
                        + "01567,Cô Ngân,Xã,commune,999,2020-01-01,,\n"     # line 4: unknown parent
                        + "01561,Vinh Quý,Xã,commune,04,2020-13-01,,\n"     # line 5: bad date
                        # line 6: unknown merge source
                        + "01558,Hạ Lang,Xã,commune,04,2025-07-01,,99999\n"
                        + "01537,Lý Quốc,Xã,town,04,2025-07-01,,\n",         # line 7: bad level
                        encoding="utf-8")
    result = runner.invoke(args=["import-units", str(csv_file)])
    assert result.exit_code == 2
    assert "1 added, 0 updated, 0 unchanged, 5 rejected" in result.output
    for line, reason in [(3, "mã '4x8' không hợp lệ"), (4, "không có đơn vị cấp trên mã '999'"),
                         (5, "ngày không hợp lệ"), (6, "không có đơn vị mã '99999'"),
                         (7, "cấp không hợp lệ")]:
        assert f"line {line}: {reason}" in result.output
    assert [u.code for u in db.session.query(AdminUnit)] == ["04"]


def test_import_units_refuses_a_file_that_is_not_utf8(app, runner, tmp_path):
    csv_file = tmp_path / "units.csv"
    # "Cao Bằng" in Windows-1258, as old Vietnamese Excel installs save CSV: ă is 0xE3 followed by
    # a combining grave accent 0xCC.
    csv_file.write_bytes(UNITS_HEADER.encode()
                         + b"04,Cao B\xe3\xccng,T\xecnh,province,,2020-01-01,,\n")
    result = runner.invoke(args=["import-units", str(csv_file)])
    assert result.exit_code == 1
    assert "không phải UTF-8" in result.output
    assert db.session.query(AdminUnit).count() == 0


def test_import_units_refuses_missing_columns(app, runner, tmp_path):
    csv_file = tmp_path / "units.csv"
    csv_file.write_text("code,name\n04,Cao Bằng\n", encoding="utf-8")
    result = runner.invoke(args=["import-units", str(csv_file)])
    assert result.exit_code == 1
    assert "Thiếu cột bắt buộc: kind, level, valid_from" in result.output


def test_init_db_is_safe_to_repeat(app, runner):
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "database is up to date" in result.output


def test_import_checklist_publishes_and_refuses_changes_to_published(app, runner, tmp_path):
    from inspection.checklists import DEFAULT_TEMPLATES

    path = DEFAULT_TEMPLATES[2]
    result = runner.invoke(args=["import-checklist", str(path), "--publish"])
    assert result.exit_code == 0, result.output
    assert "cchc-xa-2cap 2025.1: imported (published)" in result.output
    assert "unchanged" in runner.invoke(args=["import-checklist", str(path)]).output
    changed = path.read_text(encoding="utf-8").replace('"title_en": "', '"title_en": "Changed: ', 1)
    other = tmp_path / "changed.json"
    other.write_text(changed, encoding="utf-8")
    refused = runner.invoke(args=["import-checklist", str(other)])
    assert refused.exit_code == 1
    assert "đã ban hành, không sửa được" in refused.output
    assert db.session.query(ChecklistVersion).count() == 1


def test_import_checklist_names_the_path_of_a_problem(app, runner, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "cchc-checklist/1", "sections": "nope"}', encoding="utf-8")
    result = runner.invoke(args=["import-checklist", str(broken)])
    assert result.exit_code == 2  # problems in the file (as import-units); 1 is for refusals
    assert "sections" in result.output
    not_json = tmp_path / "not.json"
    not_json.write_text('{"code": ', encoding="utf-8")
    result = runner.invoke(args=["import-checklist", str(not_json)])
    assert result.exit_code == 2
    assert "line 1" in result.output.lower() or "dòng 1" in result.output.lower()


def test_the_demo_extension_is_the_documented_example():
    """seed-demo loads the example of docs/checklists.md (a copy inside the package)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    assert (root / "inspection/data/demo-cchc-xa-2cap-caobang.json").read_bytes() == (
        root / "docs/examples/cchc-xa-2cap-caobang.json").read_bytes()
