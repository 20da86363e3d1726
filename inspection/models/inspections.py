"""Inspections with their state machine, and what is recorded during them."""
from __future__ import annotations

import enum
import uuid
from datetime import date, datetime, time

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import InvalidTransition, created_at_column, next_state, utcnow
from .checklists import ChecklistVersion
from .plans import Trip
from .units import AdminUnit
from .users import User


class InspectionState(enum.StrEnum):
    planned = "planned"
    in_progress = "in_progress"
    submitted = "submitted"
    approved = "approved"
    signed = "signed"


# action -> (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[InspectionState], InspectionState]] = {
    "start": (frozenset({InspectionState.planned}), InspectionState.in_progress),
    "submit": (frozenset({InspectionState.in_progress}), InspectionState.submitted),
    # The leader approves from in_progress too: he does not "send to the team leader" himself.
    "approve": (frozenset({InspectionState.in_progress, InspectionState.submitted}),
                InspectionState.approved),
    "sign": (frozenset({InspectionState.approved}), InspectionState.signed),
    "reopen": (
        frozenset({InspectionState.submitted, InspectionState.approved, InspectionState.signed}),
        InspectionState.in_progress,
    ),
}
# What people may ask for; "sign" follows from the minutes' last signature (services.minutes).
USER_ACTIONS = ("start", "submit", "approve", "reopen")


