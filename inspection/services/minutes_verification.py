"""The one verification rule for minutes PDFs, used by the inspection page, the public QR page
`/minutes/verify`, `POST /api/v1/minutes/verify`, `flask minutes verify`, and before the server
records any signature.

`verify_minutes(pdf)` says, for every signature: intact or not, what it covers, trusted or not
(at the time it was made), and whose it is — the account whose registered certificate made it
(or whom the server recorded when it accepted it), and whether that account is the one who
must fill that signature box. For a file that starts with minutes this server issued it also
lists what was changed after them besides signatures, and which required signatures are
missing. "Đã ký đủ / fully signed" only when every required signature is there, intact,
trusted and matched, and nothing else changed.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select

from ..extensions import db
from ..models import Inspection, MinutesRevision, Role, Trip, User
from ..pdf import LEADER_FIELD, unit_field
from .access import is_trip_leader
from .certificates import fetch_revocation, registered_certificate, trust_roots
from .certinfo import as_asn1
from .storage import get_storage
from .verification import Change, SignatureReport, changes_after, first_revision_bytes, verify_pdf

# A signature may claim a time a little before the revision was stored (clocks differ).
CLOCK_SKEW = dt.timedelta(minutes=10)


@dataclass(frozen=True)
class Note:
    """A sentence for people, in Vietnamese and English."""

    vi: str
    en: str

    def text(self, locale: str) -> str:
        """The sentence in the given language (Vietnamese unless English is asked for)."""
        return self.en if locale == "en" else self.vi


@dataclass(frozen=True)
class Slot:
    """A signature box of the minutes and who must fill it."""

    key: str  # "leader" or "unit:N"
    field_name: str
    label: Note  # "Trưởng đoàn kiểm tra" / "Đại diện UBND xã Cô Ngân"
    unit_id: int | None = None  # for a unit's box: the unit the signer represents


@dataclass(frozen=True)
class SignatureCheck:
    """One signature as the rule sees it."""

    report: SignatureReport
    slot: Slot | None  # the box it fills, when it is one of the minutes' boxes
    account: User | None  # whose certificate it is (or whom the server recorded)
    matched: bool  # the account is the one who must fill that box
    coverage: Note
    problems: tuple[Note, ...] = ()

    @property
    def good(self) -> bool:
        """Intact, valid, trusted when made, and by the right person."""
        r = self.report
        return r.error is None and r.intact and r.valid and r.trusted and self.matched \
            and not self.problems


@dataclass(frozen=True)
class MinutesVerification:
    """What the rule says about a PDF."""

    sha256: str
    revision: MinutesRevision | None  # the stored minutes the file starts with
    signatures: tuple[SignatureCheck, ...]
    changes: tuple[Change, ...] = ()  # after the stored revision, other than signatures
    missing: tuple[Note, ...] = ()  # required signatures not (validly) there
    error: str | None = None  # the file could not be read at all
    slots: tuple[Slot, ...] = field(default=())

    @property
    def intact(self) -> bool:
        """Every signature intact and valid, the last covering the whole file, nothing else
        changed after the stored revision."""
        reports = [c.report for c in self.signatures]
        return bool(reports) and self.error is None and not self.changes and all(
            r.error is None and r.intact and r.valid for r in reports) \
            and reports[-1].covers_whole_document

    @property
    def trusted(self) -> bool:
        """Every signature's certificate chains to a trusted CA and was valid when it signed."""
        return bool(self.signatures) and all(c.report.trusted for c in self.signatures)

    @property
    def matched(self) -> bool:
        """Every signature is by the account that must fill its box."""
        return bool(self.signatures) and all(c.matched for c in self.signatures)

    @property
    def valid(self) -> bool:
        """Every signature there is good and nothing else changed (some may still be missing)."""
        return self.intact and all(c.good for c in self.signatures)

    @property
    def fully_signed(self) -> bool:
        """Minutes of this server with every required signature good and nothing else."""
        return self.revision is not None and self.valid and not self.missing

    def verdict(self) -> Note:
        """The conclusion, in words a commune official understands."""
        if self.error is not None:
            return Note("KHÔNG kiểm tra được: tệp không đọc được, không phải PDF hoặc không còn "
                        "trên máy chủ.", "NOT checked: the file cannot be read, is not a PDF "
                        "or is missing on the server.")
        if not self.signatures:
            return Note("Tệp chưa có chữ ký số nào.", "The file has no digital signature yet.")
        if self.fully_signed:
            return Note("Đã ký đủ: mọi chữ ký còn nguyên vẹn, do tổ chức được tin cậy chứng thực "
                        "và đúng người phải ký.",
                        "Fully signed: every signature is intact, certified by a trusted "
                        "authority and made by the right person.")
        if not self.intact:
            return Note("KHÔNG hợp lệ: tệp đã bị thay đổi sau khi ký hoặc chữ ký bị hỏng.",
                        "NOT valid: the file was changed after signing or a signature is broken.")
        if not self.trusted:
            return Note("KHÔNG hợp lệ: có chữ ký bằng chứng thư số không được tin cậy.",
                        "NOT valid: a signature uses a certificate that is not trusted.")
        if not self.valid:
            return Note("KHÔNG hợp lệ: có chữ ký không đúng người phải ký.",
                        "NOT valid: a signature is not by the person who must sign.")
        if self.revision is None:
            return Note("Các chữ ký hợp lệ, nhưng đây không phải biên bản do hệ thống này lập.",
                        "The signatures are valid, but these are not minutes issued here.")
        return Note("Chưa ký đủ: các chữ ký hiện có hợp lệ, còn thiếu chữ ký.",
                    "Not fully signed yet: the signatures present are valid, some are missing.")


