"""Plans, trips and the inspections they schedule."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, or_, select

from ..errors import Conflict, ValidationFailed
from ..extensions import db
from ..models import (
    AdminUnit,
    Inspection,
    InspectionState,
    MinutesRevision,
    MinutesStatus,
    Plan,
    Role,
    Signature,
    Trip,
    TripMember,
    TripRole,
    User,
)
from . import audit
from .checklists import checklist_for
from .text import clean_text, over_limit


def _clean(text: str | None) -> str:
    return clean_text(text, single_line=True).strip()


def _check_length(errors: dict, field: str, text: str, column, label: str) -> None:
    if limit := over_limit(text, column):
        errors[field] = [f"{label} dài quá {limit} ký tự."]


def _date(value, field: str, errors: dict) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        errors[field] = ["Ngày không hợp lệ (YYYY-MM-DD)."]
        return None


def _optional_date(value, field: str, errors: dict) -> date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _date(value, field, errors)


def _plan_fields(number: str, title: str, issuer: str, issued_on, year,
                 plan: Plan | None = None) -> dict:
    """The plan's fields, cleaned and checked (ValidationFailed names each wrong field)."""
    errors: dict[str, list[str]] = {}
    number, title, issuer = _clean(number), _clean(title), _clean(issuer)
    if not number:
        errors["number"] = ["Cần nhập số kế hoạch."]
    elif db.session.scalar(select(Plan.id).where(Plan.number == number,
                                                 Plan.id != (plan.id if plan else -1))):
        errors["number"] = ["Số kế hoạch đã tồn tại."]
    if not title:
        errors["title"] = ["Cần nhập trích yếu."]
    for field, text, column, label in (("number", number, Plan.number, "Số kế hoạch"),
                                       ("title", title, Plan.title, "Trích yếu"),
                                       ("issuer", issuer, Plan.issuer, "Cơ quan ban hành")):
        _check_length(errors, field, text, column, label)
    issued = _date(issued_on, "issued_on", errors)
    try:
        year = int(year)
        if not 2000 <= year <= 2100:
            raise ValueError
    except (TypeError, ValueError):
        errors["year"] = ["Năm không hợp lệ."]
    if errors:
        verb = "lưu" if plan else "tạo"
        raise ValidationFailed(f"Không {verb} được kế hoạch; kiểm tra các trường bị đánh dấu.",
                               "The plan could not be saved." if plan else
                               "The plan could not be created.", errors)
    return {"number": number, "title": title, "issuer": issuer, "issued_on": issued,
            "year": year}


def create_plan(number: str, title: str, issuer: str, issued_on, year,
                province: AdminUnit | None, by: User | None = None) -> Plan:
    """Record an inspection plan (Kế hoạch kiểm tra); the number must be new."""
    plan = Plan(**_plan_fields(number, title, issuer, issued_on, year), province=province)
    db.session.add(plan)
    db.session.flush()
    audit.record("plan.create", plan, by)
    return plan


def _team_errors(errors: dict, leader: User | None, members: list[User],
                 secretary: User | None) -> None:
    if leader is None or leader.role not in (Role.leader, Role.admin):
        errors["leader"] = ["Cần chọn trưởng đoàn (tài khoản vai trò trưởng đoàn)."]
    bad_members = [m.username for m in members if m.role not in (Role.inspector, Role.leader)]
    if bad_members:
        errors["members"] = ["Không phải thành viên đoàn: " + ", ".join(bad_members)]
    if secretary is not None:
        if secretary.role not in (Role.inspector, Role.leader, Role.admin):
            errors["secretary"] = ["Thư ký phải là tài khoản của Sở (chuyên viên, trưởng đoàn)."]
        elif leader is not None and secretary.id == leader.id:
            errors["secretary"] = ["Trưởng đoàn không đồng thời là thư ký."]


def _decision_fields(errors: dict, decision: str, decision_number: str, decision_date) -> dict:
    decision, decision_number = _clean(decision), _clean(decision_number)
    _check_length(errors, "decision_number", decision_number, Trip.decision_number,
                  "Số quyết định")
    return {"decision": decision, "decision_number": decision_number,
            "decision_date": _optional_date(decision_date, "decision_date", errors)}


