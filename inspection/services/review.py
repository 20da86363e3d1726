"""The leader's review: conflicts, late submissions, findings, recommendations, unit comments,
and what still blocks approval."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from ..errors import Conflict as ConflictError
from ..errors import ValidationFailed
from ..extensions import db
from ..models import (
    AuditEvent,
    Conflict,
    Finding,
    Inspection,
    InspectionState,
    LateStatus,
    LateSubmission,
    Observation,
    Recommendation,
    Role,
    User,
)
from ..models.base import utcnow
from . import audit
from . import review_words as words
from .access import is_trip_leader, require
from .closing import log_closing, office_writer
from .evaluation import evaluate_inspection
from .feed import log_conflicts_settled, log_late_decided
from .observations import FieldError, StaleObservation, record_observation
from .text import clean_text

TEXT_LIMIT = 5000


def _text(value: str | None, field: str) -> str:
    # Control characters have no place in minutes (they would also break the PDF).
    text = clean_text(value, field=field).strip()
    if not text:
        raise ValidationFailed("Nội dung không được để trống.", "Text is required.",
                               {field: ["required"]})
    if len(text) > TEXT_LIMIT:
        raise ValidationFailed(f"Nội dung dài quá {TEXT_LIMIT} ký tự.",
                               f"Text over {TEXT_LIMIT} characters.", {field: ["too long"]})
    return text


def require_leader(user: User, inspection: Inspection) -> None:
    """Only the trip's leader edits the review."""
    require(is_trip_leader(user, inspection.trip),
            "Chỉ trưởng đoàn mới được thực hiện thao tác này.", "Only the team leader may do this.")


def require_editable(inspection: Inspection) -> None:
    """Signed minutes are final: reopen (with a reason) before changing anything."""
    if inspection.state == InspectionState.signed:
        raise ConflictError("Biên bản đã ký; hãy mở lại cuộc kiểm tra trước khi sửa.",
                            "The minutes are signed; reopen the inspection first.")


def findings_of(inspection: Inspection) -> list[Finding]:
    """The leader's findings (strengths and shortcomings) in their order on the page and in the
    minutes."""
    return db.session.scalars(select(Finding).where(Finding.inspection_id == inspection.id)
                              .order_by(Finding.position, Finding.id)).all()


def recommendations_of(inspection: Inspection) -> list[Recommendation]:
    """The recommendations made at the inspection, in their order on the page and in the
    minutes."""
    return db.session.scalars(select(Recommendation)
                              .where(Recommendation.inspection_id == inspection.id)
                              .order_by(Recommendation.position, Recommendation.id)).all()


def open_conflicts(inspection: Inspection) -> list[Conflict]:
    """The inspection's conflicts still waiting for the leader, oldest first."""
    return db.session.scalars(select(Conflict).where(Conflict.inspection_id == inspection.id,
                                                     Conflict.resolved_at.is_(None))
                              .order_by(Conflict.id)).all()


def pending_late_submissions(inspection: Inspection) -> list[LateSubmission]:
    """The late submissions the leader has not decided yet, oldest first."""
    return db.session.scalars(select(LateSubmission).where(
        LateSubmission.inspection_id == inspection.id, LateSubmission.status == LateStatus.pending)
                              .order_by(LateSubmission.id)).all()


def _users() -> dict[int, User]:
    return {u.id: u for u in db.session.scalars(select(User))}


def _items(inspection: Inspection) -> dict:
    return words.items_by_code(inspection.checklist_version.document)


def described_conflicts(inspection: Inspection) -> list[dict]:
    """The open conflicts in words (item title, current and incoming values, who, when)."""
    items, users = _items(inspection), _users()
    return [words.describe_conflict(c, items, users) for c in open_conflicts(inspection)]


def described_late_submissions(inspection: Inspection) -> list[dict]:
    """The pending late changes in words, each field's current value beside the one sent."""
    items, users = _items(inspection), _users()
    observations = {o.item_code: o for o in db.session.scalars(
        select(Observation).where(Observation.inspection_id == inspection.id))}
    return [words.describe_late(late, items, users, observations)
            for late in pending_late_submissions(inspection)]


def described_history(inspection: Inspection, limit: int = 50) -> list[tuple[AuditEvent, dict]]:
    """The inspection's audit events, newest first, each with its description in words."""
    items = _items(inspection)
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == "inspections",
                                 AuditEvent.object_id == str(inspection.id))
        .order_by(AuditEvent.id.desc()).limit(limit)).all()
    return [(event, words.describe_event(event, items)) for event in events]


def described_criteria(inspection: Inspection, codes: list[str]) -> list[dict]:
    """Criteria named by code, with their titles (the unanswered list of an approval)."""
    items = _items(inspection)
    return [words.item_title(items, code) for code in codes]


def approval_blockers(inspection: Inspection) -> list[dict]:
    """What must be settled before approval, in words: open conflicts and failing error-level
    rules."""
    blockers = [words.conflict_blocker(view) for view in described_conflicts(inspection)]
    items = _items(inspection)
    for check in evaluate_inspection(inspection)["checks"]:
        if check["severity"] == "error" and check["status"] == "fail":
            blockers.append(words.rule_blocker(check, items))
    return blockers