def aware(moment: dt.datetime) -> dt.datetime:
    """The moment with a time zone (SQLite gives stored UTC times back without one)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def target_of(revision: MinutesRevision) -> Inspection | Trip:
    """The inspection or trip the revision is the minutes of."""
    if revision.inspection_id is not None:
        return db.session.get(Inspection, revision.inspection_id)
    return db.session.get(Trip, revision.trip_id)


def inspections_of(target: Inspection | Trip) -> list[Inspection]:
    """The inspections the minutes cover, in the order of their signature boxes."""
    return [target] if isinstance(target, Inspection) else list(target.inspections)


def trip_of(target: Inspection | Trip) -> Trip:
    """The trip of an inspection, or the trip itself."""
    return target.trip if isinstance(target, Inspection) else target


def slots_of(target: Inspection | Trip) -> list[Slot]:
    """The signature boxes: the leader's, then one per visited unit."""
    slots = [Slot("leader", LEADER_FIELD, Note("Trưởng đoàn kiểm tra", "The team leader"))]
    for number, inspection in enumerate(inspections_of(target), start=1):
        name = inspection.unit.full_name
        slots.append(Slot(f"unit:{number}", unit_field(number),
                          Note(f"Đại diện {name}", f"The representative of {name}"),
                          inspection.unit_id))
    return slots


def fills(account: User | None, slot: Slot, trip: Trip) -> bool:
    """Whether the account is the one who must fill the box."""
    if account is None:
        return False
    if slot.key == "leader":
        return is_trip_leader(account, trip)
    return account.role == Role.unitrep and account.unit_id == slot.unit_id


def stored_revision_of(pdf: bytes) -> MinutesRevision | None:
    """The stored minutes revision the file is, or starts with (its first revision's bytes)."""
    digests = {hashlib.sha256(pdf).hexdigest()}
    try:
        digests.add(hashlib.sha256(first_revision_bytes(pdf)).hexdigest())
    except ValueError:
        pass
    return db.session.scalar(
        select(MinutesRevision).where(or_(MinutesRevision.sha256.in_(digests),
                                          MinutesRevision.signed_sha256.in_(digests)))
        .order_by(MinutesRevision.id.desc()).limit(1))


def stored_final_pdf(revision: MinutesRevision) -> bytes:
    """The revision's unsigned final PDF, as stored."""
    with get_storage().open(revision.sha256) as handle:
        return handle.read()


TRUST_PROBLEMS = {
    "untrusted": Note("chứng thư số không do tổ chức chứng thực được tin cậy cấp (có thể là "
                      "chứng thư tự tạo)",
                      "the certificate is not issued by a trusted certification authority (it "
                      "may be self-made)"),
    "expired": Note("chứng thư số đã hết hạn vào lúc ký", "the certificate had expired when it "
                    "signed"),
    "not_yet_valid": Note("chứng thư số chưa có hiệu lực vào lúc ký",
                          "the certificate was not valid yet when it signed"),
    "revoked": Note("chứng thư số đã bị thu hồi", "the certificate has been revoked"),
}


