"""Who may see and do what: roles, trip membership and the unit a representative speaks for."""
from __future__ import annotations

from sqlalchemy import Select, select

from ..errors import NotFound, PermissionDenied
from ..models import (
    Inspection,
    InspectionState,
    MinutesRevision,
    MinutesStatus,
    Role,
    Trip,
    TripMember,
    TripRole,
    User,
)


def trips_query(user: User) -> Select:
    """Trips the user may see: all for admin, those they are on for leaders and inspectors."""
    query = select(Trip).order_by(Trip.starts_on.desc(), Trip.id.desc())
    if user.role == Role.admin:
        return query
    if user.role in (Role.leader, Role.inspector):
        return query.where(Trip.members.any(TripMember.user_id == user.id))
    return query.where(Trip.inspections.any(Inspection.unit_id == user.unit_id))


def inspections_query(user: User) -> Select:
    """Inspections the user may see (a representative: only their own unit's)."""
    query = select(Inspection).order_by(Inspection.id)
    if user.role == Role.admin:
        return query
    if user.role == Role.unitrep:
        return query.where(Inspection.unit_id == user.unit_id)
    return query.where(Inspection.trip.has(Trip.members.any(TripMember.user_id == user.id)))


def can_view(user: User, inspection: Inspection) -> bool:
    """Whether the user may read this inspection."""
    if user.role == Role.admin:
        return True
    if user.role == Role.unitrep:
        return inspection.unit_id == user.unit_id
    return inspection.trip.role_of(user) is not None


def can_edit(user: User, inspection: Inspection) -> bool:
    """Whether the user may record results: any member of the trip's team."""
    return user.role in (Role.leader, Role.inspector) and inspection.trip.role_of(user) is not None


def is_trip_leader(user: User, trip: Trip) -> bool:
    """Whether the user leads this trip's team (approves, signs, reopens)."""
    return trip.role_of(user) == TripRole.leader


def may_review(user: User, inspection: Inspection) -> bool:
    """Whether the user may change the review (results, conflicts, late changes, findings,
    recommendations): the trip's leader, until the minutes are signed."""
    return is_trip_leader(user, inspection.trip) and inspection.state != InspectionState.signed


def may_comment(user: User, inspection: Inspection) -> bool:
    """Whether the user may write the unit's comments: the trip's leader or the unit's
    representative, until the minutes are signed."""
    return inspection.state != InspectionState.signed and (
        is_trip_leader(user, inspection.trip)
        or (user.role == Role.unitrep and user.unit_id == inspection.unit_id))


def may_build_minutes(user: User, inspection: Inspection) -> bool:
    """Whether the page offers to build the minutes: the trip's leader, once results are
    approved."""
    return is_trip_leader(user, inspection.trip) and inspection.state == InspectionState.approved


def may_sign_minutes(user: User, inspection: Inspection, latest: MinutesRevision | None) -> bool:
    """Whether the page offers to sign the current revision (the trip's leader or a unit's
    representative, while it is final; which box they sign is checked when they sign)."""
    return (latest is not None and latest.status == MinutesStatus.final
            and (is_trip_leader(user, inspection.trip) or user.role == Role.unitrep))


def get_visible_inspection(user: User, inspection: Inspection | None) -> Inspection:
    """The inspection if the user may see it; otherwise 404, so ids of others' trips leak
    nothing."""
    if inspection is None or not can_view(user, inspection):
        raise NotFound("Không tìm thấy cuộc kiểm tra.", "Inspection not found.")
    return inspection


def require(condition: bool, message_vi: str, message_en: str) -> None:
    """Raise PermissionDenied with the given messages unless the condition holds."""
    if not condition:
        raise PermissionDenied(message_vi, message_en)