class Inspection(db.Model):
    """The inspection of one unit during one trip, scored against one checklist version."""

    __tablename__ = "inspections"
    __table_args__ = (UniqueConstraint("trip_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trip_id: Mapped[int] = mapped_column(ForeignKey("trips.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("admin_units.id"))
    checklist_version_id: Mapped[int] = mapped_column(ForeignKey("checklist_versions.id"))
    state: Mapped[InspectionState] = mapped_column(
        Enum(InspectionState, native_enum=False, length=20), default=InspectionState.planned
    )
    scheduled_on: Mapped[date] = mapped_column(Date)
    # Incremented on every change of the inspection record itself: the ETag for If-Match.
    revision: Mapped[int] = mapped_column(Integer, default=1)
    reopen_reason: Mapped[str | None] = mapped_column(Text)
    unit_comments: Mapped[str] = mapped_column(Text, default="")  # ý kiến của đơn vị
    # When the unit's comments last changed: minutes built before it lack them.
    unit_comments_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # An approval with criteria not assessed: the leader's reason and those criteria's codes
    # (None when the approval found every criterion assessed; cleared on reopening).
    approval_reason: Mapped[str | None] = mapped_column(Text)
    approved_unanswered: Mapped[list | None] = mapped_column(JSON)
    # When the meeting at the unit began and ended (local time), printed in the minutes.
    meeting_start: Mapped[time | None] = mapped_column(Time)
    meeting_end: Mapped[time | None] = mapped_column(Time)
    # Written on the minutes form: the deadline to report the remedies (over the trip's), the
    # unit's officials present at the meeting ([{"name", "position"}], section I.2) and the
    # recipients block (Nơi nhận), one recipient a line.
    report_due: Mapped[date | None] = mapped_column(Date)
    unit_officials: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    recipients: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The team members present at the closing meeting (user ids), recorded on a tablet or in the
    # office; None: not recorded (the minutes then list the whole team).
    team_present: Mapped[list | None] = mapped_column(JSON)
    # Per closing field (CLOSING_FIELDS): the version at which it last changed and who changed
    # it ({"meeting_start": {"version": 2, "by": "7:tablet-a"}}; "by" is "<user id>" from the
    # office pages), so tablets merge edits of the closing meeting field by field (DESIGN §4).
    closing_versions: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")
    state_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()

    trip: Mapped[Trip] = relationship(back_populates="inspections")
    unit: Mapped[AdminUnit] = relationship()
    checklist_version: Mapped[ChecklistVersion] = relationship()
    observations: Mapped[list[Observation]] = relationship(
        back_populates="inspection", order_by="Observation.item_code"
    )

    def can(self, action: str) -> bool:
        """Whether the state machine allows this action now."""
        return self.state in TRANSITIONS[action][0]

    def _move(self, action: str) -> None:
        self.state = next_state(TRANSITIONS, action, self.state, "an inspection")
        self.state_changed_at = utcnow()
        self.revision += 1

    def start(self) -> None:
        """planned → in_progress: the team begins work on this unit."""
        self._move("start")

    def submit(self) -> None:
        """in_progress → submitted: the team hands its results to the leader."""
        self._move("submit")

    def approve(self, unanswered: list[str] | None = None, reason: str | None = None) -> None:
        """in_progress or submitted → approved: the leader accepts the merged results.

        With criteria not assessed (``unanswered``), the leader's ``reason`` is required and
        kept with their codes: the record says the approval knew."""
        if unanswered and not (reason or "").strip():
            raise ValueError("a reason is required to approve with criteria not assessed")
        self._move("approve")
        self.approved_unanswered = list(unanswered) if unanswered else None
        self.approval_reason = reason.strip() if unanswered else None

    @property
    def approval_confirmed_partial(self) -> bool:
        """Whether the current approval confirmed criteria left not assessed."""
        return self.is_locked and bool(self.approved_unanswered)

    def mark_signed(self) -> None:
        """approved → signed: the minutes carry every required signature."""
        self._move("sign")

    def reopen(self, reason: str) -> None:
        """Back to in_progress from submitted, approved or signed; a reason is required."""
        if not reason or not reason.strip():
            raise ValueError("a reason is required to reopen an inspection")
        self._move("reopen")
        self.reopen_reason = reason.strip()
        self.approved_unanswered = self.approval_reason = None  # the next approval decides anew

    @property
    def is_locked(self) -> bool:
        """Field edits are no longer applied directly once the leader has approved."""
        return self.state in {InspectionState.approved, InspectionState.signed}

    # The closing meeting's fields that tablets edit one by one (closing.set).
    CLOSING_FIELDS = ("meeting_start", "meeting_end", "unit_officials", "team_present",
                      "unit_comments", "report_due")

    def closing_version(self, name: str) -> tuple[int, str | None]:
        """(version, writer) of a closing field: when it last changed and who changed it."""
        meta = (self.closing_versions or {}).get(name) or {}
        return int(meta.get("version") or 0), meta.get("by")

    def set_closing(self, name: str, value, writer: str) -> int:
        """Set one closing field (when it differs) as ``writer`` ("<user id>:<device>" or
        "<user id>"); returns the field's version, raised by one when the value changed."""
        if name not in self.CLOSING_FIELDS:
            raise KeyError(name)
        version, _ = self.closing_version(name)
        if getattr(self, name) == value:
            return version
        setattr(self, name, value)
        if name == "unit_comments":
            self.unit_comments_at = utcnow()  # minutes built before now lack them
        self.closing_versions = {**(self.closing_versions or {}),
                                 name: {"version": version + 1, "by": writer}}
        return version + 1

    def closing_editable_by(self, trip_role) -> bool:
        """Whether a team member with this trip role may change the closing meeting's data from
        a tablet: the leader or the secretary, until the leader approves."""
        return (trip_role is not None and trip_role.value in ("leader", "secretary")
                and not self.is_locked)

    def closing_permissions(self, trip_role) -> dict:
        """What a team member with this trip role may do with the closing data from a tablet:
        {can_edit, can_approve} (only the leader approves)."""
        return {"can_edit": self.closing_editable_by(trip_role),
                "can_approve": trip_role is not None and trip_role.value == "leader"}

    @property
    def signed_at(self) -> datetime | None:
        """When the minutes' last signature made the inspection signed (None unless signed)."""
        return self.state_changed_at if self.state is InspectionState.signed else None


class ObservationResult(enum.StrEnum):
    passed = "pass"
    partial = "partial"
    failed = "fail"
    na = "na"


class Observation(db.Model):
    """What the team recorded for one item of one inspection; merged field by field."""

    __tablename__ = "observations"
    __table_args__ = (UniqueConstraint("inspection_id", "item_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"))
    item_code: Mapped[str] = mapped_column(String(40))
    result: Mapped[str | None] = mapped_column(String(10))
    points: Mapped[float | None] = mapped_column(Float)
    value: Mapped[float | None] = mapped_column(Float)
    text: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Per field: the observation version at which it last changed, for field-level merge.
    field_versions: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    inspection: Mapped[Inspection] = relationship(back_populates="observations")
    updated_by: Mapped[User | None] = relationship()

    FIELDS = ("result", "points", "value", "text", "note")


class Conflict(db.Model):
    """Two edits of the same field from the same base version; both values are kept."""

    __tablename__ = "conflicts"

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"))
    item_code: Mapped[str] = mapped_column(String(40))
    field: Mapped[str] = mapped_column(String(20))
    base_version: Mapped[int] = mapped_column(Integer)
    current_value: Mapped[dict] = mapped_column(JSON)  # {"value": ..., "by": user id}
    incoming_value: Mapped[dict] = mapped_column(JSON)
    incoming_op_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolution: Mapped[dict | None] = mapped_column(JSON)
    # Proposals for the same field that arrived while this one was open, between it and the
    # latest few kept (services.sync.KEEP_LATEST_CONFLICTS): counted here, not kept one by one.
    folded: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    author: Mapped[User | None] = relationship(foreign_keys=[author_id])


class LateStatus(enum.StrEnum):
    pending = "pending"
    accepted = "accepted"
    dismissed = "dismissed"


# action -> (states it may start from, state it leads to)
LATE_TRANSITIONS: dict[str, tuple[frozenset[LateStatus], LateStatus]] = {
    "accept": (frozenset({LateStatus.pending}), LateStatus.accepted),
    "dismiss": (frozenset({LateStatus.pending}), LateStatus.dismissed),
}


class LateSubmission(db.Model):
    """An op that arrived after approval: kept for the leader to accept or dismiss, once."""

    __tablename__ = "late_submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"))
    op_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    payload: Mapped[dict] = mapped_column(JSON)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[LateStatus] = mapped_column(
        Enum(LateStatus, native_enum=False, length=20), default=LateStatus.pending)
    received_at: Mapped[datetime] = created_at_column()
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    def can(self, action: str) -> bool:
        """Whether the submission may still be accepted or dismissed."""
        return self.status in LATE_TRANSITIONS[action][0]

    def _decide(self, action: str, by_id: int | None) -> None:
        self.status = next_state(LATE_TRANSITIONS, action, self.status, "a late submission")
        self.decided_at = utcnow()
        self.decided_by_id = by_id

    def accept(self, by_id: int | None) -> None:
        """pending → accepted: the leader applied the change (by the service, before this)."""
        self._decide("accept", by_id)

    def dismiss(self, by_id: int | None) -> None:
        """pending → dismissed: the leader set the change aside; it stays on record."""
        self._decide("dismiss", by_id)