def _coverage(report: SignatureReport, later_changes: bool) -> Note:
    if report.covers_whole_document:
        return Note("phủ toàn bộ tệp", "covers the whole file")
    if later_changes:
        return Note("phủ tệp đến chữ ký này; phần thêm sau đó có thay đổi khác ngoài chữ ký",
                    "covers the file up to this signature; what was added later changes more "
                    "than signatures")
    return Note("phủ tệp đến chữ ký này; sau đó chỉ thêm chữ ký khác",
                "covers the file up to this signature; only other signatures were added later")


def _slot_by_field(slots: Iterable[Slot], field_name: str | None) -> Slot | None:
    return next((s for s in slots if s.field_name == field_name), None)


def verify_minutes(pdf: bytes, extra_roots: Iterable[Any] = (), *,
                   revision: MinutesRevision | None = None) -> MinutesVerification:
    """Apply the rule to the bytes of a PDF (see the module docstring); never raises on bad
    input. `revision`: the stored minutes the file must be (else found from its bytes)."""
    digest = hashlib.sha256(pdf).hexdigest()
    roots = trust_roots() + [as_asn1(root) for root in extra_roots]
    reports = verify_pdf(pdf, roots, fetch_revocation=fetch_revocation())
    if reports and reports[0].error and not reports[0].signer and reports[0].field_name is None:
        return MinutesVerification(digest, None, (), error=reports[0].error)
    revision = revision or stored_revision_of(pdf)
    slots: list[Slot] = []
    changes: list[Change] = []
    recorded: dict[str, User] = {}
    trip = None
    if revision is not None:
        target = target_of(revision)
        trip = trip_of(target)
        slots = slots_of(target)
        changes = changes_after(pdf, stored_final_pdf(revision))
        recorded = {s.certificate_sha256: s.signer for s in revision.signatures}
    checks = []
    for report in reports:
        checks.append(_check(report, revision, trip, slots, recorded, bool(changes)))
    missing = []
    for slot in slots:
        if not any(c.slot == slot and c.good for c in checks):
            missing.append(Note(f"Chưa có chữ ký hợp lệ: {slot.label.vi}",
                                f"No valid signature yet: {slot.label.en}"))
    return MinutesVerification(digest, revision, tuple(checks), tuple(changes), tuple(missing),
                               slots=tuple(slots))


def _check(report: SignatureReport, revision: MinutesRevision | None, trip: Trip | None,
           slots: list[Slot], recorded: dict[str, User], later_changes: bool) -> SignatureCheck:
    problems: list[Note] = []
    if report.error is not None and not report.signer:
        return SignatureCheck(report, None, None, False, Note("không đọc được chữ ký",
                                                              "the signature cannot be read"),
                              (Note("chữ ký không đọc được", "the signature cannot be read"),))
    if not (report.intact and report.valid):
        problems.append(Note("tệp đã bị sửa sau khi ký, chữ ký này không còn giá trị",
                             "the file was changed after this signature: it no longer holds"))
    if not report.trusted:
        problems.append(TRUST_PROBLEMS.get(report.trust_problem, TRUST_PROBLEMS["untrusted"]))
    account = recorded.get(report.certificate_sha256)
    if account is None:
        registration = registered_certificate(report.certificate_sha256) \
            if report.certificate_sha256 else None
        account = registration.user if registration is not None else None
    slot = _slot_by_field(slots, report.field_name)
    if account is None:
        matched = False
        problems.append(Note("chứng thư số này chưa được đăng ký cho tài khoản nào trong hệ "
                             "thống, nên không biết người ký là ai",
                             "this certificate is registered to no account here, so who signed "
                             "is not known"))
    elif revision is None:
        matched = True  # whose it is is known; which box it should fill is not
    elif slot is None:
        matched = report.certificate_sha256 in recorded
        if not matched:
            problems.append(Note("chữ ký không nằm trong ô chữ ký nào của biên bản",
                                 "the signature is not in any of the minutes' signature boxes"))
    else:
        matched = fills(account, slot, trip)
        if not matched:
            problems.append(Note(
                f"chứng thư của {account.full_name} ({account.username}), không phải người phải "
                f"ký ô “{slot.label.vi}”", f"the certificate is {account.full_name}'s "
                f"({account.username}), not that of whoever must sign “{slot.label.en}”"))
    if revision is not None and report.signing_time is not None \
            and aware(report.signing_time) < aware(revision.created_at) - CLOCK_SKEW:
        problems.append(Note("thời gian ký ghi trước lúc biên bản được lập",
                             "the signing time is before the minutes were issued"))
    return SignatureCheck(report, slot, account, matched, _coverage(report, later_changes),
                          tuple(problems))
