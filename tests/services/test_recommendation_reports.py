"""The unit's side of a recommendation: reporting it done (confirmation, note, evidence files
checked and stored like photos), withdrawing the report until it is verified, and a reply in
words; the model allows exactly these moves."""
import hashlib
import io

import pytest
from PIL import Image
from werkzeug.datastructures import FileStorage

from inspection.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from inspection.extensions import db
from inspection.models import Inspection, InvalidTransition, Recommendation, User
from inspection.services import storage
from inspection.services.followup import (
    get_visible_evidence,
    record_follow_up,
    reply_to,
    report_done,
    undo_report,
)
from inspection.services.planning import create_trip
from inspection.services.review import add_recommendation

# -- the model's moves, pair by pair ---------------------------------------------------------------

STATUSES = ("open", "done", "verified")
ALLOWED = {("report_done", "open"): "done", ("undo_report", "done"): "open",
           ("reply", "open"): "open", ("reply", "done"): "done"}


def act(recommendation: Recommendation, action: str) -> None:
    who = User(id=7, username="rep")
    if action == "report_done":
        recommendation.report_done(who, "Đã niêm yết.")
    elif action == "undo_report":
        recommendation.undo_report()
    else:
        recommendation.reply(who, "Đang bố trí kinh phí.")


@pytest.mark.parametrize("action,status", [(a, s) for a in ("report_done", "undo_report", "reply")
                                           for s in STATUSES])
def test_every_recommendation_move_is_allowed_or_refused_as_designed(action, status):
    recommendation = Recommendation(status=status, text="Kiến nghị")
    if (action, status) in ALLOWED:
        act(recommendation, action)
        assert recommendation.status == ALLOWED[(action, status)]
        if action == "report_done":
            assert (recommendation.reported_at is not None
                    and recommendation.report_note == "Đã niêm yết.")
        if action == "undo_report":
            assert recommendation.reported_at is None and recommendation.report_note is None
        if action == "reply":
            assert (recommendation.unit_reply == "Đang bố trí kinh phí."
                    and recommendation.unit_reply_at is not None)
    else:
        with pytest.raises(InvalidTransition):
            act(recommendation, action)
        assert recommendation.status == status and recommendation.reported_at is None
        assert recommendation.unit_reply is None


# -- the services ----------------------------------------------------------------------------------

def user(name):
    return db.session.query(User).filter_by(username=name).one()


def inspection_of(code, year=2021):
    return next(i for i in db.session.query(Inspection) if i.unit.code == code
                and i.scheduled_on.year == year)


def picture(colour=(200, 40, 40), fmt="JPEG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (80, 60), colour).save(out, fmt)
    return out.getvalue()


def upload(data: bytes, name="bang-niem-yet.jpg") -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=name)


@pytest.fixture
def recs(demo):
    leader = user("leader")
    made = [add_recommendation(inspection_of("01567"), leader,
                               "Niêm yết đầy đủ thủ tục hành chính.", "2022-03-31"),
            add_recommendation(inspection_of("01561"), leader,
                               "Cập nhật hồ sơ một cửa điện tử.", None)]
    db.session.commit()
    return made


def test_a_report_needs_the_confirmation_and_keeps_note_and_pictures_once(recs):
    rec = recs[0]
    rep = user("unitrep")
    with pytest.raises(ValidationFailed) as refused:
        report_done(rec, rep, "Đã niêm yết.", [upload(picture())], confirmed=False)
    assert "xác nhận" in refused.value.message_vi and rec.status == "open" and rec.evidence == []
    data = picture()
    report_done(rec, rep, "  Đã niêm yết bổ sung 12 thủ tục.  ",
                [upload(data), upload(data, "lan-2.jpg"),
                 upload(picture((0, 90, 0), "PNG"), "so.png")])
    db.session.commit()
    assert rec.status == "done" and rec.report_note == "Đã niêm yết bổ sung 12 thủ tục."
    assert rec.reported_by_id == rep.id and rec.reported_at is not None
    # The same bytes twice are one file; each is stored once under its SHA-256 with a thumbnail.
    assert [(e.filename, e.content_type) for e in rec.evidence] == \
        [("bang-niem-yet.jpg", "image/jpeg"), ("so.png", "image/png")]
    first = rec.evidence[0]
    assert (first.sha256 == hashlib.sha256(data).hexdigest()
            and storage.path_for(first.sha256).read_bytes() == data)
    assert storage.exists(first.sha256, "-thumb480.jpg")
    with pytest.raises(Conflict):  # already reported
        report_done(rec, rep, "Lần nữa.")