def _set_field(inspection: Inspection, item_code: str, field: str, value, user: User,
               expected_version: int | None = None, also: dict | None = None):
    try:
        return record_observation(inspection, item_code, {**(also or {}), field: value}, user,
                                  expected_version)
    except FieldError as exc:
        raise ValidationFailed(f"Giá trị không hợp lệ: {exc}", f"Invalid value: {exc}",
                               {field: [str(exc)]}) from exc
    except StaleObservation as exc:
        raise ConflictError("Số liệu vừa được thay đổi (có thể do máy tính bảng "
                            "đồng bộ); hãy tải lại trang.",
                            "The figures changed meanwhile (a tablet "
                            "synced); reload the page.") from exc


def resolve_conflict(conflict: Conflict, user: User, choice: str, custom=None) -> None:
    """Settle a conflict: keep the current value, take the incoming one, or write a new one."""
    inspection = db.session.get(Inspection, conflict.inspection_id)
    require_leader(user, inspection)
    require_editable(inspection)
    if conflict.resolved_at is not None:
        raise ConflictError("Xung đột này đã được xử lý.", "This conflict is already resolved.")
    if choice == "current":
        value = conflict.current_value.get("value")
    elif choice == "incoming":
        # The proposal's note or points (held with it, see services.sync JUDGEMENT) go with it.
        value = conflict.incoming_value.get("value")
        _set_field(inspection, conflict.item_code, conflict.field, value, user,
                   also=conflict.incoming_value.get("with"))
    elif choice == "custom":
        value = _parse_value(conflict.field, custom)
        _set_field(inspection, conflict.item_code, conflict.field, value, user)
    else:
        raise ValidationFailed("Lựa chọn không hợp lệ.", "Unknown choice.", {"choice": [choice]})
    conflict.resolved_at = utcnow()
    conflict.resolved_by_id = user.id
    conflict.resolution = {"choice": choice, "value": value}
    audit.record("conflict.resolve", conflict, user, choice=choice)
    settle_same_judgement(conflict, user, choice)
    log_conflicts_settled(conflict.inspection_id, conflict.item_code, user)


def settle_same_judgement(conflict: Conflict, user: User, choice: str) -> None:
    """A proposal whose result and points (or note) clashed together is one judgement: deciding
    its result or points decides the others the same way (keeping the current values, or taking the
    proposal's, which the decision already applied with it)."""
    if conflict.field not in ("result", "points") or choice == "custom":
        return
    for other in db.session.scalars(select(Conflict).where(
            Conflict.incoming_op_id == conflict.incoming_op_id, Conflict.id != conflict.id,
            Conflict.field.in_(("result", "points", "note")), Conflict.resolved_at.is_(None))):
        other.resolved_at = conflict.resolved_at
        other.resolved_by_id = user.id
        value = (other.current_value if choice == "current" else other.incoming_value).get("value")
        other.resolution = {"choice": choice, "value": value, "with_conflict": conflict.id}
        audit.record("conflict.resolve", other, user, choice=choice, with_conflict=conflict.id)


def _parse_value(field: str, raw):
    """Form input for a field: numbers for points and value, text otherwise."""
    if field == "result":
        value = str(raw or "").strip()
        if value not in words.RESULT_WORDS:
            raise ValidationFailed("Hãy chọn một kết quả trong danh sách.",
                                   "Pick one of the results.", {field: ["choice"]})
        return value
    if field in ("points", "value"):
        try:
            return float(str(raw).replace(",", ".").strip())
        except ValueError:
            raise ValidationFailed("Cần nhập một số.", "A number is required.",
                                   {field: ["number"]}) from None
    return str(raw or "")


def decide_late_submission(late: LateSubmission, user: User, accept: bool) -> None:
    """Apply a change that arrived after approval, or dismiss it; either way it stays on record."""
    inspection = db.session.get(Inspection, late.inspection_id)
    require_leader(user, inspection)
    require_editable(inspection)
    if not late.can("accept" if accept else "dismiss"):
        raise ConflictError("Thay đổi này đã được xử lý.", "Already decided.")
    if accept:
        payload = late.payload
        try:
            record_observation(inspection, payload["item_code"], payload.get("fields", {}), user)
        except FieldError as exc:
            raise ValidationFailed(f"Không áp dụng được: {exc}", f"Cannot apply: {exc}") from exc
    if accept:
        late.accept(user.id)
    else:
        late.dismiss(user.id)
    audit.record(f"late_submission.{late.status}", late, user)
    log_late_decided(late, user)