class Photo(db.Model):
    """A photo taken as evidence; the file is stored by its SHA-256."""

    __tablename__ = "photos"
    CAPTION_LIMIT = 2000  # characters of a caption (the upload and the sync op refuse more)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_uuid: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"))
    item_code: Mapped[str | None] = mapped_column(String(40))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(50))
    captured_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    caption: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()

    author: Mapped[User | None] = relationship()


class Finding(db.Model):
    """A strength (ưu điểm) or shortcoming (hạn chế) written by the leader."""

    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # strength | weakness
    text: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()
    # Made by the tablet that created it (or by the server for the office's): stable across
    # devices. ``version`` rises on every change; ``changed_by`` is the writer of the last one.
    client_uuid: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True, default=uuid.uuid4)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    changed_by: Mapped[str | None] = mapped_column(String(120))

    CLOSING_FIELDS = ("kind", "text")  # what two writers can disagree on (position merges)

    def values(self) -> dict:
        """The fields a tablet edits, as it sends them."""
        return {"kind": self.kind, "text": self.text, "position": self.position}

    def edit(self, values: dict, writer: str) -> bool:
        """Apply the given fields; a change raises the version. Returns whether it changed."""
        return _edit(self, values, writer)


class RecommendationStatus(enum.StrEnum):
    open = "open"  # made, or judged still owed at a follow-up
    done = "done"  # the unit reports it carried it out (not yet checked)
    verified = "verified"  # a later inspection saw it carried out


