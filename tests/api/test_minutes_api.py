"""Minutes through the API: build after approval, leader signs first, the unit co-signs,
download, verify (and detect tampering), own-certificate upload, reopen supersedes."""
import subprocess

import pytest

from inspection.extensions import db
from inspection.models import Inspection, MinutesRevision


def by_code(code):
    return next(i for i in db.session.query(Inspection) if i.unit.code == code)


def post(client, url, **kwargs):
    return client.post(url, headers={"X-CSRF-Token": client.csrf}, **kwargs)


@pytest.fixture
def co_ngan_minutes(demo, login):
    """Cô Ngân (approved in the demo data) with a first revision built by the leader."""
    leader = login("leader")
    inspection = by_code("01567")
    response = post(leader, f"/api/v1/inspections/{inspection.id}/minutes")
    assert response.status_code == 201, response.get_json()
    return inspection, leader


def test_build_sign_cosign_download_and_verify(co_ngan_minutes, login, tmp_path):
    inspection, leader = co_ngan_minutes
    unitrep = login("unitrep")
    early = post(unitrep, f"/api/v1/inspections/{inspection.id}/minutes/sign")
    assert early.status_code == 409 and "Trưởng đoàn ký trước" in early.get_json()["message"]
    signed = post(leader, f"/api/v1/inspections/{inspection.id}/minutes/sign")
    assert signed.status_code == 200
    assert [s["role"] for s in signed.get_json()["signatures"]] == ["leader"]
    cosigned = post(unitrep, f"/api/v1/inspections/{inspection.id}/minutes/sign")
    assert cosigned.get_json()["status"] == "signed"
    assert db.session.get(Inspection, inspection.id).state.value == "signed"

    pdf = unitrep.get(f"/api/v1/inspections/{inspection.id}/minutes.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    path = tmp_path / "bien-ban.pdf"
    path.write_bytes(pdf.data)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True).stdout
    assert "BIÊN BẢN" in text and "Cô Ngân" in text

    report = post(leader, "/api/v1/minutes/verify", data=pdf.data,
                  content_type="application/pdf").get_json()
    assert report["valid"] is True
    assert [s["signer"] for s in report["signatures"]] == ["Nguyễn Văn An", "Nông Văn Én"]
    assert report["known_revision"]["revision"] == 1

    # An independent verifier agrees (pdfsig exits 0 even on failure: read its output).
    checked = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True).stdout
    assert checked.count("Signature is Valid.") == 2

    damaged = bytearray(pdf.data)
    damaged[len(damaged) // 3] ^= 0x01
    bad = post(leader, "/api/v1/minutes/verify", data=bytes(damaged),
               content_type="application/pdf").get_json()
    assert bad["valid"] is False
    path.write_bytes(bytes(damaged))
    rechecked = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True).stdout
    assert "Signature is Valid." not in rechecked or rechecked.count("Signature is Valid.") < 2


def test_only_the_leader_builds_and_only_approved_results(demo, login):
    inspector = login("inspector1")
    assert post(inspector, f"/api/v1/inspections/{by_code('01567').id}/minutes").status_code == 403
    leader = login("leader")
    refused = post(leader,
                   f"/api/v1/inspections/{by_code('01561').id}/minutes")  # submitted, not approved
    assert refused.status_code == 409
    assert db.session.query(MinutesRevision).count() == 0


def test_other_units_cannot_download(co_ngan_minutes, login):
    inspection, _ = co_ngan_minutes
    pdf = f"/api/v1/inspections/{inspection.id}/minutes.pdf"
    assert login("inspector3").get(pdf).status_code == 404
    elsewhere = f"/api/v1/inspections/{by_code('01561').id}/minutes.pdf"
    assert login("unitrep").get(elsewhere).status_code == 404


