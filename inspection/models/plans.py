"""Inspection plans (Kế hoạch kiểm tra), trips (đợt kiểm tra) and their teams."""
from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import Date, Enum, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .units import AdminUnit
from .users import User


class Plan(db.Model):
    """A provincial inspection plan such as Kế hoạch số 3199/KH-UBND."""

    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    issuer: Mapped[str] = mapped_column(String(200))
    issued_on: Mapped[date] = mapped_column(Date)
    year: Mapped[int] = mapped_column(Integer)
    province_id: Mapped[int | None] = mapped_column(ForeignKey("admin_units.id"))

    province: Mapped[AdminUnit | None] = relationship()
    trips: Mapped[list[Trip]] = relationship(back_populates="plan", order_by="Trip.starts_on")


class TripRole(enum.StrEnum):
    leader = "leader"
    member = "member"
    secretary = "secretary"


class Trip(db.Model):
    """One visit of the team (đợt kiểm tra) to a district or to communes, with dates."""

    __tablename__ = "trips"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"))
    name: Mapped[str] = mapped_column(String(300))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    decision: Mapped[str] = mapped_column(Text, default="")  # QĐ thành lập đoàn: what it is
    decision_number: Mapped[str] = mapped_column(String(80), default="", server_default="")
    decision_date: Mapped[date | None] = mapped_column(Date)
    # The trip minutes' deadline to report the remedies (an inspection's own wins in its
    # minutes) and their recipients block (Nơi nhận), one recipient a line.
    report_due: Mapped[date | None] = mapped_column(Date)
    recipients: Mapped[str] = mapped_column(Text, default="", server_default="")
    place: Mapped[str] = mapped_column(String(200), default="")
    # The last day units may submit their self-assessment (set by the secretariat).
    self_assessment_due: Mapped[date | None] = mapped_column(Date)

    plan: Mapped[Plan] = relationship(back_populates="trips")
    members: Mapped[list[TripMember]] = relationship(
        back_populates="trip", cascade="all, delete-orphan"
    )
    inspections: Mapped[list[Inspection]] = relationship(  # noqa: F821
        back_populates="trip", order_by="Inspection.id"
    )

    def role_of(self, user: User) -> TripRole | None:
        """The user's role on this trip's team, or None if they are not on it."""
        for member in self.members:
            if member.user_id == user.id:
                return member.role
        return None

    @property
    def leader(self) -> User | None:
        """The trip's leader, if one is assigned."""
        return next((m.user for m in self.members if m.role == TripRole.leader), None)


class TripMember(db.Model):
    __tablename__ = "trip_members"
    __table_args__ = (UniqueConstraint("trip_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trip_id: Mapped[int] = mapped_column(ForeignKey("trips.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    role: Mapped[TripRole] = mapped_column(Enum(TripRole, native_enum=False, length=20))

    trip: Mapped[Trip] = relationship(back_populates="members")
    user: Mapped[User] = relationship()