_OWED_OR_JUDGED = frozenset(RecommendationStatus)
# action -> (states it may start from, state it leads to). A follow-up may be corrected at the
# same inspection until its minutes are signed, so both follow-up moves start from every state
# (which inspection may judge is the service's check).
RECOMMENDATION_TRANSITIONS: dict[str, tuple[frozenset[RecommendationStatus],
                                             RecommendationStatus]] = {
    "report_done": (frozenset({RecommendationStatus.open}), RecommendationStatus.done),
    "undo_report": (frozenset({RecommendationStatus.done}), RecommendationStatus.open),
    "verify": (_OWED_OR_JUDGED, RecommendationStatus.verified),
    "keep_open": (_OWED_OR_JUDGED, RecommendationStatus.open),
}
# follow-up result -> the move it makes
FOLLOW_UP_MOVES = {"done": "verify", "partly": "keep_open", "not_done": "keep_open"}


class Recommendation(db.Model):
    """A recommendation (kiến nghị) to the unit, followed up at the next visit:
    ``open → done → verified``, and back to ``open`` when a follow-up finds it still owed."""

    __tablename__ = "recommendations"

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("admin_units.id"))
    text: Mapped[str] = mapped_column(Text)
    library_code: Mapped[str | None] = mapped_column(String(40))
    item_codes: Mapped[list] = mapped_column(JSON, default=list)
    due_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[RecommendationStatus] = mapped_column(
        Enum(RecommendationStatus, native_enum=False, length=20), default=RecommendationStatus.open)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # Follow-up at the next inspection of the same unit (or of the commune that absorbed it).
    followed_up_in_id: Mapped[int | None] = mapped_column(ForeignKey("inspections.id"))
    follow_up_result: Mapped[str | None] = mapped_column(String(20))  # done | partly | not_done
    follow_up_evidence: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
    # The unit's report that it carried the recommendation out (open → done), with a note and
    # evidence files; withdrawn (done → open) until a later inspection verifies it.
    reported_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    report_note: Mapped[str | None] = mapped_column(Text)
    # The unit's reply in words (e.g. what it is doing, why it needs more time), at any time
    # until the recommendation is verified.
    unit_reply: Mapped[str | None] = mapped_column(Text)
    unit_reply_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    unit_reply_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # As Finding's: a stable id made by the tablet (or the server), the version of the content
    # (text, codes, due date, position) and who changed it last.
    client_uuid: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True, default=uuid.uuid4)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    changed_by: Mapped[str | None] = mapped_column(String(120))

    unit: Mapped[AdminUnit] = relationship()
    reported_by: Mapped[User | None] = relationship(foreign_keys=[reported_by_id])
    unit_reply_by: Mapped[User | None] = relationship(foreign_keys=[unit_reply_by_id])
    evidence: Mapped[list[RecommendationEvidence]] = relationship(
        order_by="RecommendationEvidence.id", cascade="all, delete-orphan",
        back_populates="recommendation")

    CLOSING_FIELDS = ("text", "item_codes", "library_code", "due_on")

    def values(self) -> dict:
        """The fields a tablet edits, as stored."""
        return {"text": self.text, "item_codes": list(self.item_codes or []),
                "library_code": self.library_code, "due_on": self.due_on,
                "position": self.position}

    def edit(self, values: dict, writer: str) -> bool:
        """Apply the given fields; a change raises the version. Returns whether it changed."""
        return _edit(self, values, writer)

    def can(self, action: str) -> bool:
        """Whether the state machine allows this action now."""
        return self.status in RECOMMENDATION_TRANSITIONS[action][0]

    def _move(self, action: str) -> None:
        self.status = next_state(RECOMMENDATION_TRANSITIONS, action, self.status,
                                 "a recommendation")

    def can_report_done(self) -> bool:
        """Whether the unit may report it carried out now (it is open)."""
        return self.can("report_done")

    def can_undo_report(self) -> bool:
        """Whether the unit may withdraw its report now (done, not verified yet)."""
        return self.can("undo_report")

    def can_reply(self) -> bool:
        """Whether the unit may still reply in words (until it is verified)."""
        return self.status != RecommendationStatus.verified

    def report_done(self, by: User, note: str | None) -> None:
        """open → done: the unit says it carried the recommendation out (the next inspection
        verifies it)."""
        self._move("report_done")
        self.reported_at = utcnow()
        self.reported_by_id = by.id
        self.report_note = note

    def undo_report(self) -> None:
        """done → open: the unit withdraws its report (its note and evidence files go with it);
        refused once a later inspection verified the recommendation."""
        self._move("undo_report")
        self.reported_at = None
        self.reported_by_id = None
        self.report_note = None
        self.evidence.clear()

    def reply(self, by: User, text: str | None) -> None:
        """The unit's reply in words (empty removes it); refused once verified."""
        if not self.can_reply():
            raise InvalidTransition("reply", self.status, "a recommendation")
        self.unit_reply = text or None
        self.unit_reply_at = utcnow() if text else None
        self.unit_reply_by_id = by.id if text else None

    def follow_up(self, result: str, inspection_id: int, evidence: str | None) -> None:
        """A later inspection's judgement: ``done`` → verified; ``partly`` or ``not_done`` →
        open (still owed). Raises KeyError for another result."""
        self._move(FOLLOW_UP_MOVES[result])
        self.follow_up_result = result
        self.follow_up_evidence = evidence
        self.followed_up_in_id = inspection_id


