"""The closing meeting's data as tablets hold it (DESIGN §4, "closing"), and the change-feed entry
that keeps it current.

One object, ``closing``, carries what the team enters at the meeting: findings, recommendations,
the meeting's times, the unit's officials and the team members present, the unit's comments and
the deadline to report remedies, with their versions. Devices get it in their assignments and,
whenever any of it changes (a tablet's op or an office page), as a feed entry ``{kind:
"closing", inspection_id, data}``. Plain functions: they flush, never commit.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, time

from sqlalchemy import func, select

from ..extensions import db
from ..models import Finding, Inspection, MinutesRevision, Recommendation, User
from .feed import log_changes

KIND = "closing"


def office_writer(user: User | None) -> str:
    """The writer of an office page's change, as the closing versions record it."""
    return str(user.id) if user is not None else "server"


def _hhmm(value: time | None) -> str | None:
    return value.strftime("%H:%M") if value is not None else None


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def finding_data(finding: Finding) -> dict:
    """A finding as tablets hold it (``id`` is its client UUID)."""
    return {"id": str(finding.client_uuid), "kind": finding.kind, "text": finding.text,
            "position": finding.position, "version": finding.version or 1}


def recommendation_data(rec: Recommendation) -> dict:
    """A recommendation made at the inspection as tablets hold it (``id``: its client UUID)."""
    return {"id": str(rec.client_uuid), "text": rec.text, "item_codes": list(rec.item_codes or []),
            "library_code": rec.library_code, "due_on": _day(rec.due_on),
            "position": rec.position, "version": rec.version or 1}


def field_value(inspection: Inspection, name: str):
    """A closing field's value as tablets hold it (times "HH:MM", dates "YYYY-MM-DD")."""
    value = getattr(inspection, name)
    if name in ("meeting_start", "meeting_end"):
        return _hhmm(value)
    if name == "report_due":
        return _day(value)
    if name == "unit_officials":
        return [{"name": row.get("name", ""), "position": row.get("position", "")}
                for row in value or []]
    if name == "team_present":
        return list(value) if value is not None else None
    return value or ""


def closing_data(inspection: Inspection, findings, recommendations,
                 minutes_revision: int | None) -> dict:
    """The ``closing`` object without the reader's permissions (see ``with_permissions``)."""
    data = {"findings": [finding_data(f) for f in findings],
            "recommendations": [recommendation_data(r) for r in recommendations]}
    for name in Inspection.CLOSING_FIELDS:
        data[name] = field_value(inspection, name)
    data["versions"] = {name: inspection.closing_version(name)[0]
                        for name in Inspection.CLOSING_FIELDS}
    data["minutes_revision"] = minutes_revision
    return data


def closing_of(inspections: list[Inspection]) -> dict[int, dict]:
    """The ``closing`` object of each inspection, by id (three queries in all)."""
    ids = [i.id for i in inspections]
    if not ids:
        return {}
    findings, recommendations = defaultdict(list), defaultdict(list)
    for finding in db.session.scalars(select(Finding).where(Finding.inspection_id.in_(ids))
                                      .order_by(Finding.position, Finding.id)):
        findings[finding.inspection_id].append(finding)
    for rec in db.session.scalars(select(Recommendation)
                                  .where(Recommendation.inspection_id.in_(ids))
                                  .order_by(Recommendation.position, Recommendation.id)):
        recommendations[rec.inspection_id].append(rec)
    revisions = dict(db.session.execute(
        select(MinutesRevision.inspection_id, func.max(MinutesRevision.revision))
        .where(MinutesRevision.inspection_id.in_(ids))
        .group_by(MinutesRevision.inspection_id)).all())
    return {i.id: closing_data(i, findings[i.id], recommendations[i.id], revisions.get(i.id))
            for i in inspections}


def with_permissions(data: dict, inspection: Inspection, user: User) -> dict:
    """The closing object as this user reads it: whether they may edit it from a tablet (the
    trip's leader or secretary, until approval) and approve (the trip's leader)."""
    return {**data, **inspection.closing_permissions(inspection.trip.role_of(user))}


def from_tablet(writer: str | None) -> bool:
    """Whether a change was made on a tablet (its writer is "<user id>:<device>")."""
    return bool(writer) and ":" in writer


def office_view(inspection: Inspection, findings, recommendations,
                users: dict[int, User]) -> dict:
    """What the office's page shows of the closing meeting beside the forms: the team members
    present (names, None when not recorded) and which fields, findings and recommendations a
    tablet changed last."""
    present = inspection.team_present
    return {
        "team_present": ([users[i].full_name for i in present if i in users]
                         if present is not None else None),
        "fields": {name for name in Inspection.CLOSING_FIELDS
                   if from_tablet(inspection.closing_version(name)[1])},
        "findings": {f.id for f in findings if from_tablet(f.changed_by)},
        "recommendations": {r.id for r in recommendations if from_tablet(r.changed_by)},
    }


def closing_changes(inspections: list[Inspection], author_id: int | None) -> list[dict]:
    """Change-feed rows carrying the current closing object of each inspection."""
    db.session.flush()
    found = closing_of(inspections)
    return [{"inspection_id": i.id, "kind": KIND, "payload": found[i.id], "author_id": author_id}
            for i in inspections]


def log_closing(inspection: Inspection, user: User | None) -> None:
    """After any change of the closing data (an office page, a tablet's op, a new minutes
    revision, a state change): tell devices the whole closing object as it is now."""
    log_changes(closing_changes([inspection], user.id if user is not None else None))
