"""Minutes revisions: build the final PDF, sign it (leader first, then the units), accept a
file signed with one's own certificate, and supersede revisions when an inspection is reopened.

A revision's final PDF and every signed version are stored by SHA-256 and never re-rendered. A
signature is recorded only when `minutes_verification.verify_minutes` says it is intact,
trusted when made, by the account that must fill its box, and that nothing but signatures was
added after the stored final PDF.
"""
from __future__ import annotations

import logging
from datetime import time
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from ..errors import Conflict, NotFound, ValidationFailed
from ..extensions import db
from ..models import (
    Inspection,
    InspectionState,
    MinutesRevision,
    MinutesStatus,
    Role,
    Signature,
    Trip,
    User,
)
from ..models.base import utcnow
from ..pdf import LEADER_FIELD, render_minutes, unit_field
from . import audit
from .access import is_trip_leader, require
from .certificates import demo_pki, demo_signing, ensure_server_key_registered
from .closing import log_closing, office_writer
from .minutes_data import minutes_data_for_inspection, minutes_data_for_trip
from .minutes_verification import (
    CLOCK_SKEW,
    TRUST_PROBLEMS,
    MinutesVerification,
    aware,
    inspections_of,
    stored_final_pdf,
    trip_of,
    verify_minutes,
)
from .review_words import local_time
from .revisions import latest_revision, revisions_of, supersede_all
from .signing import SigningError, sign_pdf
from .storage import StorageError, get_storage
from .workflow import transition_inspection

log = logging.getLogger(__name__)

LEADER_ROLE = "Trưởng đoàn kiểm tra"
UNIT_ROLE = "Đại diện đơn vị được kiểm tra"


def _next_document_number() -> str:
    """Sequential numbers per calendar year of issue: 01/BB-ĐKT, 02/BB-ĐKT, …"""
    now = utcnow()
    start = now.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    count = db.session.scalar(select(func.count(func.distinct(MinutesRevision.document_number)))
                              .where(MinutesRevision.created_at >= start)) or 0
    return f"{count + 1:02d}/BB-ĐKT"


def public_url(fallback: str) -> str:
    """Where the minutes' QR code leads: config PUBLIC_URL, else `fallback` (the request's)."""
    return (current_app.config.get("PUBLIC_URL") or fallback).rstrip("/")


def parse_meeting_times(start: str | None, end: str | None) -> tuple[time | None, time | None]:
    """"HH:MM" (or empty) start and end of the meeting at the unit; the end after the start."""
    errors: dict[str, list[str]] = {}
    parsed = []
    for key, raw in (("start_time", start), ("end_time", end)):
        raw = (raw or "").strip()
        value = None
        if raw:
            try:
                value = time.fromisoformat(raw)
            except ValueError:
                errors[key] = ["Giờ phải có dạng HH:MM, ví dụ 08:00."]
            else:
                value = value.replace(second=0, microsecond=0, tzinfo=None)
        parsed.append(value)
    if not errors and parsed[0] and parsed[1] and parsed[1] <= parsed[0]:
        errors["end_time"] = ["Giờ kết thúc phải sau giờ bắt đầu."]
    if errors:
        raise ValidationFailed("Giờ làm việc không hợp lệ: "
                               "" + " ".join(e[0] for e in errors.values()),
                               "The meeting times are not valid.", errors)
    return parsed[0], parsed[1]


