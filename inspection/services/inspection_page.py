"""Everything the office's inspection page shows, and what the signed-in user may do there, in
one call: the view renders it, the templates decide nothing about permissions."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, fields

from sqlalchemy import select

from ..extensions import db
from ..models import (
    AuditEvent,
    Finding,
    Inspection,
    MinutesRevision,
    Observation,
    Photo,
    Recommendation,
    Role,
    Trip,
    User,
)
from . import review
from .access import (
    is_trip_leader,
    may_build_minutes,
    may_comment,
    may_review,
    may_sign_minutes,
)
from .closing import office_view
from .evaluation import evaluate_inspection
from .minutes import check_revision, comments_after_build
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
    history: list[tuple[AuditEvent, dict]]  # newest first, each with its words
    observations: dict[str, Observation]
    photos: dict[str | None, list[Photo]]
    users: dict[int, User]
    editable: bool  # the leader may change the review (results, findings, recommendations)
    can_comment: bool  # the unit's comments may be written
    is_leader: bool
    conflicts: list[dict]  # open conflicts in words (services.review_words)
    late: list[dict]  # pending late changes in words
    unanswered: list[dict]  # criteria not assessed, when approval is the next move
    approved_unanswered: list[dict]  # those confirmed unassessed at approval
    findings: list[Finding]
    recommendations: list[Recommendation]
    closing: dict  # the closing meeting: team present, what came from tablets (services.closing)
    minutes_revisions: list[MinutesRevision]
    minutes_latest: MinutesRevision | None  # the newest revision not superseded
    minutes_check: MinutesVerification | None
    comments_after_build: bool  # the unit's comments are newer than the latest minutes
    leader_signed: bool
    unit_signed: bool  # the signed-in representative signed the latest minutes
    may_build_minutes: bool  # also again, once the unit commented after the leader signed
    may_sign_minutes: bool  # on the server, or by uploading a file signed elsewhere
    confirm_without: bool  # a representative signs minutes without the unit's latest comments

    def context(self) -> dict:
        """The page's template variables."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def inspection_page_data(user: User, inspection: Inspection) -> InspectionPage:
    """The inspection page for `user`, who may see `inspection` (checked by the caller)."""
    observations = {o.item_code: o for o in db.session.scalars(
        select(Observation).where(Observation.inspection_id == inspection.id))}
    photos: dict[str | None, list[Photo]] = defaultdict(list)
    for photo in db.session.scalars(select(Photo).where(Photo.inspection_id == inspection.id)
                                    .order_by(Photo.id)):
        photos[photo.item_code].append(photo)
    revisions = revisions_of(inspection)
    current = [r for r in revisions if not r.is_superseded]
    latest = current[-1] if current else None
    evaluation = evaluate_inspection(inspection)
    actions = allowed_actions(user, inspection)
    findings = review.findings_of(inspection)
    recommendations = review.recommendations_of(inspection)
    users = {u.id: u for u in db.session.scalars(select(User))}
    offers = minutes_offers(user, inspection, latest, may_build_minutes(user, inspection),
                            may_sign_minutes(user, inspection, latest))
    return InspectionPage(
        inspection=inspection, evaluation=evaluation, actions=actions,
        blockers=review.approval_blockers(inspection) if inspection.can("approve") else [],
        history=review.described_history(inspection, HISTORY_LENGTH),
        observations=observations, photos=photos,
        users=users,
        editable=may_review(user, inspection), can_comment=may_comment(user, inspection),
        is_leader=is_trip_leader(user, inspection.trip),
        conflicts=review.described_conflicts(inspection),
        late=review.described_late_submissions(inspection),
        unanswered=(review.described_criteria(inspection, evaluation["score"]["not_assessed"])
                    if "approve" in actions else []),
        approved_unanswered=review.described_criteria(inspection,
                                                      inspection.approved_unanswered or []),
        findings=findings, recommendations=recommendations,
        closing=office_view(inspection, findings, recommendations, users),
        minutes_revisions=revisions, minutes_latest=latest, minutes_check=check_revision(latest),
        **offers,
    )


def minutes_offers(user: User, target: Inspection | Trip, latest: MinutesRevision | None,
                   may_build: bool, may_sign: bool) -> dict:
    """What the minutes card offers `user` on an inspection's or a trip's page, given whether
    their role and the state allow building and signing at all (`may_build`, `may_sign`): the
    leader builds until he signed (or again when the unit commented since), signs first, then
    each unit's representative signs, confirming when the minutes lack the unit's latest
    comments."""
    signatures = latest.signatures if latest is not None else []
    leader = is_trip_leader(user, target if isinstance(target, Trip) else target.trip)
    leader_signed = any(s.role == "leader" for s in signatures)
    unit_signed = any(s.role == "unitrep" and s.signer_id == user.id for s in signatures)
    newer_comments = bool(comments_after_build(latest, target))
    unit_turn = user.role == Role.unitrep and leader_signed and not unit_signed
    return {"comments_after_build": newer_comments, "leader_signed": leader_signed,
            "unit_signed": unit_signed,
            "may_build_minutes": may_build and (not leader_signed or newer_comments),
            "may_sign_minutes": may_sign and ((leader and not leader_signed) or unit_turn),
            "confirm_without": unit_turn and bool(comments_after_build(latest, target,
                                                                       user.unit_id))}
