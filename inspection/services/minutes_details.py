"""What the leader writes on the minutes form before building them: the unit's officials
present at the meeting (section I.2), the one deadline to report the remedies, and the optional
recipients block (Nơi nhận). An inspection keeps its own; a trip's minutes keep the trip's
deadline and recipients (each unit's officials stay on its inspection)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, time

from ..errors import ValidationFailed
from ..models import Inspection, Trip, User
from . import audit
from .access import is_trip_leader, require
from .closing import log_closing, office_writer
from .minutes import build_minutes
from .minutes_verification import inspections_of, trip_of
from .text import clean_text

MAX_OFFICIALS = 20
MAX_NAME = 200
MAX_RECIPIENTS = 2000


@dataclass
class MinutesDetails:
    """The form's values, parsed; None leaves a value as it is."""

    report_due: date | None = None
    officials: list[dict] | None = None  # [{"name": …, "position": …}], inspections only
    recipients: str | None = None
    clear_report_due: bool = False
    # The team members present at the meeting (user ids), inspections only; None with
    # ``team_given``: none ticked, i.e. not recorded (the minutes list the whole team).
    team_present: list[int] | None = None
    team_given: bool = False
    errors: dict[str, list[str]] = field(default_factory=dict)


def parse_details(report_due: str | None, names: Sequence[str] | None,
                  positions: Sequence[str] | None, recipients: str | None,
                  team: Sequence[str] | None = None) -> MinutesDetails:
    """The form's raw values → MinutesDetails; ValidationFailed names what is wrong.

    `names` and `positions` are the rows of the officials table (empty rows are dropped);
    None leaves the officials as they are. An empty deadline clears it. `team` holds the ids
    of the team members ticked as present (None: not on the form)."""
    details = MinutesDetails()
    errors = details.errors
    if team is not None:
        details.team_given = True
        try:
            details.team_present = sorted({int(raw) for raw in team}) or None
        except ValueError:
            errors["team_present"] = ["Thành viên đoàn không hợp lệ."]
    if report_due is not None:
        raw = report_due.strip()
        if not raw:
            details.clear_report_due = True
        else:
            try:
                details.report_due = date.fromisoformat(raw)
            except ValueError:
                errors["report_due"] = ["Hạn báo cáo không hợp lệ (YYYY-MM-DD)."]
    if names is not None:
        positions = list(positions or [])
        rows = []
        for n, raw_name in enumerate(names):
            name = clean_text(raw_name or "", single_line=True, field="officials").strip()
            position = clean_text(positions[n] if n < len(positions) else "", single_line=True,
                                  field="officials").strip()
            if not name and not position:
                continue
            if not name:
                errors["officials"] = ["Mỗi người dự họp cần có họ tên."]
            elif len(name) > MAX_NAME or len(position) > MAX_NAME:
                errors["officials"] = [f"Họ tên, chức vụ dài quá {MAX_NAME} ký tự."]
            rows.append({"name": name, "position": position})
        if len(rows) > MAX_OFFICIALS:
            errors["officials"] = [f"Tối đa {MAX_OFFICIALS} người dự họp."]
        details.officials = rows
    if recipients is not None:
        text = clean_text(recipients, field="recipients").strip()
        if len(text) > MAX_RECIPIENTS:
            errors["recipients"] = [f"Nơi nhận dài quá {MAX_RECIPIENTS} ký tự."]
        details.recipients = "\n".join(line.strip() for line in text.splitlines() if line.strip())
    if errors:
        raise ValidationFailed("Thông tin biên bản chưa hợp lệ: "
                               + " ".join(e[0] for e in errors.values()),
                               "The minutes' details are not valid.", errors)
    return details


def save_details(target: Inspection | Trip, user: User, details: MinutesDetails) -> dict:
    """Keep the details on the inspection (or the trip) for the next build; the trip's leader
    only; audited with what changed. Returns the changes."""
    trip = trip_of(target)
    require(is_trip_leader(user, trip), "Chỉ trưởng đoàn mới lập biên bản.",
            "Only the team leader builds minutes.")
    if details.report_due is not None:
        first_day = min(i.scheduled_on for i in inspections_of(target))
        if details.report_due < first_day:
            raise ValidationFailed("Hạn báo cáo không được trước ngày kiểm tra.",
                                   "The reporting deadline cannot be before the visit.",
                                   {"report_due": ["Hạn báo cáo không được trước ngày kiểm tra."]})
    changes = {}
    wanted = {}
    if details.report_due is not None or details.clear_report_due:
        wanted["report_due"] = details.report_due
    if details.recipients is not None:
        wanted["recipients"] = details.recipients
    if details.officials is not None and isinstance(target, Inspection):
        wanted["unit_officials"] = details.officials
    if details.team_given and isinstance(target, Inspection):
        members = [m.user_id for m in sorted(trip.members, key=lambda m: (m.role.value != "leader",
                                                                          m.id))]
        present = details.team_present
        if present is not None and not set(present) <= set(members):
            raise ValidationFailed("Chỉ chọn thành viên của đoàn kiểm tra.",
                                   "Only members of the team can be present.",
                                   {"team_present": ["not on the team"]})
        if present is not None and (set(present) != set(members)
                                    or target.team_present is not None):
            wanted["team_present"] = [m for m in members if m in set(present)]
        elif present is None:
            wanted["team_present"] = None
    for name, new in wanted.items():
        old = getattr(target, name)
        if old != new:
            changes[name] = [old.isoformat() if isinstance(old, date) else old,
                             new.isoformat() if isinstance(new, date) else new]
            if isinstance(target, Inspection) and name in Inspection.CLOSING_FIELDS:
                target.set_closing(name, new, office_writer(user))  # tablets merge by version
            else:
                setattr(target, name, new)
    if changes:
        audit.record("minutes.details", target, user, changes=changes)
        if isinstance(target, Inspection) and changes.keys() & set(Inspection.CLOSING_FIELDS):
            log_closing(target, user)
    return changes


def build_with_details(target: Inspection | Trip, user: User, base_url: str,
                       details: MinutesDetails | None,
                       meeting: tuple[time | None, time | None] | None = None):
    """Keep the form's details, then compile a new revision that prints them."""
    if details is not None:
        save_details(target, user, details)
    return build_minutes(target, user, base_url, meeting)