def build_minutes(target: Inspection | Trip, user: User, base_url: str,
                  meeting: tuple[time | None, time | None] | None = None) -> MinutesRevision:
    """Compile a new final revision (trip leader, every inspection approved).

    `meeting` (start, end) of an inspection's minutes is kept on the inspection and printed;
    a trip's minutes print the times kept on each of its inspections."""
    trip = trip_of(target)
    require(is_trip_leader(user, trip), "Chỉ trưởng đoàn mới lập biên bản.",
            "Only the team leader builds minutes.")
    not_ready = [i.unit.full_name for i in inspections_of(target)
                 if i.state != InspectionState.approved]
    if not_ready:
        raise Conflict("Chỉ lập biên bản khi kết quả đã được duyệt: " + ", ".join(not_ready),
                       "Minutes are built once results are approved: " + ", ".join(not_ready))
    if meeting is not None and isinstance(target, Inspection):
        target.set_closing("meeting_start", meeting[0], office_writer(user))
        target.set_closing("meeting_end", meeting[1], office_writer(user))
    previous = revisions_of(target)
    supersede_all(previous)
    number = previous[-1].document_number if previous else _next_document_number()
    revision_no = (previous[-1].revision + 1) if previous else 1
    storage = get_storage()
    listed = bool(current_app.config.get("MINUTES_LIST_UNASSESSED"))
    if isinstance(target, Inspection):
        data = minutes_data_for_inspection(target, base_url, document_number=number,
                                           revision=revision_no, list_unassessed=listed)
    else:
        data = minutes_data_for_trip(target, base_url, document_number=number, revision=revision_no,
                                     list_unassessed=listed)
    pdf = render_minutes(data)
    revision = MinutesRevision(
        inspection_id=target.id if isinstance(target, Inspection) else None,
        trip_id=target.id if isinstance(target, Trip) else None,
        revision=revision_no, document_number=number, status=MinutesStatus.final,
        sha256=storage.put_bytes(pdf), created_by_id=user.id)
    db.session.add(revision)
    db.session.flush()
    audit.record("minutes.build", revision, user, revision=revision_no)
    if isinstance(target, Inspection):
        log_closing(target, user)  # the meeting times and the minutes' revision number
    return revision


def current_pdf(revision: MinutesRevision) -> bytes:
    """The latest bytes of a revision: the signed file if anyone signed, else the final PDF."""
    with get_storage().open(revision.signed_sha256 or revision.sha256) as f:
        return f.read()


def stored_revision(inspection_id: int | None, trip_id: int | None,
                    number: int | None) -> MinutesRevision | None:
    """Revision `number` of an inspection's (or a trip's) minutes, as the QR code names it."""
    if (inspection_id is None) == (trip_id is None) or number is None:
        return None
    column = MinutesRevision.inspection_id if inspection_id is not None else MinutesRevision.trip_id
    return db.session.scalar(select(MinutesRevision).where(
        column == (inspection_id if inspection_id is not None else trip_id),
        MinutesRevision.revision == number))


def check_revision(revision: MinutesRevision | None) -> MinutesVerification | None:
    """The verification of a stored revision's latest signed file (None before any signature);
    a stored file that cannot be read is reported as such, not as an error of the page."""
    if revision is None or not revision.signed_sha256:
        return None
    try:
        pdf = current_pdf(revision)
    except StorageError:
        log.error("minutes revision %s: stored file %s is missing", revision.id,
                  revision.signed_sha256)
        return MinutesVerification(revision.signed_sha256, revision, (),
                                   error="the stored signed file is missing")
    return verify_minutes(pdf, revision=revision)


def comments_after_build(revision: MinutesRevision | None, target: Inspection | Trip,
                         unit_id: int | None = None) -> list[Inspection]:
    """The inspections (of `unit_id`, or all) whose unit's comments changed after `revision`
    was built: its PDF lacks them, and the leader should rebuild."""
    if revision is None:
        return []
    built = aware(revision.created_at)
    return [i for i in inspections_of(target)
            if i.unit_comments_at is not None and aware(i.unit_comments_at) > built
            and (unit_id is None or i.unit_id == unit_id)]


def _require_latest_comments(revision: MinutesRevision, user: User, target: Inspection | Trip,
                             without_latest_comments: bool) -> None:
    """The unit's voice: its representative may not sign minutes that lack the unit's latest
    comments, unless they confirm signing without them."""
    newer = comments_after_build(revision, target, user.unit_id)
    if newer and not without_latest_comments:
        when = max(aware(i.unit_comments_at) for i in newer)
        raise Conflict(
            f"Ý kiến của đơn vị ghi lúc {local_time(when)} chưa có trong biên bản (lập lúc "
            f"{local_time(revision.created_at)}). Đề nghị trưởng đoàn lập lại biên bản, hoặc xác "
            "nhận ký biên bản không có ý kiến này.",
            f"The unit's comments written at {local_time(when)} are not in the minutes (built "
            f"at {local_time(revision.created_at)}). Ask the team leader to rebuild them, or "
            "confirm signing without these comments.",
            {"code": ["comments_after_build"]})