@pytest.mark.parametrize("data,name,message", [
    (b"%PDF-1.7 not a picture", "bien-ban.pdf", "không phải là ảnh"),
    (picture()[:300], "hong.jpg", "Ảnh bị hỏng"),
    (picture(fmt="GIF"), "dong.gif", "Định dạng ảnh GIF không được hỗ trợ"),
])
def test_evidence_files_follow_the_photo_rules(recs, data, name, message):
    with pytest.raises(ValidationFailed) as refused:
        report_done(recs[0], user("unitrep"), "Đã làm.", [upload(data, name)])
    assert name in refused.value.message_vi and message in refused.value.message_vi
    assert recs[0].status == "open" and recs[0].evidence == []


def test_evidence_files_have_the_photo_size_limit_and_a_count_limit(recs, app):
    app.config["MAX_PHOTO_BYTES"] = 1000
    big = picture()
    big += b"\0" * (1001 - len(big))
    with pytest.raises(ValidationFailed) as refused:
        report_done(recs[0], user("unitrep"), "", [upload(big)])
    assert "lớn quá" in refused.value.message_vi
    app.config["MAX_PHOTO_BYTES"] = 20 * 1024 * 1024
    with pytest.raises(ValidationFailed) as refused:
        report_done(recs[0], user("unitrep"), "", [upload(picture((n, 0, 0))) for n in range(6)])
    assert "Tối đa 5" in refused.value.message_vi


def test_the_unit_withdraws_its_report_until_an_inspection_verifies_it(recs):
    rec = recs[0]
    rep = user("unitrep")
    report_done(rec, rep, "Đã niêm yết.", [upload(picture())])
    undo_report(rec, rep)
    db.session.commit()
    assert (rec.status, rec.report_note, rec.reported_at, rec.evidence) == ("open", None, None, [])
    with pytest.raises(Conflict):  # nothing to withdraw
        undo_report(rec, rep)
    report_done(rec, rep, "Đã niêm yết lại.")
    leader = user("leader")
    later = create_trip(db.session.query(Inspection).first().trip.plan, "Kiểm tra 2022",
                        "2022-10-03", "2022-10-03", leader, [user("inspector1")],
                        [rec.unit]).inspections[0]
    record_follow_up(rec, later, leader, "done", "Đã xem bảng niêm yết.")
    with pytest.raises(Conflict) as refused:
        undo_report(rec, rep)
    assert "xác nhận" in refused.value.message_vi and rec.status == "verified"


def test_only_the_units_representative_speaks_for_the_unit(recs):
    co_ngan, vinh_quy = recs
    # the leader sees it, but only the unit reports and replies
    with pytest.raises(PermissionDenied):
        reply_to(co_ngan, user("leader"), "Trả lời thay.")
    with pytest.raises(NotFound):  # Cô Ngân's representative does not see Vinh Quý's at all
        reply_to(vinh_quy, user("unitrep"), "Trả lời.")
    with pytest.raises(NotFound):
        undo_report(vinh_quy, user("unitrep"))


def test_the_unit_replies_in_words_until_verified(recs):
    rec = recs[0]
    rep = user("unitrep")
    reply_to(rec, rep, "Đơn vị đang bố trí kinh phí, dự kiến xong quý II/2022.")
    assert rec.unit_reply.startswith("Đơn vị đang bố trí") and rec.unit_reply_by_id == rep.id
    reply_to(rec, rep, "   ")
    assert rec.unit_reply is None and rec.unit_reply_at is None
    with pytest.raises(ValidationFailed):
        reply_to(rec, rep, "x" * 5001)


def test_evidence_is_seen_by_who_sees_the_inspection(recs):
    rec = recs[0]
    report_done(rec, user("unitrep"), "Đã làm.", [upload(picture())])
    db.session.commit()
    evidence = rec.evidence[0]
    for name in ("admin", "leader", "inspector1", "unitrep"):
        assert get_visible_evidence(user(name), rec.id, evidence.id) == evidence
    with pytest.raises(NotFound):  # an inspector of no trip
        get_visible_evidence(user("inspector3"), rec.id, evidence.id)
    with pytest.raises(NotFound):  # under another recommendation's id
        get_visible_evidence(user("admin"), recs[1].id, evidence.id)


def test_hostile_names_and_notes_never_reach_the_database_as_they_are(recs):
    rep = user("unitrep")
    # an unpaired surrogate in the note: refused, nothing changes
    with pytest.raises(ValidationFailed):
        report_done(recs[0], rep, "Đã làm \ud800", [upload(picture())])
    assert recs[0].status == "open" and recs[0].evidence == []
    report_done(recs[0], rep, "Đã làm.\x00", [upload(picture(), "C:\\Users\\Én\\ảnh\ud800\n1.jpg")])
    db.session.commit()
    assert recs[0].report_note == "Đã làm."
    assert recs[0].evidence[0].filename == "ảnh\ufffd 1.jpg"
