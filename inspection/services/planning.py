"""Plans, trips and the inspections they schedule."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from ..errors import ValidationFailed
from ..extensions import db
from ..models import AdminUnit, Inspection, Plan, Role, Trip, TripMember, TripRole, User
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


def create_plan(number: str, title: str, issuer: str, issued_on, year, province: AdminUnit | None,
                by: User | None = None) -> Plan:
    """Record an inspection plan (Kế hoạch kiểm tra); the number must be new."""
    errors: dict[str, list[str]] = {}
    number, title, issuer = _clean(number), _clean(title), _clean(issuer)
    if not number:
        errors["number"] = ["Cần nhập số kế hoạch."]
    elif db.session.scalar(select(Plan.id).where(Plan.number == number)):
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
        raise ValidationFailed("Không tạo được kế hoạch; kiểm tra các trường bị đánh dấu.",
                               "The plan could not be created.", errors)
    plan = Plan(number=number, title=title, issuer=issuer, issued_on=issued, year=year,
                province=province)
    db.session.add(plan)
    db.session.flush()
    audit.record("plan.create", plan, by)
    return plan


def create_trip(plan: Plan, name: str, starts_on, ends_on, leader: User | None,
                members: list[User], units: list[AdminUnit], place: str = "", decision: str = "",
                by: User | None = None) -> Trip:
    """Create a trip with its team and one planned inspection per unit to visit.

    Each inspection gets the published checklist fitting the unit's level and the era of the
    trip's first day; the inspection keeps that version even if a newer one is published later.
    """
    errors: dict[str, list[str]] = {}
    name, place, decision = _clean(name), _clean(place), _clean(decision)
    if not name:
        errors["name"] = ["Cần nhập tên đợt kiểm tra."]
    _check_length(errors, "name", name, Trip.name, "Tên đợt kiểm tra")
    _check_length(errors, "place", place, Trip.place, "Địa điểm")
    start = _date(starts_on, "starts_on", errors)
    end = _date(ends_on, "ends_on", errors)
    if start and end and end < start:
        errors["ends_on"] = ["Ngày kết thúc trước ngày bắt đầu."]
    if leader is None or leader.role not in (Role.leader, Role.admin):
        errors["leader"] = ["Cần chọn trưởng đoàn (tài khoản vai trò trưởng đoàn)."]
    bad_members = [m.username for m in members if m.role not in (Role.inspector, Role.leader)]
    if bad_members:
        errors["members"] = ["Không phải thành viên đoàn: " + ", ".join(bad_members)]
    if not units:
        errors["units"] = ["Cần chọn ít nhất một đơn vị được kiểm tra."]
    elif start:
        stale = [u.full_name for u in units if not u.is_valid_on(start)]
        if stale:
            errors["units"] = ["Đơn vị không còn hiệu lực vào ngày kiểm tra: " + ", ".join(stale)]
    if errors:
        raise ValidationFailed("Không tạo được đợt kiểm tra; kiểm tra các trường bị đánh dấu.",
                               "The trip could not be created.", errors)
    trip = Trip(plan=plan, name=name, starts_on=start, ends_on=end, place=place, decision=decision)
    db.session.add(trip)
    trip.members.append(TripMember(user=leader, role=TripRole.leader))
    for member in members:
        if member.id != leader.id:
            trip.members.append(TripMember(user=member, role=TripRole.member))
    for unit in units:
        db.session.add(Inspection(trip=trip, unit=unit,
                                  checklist_version=checklist_for(unit, start), scheduled_on=start))
    db.session.flush()
    audit.record("trip.create", trip, by)
    return trip
