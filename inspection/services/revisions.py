"""Minutes revisions as stored: an inspection's or trip's revisions, the current one, and
superseding them when an inspection is reopened.

Its own module so that the workflow (which supersedes on reopening) and the minutes (which
move inspections to signed through the workflow) do not import each other.
"""
from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..models import Inspection, MinutesRevision, Trip


def revisions_of(target: Inspection | Trip) -> list[MinutesRevision]:
    """Every revision of the inspection's (or trip's) minutes, oldest first."""
    column = (MinutesRevision.inspection_id if isinstance(target, Inspection)
              else MinutesRevision.trip_id)
    return db.session.scalars(select(MinutesRevision).where(column == target.id)
                              .order_by(MinutesRevision.revision)).all()


def latest_revision(target: Inspection | Trip) -> MinutesRevision | None:
    """The newest revision that is not superseded."""
    current = [r for r in revisions_of(target) if not r.is_superseded]
    return current[-1] if current else None


def supersede_all(revisions: list[MinutesRevision]) -> None:
    """Supersede every revision not superseded yet."""
    for revision in revisions:
        if revision.can("supersede"):
            revision.supersede()


def supersede_for(inspection: Inspection) -> None:
    """Reopening an inspection supersedes its minutes (and its trip's): the next build is new."""
    supersede_all(revisions_of(inspection) + revisions_of(inspection.trip))