def _signing_role(revision: MinutesRevision, user: User,
                  target: Inspection | Trip) -> tuple[str, str]:
    """(role, field) for this user's signature; leader first, then each unit representative."""
    signed_roles = {(s.role, s.signer_id) for s in revision.signatures}
    if is_trip_leader(user, trip_of(target)):
        if any(role == "leader" for role, _ in signed_roles):
            raise Conflict("Trưởng đoàn đã ký biên bản này.", "The leader already signed.")
        return "leader", LEADER_FIELD
    if user.role == Role.unitrep:
        units = [i.unit_id for i in inspections_of(target)]
        require(user.unit_id in units, "Bạn không đại diện cho đơn vị trong biên bản này.",
                "You do not represent a unit in these minutes.")
        if not any(role == "leader" for role, _ in signed_roles):
            raise Conflict("Trưởng đoàn ký trước, đại diện đơn vị ký sau.",
                           "The leader signs first, then the unit's representative.")
        if ("unitrep", user.id) in signed_roles:
            raise Conflict("Bạn đã ký biên bản này.", "You already signed.")
        return "unitrep", unit_field(units.index(user.unit_id) + 1)
    require(False, "Chỉ trưởng đoàn và đại diện đơn vị được ký biên bản.",
            "Only the leader and the unit's representative sign the minutes.")
    raise AssertionError  # unreachable


def _record_signature(revision: MinutesRevision, user: User, role: str, field: str,
                      signed: bytes, target: Inspection | Trip) -> Signature:
    """Check the file's new signature with the one verification rule, then store and record it
    (and sign the inspections when every box is filled). Raises ValidationFailed, having
    changed nothing, when the check fails."""
    reasons, check = _refusals(revision, user, field, signed, current_pdf(revision))
    if reasons:
        raise ValidationFailed(
            "Không chấp nhận tệp đã ký: " + "; ".join(vi for vi, _ in reasons) + ".",
            "The signed file is refused: " + "; ".join(en for _, en in reasons) + ".",
            {"reasons": [f"{vi} / {en}" for vi, en in reasons],
             "changes": [change.kind for change in check.changes] if check else []})
    report = check.signatures[-1].report
    revision.signed_sha256 = get_storage().put_bytes(signed)
    signature = Signature(
        revision=revision, signer_id=user.id, role=role, signed_at=report.signing_time or utcnow(),
        certificate_subject=(f"{report.signer}, {report.title}".strip(", "))[:500],
        certificate_sha256=report.certificate_sha256, file_sha256=revision.signed_sha256)
    db.session.add(signature)
    db.session.flush()
    extra = ({"without_latest_comments": True}
             if role == "unitrep" and comments_after_build(revision, target, user.unit_id) else {})
    audit.record("minutes.sign", revision, user, role=role, field=field,
                 certificate_sha256=report.certificate_sha256, **extra)
    units_signed = {s.signer.unit_id for s in revision.signatures if s.role == "unitrep"}
    if all(i.unit_id in units_signed for i in inspections_of(target)):
        revision.mark_signed()
        leader = next(s.signer for s in revision.signatures if s.role == "leader")
        for inspection in inspections_of(target):
            if inspection.state == InspectionState.approved:
                transition_inspection(inspection, "sign", leader, minutes_signed=True)
    return signature


