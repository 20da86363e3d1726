"""A unit's self-assessment (tự đánh giá) before the visit: its claims per criterion, the
evidence files (tài liệu kiểm chứng) behind them, and the explanations (giải trình) the leader
asks for afterwards."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import created_at_column, next_state, utcnow
from .inspections import Inspection
from .users import User


class SelfAssessmentState(enum.StrEnum):
    draft = "draft"  # being filled; the unit saves as it goes
    submitted = "submitted"  # handed to the team (read-only until withdrawn)
    withdrawn = "withdrawn"  # taken back to correct; editable, submitted again later


# action -> (states it may start from, state it leads to)
SELF_ASSESSMENT_TRANSITIONS: dict[str, tuple[frozenset[SelfAssessmentState],
                                             SelfAssessmentState]] = {
    "submit": (frozenset({SelfAssessmentState.draft, SelfAssessmentState.withdrawn}),
               SelfAssessmentState.submitted),
    "withdraw": (frozenset({SelfAssessmentState.submitted}), SelfAssessmentState.withdrawn),
}
EDITABLE = frozenset({SelfAssessmentState.draft, SelfAssessmentState.withdrawn})


class SelfAssessment(db.Model):
    """The unit's own scoring of one inspection's checklist: ``draft → submitted``, and
    ``submitted → withdrawn → submitted`` until the visit starts."""

    __tablename__ = "self_assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(
        ForeignKey("inspections.id", ondelete="CASCADE"), unique=True)
    state: Mapped[SelfAssessmentState] = mapped_column(
        Enum(SelfAssessmentState, native_enum=False, length=20), default=SelfAssessmentState.draft)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The self-score when it was submitted ({total, max, percent}): the claims cannot change
    # while submitted, so devices get it without scoring again.
    score: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    inspection: Mapped[Inspection] = relationship()
    claims: Mapped[list[SelfAssessmentClaim]] = relationship(
        back_populates="self_assessment", order_by="SelfAssessmentClaim.item_code",
        cascade="all, delete-orphan")
    evidence: Mapped[list[SelfAssessmentEvidence]] = relationship(
        back_populates="self_assessment", order_by="SelfAssessmentEvidence.id",
        cascade="all, delete-orphan")
    explanations: Mapped[list[SelfAssessmentExplanation]] = relationship(
        back_populates="self_assessment", order_by="SelfAssessmentExplanation.id",
        cascade="all, delete-orphan")

    def can(self, action: str) -> bool:
        """Whether the state machine allows this action now."""
        return self.state in SELF_ASSESSMENT_TRANSITIONS[action][0]

    @property
    def editable(self) -> bool:
        """Whether claims may change (draft or withdrawn)."""
        return self.state in EDITABLE

    def _move(self, action: str) -> None:
        self.state = next_state(SELF_ASSESSMENT_TRANSITIONS, action, self.state,
                                "a self-assessment")
        self.updated_at = utcnow()

    def submit(self, by: User) -> None:
        """draft or withdrawn → submitted: the team may read the claims."""
        self._move("submit")
        self.submitted_at = utcnow()
        self.submitted_by_id = by.id

    def withdraw(self) -> None:
        """submitted → withdrawn: the unit takes it back to correct (claims are kept)."""
        self._move("withdraw")
        self.score = None
        self.submitted_at = None
        self.submitted_by_id = None


class SelfAssessmentClaim(db.Model):
    """What the unit claims for one criterion: the observation's fields, a note, the evidence
    files behind it (ids of SelfAssessmentEvidence) or an explanation why there are none."""

    __tablename__ = "self_assessment_claims"
    __table_args__ = (UniqueConstraint("self_assessment_id", "item_code"),)
    FIELDS = ("result", "points", "value", "text", "note", "explanation")

    id: Mapped[int] = mapped_column(primary_key=True)
    self_assessment_id: Mapped[int] = mapped_column(
        ForeignKey("self_assessments.id", ondelete="CASCADE"))
    item_code: Mapped[str] = mapped_column(String(40))
    result: Mapped[str | None] = mapped_column(String(10))
    points: Mapped[float | None] = mapped_column(Float)
    value: Mapped[float | None] = mapped_column(Float)
    text: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    explanation: Mapped[str | None] = mapped_column(Text)  # why there is no evidence
    evidence_ids: Mapped[list] = mapped_column(JSON, default=list)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    self_assessment: Mapped[SelfAssessment] = relationship(back_populates="claims")


class SelfAssessmentEvidence(db.Model):
    """An evidence file of a self-assessment (PDF, image, Word/Excel/ODF document). The bytes
    are in the content-addressed store by SHA-256 (once however often they are attached)."""

    __tablename__ = "self_assessment_evidence"
    __table_args__ = (UniqueConstraint("self_assessment_id", "sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    self_assessment_id: Mapped[int] = mapped_column(
        ForeignKey("self_assessments.id", ondelete="CASCADE"))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()

    self_assessment: Mapped[SelfAssessment] = relationship(back_populates="evidence")


class SelfAssessmentExplanation(db.Model):
    """The leader's request that the unit explain a criterion (one per criterion) and the
    unit's answer in words and files (ids of SelfAssessmentEvidence)."""

    __tablename__ = "self_assessment_explanations"
    __table_args__ = (UniqueConstraint("self_assessment_id", "item_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    self_assessment_id: Mapped[int] = mapped_column(
        ForeignKey("self_assessments.id", ondelete="CASCADE"))
    item_code: Mapped[str] = mapped_column(String(40))
    question: Mapped[str] = mapped_column(Text)
    asked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    asked_at: Mapped[datetime] = created_at_column()
    answer: Mapped[str | None] = mapped_column(Text)
    answer_evidence_ids: Mapped[list] = mapped_column(JSON, default=list)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    self_assessment: Mapped[SelfAssessment] = relationship(back_populates="explanations")

    @property
    def answered(self) -> bool:
        """Whether the unit has answered."""
        return self.answered_at is not None