def set_observation(inspection: Inspection, user: User, item_code: str, field: str, raw,
                    expected_version: int):
    """The leader corrects one field, refusing if a tablet changed it since the page was read."""
    require_leader(user, inspection)
    require_editable(inspection)
    if str(raw).strip() == "":
        value = None
    else:
        value = _parse_value(field, raw) if field in ("points", "value") else raw
    observation = _set_field(inspection, item_code, field, value, user, expected_version)
    audit.record("observation.set", inspection, user, item_code=item_code, field=field)
    return observation


def add_finding(inspection: Inspection, user: User, kind: str, text: str) -> Finding:
    """Add a strength (ưu điểm) or shortcoming (hạn chế)."""
    require_leader(user, inspection)
    require_editable(inspection)
    if kind not in ("strength", "weakness"):
        raise ValidationFailed("Loại nhận xét không hợp lệ.", "Unknown finding kind.",
                               {"kind": [kind]})
    position = len(db.session.scalars(select(Finding.id)
                                      .where(Finding.inspection_id == inspection.id)).all())
    finding = Finding(inspection_id=inspection.id, kind=kind, text=_text(text, "text"),
                      position=position, author_id=user.id, changed_by=office_writer(user))
    db.session.add(finding)
    db.session.flush()
    audit.record("finding.add", finding, user)
    log_closing(inspection, user)
    return finding


def delete_finding(finding: Finding, user: User) -> None:
    """Delete a finding (the leader, while the inspection is editable)."""
    inspection = db.session.get(Inspection, finding.inspection_id)
    require_leader(user, inspection)
    require_editable(inspection)
    audit.record("finding.delete", finding, user, text=finding.text)
    db.session.delete(finding)
    log_closing(inspection, user)


def add_recommendation(inspection: Inspection, user: User, text: str, due_on: str | date | None,
                       library_code: str | None = None,
                       item_codes: list[str] | None = None) -> Recommendation:
    """Add a recommendation (kiến nghị) to the inspected unit, with an optional due date."""
    require_leader(user, inspection)
    require_editable(inspection)
    due = _due_date(due_on, inspection)
    position = len(db.session.scalars(select(Recommendation.id)
                                      .where(Recommendation.inspection_id == inspection.id)).all())
    recommendation = Recommendation(inspection_id=inspection.id, unit_id=inspection.unit_id,
                                    text=_text(text, "text"), due_on=due, library_code=library_code,
                                    item_codes=item_codes or [], position=position,
                                    changed_by=office_writer(user))
    db.session.add(recommendation)
    db.session.flush()
    audit.record("recommendation.add", recommendation, user)
    log_closing(inspection, user)
    return recommendation


def _due_date(value, inspection: Inspection) -> date | None:
    if value in (None, ""):
        return None
    if not isinstance(value, date):
        try:
            value = date.fromisoformat(str(value))
        except ValueError:
            raise ValidationFailed("Hạn hoàn thành không hợp lệ (YYYY-MM-DD).", "Invalid due date.",
                                   {"due_on": ["date"]}) from None
    if value < inspection.scheduled_on:
        raise ValidationFailed("Hạn hoàn thành phải sau ngày kiểm tra.",
                               "The due date is before the inspection.",
                               {"due_on": ["before inspection"]})
    return value


def update_recommendation(recommendation: Recommendation, user: User, text: str, due_on) -> None:
    """Change a recommendation's text and due date (the leader, while editable)."""
    inspection = db.session.get(Inspection, recommendation.inspection_id)
    require_leader(user, inspection)
    require_editable(inspection)
    recommendation.edit({"text": _text(text, "text"), "due_on": _due_date(due_on, inspection)},
                        office_writer(user))
    audit.record("recommendation.update", recommendation, user)
    log_closing(inspection, user)


def delete_recommendation(recommendation: Recommendation, user: User) -> None:
    """Delete a recommendation (the leader, while the inspection is editable)."""
    inspection = db.session.get(Inspection, recommendation.inspection_id)
    require_leader(user, inspection)
    require_editable(inspection)
    audit.record("recommendation.delete", recommendation, user, text=recommendation.text)
    db.session.delete(recommendation)
    log_closing(inspection, user)


def save_unit_comments(inspection: Inspection, user: User, text: str,
                       expected_revision: int) -> None:
    """The unit's own comments (V. Ý kiến của đơn vị), by its representative or the leader."""
    allowed = (user.role == Role.unitrep
               and user.unit_id == inspection.unit_id) or is_trip_leader(user, inspection.trip)
    require(allowed, "Chỉ đại diện đơn vị hoặc trưởng đoàn được ghi ý kiến của đơn vị.",
            "Only the unit's representative or the team leader may write the unit's comments.")
    require_editable(inspection)
    if inspection.revision != expected_revision:
        raise ConflictError("Cuộc kiểm tra vừa được người khác cập nhật; hãy tải lại trang.",
                            "Someone else changed this inspection; reload the page.")
    comments = _text(text, "unit_comments") if (text or "").strip() else ""
    changed = comments != inspection.unit_comments
    inspection.set_closing("unit_comments", comments, office_writer(user))
    inspection.revision += 1
    audit.record("inspection.unit_comments", inspection, user)
    if changed:
        log_closing(inspection, user)