def test_reopen_supersedes_and_the_next_build_is_a_new_revision(co_ngan_minutes, login):
    inspection, leader = co_ngan_minutes
    post(leader, f"/api/v1/inspections/{inspection.id}/minutes/sign")
    reopened = post(leader, f"/api/v1/inspections/{inspection.id}/transitions",
                    json={"action": "reopen", "reason": "Bổ sung số liệu"})
    assert reopened.status_code == 200
    assert [r.status for r in db.session.query(MinutesRevision)] == ["superseded"]
    assert leader.get(f"/api/v1/inspections/{inspection.id}/minutes.pdf").status_code == 404
    approved = post(leader, f"/api/v1/inspections/{inspection.id}/transitions",
                    json={"action": "approve", "confirm_unanswered": True,
                          "reason": "Như lần trước"})
    assert approved.status_code == 200  # the leader approves directly, without submitting
    second = post(leader, f"/api/v1/inspections/{inspection.id}/minutes").get_json()
    assert second["revision"] == 2 and second["document_number"].endswith("/BB-ĐKT")


def test_verify_reports_garbage_as_invalid(client):
    report = client.post("/api/v1/minutes/verify", data=b"not a pdf at all",
                         content_type="application/pdf")
    assert report.status_code == 200
    assert report.get_json()["valid"] is False


def test_the_qr_address_is_the_configured_public_url(demo, login, app, tmp_path):
    """Behind a proxy the request's own address is internal: PUBLIC_URL is printed instead."""
    app.config["PUBLIC_URL"] = "https://cchc.caobang.example/"
    leader = login("leader")
    inspection = by_code("01567")
    assert post(leader, f"/api/v1/inspections/{inspection.id}/minutes").status_code == 201
    path = tmp_path / "bien-ban.pdf"
    path.write_bytes(leader.get(f"/api/v1/inspections/{inspection.id}/minutes.pdf").data)
    text = subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True,
                          text=True).stdout
    assert f"https://cchc.caobang.example/minutes/verify?inspection={inspection.id}" in text
    assert "localhost" not in text


def test_trip_minutes_are_signed_by_the_leader_then_each_visited_unit(demo, login, tmp_path):
    """One document for a trip that visited two communes: both representatives co-sign it, and
    the trip's inspections are signed only when the last of them has."""
    from datetime import date, time

    from sqlalchemy import select

    from inspection.models import Plan, User
    from inspection.services.planning import create_trip
    from inspection.services.units import unit_valid_on
    from inspection.services.workflow import transition_inspection

    users = {u.username: u for u in db.session.scalars(select(User))}
    day = date(2022, 9, 12)
    vinh_quy = unit_valid_on("01561", day)
    # unitrep2 is the demo's representative of Vinh Quý
    trip = create_trip(db.session.scalar(select(Plan)), "Kiểm tra lại năm 2022", day, day,
                       users["leader"], [users["inspector1"]],
                       [unit_valid_on("01567", day), vinh_quy])
    for inspection in trip.inspections:
        for action, who in (("start", "inspector1"), ("submit", "inspector1")):
            transition_inspection(inspection, action, users[who])
        transition_inspection(inspection, "approve", users["leader"], "Kiểm tra lại một phần",
                              confirm_unanswered=True)
    first_unit, second_unit = sorted(trip.inspections, key=lambda i: i.unit.code)
    first_unit.meeting_start, first_unit.meeting_end = time(8, 0), time(10, 0)
    second_unit.meeting_start, second_unit.meeting_end = time(14, 0), time(16, 45)
    db.session.commit()
    leader, co_ngan, vinh = login("leader"), login("unitrep"), login("unitrep2")
    url = f"/api/v1/trips/{trip.id}/minutes"

    assert post(leader, url).status_code == 201
    assert post(co_ngan, url).status_code == 403  # only the leader builds
    assert post(co_ngan, url + "/sign").status_code == 409  # the leader signs first
    assert post(leader, url + "/sign").status_code == 200
    first = post(co_ngan, url + "/sign").get_json()
    assert first["status"] == "final" and [s["role"]
                                           for s in first["signatures"]] == ["leader", "unitrep"]
    assert {i.state.value for i in trip.inspections} == {"approved"}
    last = post(vinh, url + "/sign").get_json()
    assert last["status"] == "signed"
    db.session.expire_all()
    assert {i.state.value for i in trip.inspections} == {"signed"}

    path = tmp_path / "bien-ban-dot.pdf"
    path.write_bytes(vinh.get(url + ".pdf").data)
    checked = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True).stdout
    assert checked.count("Signature is Valid.") == 3
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True).stdout
    assert "Cô Ngân" in text and "Vinh Quý" in text
    flat = " ".join(text.split())
    assert "Vào hồi 08 giờ 00" in flat and "Vào hồi 14 giờ 00" in flat  # each unit's meeting
    assert "kết thúc vào hồi 16 giờ 45" in flat  # the last one ended


