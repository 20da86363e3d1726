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
from .base import created_at_column, utcnow
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


class InvalidTransition(Exception):
    """A move the inspection state machine does not allow."""

    def __init__(self, action: str, state: InspectionState):
        super().__init__(f"cannot {action} an inspection that is {state.value}")
        self.action = action
        self.state = state


# action -> (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[InspectionState], InspectionState]] = {
    "start": (frozenset({InspectionState.planned}), InspectionState.in_progress),
    "submit": (frozenset({InspectionState.in_progress}), InspectionState.submitted),
    "approve": (frozenset({InspectionState.submitted}), InspectionState.approved),
    "sign": (frozenset({InspectionState.approved}), InspectionState.signed),
    "reopen": (
        frozenset({InspectionState.submitted, InspectionState.approved, InspectionState.signed}),
        InspectionState.in_progress,
    ),
}


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
    # When the meeting at the unit began and ended (local time), printed in the minutes.
    meeting_start: Mapped[time | None] = mapped_column(Time)
    meeting_end: Mapped[time | None] = mapped_column(Time)
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
        sources, target = TRANSITIONS[action]
        if self.state not in sources:
            raise InvalidTransition(action, self.state)
        self.state = target
        self.state_changed_at = utcnow()
        self.revision += 1

    def start(self) -> None:
        """planned → in_progress: the team begins work on this unit."""
        self._move("start")

    def submit(self) -> None:
        """in_progress → submitted: the team hands its results to the leader."""
        self._move("submit")

    def approve(self) -> None:
        """submitted → approved: the leader accepts the merged results."""
        self._move("approve")

    def mark_signed(self) -> None:
        """approved → signed: the minutes carry every required signature."""
        self._move("sign")

    def reopen(self, reason: str) -> None:
        """Back to in_progress from submitted, approved or signed; a reason is required."""
        if not reason or not reason.strip():
            raise ValueError("a reason is required to reopen an inspection")
        self._move("reopen")
        self.reopen_reason = reason.strip()

    @property
    def is_locked(self) -> bool:
        """Field edits are no longer applied directly once the leader has approved."""
        return self.state in {InspectionState.approved, InspectionState.signed}

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


class LateSubmission(db.Model):
    """An op that arrived after approval: kept for the leader to accept or dismiss."""

    __tablename__ = "late_submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"))
    op_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    payload: Mapped[dict] = mapped_column(JSON)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(20), default="pending")  # accepted | dismissed
    received_at: Mapped[datetime] = created_at_column()
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Photo(db.Model):
    """A photo taken as evidence; the file is stored by its SHA-256."""

    __tablename__ = "photos"

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


class Recommendation(db.Model):
    """A recommendation (kiến nghị) to the unit, followed up at the next visit."""

    __tablename__ = "recommendations"

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("admin_units.id"))
    text: Mapped[str] = mapped_column(Text)
    library_code: Mapped[str | None] = mapped_column(String(40))
    item_codes: Mapped[list] = mapped_column(JSON, default=list)
    due_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | done | verified
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

    unit: Mapped[AdminUnit] = relationship()
    reported_by: Mapped[User | None] = relationship(foreign_keys=[reported_by_id])
    unit_reply_by: Mapped[User | None] = relationship(foreign_keys=[unit_reply_by_id])
    evidence: Mapped[list[RecommendationEvidence]] = relationship(
        order_by="RecommendationEvidence.id", cascade="all, delete-orphan", back_populates="recommendation")

    def can_report_done(self) -> bool:
        return self.status == "open"

    def can_undo_report(self) -> bool:
        return self.status == "done"

    def report_done(self, by: User, note: str | None) -> None:
        """open → done: the unit says it carried the recommendation out (the next inspection
        verifies it)."""
        if not self.can_report_done():
            raise RecommendationMoveRefused("report_done", self.status)
        self.status = "done"
        self.reported_at = utcnow()
        self.reported_by_id = by.id
        self.report_note = note

    def undo_report(self) -> None:
        """done → open: the unit withdraws its report (its note and evidence files go with it);
        refused once a later inspection verified the recommendation."""
        if not self.can_undo_report():
            raise RecommendationMoveRefused("undo_report", self.status)
        self.status = "open"
        self.reported_at = None
        self.reported_by_id = None
        self.report_note = None
        self.evidence.clear()

    def can_reply(self) -> bool:
        return self.status != "verified"

    def reply(self, by: User, text: str | None) -> None:
        """The unit's reply in words (empty removes it); refused once verified."""
        if not self.can_reply():
            raise RecommendationMoveRefused("reply", self.status)
        self.unit_reply = text or None
        self.unit_reply_at = utcnow() if text else None
        self.unit_reply_by_id = by.id if text else None


class RecommendationMoveRefused(InvalidTransition):
    """A move the recommendation's states (open → done → verified) do not allow."""

    def __init__(self, action: str, status: str):
        Exception.__init__(self, f"cannot {action} a recommendation that is {status}")
        self.action = action
        self.state = status


class RecommendationEvidence(db.Model):
    """A file the unit attached to its report that a recommendation was carried out. The bytes
    are in the content-addressed store (by SHA-256, once however often they are attached),
    checked like photos (JPEG, PNG or WebP within the photo limits)."""

    __tablename__ = "recommendation_evidence"
    __table_args__ = (UniqueConstraint("recommendation_id", "sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(ForeignKey("recommendations.id", ondelete="CASCADE"))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(50))
    size: Mapped[int] = mapped_column(BigInteger)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()

    recommendation: Mapped[Recommendation] = relationship(back_populates="evidence")
