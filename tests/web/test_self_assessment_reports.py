"""The self-assessment in reports: the ranking beside the appraisal, the export table with the
evidence files, and the trip archive with the files themselves (demo: xã Vinh Quý)."""
from __future__ import annotations

import csv
import io
import zipfile

from sqlalchemy import select

from inspection.extensions import db
from inspection.models import Inspection, SelfAssessmentEvidence, User
from inspection.services.workflow import transition_inspection


def vinh_quy() -> Inspection:
    return next(i for i in db.session.scalars(select(Inspection)) if i.unit.code == "01561")


def approve_vinh_quy():
    leader = db.session.scalar(select(User).where(User.username == "leader"))
    transition_inspection(vinh_quy(), "approve", leader, "Duyệt thử", confirm_unanswered=True)
    db.session.commit()


def test_the_ranking_shows_self_assessed_and_appraised_scores_and_the_difference(demo, login):
    approve_vinh_quy()
    leader = login("leader")
    evaluation = leader.get(f"/api/v1/inspections/{vinh_quy().id}/evaluation").get_json()
    rows = leader.get("/api/v1/reports/ranking?year=2021&level=commune&era=3cap").get_json()
    row = next(r for r in rows if r["inspection_id"] == vinh_quy().id)
    assert row["self_score"] == evaluation["self_score"]["total"]
    assert row["self_percent"] == evaluation["self_score"]["percent"]
    assert row["self_difference"] == round(row["score"] - row["self_score"], 2) > 0
    others = [r for r in rows if r["inspection_id"] != vinh_quy().id]
    assert others and all(r["self_score"] is None and r["self_difference"] is None
                          for r in others)


def test_the_export_lists_the_claims_with_their_evidence_and_the_archive_holds_the_files(
        demo, login, app, form_token):
    approve_vinh_quy()
    admin = app.test_client()
    admin.post("/login", data={"username": "admin", "password": "demo1234",
                               "csrf_token": form_token(admin, "/login")})
    exported = admin.get("/overview/export/self_assessment.csv?year=2021")
    assert exported.status_code == 200
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    header, body = rows[0], rows[1:]
    assert "Tài liệu kiểm chứng" in header and "Đơn vị giải trình" in header
    files = db.session.scalars(select(SelfAssessmentEvidence)).all()
    cells = " ".join(" ".join(r) for r in body)
    for evidence in files:
        assert evidence.sha256 in cells or evidence.filename.startswith("quyet-dinh")
    assert {r[header.index("Mã tiêu chí")] for r in body} >= {"CDDH.01", "CDDH.10", "TC.03"}
    assert any("Quyết định số 1187" in r[header.index("Đơn vị giải trình")] for r in body)
    trip_id = vinh_quy().trip_id
    archive = zipfile.ZipFile(io.BytesIO(admin.get(f"/overview/trips/{trip_id}/archive.zip")
                                         .get_data()))
    names = [n for n in archive.namelist() if n.startswith("tu-danh-gia/01561-xa-vinh-quy/")]
    assert len(names) == len(files)
    stored = {e.sha256 for e in files}
    import hashlib
    assert {hashlib.sha256(archive.read(n)).hexdigest() for n in names} == stored
    assert any(n.endswith("CDDH.01-" + str(files[0].id) + "-ke-hoach-cchc-2021.pdf")
               for n in names)
    manifest = archive.read("manifest.csv").decode("utf-8-sig")
    assert manifest.count(",evidence,") == len(files)
