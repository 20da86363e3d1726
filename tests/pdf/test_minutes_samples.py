"""The minutes print what does not apply as not applicable and the samples as a table per repeat
group (issue 17), on the demo's 2025 visit of xã Hạ Lang with the provincial extension."""
from pdf_samples import flat, pdftotext
from sqlalchemy import select

from inspection.extensions import db
from inspection.models import Inspection, Observation, User
from inspection.models.units import AdminUnit
from inspection.pdf import render_minutes
from inspection.services.demo import SAMPLE_DAY, SAMPLE_DOSSIERS, seed_sample_demo
from inspection.services.minutes_data import minutes_data_for_inspection
from inspection.services.observations import record_observation
from inspection.services.units import unit_valid_on


def sampled_inspection() -> Inspection:
    users = {u.username: u for u in db.session.scalars(select(User))}
    seed_sample_demo(users, unit_valid_on("04", SAMPLE_DAY))
    db.session.commit()
    return db.session.scalar(select(Inspection).join(AdminUnit, Inspection.unit_id == AdminUnit.id)
                             .where(AdminUnit.code == "01558", AdminUnit.kind == "Xã"))


def test_samples_are_a_table_and_criteria_that_do_not_apply_are_named(demo):
    inspection = sampled_inspection()
    text = pdftotext(render_minutes(minutes_data_for_inspection(inspection, "")))
    words = flat(text)
    # The sampled dossiers: a heading with the bounds, then one numbered row per dossier.
    assert "Hồ sơ kiểm tra xác suất: 3 mẫu (cần từ 5 đến 10), chưa đủ số mẫu." in words
    table = text[text.index("Hồ sơ kiểm tra xác suất: 3 mẫu"):]
    for number, (code, received, due, returned, apology) in enumerate(SAMPLE_DOSSIERS, 1):
        line = next(line for line in table.splitlines() if code in line)
        cells = line.split()
        assert cells[0] == str(number)
        assert [c for c in cells if c.count("/") == 2] == [
            f"{d[8:]}/{d[5:7]}/{d[:4]}" for d in (received, due, returned)]
        assert cells[-1] == ("Có" if apology else "Không")
    # Counts computed from the samples are printed with their value.
    assert "Số hồ sơ được kiểm tra xác suất 3 hồ sơ" in words
    # No dossier came by post: the postal-register criterion is there, as not applicable.
    postal = next(line for line in text.splitlines() if "TTHC.50" in line)
    assert "Không áp dụng" in postal


def test_a_section_that_does_not_apply_is_printed_as_such_without_its_samples(demo):
    inspection = sampled_inspection()
    record_observation(inspection, "TTHC.20", {"value": 0},
                       db.session.scalar(select(User).where(User.username == "inspector1")))
    db.session.commit()
    assert db.session.scalar(select(Observation.value).where(
        Observation.inspection_id == inspection.id, Observation.item_code == "TTHC.20")) == 0
    words = flat(pdftotext(render_minutes(minutes_data_for_inspection(inspection, ""))))
    assert "Kiểm tra xác suất hồ sơ thủ tục hành chính (không áp dụng)" in words
    assert "Lĩnh vực không áp dụng đối với đơn vị được kiểm tra" in words
    assert "Hồ sơ kiểm tra xác suất:" not in words
    assert SAMPLE_DOSSIERS[0][0] not in words
