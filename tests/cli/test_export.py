"""`flask --app inspection export` (SQLite analysis database, CSV, XLSX) and `refresh-scores`."""
import csv
import sqlite3

from report_expectations import make_province

from inspection.extensions import db
from inspection.models import Inspection, InspectionScore, Observation, Recommendation, unit_merges


def test_sqlite_export_has_every_table_with_foreign_keys_and_full_text_search(
        demo, runner, tmp_path):
    make_province(communes=15, old_years=(2024,), new_years=(2025,))
    out = tmp_path / "cchc.db"
    result = runner.invoke(args=["export", "--format", "sqlite", str(out)])
    assert result.exit_code == 0, result.output
    assert "exported" in result.output
    conn = sqlite3.connect(out)

    def count(table):
        return conn.execute(f"select count(*) from {table}").fetchone()[0]

    assert count("observations") == db.session.query(Observation).count()
    assert count("inspections") == db.session.query(Inspection).count()
    assert count("scores") == db.session.query(InspectionScore).count()
    assert count("recommendations") == db.session.query(Recommendation).count()
    assert count("unit_merges") == db.session.query(unit_merges).count()
    foreign = {(row[2], row[3]) for row in conn.execute("pragma foreign_key_list(observations)")}
    assert ("inspections", "inspection_id") in foreign
    foreign = {row[3] for row in conn.execute("pragma foreign_key_list(recommendations)")}
    assert {"inspection_id", "unit_id", "followed_up_in_id"} <= foreign
    assert conn.execute("pragma foreign_key_check").fetchall() == []
    # Full-text search, also without diacritics: "niem yet" finds "Niêm yết".
    hits = conn.execute("select count(*) from recommendations_fts where "
                        "recommendations_fts match 'niem yet'").fetchone()[0]
    expected = sum(1 for r in db.session.query(Recommendation) if "niêm yết" in r.text.lower())
    assert hits == expected > 0
    notes = conn.execute("select count(*) from observations_fts where "
                         "observations_fts match 'bổ sung'").fetchone()[0]
    noted = db.session.query(Observation).filter(Observation.note.contains("bổ sung")).count()
    assert notes == noted > 0
    # Section points are one row per inspection and section.
    assert count("section_scores") == 8 * count("scores")
    percent = conn.execute("select s.percent from scores s join inspections i on i.id = "
                           "s.inspection_id "
                           "join units u on u.id = i.unit_id where u.code = '01567'").fetchone()[0]
    assert percent == 63.0  # yes/no only: its ratios were never measured and count as 0


def test_csv_and_xlsx_exports_from_the_command_line(demo, runner, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "inspections.csv"
    result = runner.invoke(args=["export", "--format", "csv", "--table", "inspections", str(out)])
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(data.decode("utf-8-sig").splitlines()))
    assert len(rows) == 4 and "Xã Cô Ngân" in {r[4] for r in rows}
    xlsx = tmp_path / "observations.xlsx"
    assert runner.invoke(args=["export", "--format", "xlsx", "--table", "observations",
                               str(xlsx)]).exit_code == 0
    workbook = load_workbook(xlsx, read_only=True)
    rows = sum(1 for _row in workbook.active.iter_rows(values_only=True))
    workbook.close()
    assert rows - 1 == db.session.query(Observation).count()
    english = tmp_path / "inspections-en.csv"
    assert runner.invoke(args=["export", "--format", "csv", "--lang", "en",
                               str(english)]).exit_code == 0
    header = next(csv.reader(english.read_bytes().decode("utf-8-sig").splitlines()))
    assert header[:3] == ["Inspection no.", "Plan", "Inspection trip"] and "State (code)" in header


def test_the_analysis_database_keeps_the_units_reports_and_replies(demo, runner, tmp_path):
    from inspection.models import User
    from inspection.services.followup import reply_to, report_done
    from inspection.services.review import add_recommendation

    users = {u.username: u for u in db.session.query(User)}
    co_ngan = next(i for i in db.session.query(Inspection) if i.unit.code == "01567")
    done = add_recommendation(co_ngan, users["leader"], "Bố trí máy tra cứu.", "2022-03-31")
    waiting = add_recommendation(co_ngan, users["leader"], "Ký số văn bản đi.", "2022-06-30")
    report_done(done, users["unitrep"], "Đã bố trí máy tra cứu tại bộ phận một cửa.")
    reply_to(waiting, users["unitrep"], "Đang chờ chứng thư số.")
    db.session.commit()
    out = tmp_path / "cchc.db"
    assert runner.invoke(args=["export", "--format", "sqlite", str(out)]).exit_code == 0
    conn = sqlite3.connect(out)
    rows = dict(conn.execute("select text, reported_at from recommendations").fetchall())
    assert rows["Bố trí máy tra cứu."].endswith("+07:00") and rows["Ký số văn bản đi."] is None
    hits = conn.execute("select count(*) from recommendations_fts "
                        "where recommendations_fts match 'chung thu'").fetchone()
    assert hits[0] == 1


def test_refresh_scores_rebuilds_missing_snapshots(demo, runner):
    db.session.query(InspectionScore).delete()
    db.session.commit()
    result = runner.invoke(args=["refresh-scores"])
    assert result.exit_code == 0, result.output
    assert "3" in result.output
    snapshots = {s.inspection_id: s for s in db.session.query(InspectionScore)}
    assert len(snapshots) == 3
    co_ngan = next(i for i in db.session.query(Inspection) if i.unit.code == "01567")
    assert snapshots[co_ngan.id].percent == 63.0 and snapshots[co_ngan.id].class_code == "D"
    # Approved with criteria not assessed: the rebuilt snapshot keeps the confirmed class.
    assert (snapshots[co_ngan.id].partial
            and snapshots[co_ngan.id].assessed < snapshots[co_ngan.id].criteria)


def test_seed_synthetic_generates_a_province(app, runner):
    result = runner.invoke(args=["seed-synthetic", "--communes", "6"])
    assert result.exit_code == 0, result.output
    assert "synthetic province 99" in result.output
    assert db.session.query(InspectionScore).count() == db.session.query(Inspection).count() > 6