def _edit(record: Finding | Recommendation, values: dict, writer: str) -> bool:
    changed = [name for name, value in values.items() if getattr(record, name) != value]
    for name in changed:
        setattr(record, name, values[name])
    if changed:
        record.version = (record.version or 1) + 1
        if set(changed) & set(type(record).CLOSING_FIELDS):
            # The writer of the content; a move alone (position) does not make it theirs.
            record.changed_by = writer
    return bool(changed)


def clashing_fields(record: Finding | Recommendation, base: int, writer: str,
                    values: dict) -> list[str]:
    """The fields another writer changed after ``base`` whose stored value differs from
    ``values`` (the position merges: it never clashes)."""
    if base >= (record.version or 1) or record.changed_by == writer:
        return []
    return [name for name in type(record).CLOSING_FIELDS
            if name in values and getattr(record, name) != values[name]]


class RecommendationEvidence(db.Model):
    """A file the unit attached to its report that a recommendation was carried out. The bytes
    are in the content-addressed store (by SHA-256, once however often they are attached),
    checked like photos (JPEG, PNG or WebP within the photo limits)."""

    __tablename__ = "recommendation_evidence"
    __table_args__ = (UniqueConstraint("recommendation_id", "sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(
        ForeignKey("recommendations.id", ondelete="CASCADE"))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(50))
    size: Mapped[int] = mapped_column(BigInteger)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()

    recommendation: Mapped[Recommendation] = relationship(back_populates="evidence")