def _team(leader: User, members: list[User],
          secretary: User | None) -> dict[int, tuple[User, TripRole]]:
    """user id → (user, role): the leader, the secretary, then the members."""
    team = {leader.id: (leader, TripRole.leader)}
    if secretary is not None:
        team.setdefault(secretary.id, (secretary, TripRole.secretary))
    for member in members:
        team.setdefault(member.id, (member, TripRole.member))
    return team


KEEP = object()  # a field the caller does not set: left as it is


def _trip_values(errors: dict, name: str, starts_on, ends_on, place: str, decision: str,
                 decision_number: str, decision_date, leader: User | None, members: list[User],
                 secretary: User | None, self_assessment_due=KEEP) -> dict:
    """A trip's own fields, cleaned and checked as the trip forms send them (creating and
    correcting alike); problems go into `errors` by field. Dates are None where invalid."""
    name, place = _clean(name), _clean(place)
    if not name:
        errors["name"] = ["Cần nhập tên đợt kiểm tra."]
    _check_length(errors, "name", name, Trip.name, "Tên đợt kiểm tra")
    _check_length(errors, "place", place, Trip.place, "Địa điểm")
    decided = _decision_fields(errors, decision, decision_number, decision_date)
    start = _date(starts_on, "starts_on", errors)
    end = _date(ends_on, "ends_on", errors)
    if start and end and end < start:
        errors["ends_on"] = ["Ngày kết thúc trước ngày bắt đầu."]
    _team_errors(errors, leader, members, secretary)
    values = {"name": name, "place": place, "starts_on": start, "ends_on": end, **decided}
    if self_assessment_due is not KEEP:
        due = _optional_date(self_assessment_due, "self_assessment_due", errors)
        if due and start and due > start:
            errors["self_assessment_due"] = ["Hạn tự đánh giá phải trước hoặc đúng ngày bắt đầu."]
        values["self_assessment_due"] = due
    return values


def create_trip(plan: Plan, name: str, starts_on, ends_on, leader: User | None,
                members: list[User], units: list[AdminUnit], place: str = "", decision: str = "",
                by: User | None = None, *, decision_number: str = "", decision_date=None,
                secretary: User | None = None, self_assessment_due=None) -> Trip:
    """Create a trip with its team and one planned inspection per unit to visit.

    Each inspection gets the published checklist fitting the unit's level and the era of the
    trip's first day; the inspection keeps that version even if a newer one is published later.
    """
    errors: dict[str, list[str]] = {}
    values = _trip_values(errors, name, starts_on, ends_on, place, decision, decision_number,
                          decision_date, leader, members, secretary, self_assessment_due)
    start = values["starts_on"]
    if not units:
        errors["units"] = ["Cần chọn ít nhất một đơn vị được kiểm tra."]
    elif start:
        stale = [u.full_name for u in units if not u.is_valid_on(start)]
        if stale:
            errors["units"] = ["Đơn vị không còn hiệu lực vào ngày kiểm tra: " + ", ".join(stale)]
    if errors:
        raise ValidationFailed("Không tạo được đợt kiểm tra; kiểm tra các trường bị đánh dấu.",
                               "The trip could not be created.", errors)
    trip = Trip(plan=plan, **values)
    db.session.add(trip)
    for user, role in _team(leader, members, secretary).values():
        trip.members.append(TripMember(user=user, role=role))
    for unit in units:
        db.session.add(Inspection(trip=trip, unit=unit,
                                  checklist_version=checklist_for(unit, start), scheduled_on=start))
    db.session.flush()
    audit.record("trip.create", trip, by)
    return trip


# --- editing plans and trips (the secretariat), until the minutes are signed ---------------

def trip_is_locked(trip: Trip) -> bool:
    """Whether minutes of the trip (its own or one of its inspections') carry a signature, or
    an inspection is signed: what they print may no longer change. Reopening an inspection
    supersedes its minutes and unlocks the trip again."""
    if any(i.state == InspectionState.signed for i in trip.inspections):
        return True
    ids = [i.id for i in trip.inspections]
    where = MinutesRevision.trip_id == trip.id
    if ids:
        where = or_(where, MinutesRevision.inspection_id.in_(ids))
    return db.session.scalar(
        select(func.count(Signature.id))
        .join(MinutesRevision, Signature.revision_id == MinutesRevision.id)
        .where(where, MinutesRevision.status != MinutesStatus.superseded)) > 0


def plan_is_locked(plan: Plan) -> bool:
    """Whether a trip of the plan is locked (its minutes cite the plan)."""
    return any(trip_is_locked(trip) for trip in plan.trips)