def _refusals(revision: MinutesRevision, user: User, field: str, signed: bytes, already: bytes
              ) -> tuple[list[tuple[str, str]], MinutesVerification | None]:
    """Why the signed file may not become the revision's current one ([] when it may): it must
    be the stored PDF with the signatures made so far, then exactly one new signature — the
    user's, in their box, with a certificate registered to them, trusted and valid when it
    signed — and nothing else."""
    final_pdf = stored_final_pdf(revision)
    if not signed.startswith(final_pdf):
        return [("tệp không bắt đầu đúng bằng biên bản đã lập (từng byte): hãy ký vào tệp tải về "
                 "từ hệ thống, không lưu lại hay in ra PDF", "the file does not start with the "
                 "stored minutes, byte for byte: sign the file downloaded from here, without "
                 "saving or printing it to PDF again")], None
    if not signed.startswith(already):
        return [("tệp không chứa các chữ ký đã có", "the file drops the signatures already made")
                ], None
    check = verify_minutes(signed, revision=revision)
    reasons = [(c.vi, c.en) for c in check.changes]
    new = check.signatures[len(revision.signatures):]
    if len(new) != 1:
        reasons.append(("tệp phải có đúng một chữ ký mới, của bạn" if new else
                        "tệp không có chữ ký mới", "the file must add exactly one signature, "
                        "yours" if new else "the file adds no signature"))
        return reasons, check
    for earlier in check.signatures[:-1]:
        if not (earlier.report.intact and earlier.report.valid):
            reasons.append(("chữ ký đã có bị hỏng", "a signature already made is broken"))
    mine = new[0]
    report = mine.report
    if report.field_name != field:
        reasons.append((f"chữ ký phải nằm trong ô chữ ký của bạn ({field})",
                        f"the signature must be in your signature box ({field})"))
    if not (report.intact and report.valid):
        reasons.append(("chữ ký mới bị hỏng hoặc tệp bị sửa sau khi ký",
                        "the new signature is broken or the file was changed after it"))
    if not report.covers_whole_document:
        reasons.append(("chữ ký mới không phủ toàn bộ tệp (có dữ liệu thêm sau chữ ký)",
                        "the new signature does not cover the whole file (data follows it)"))
    if not report.trusted:
        problem = TRUST_PROBLEMS.get(report.trust_problem, TRUST_PROBLEMS["untrusted"])
        reasons.append((problem.vi, problem.en))
    registration = _registration_of(user, report.certificate_sha256)
    if registration is None:
        reasons.append(("chứng thư số dùng để ký chưa được đăng ký cho tài khoản của bạn (đăng "
                        "ký ở trang Tài khoản của tôi)", "the signing certificate is not "
                        "registered to your account (register it on the My account page)"))
    when = report.signing_time
    now = utcnow()
    if when is None or not (aware(revision.created_at) - CLOCK_SKEW <= aware(when)
                            <= now + CLOCK_SKEW):
        reasons.append(("thời gian ký không nằm giữa lúc lập biên bản và bây giờ",
                        "the signing time is not between the minutes' issue and now"))
    elif registration is not None and not (aware(registration.not_before) <= aware(when)
                                           <= aware(registration.not_after)):
        reasons.append(("chứng thư số đã hết hạn hoặc chưa có hiệu lực vào lúc ký",
                        "the certificate had expired or was not valid yet when it signed"))
    return list(dict.fromkeys(reasons)), check


def _registration_of(user: User, sha256: str):
    return next((c for c in user.certificates if c.sha256 == sha256 and c.in_use), None)


def sign_minutes(target: Inspection | Trip, user: User, location: str = "",
                 demo_key: bool = False, without_latest_comments: bool = False) -> Signature:
    """Add the user's signature with the key the server holds for them: the demo CA, in demo
    mode or when loading the demo data (`demo_key`). The key's certificate is registered to
    the account (the server issued it to them). A unit's representative signing minutes built
    before the unit's latest comments must confirm it (`without_latest_comments`)."""
    revision = latest_revision(target)
    if revision is None:
        raise NotFound("Chưa có biên bản để ký.", "There are no minutes to sign yet.")
    role, field = _signing_role(revision, user, target)
    if role == "unitrep":
        _require_latest_comments(revision, user, target, without_latest_comments)
    if not (demo_key or demo_signing()):
        raise Conflict("Máy chủ không giữ khóa ký của bạn: hãy tải biên bản về, "
                       "ký bằng chứng thư số của "
                       "mình rồi tải lên.",
                       "The server holds no key for you: download, sign with your own "
                       "certificate, and upload.")
    pki = demo_pki()
    key = pki.signer(user.username, user.full_name, user.position or "")
    ensure_server_key_registered(user, key.certificate)
    try:
        signed = sign_pdf(current_pdf(revision), key,
                          LEADER_ROLE if role == "leader" else UNIT_ROLE, field,
                          location or trip_of(target).place, "Ký biên bản kiểm tra",
                          timestamper=pki.timestamper(),
                          font_cache_dir=Path(current_app.instance_path) / "cache")
    except SigningError as exc:
        raise ValidationFailed(f"Không ký được: {exc}", f"Signing failed: {exc}") from exc
    return _record_signature(revision, user, role, field, signed, target)


def accept_signed_upload(target: Inspection | Trip, user: User, signed: bytes,
                         without_latest_comments: bool = False) -> Signature:
    """Accept a file signed with the user's own certificate (USB token, remote signing); the
    unit's latest comments are required as for `sign_minutes`."""
    revision = latest_revision(target)
    if revision is None:
        raise NotFound("Chưa có biên bản để ký.", "There are no minutes to sign yet.")
    role, field = _signing_role(revision, user, target)
    if role == "unitrep":
        _require_latest_comments(revision, user, target, without_latest_comments)
    return _record_signature(revision, user, role, field, signed, target)

