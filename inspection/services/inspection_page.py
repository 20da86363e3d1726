"""Everything the office's inspection page shows, and what the signed-in user may do there, in
one call: the view renders it, the templates decide nothing about permissions."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, fields

from sqlalchemy import select

from ..extensions import db
from ..models import (
    AuditEvent,
    Conflict,
    Finding,
    Inspection,
    LateSubmission,
    MinutesRevision,
    Observation,
    Photo,
    Recommendation,
    User,
)
from . import review
from .access import may_build_minutes, may_comment, may_review, may_sign_minutes
from .evaluation import evaluate_inspection
from .minutes import check_revision
from .minutes_verification import MinutesVerification
from .revisions import revisions_of
from .workflow import allowed_actions

HISTORY_LENGTH = 50


@dataclass(frozen=True)
class InspectionPage:
    """What the page shows (`inspection.html` and its partials) and the flags it acts on."""

    inspection: Inspection
    evaluation: dict
    actions: list[str]  # state-machine buttons the user may press now
    blockers: list[dict]  # what stops approval (only when approval is the next move)
    history: list[AuditEvent]
    observations: dict[str, Observation]
    photos: dict[str | None, list[Photo]]
    users: dict[int, User]
    editable: bool  # the leader may change the review (results, findings, recommendations)
    can_comment: bool  # the unit's comments may be written
    conflicts: list[Conflict]
    late: list[LateSubmission]
    findings: list[Finding]
    recommendations: list[Recommendation]
    minutes_revisions: list[MinutesRevision]
    minutes_latest: MinutesRevision | None  # the newest revision not superseded
    minutes_check: MinutesVerification | None
    may_build_minutes: bool
    may_sign_minutes: bool  # on the server, or by uploading a file signed elsewhere

    def context(self) -> dict:
        """The page's template variables."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def inspection_page_data(user: User, inspection: Inspection) -> InspectionPage:
    """The inspection page for `user`, who may see `inspection` (checked by the caller)."""
    history = db.session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == "inspections",
                                 AuditEvent.object_id == str(inspection.id))
        .order_by(AuditEvent.id.desc()).limit(HISTORY_LENGTH)).all()
    observations = {o.item_code: o for o in db.session.scalars(
        select(Observation).where(Observation.inspection_id == inspection.id))}
    photos: dict[str | None, list[Photo]] = defaultdict(list)
    for photo in db.session.scalars(select(Photo).where(Photo.inspection_id == inspection.id)
                                    .order_by(Photo.id)):
        photos[photo.item_code].append(photo)
    revisions = revisions_of(inspection)
    current = [r for r in revisions if not r.is_superseded]
    latest = current[-1] if current else None
    return InspectionPage(
        inspection=inspection, evaluation=evaluate_inspection(inspection),
        actions=allowed_actions(user, inspection),
        blockers=review.approval_blockers(inspection) if inspection.can("approve") else [],
        history=history, observations=observations, photos=photos,
        users={u.id: u for u in db.session.scalars(select(User))},
        editable=may_review(user, inspection), can_comment=may_comment(user, inspection),
        conflicts=review.open_conflicts(inspection),
        late=review.pending_late_submissions(inspection),
        findings=review.findings_of(inspection),
        recommendations=review.recommendations_of(inspection),
        minutes_revisions=revisions, minutes_latest=latest, minutes_check=check_revision(latest),
        may_build_minutes=may_build_minutes(user, inspection),
        may_sign_minutes=may_sign_minutes(user, inspection, latest),
    )