LOCKED_VI = ("Biên bản của đợt kiểm tra đã được ký: không sửa được nữa "
             "(mở lại cuộc kiểm tra trước).")
LOCKED_EN = ("The trip's minutes are signed: it can no longer be edited "
             "(reopen the inspection first).")


def _changes(obj, values: dict) -> dict[str, list]:
    """{field: [old, new]} of the values that differ (dates as ISO text), and set them."""
    changes = {}
    for field, new in values.items():
        old = getattr(obj, field)
        if old != new:
            changes[field] = [old.isoformat() if isinstance(old, date) else old,
                              new.isoformat() if isinstance(new, date) else new]
            setattr(obj, field, new)
    return changes


def update_plan(plan: Plan, by: User, number: str, title: str, issuer: str, issued_on, year,
                province: AdminUnit | None) -> dict[str, list]:
    """Correct a plan (the secretariat) until minutes citing it are signed; audited with what
    changed. Returns the changes ({} when nothing did)."""
    if plan_is_locked(plan):
        raise Conflict("Kế hoạch đã được dẫn trong biên bản đã ký: không sửa được nữa.",
                       "Signed minutes cite this plan: it can no longer be edited.")
    values = _plan_fields(number, title, issuer, issued_on, year, plan)
    values["province_id"] = province.id if province else None
    changes = _changes(plan, values)
    if changes:
        db.session.flush()
        audit.record("plan.update", plan, by, changes=changes)
    return changes


def update_trip(trip: Trip, by: User, *, name: str, starts_on, ends_on, place: str,
                decision: str, decision_number: str, decision_date, leader: User | None,
                members: list[User], secretary: User | None = None,
                add_units: list[AdminUnit] = (), self_assessment_due=KEEP) -> dict[str, list]:
    """Correct a trip and its team (the secretariat) until its minutes are signed; audited
    with what changed. Inspections scheduled outside the new dates move to its first day;
    `add_units` are visited too (a planned inspection each; units are never removed here, as
    their inspections may hold results). Returns the changes ({} when nothing did)."""
    if trip_is_locked(trip):
        raise Conflict(LOCKED_VI, LOCKED_EN)
    errors: dict[str, list[str]] = {}
    values = _trip_values(errors, name, starts_on, ends_on, place, decision, decision_number,
                          decision_date, leader, members, secretary, self_assessment_due)
    start, end = values["starts_on"], values["ends_on"]
    visited = {i.unit_id for i in trip.inspections}
    new_units = [u for u in dict.fromkeys(add_units) if u.id not in visited]
    if start:
        stale = [i.unit.full_name for i in trip.inspections if not i.unit.is_valid_on(start)]
        if stale:
            errors["starts_on"] = ["Đơn vị không còn hiệu lực vào ngày này: " + ", ".join(stale)]
        stale_new = [u.full_name for u in new_units if not u.is_valid_on(start)]
        if stale_new:
            errors["units"] = ["Đơn vị không còn hiệu lực vào ngày kiểm tra: "
                               + ", ".join(stale_new)]
    if errors:
        raise ValidationFailed("Không lưu được đợt kiểm tra; kiểm tra các trường bị đánh dấu.",
                               "The trip could not be saved.", errors)
    changes = _changes(trip, values)
    for inspection in trip.inspections:
        if not start <= inspection.scheduled_on <= end:
            inspection.scheduled_on = start
    before = {m.user_id: m.role.value for m in trip.members}
    wanted = _team(leader, members, secretary)
    for member in list(trip.members):
        if member.user_id not in wanted:
            trip.members.remove(member)
        else:
            member.role = wanted[member.user_id][1]
    for user_id, (user, role) in wanted.items():
        if user_id not in before:
            trip.members.append(TripMember(user=user, role=role))
    for unit in new_units:
        trip.inspections.append(Inspection(unit=unit, checklist_version=checklist_for(unit, start),
                                           scheduled_on=start))
    if new_units:
        changes["units_added"] = [None, [u.code for u in new_units]]
    after = {user_id: role.value for user_id, (_, role) in wanted.items()}
    if after != before:
        changes["team"] = [{str(k): v for k, v in sorted(before.items())},
                           {str(k): v for k, v in sorted(after.items())}]
    if changes:
        db.session.flush()
        audit.record("trip.update", trip, by, changes=changes)
    return changes