def test_the_meeting_times_are_kept_and_printed(demo, login, tmp_path):
    leader = login("leader")
    inspection = by_code("01567")
    url = f"/api/v1/inspections/{inspection.id}/minutes"
    for body, field in (({"start_time": "25:99"}, "start_time"),
                        ({"start_time": "11:30", "end_time": "08:00"}, "end_time")):
        refused = post(leader, url, json=body)
        assert refused.status_code == 422 and field in refused.get_json()["errors"], body
        assert "Giờ làm việc không hợp lệ" in refused.get_json()["message"]
    assert post(leader, url, json={"start_time": "08:00", "end_time": "11:30"}).status_code == 201
    db.session.expire_all()
    assert str(db.session.get(Inspection, inspection.id).meeting_start) == "08:00:00"

    path = tmp_path / "bien-ban.pdf"
    path.write_bytes(leader.get(url + ".pdf").data)
    text = " ".join(subprocess.run(["pdftotext", str(path), "-"], capture_output=True,
                                   text=True).stdout.split())
    assert "Hôm nay, vào hồi 08 giờ 00" in text
    assert "kết thúc vào hồi 11 giờ 30" in text
    # A rebuild without times keeps the ones given before.
    assert post(leader, url).status_code == 201
    path.write_bytes(leader.get(url + ".pdf").data)
    again = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
    assert "08 giờ 00" in " ".join(again.split())


def test_a_unit_comment_after_the_build_blocks_the_units_signature(co_ngan_minutes, login):
    """The unit's voice: the PDF it would sign lacks its latest comment, so the signature is
    refused with the reason, unless the representative confirms signing without it."""
    inspection, leader = co_ngan_minutes
    assert post(leader, f"/api/v1/inspections/{inspection.id}/minutes/sign").status_code == 200
    from inspection.models import User
    from inspection.services.review import save_unit_comments

    unitrep_user = db.session.query(User).filter_by(username="unitrep").one()
    save_unit_comments(inspection, unitrep_user, "Đơn vị đề nghị bổ sung số liệu.",
                       inspection.revision)
    db.session.commit()
    unitrep = login("unitrep")
    refused = post(unitrep, f"/api/v1/inspections/{inspection.id}/minutes/sign")
    assert refused.status_code == 409
    assert "chưa có trong biên bản" in refused.get_json()["message"]
    assert refused.get_json()["errors"] == {"code": ["comments_after_build"]}
    upload = post(unitrep, f"/api/v1/inspections/{inspection.id}/minutes/upload",
                  data=b"%PDF-1.7 anything", content_type="application/pdf")
    assert upload.status_code == 409  # refused before the file is even looked at
    assert db.session.query(MinutesRevision).one().status == "final"
    confirmed = post(unitrep,
                     f"/api/v1/inspections/{inspection.id}/minutes/sign?without_latest_comments=1")
    assert confirmed.status_code == 200 and confirmed.get_json()["status"] == "signed"
