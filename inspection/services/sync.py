"""The server side of sync: what a device needs offline, and applying its ops.

Plain functions: they flush, never commit (the view commits).

Field-level merge (DESIGN §3, §4). Every observation keeps, per field, the observation version at
which the field last changed and who changed it (``field_versions``)::

    {"result": {"version": 4, "by": ["7:tablet-a"]}, "value": {"version": 2, "by": ["9:tablet-b"]}}

A writer is a (user, device) pair, written ``"<user id>:<device id>"``. ``by`` lists the writer
that set the current value and every writer that later sent the same value (they agree with it).
The office entry (``services.observations.record_observation``) writes a bare version number;
that reads as "changed by someone who is not a device".

An op ``observation.set`` made from ``base_version`` clashes on a field when the field changed
after ``base_version``, by a writer other than the op's, and the stored value differs from the
incoming one. A clash keeps the stored value and records a Conflict with both values; every other
field of the op is applied. The same value is convergence, not a clash, and a device's own later
edits of a field it set itself (several offline edits from the same base) are not clashes.

Speed: a batch is checked in memory against data loaded up front (inspections, checklist items,
the observations and AppliedOp rows it names: a few queries, not a few per op) and written with
one multi-row statement per table inside one SAVEPOINT; see scripts/bench_sync.py. Afterwards the
score snapshots of the inspections whose scored values changed are refreshed
(services.score_snapshots; config SYNC_REFRESH_SCORES = False leaves that to
`flask refresh-scores`).

Concurrency: the inspections an op batch touches are locked first (``SELECT … FOR NO KEY
UPDATE`` on PostgreSQL: not FOR UPDATE, which would also wait for every transaction that merely
inserted a row referencing the inspection — a photo, an audit event — and deadlock with it when
that transaction then locks the inspection to write the feed; on SQLite a no-op UPDATE takes the
database write lock and opens the transaction, which
also makes SAVEPOINTs behave). So two pushes touching the same inspection run one after the other,
and each sees what the other committed. ``AppliedOp.op_id`` is the primary key: a concurrent
second insert of the same op fails, and the batch is then re-run op by op, each in its own
SAVEPOINT, where that op becomes a ``duplicate``.

What changed is written to the change feed (services.feed), which devices pull.
"""
from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, func, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from ..extensions import db
from ..models import (
    AdminUnit,
    AppliedOp,
    ChangeLog,
    ChecklistItem,
    ChecklistVersion,
    Conflict,
    Inspection,
    InspectionState,
    LateSubmission,
    Observation,
    Photo,
    Recommendation,
    Role,
    Trip,
    TripMember,
    Upload,
    User,
    unit_merges,
)
from ..models.base import VIETNAM, utcnow
from ..models.checklists import VersionStatus
from . import audit
from .access import can_edit, can_view, is_trip_leader
from .closing import closing_changes, closing_of, with_permissions
from .closing_ops import OP_TYPES as CLOSING_OP_TYPES
from .closing_ops import apply_closing_op
from .feed import conflict_changes, log_changes, open_conflicts_data, pending_late_data
from .minutes_data import draft_heads
from .observations import FieldError, clean_fields
from .samples import SAMPLE_OP_TYPES, apply_sample_op, samples_data
from .score_snapshots import refresh_scores
from .self_assessment import field_payloads as self_assessment_payloads
from .text import bad_character, clean_text
from .workflow import transition_inspection

PHOTO_OP_TYPES = ("photo.caption", "photo.delete")
FIELDS = Observation.FIELDS
# A result and what explains it are one judgement: while a writer's result (or points) waits as
# a Conflict, that writer's points and note for the item wait with it (held in the Conflict), and
# the leader's decision applies them together (DESIGN §4, "judgements").
JUDGEMENT = ("result", "points", "note")
# Fields whose value before a writer's run of edits is remembered (field_versions "prev"), so an
# explanation applied just before its result clashed can be taken back into the Conflict.
EXPLANATIONS = ("points", "note")
MAX_AGREEING_WRITERS = 20
# Open Conflicts kept per observation field: the first and the latest few. Proposals in between
# are folded (counted on the first), so devices that disagree for days cannot grow a page
# without bound. Every op is still recorded (AppliedOp) and answered "conflict".
KEEP_LATEST_CONFLICTS = 4

REJECT_MESSAGES = {  # (Vietnamese, English): the field app shows them as they come
    "not_found": ("Không tìm thấy cuộc kiểm tra (hoặc bạn không có quyền xem).",
                  "Inspection not found (or you may not see it)."),
    "forbidden": ("Chỉ thành viên đoàn kiểm tra mới được ghi kết quả.",
                  "Only members of the inspection team may record results."),
    "unknown_item": ("Không có tiêu chí '{item_code}' trong danh mục của cuộc kiểm tra.",
                     "There is no criterion '{item_code}' in this inspection's checklist."),
    "locked": ("Cuộc kiểm tra đã được duyệt hoặc ký: thay đổi được lưu để trưởng đoàn xem xét.",
               "The inspection is approved or signed: the change is kept for the team leader "
               "to decide."),
    "photo_locked": ("Cuộc kiểm tra đã được duyệt hoặc ký: không sửa hay xoá ảnh được nữa.",
                     "The inspection is approved or signed: its photos can no longer be changed "
                     "or deleted."),
    "photo_not_found": ("Không tìm thấy ảnh này trong cuộc kiểm tra (có thể đã bị xoá).",
                        "This photo is not in the inspection (it may have been deleted)."),
}


def request_language() -> str:
    """The language of the request being served ("vi" outside a request)."""
    from flask import has_request_context
    from flask_babel import get_locale

    return str(get_locale()) if has_request_context() else "vi"


def reject_message(reason: str, item_code: str | None) -> str:
    """A rejected op's message in the request's language."""
    return REJECT_MESSAGES[reason][request_language() == "en"].format(item_code=item_code)


# ---------------------------------------------------------------------------------------------
# The database in use


def is_postgresql() -> bool:
    """Whether the session's database is PostgreSQL (row locks and advisory locks exist)."""
    return db.session.get_bind().dialect.name == "postgresql"


# ---------------------------------------------------------------------------------------------
# Serialising observations and photos (the same shape in assignments and in the change feed)


def _iso(value: datetime | date | None) -> str | None:
    """ISO 8601; times carry their offset (SQLite gives stored UTC times back without it)."""
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat() if value is not None else None


def photo_data(photo: Photo) -> dict:
    """A photo's metadata as devices see it; the API adds the URLs of its file and thumbnail
    (``api.uploads.with_photo_urls``)."""
    return {
        "id": photo.id,
        "client_uuid": str(photo.client_uuid),
        "item_code": photo.item_code,
        "sha256": photo.sha256,
        "size": photo.size,
        "width": photo.width,
        "height": photo.height,
        "content_type": photo.content_type,
        "captured_at": _iso(photo.captured_at),
        "latitude": photo.latitude,
        "longitude": photo.longitude,
        "caption": photo.caption,
        "author": photo.author_id,
    }


# ---------------------------------------------------------------------------------------------
# Assignments: everything a device needs to work offline


def retention_days() -> int:
    """Days a device keeps a signed inspection (config DEVICE_RETENTION_DAYS, default 30)."""
    return max(0, int(current_app.config.get("DEVICE_RETENTION_DAYS", 30)))


def assignments_for(user: User) -> dict:
    """The inspections of trips the user is on (as leader or member), each with its unit, trip,
    team, observations, photo metadata, open recommendations from earlier visits of the unit (or
    of the units it absorbed) and its change-feed cursor; plus each checklist document once.

    Inspections signed more than ``retention_days()`` ago are left out: devices forget them
    (the number of days is in the answer, so a device offline for weeks forgets them too).
    Admins and unit representatives do not use the field app: they get an empty list.
    """
    now = utcnow()
    retention = retention_days()
    result = {"server_time": now.isoformat(), "user": user, "checklists": {},
              "assignments": [], "retention_days": retention}
    if user.role not in (Role.leader, Role.inspector):
        return result
    # (Spelt out so that a missing time is "not long ago", never NULL, under NOT.)
    finished_long_ago = ((Inspection.state == InspectionState.signed)
                         & Inspection.state_changed_at.is_not(None)
                         & (Inspection.state_changed_at < now - timedelta(days=retention)))
    ids = db.session.scalars(select(Inspection.id).join(Trip, Inspection.trip_id == Trip.id)
                             .where(Trip.members.any(TripMember.user_id == user.id),
                                    ~finished_long_ago)).all()
    if not ids:
        return result
    # The feed cursors first, the data after: every change up to a cursor is then in the data,
    # so the highest cursor is a safe place for the device to pull on from (ChangeLog ids commit
    # in order, see feed.lock_change_feed).
    cursors = dict(db.session.execute(
        select(ChangeLog.inspection_id, func.max(ChangeLog.id))
        .where(ChangeLog.inspection_id.in_(ids)).group_by(ChangeLog.inspection_id)).all())
    inspections = db.session.scalars(
        select(Inspection)
        .join(Trip, Inspection.trip_id == Trip.id)
        .where(Inspection.id.in_(ids))
        .order_by(Trip.starts_on.desc(), Inspection.scheduled_on, Inspection.id)
        .options(
            selectinload(Inspection.unit),
            selectinload(Inspection.trip).selectinload(Trip.plan),
            selectinload(Inspection.trip).selectinload(Trip.members).selectinload(TripMember.user),
            selectinload(Inspection.observations),
        )
    ).all()

    version_ids = sorted({i.checklist_version_id for i in inspections})
    for version_id, document in db.session.execute(
            select(ChecklistVersion.id, ChecklistVersion.document)
            .where(ChecklistVersion.id.in_(version_ids))):
        result["checklists"][str(version_id)] = document

    photos = defaultdict(list)
    for photo in db.session.scalars(select(Photo).where(Photo.inspection_id.in_(ids))
                                    .order_by(Photo.id)):
        photos[photo.inspection_id].append(photo_data(photo))

    previous = owed_recommendations(inspections)
    claims = self_assessment_payloads(ids)
    conflicts = open_conflicts_data(ids)
    closing = closing_of(inspections)
    late = pending_late_data(ids)
    samples = samples_data(ids)

    heads = draft_heads(inspections,
                        list_unassessed=bool(current_app.config.get("MINUTES_LIST_UNASSESSED")))
    for inspection in inspections:
        trip = inspection.trip
        my_role = trip.role_of(user)
        result["assignments"].append({
            "inspection": {
                "id": inspection.id,
                "state": inspection.state.value,
                "revision": inspection.revision,
                "scheduled_on": inspection.scheduled_on,
                "unit": inspection.unit,
                "trip": {"id": trip.id, "name": trip.name, "starts_on": trip.starts_on,
                         "ends_on": trip.ends_on, "plan_number": trip.plan.number},
                "team": [{"user_id": m.user_id, "full_name": m.user.full_name,
                          "position": m.user.position, "role": m.role.value}
                         for m in sorted(trip.members, key=_member_order)],
                "my_role": my_role.value if my_role else None,
                "checklist_version_id": inspection.checklist_version_id,
                "signed_at": _iso(inspection.signed_at),
            },
            "observations": list(inspection.observations),  # dumped by ObservationDataSchema
            "photos": photos.get(inspection.id, []),
            "previous_recommendations": previous.get(inspection.id, []),
            "conflicts": conflicts.get(inspection.id, []),
            "late_submissions": late.get(inspection.id, []),
            "closing": with_permissions(closing[inspection.id], inspection, user),
            "samples": samples.get(inspection.id, []),
            "self_assessment": claims.get(inspection.id),
            "cursor": cursors.get(inspection.id) or 0,
            "minutes_head": heads[inspection.id],
        })
    return result


def _member_order(member: TripMember):
    return ({"leader": 0, "secretary": 1}.get(member.role.value, 2), member.user.full_name)


def owed_recommendations(inspections: list[Inspection]) -> dict[int, list[dict]]:
    """Open or done recommendations of earlier inspections of each inspection's unit or of the
    units it absorbed (transitively), by inspection id. Three queries in all."""
    sources = defaultdict(set)  # unit id -> units it was merged from (direct)
    for unit_id, source_id in db.session.execute(select(unit_merges.c.unit_id,
                                                        unit_merges.c.source_id)):
        sources[unit_id].add(source_id)

    def lineage(unit_id: int) -> set[int]:
        seen, stack = {unit_id}, [unit_id]
        while stack:
            for source in sources.get(stack.pop(), ()):
                if source not in seen:
                    seen.add(source)
                    stack.append(source)
        return seen

    units_of = {i.id: lineage(i.unit_id) for i in inspections}
    all_units = set().union(*units_of.values())
    rows = db.session.execute(
        select(Recommendation, Inspection.scheduled_on, AdminUnit.kind, AdminUnit.name)
        .join(Inspection, Recommendation.inspection_id == Inspection.id)
        .join(AdminUnit, Recommendation.unit_id == AdminUnit.id)
        .where(Recommendation.unit_id.in_(all_units), Recommendation.status.in_(("open", "done")))
        .order_by(Inspection.scheduled_on.desc(), Recommendation.position, Recommendation.id)
    ).all()
    found: dict[int, list[dict]] = {}
    for inspection in inspections:
        units = units_of[inspection.id]
        found[inspection.id] = [
            {"id": rec.id, "text": rec.text, "due_on": rec.due_on, "status": rec.status,
             "unit_name": f"{kind} {name}", "inspection_id": rec.inspection_id,
             "item_codes": rec.item_codes or []}
            for rec, scheduled_on, kind, name in rows
            if rec.unit_id in units and rec.inspection_id != inspection.id
            and scheduled_on <= inspection.scheduled_on
        ]
    return found


# ---------------------------------------------------------------------------------------------
# Applying ops


def writer_key(user_id: int, device_id: str) -> str:
    """The writer of an op as field_versions record it: "<user id>:<device id>"."""
    return f"{user_id}:{device_id}"


def field_meta(field_versions: dict | None, name: str) -> tuple[int, list[str]]:
    """(version at which the field last changed, writers who set or agreed with its value)."""
    meta = (field_versions or {}).get(name)
    if meta is None:
        return 0, []
    if isinstance(meta, int | float):  # written by record_observation (office entry)
        return int(meta), []
    return int(meta.get("version", 0)), list(meta.get("by") or [])


@dataclass
class _ObsState:
    """An observation's row, held in memory while a batch is applied."""

    inspection_id: int
    item_code: str
    id: int | None = None
    values: dict = field(default_factory=lambda: dict.fromkeys(FIELDS))
    version: int = 0
    field_versions: dict = field(default_factory=dict)
    updated_by_id: int | None = None
    updated_at: datetime | None = None
    dirty: bool = False

    def payload(self, now: datetime, now_iso: str) -> dict:
        """What the change feed says about the observation (as observation_payload does)."""
        updated_at = self.updated_at
        return {"item_code": self.item_code, **self.values, "version": self.version,
                "updated_by": self.updated_by_id,
                "updated_at": now_iso if updated_at is now else _iso(updated_at)}

    def row(self) -> dict:
        return {"inspection_id": self.inspection_id, "item_code": self.item_code, **self.values,
                "version": self.version, "field_versions": self.field_versions,
                "updated_by_id": self.updated_by_id, "updated_at": self.updated_at}


class _Batch:
    """One push: the data it needs, loaded up front in a few queries, and the rows it writes."""

    def __init__(self, user: User, device_id: str, ops: list[dict]):
        self.user = user
        self.user_id = user.id
        self.access: dict[int, tuple[bool, bool]] = {}  # inspection id -> (may see, may edit)
        self.now = utcnow()
        self.now_iso = self.now.isoformat()
        self.device_id = device_id
        self.writer = writer_key(user.id, device_id)
        self.ops = ops
        self.inspection_ids = sorted({op["inspection_id"] for op in ops})
        self._reset_pending()

    def _reset_pending(self) -> None:
        self.applied_rows: list[dict] = []
        self.change_rows: list[dict] = []
        self.conflict_rows: list[dict] = []
        self.conflict_results: list[tuple[tuple[int, str, str], dict]] = []
        self.late_rows: list[dict] = []
        self.touched: dict[tuple[int, str], _ObsState] = {}
        self.changed_inspections: set[int] = set()  # whose scored values changed
        # Held fields added to a waiting proposal: (its op id, field) -> its new incoming_value.
        self.proposal_updates: dict[tuple[uuid.UUID, str], dict] = {}
        self.conflict_items: set[tuple[int, str]] = set()  # items whose open Conflicts changed
        self.closing_changed: dict[int, Inspection] = {}  # whose closing data changed

    # -- loading ------------------------------------------------------------------------
    def lock(self) -> None:
        """Take the write locks of the inspections this batch touches (see module doc)."""
        if not self.inspection_ids:
            return
        if is_postgresql():
            db.session.execute(select(Inspection.id).where(Inspection.id.in_(self.inspection_ids))
                               .order_by(Inspection.id).with_for_update(key_share=True))
        else:
            table = Inspection.__table__.c
            db.session.connection().execute(
                Inspection.__table__.update().where(table.id.in_(self.inspection_ids))
                .values(revision=table.revision))

    def load(self) -> None:
        self._reset_pending()
        self.inspections: dict[int, Inspection] = {
            i.id: i for i in db.session.scalars(
                select(Inspection).where(Inspection.id.in_(self.inspection_ids))
                .options(joinedload(Inspection.trip).selectinload(Trip.members))
                .execution_options(populate_existing=True))
        }
        version_ids = {i.checklist_version_id for i in self.inspections.values()}
        self.items = _checklist_items(version_ids)
        # Plain Core queries for the rows (cheaper than ORM-enabled statements on this path).
        connection = db.session.connection()
        table = Observation.__table__.c
        self.observations: dict[tuple[int, str], _ObsState] = {}
        # Open proposals of a result or points, by (inspection, item, writer): what the writer
        # sends for the same judgement meanwhile waits with them (see _judgement).
        self.proposals: dict[tuple[int, str, str], list[dict]] = defaultdict(list)
        keys = sorted({(op["inspection_id"], op["item_code"]) for op in self.ops
                       if op["type"] == "observation.set"
                       and op["inspection_id"] in self.inspections
                       and bad_character(op["item_code"]) is None})  # rejected in apply()
        if keys:
            conflicts = Conflict.__table__.c
            for row in connection.execute(
                    select(conflicts.inspection_id, conflicts.item_code, conflicts.field,
                           conflicts.incoming_op_id, conflicts.incoming_value)
                    .where(tuple_(conflicts.inspection_id, conflicts.item_code).in_(keys),
                           conflicts.resolved_at.is_(None),
                           conflicts.field.in_(("result", "points"))).order_by(conflicts.id)):
                incoming = dict(row.incoming_value or {})
                writer = writer_key(incoming.get("by"), incoming.get("device"))
                self.proposals[(row.inspection_id, row.item_code, writer)].append(
                    {"op_id": row.incoming_op_id, "field": row.field, "incoming": incoming})
            for row in connection.execute(select(
                    table.id, table.inspection_id, table.item_code,
                    *(table[name] for name in FIELDS), table.version, table.field_versions,
                    table.updated_by_id, table.updated_at,
            ).where(tuple_(table.inspection_id, table.item_code).in_(keys))):
                self.observations[(row.inspection_id, row.item_code)] = _ObsState(
                    inspection_id=row.inspection_id, item_code=row.item_code, id=row.id,
                    values={name: getattr(row, name) for name in FIELDS}, version=row.version,
                    field_versions=dict(row.field_versions or {}),
                    updated_by_id=row.updated_by_id, updated_at=row.updated_at)
        applied = AppliedOp.__table__.c
        self.seen: dict[uuid.UUID, tuple[int, dict]] = {
            row.op_id: (row.user_id, row.result) for row in connection.execute(
                select(applied.op_id, applied.user_id, applied.result)
                .where(applied.op_id.in_({op["op_id"] for op in self.ops})))
        }

    # -- one op ---------------------------------------------------------------------------
    def apply(self, op: dict) -> dict:
        op_id = op["op_id"]
        if op_id in self.seen:
            return self._duplicate(op_id)
        inspection = self.inspections.get(op["inspection_id"])
        if inspection is None:
            return self._reject(op, None, "not_found")
        access = self.access.get(inspection.id)
        if access is None:
            access = self.access[inspection.id] = (can_view(self.user, inspection),
                                                   can_edit(self.user, inspection))
        if not access[0]:
            return self._reject(op, None, "not_found")
        if not access[1]:
            return self._reject(op, inspection, "forbidden")
        if op["type"] in CLOSING_OP_TYPES:  # the closing meeting (services.closing_ops)
            return apply_closing_op(self, op, inspection)
        if (bad := bad_character(op["item_code"])) is not None:
            return self._reject(op, inspection, "invalid_field", FieldError(
                f"'item_code' chứa ký tự không hợp lệ U+{ord(bad):04X}",
                f"'item_code' holds an invalid character U+{ord(bad):04X}",
            ).message(request_language()))
        if op["type"] in PHOTO_OP_TYPES:
            return self._apply_photo(op, inspection)
        if op["type"] in SAMPLE_OP_TYPES:  # repeat groups' samples: services.samples
            return apply_sample_op(self, op, inspection)
        item = self.items[inspection.checklist_version_id].get(op["item_code"])
        if item is None:
            return self._reject(op, inspection, "unknown_item")
        try:
            cleaned = clean_fields(item, op["fields"])
            if not cleaned:
                raise FieldError("không có trường nào để ghi (result, points, value, text, note)",
                                 "no field to record (result, points, value, text, note)")
        except FieldError as exc:
            return self._reject(op, inspection, "invalid_field", exc.message(request_language()))
        if inspection.is_locked:
            self.late_rows.append({
                "inspection_id": inspection.id, "op_id": op_id, "author_id": self.user_id,
                "payload": {**_op_json(op, self.device_id), "fields": cleaned}})
            return self._reject(op, inspection, "locked")
        if inspection.state == InspectionState.planned:
            self._start(inspection)

        key = (inspection.id, item.code)
        obs = self.observations.get(key)
        base = op["base_version"]
        clashes: list[str] = []
        superseded: list[str] = []
        changed: dict = {}
        op_at = _aware(op.get("at"))
        created = obs is None
        if created:
            obs = self.observations[key] = _ObsState(inspection_id=inspection.id,
                                                     item_code=item.code)
            changed = cleaned
            status = "applied"
        else:
            stale = base < obs.version
            for name, value in cleaned.items():
                stored = obs.values[name]
                version, by = field_meta(obs.field_versions, name)
                if by and by[0] == self.writer and _older(op_at, obs.field_versions[name]):
                    # This writer already set the field with a later edit that arrived first
                    # (batches reordered on the way): the older edit must not undo it.
                    superseded.append(name)
                elif stale and version > base and self.writer not in by and stored != value:
                    clashes.append(name)
                    self.conflict_rows.append({
                        "inspection_id": inspection.id, "item_code": item.code, "field": name,
                        "base_version": base,
                        "current_value": {"value": stored, "version": version,
                                          "by": _user_of(by) or obs.updated_by_id,
                                          "devices": [_device_of(w) for w in by]},
                        "incoming_value": {"value": value, "by": self.user_id,
                                           "device": self.device_id, "at": _iso(op.get("at"))},
                        "incoming_op_id": op_id, "author_id": self.user_id,
                        "created_at": self.now})
                elif stored == value:
                    if self.writer not in by and name in obs.field_versions:
                        # Converged: remember that this writer agrees with the value.
                        obs.field_versions[name] = {
                            "version": version, "by": (by + [self.writer])[-MAX_AGREEING_WRITERS:]}
                        obs.dirty = True
                else:
                    changed[name] = value
        held, reverted = ({}, {}) if created else self._judgement(
            op_id, inspection.id, item.code, obs, base, cleaned, clashes, changed)
        if not created:
            status = ("conflict" if clashes or held
                      else "merged" if stale or superseded else "applied")
        if changed or created or reverted:
            obs.version += 1
            for name, value in changed.items():
                before, meta = obs.values[name], obs.field_versions.get(name)
                obs.values[name] = value
                obs.field_versions[name] = {"version": obs.version, "by": [self.writer]}
                if op_at is not None:
                    obs.field_versions[name]["at"] = op_at.isoformat()
                if name in EXPLANATIONS and not created:
                    obs.field_versions[name]["prev"] = self._prev(before, meta)
            for name, prev in reverted.items():
                # Back to the value it had before this writer's explanation (which now waits
                # in the writer's Conflict): set at that version, by those writers.
                obs.values[name] = prev.get("value")
                obs.field_versions[name] = {"version": int(prev.get("version") or 0),
                                            "by": list(prev.get("by") or [])}
            obs.updated_by_id = self.user_id
            obs.updated_at = self.now
            obs.dirty = True
            if (changed.keys() | reverted.keys()) - {"note"}:  # a note alone does not score
                self.changed_inspections.add(inspection.id)
        self.touched[key] = obs

        result = {"op_id": str(op_id), "status": status, "version": obs.version}
        if clashes:
            self.conflict_items.add(key)  # teammates learn of the disagreement (feed "conflicts")
            result["conflicts"] = clashes
            # write() adds "folded" once it knows how many proposals each field holds
            self.conflict_results.extend(((inspection.id, item.code, name), result)
                                         for name in clashes)
        if held:
            result["held"] = sorted(held)
        if superseded:
            result["superseded"] = superseded
        payload = {**obs.payload(self.now, self.now_iso), "device_id": self.device_id,
                   "op_id": result["op_id"]}
        if clashes:
            payload["conflicts"] = clashes
        if held:
            payload["held"] = sorted(held)
        if reverted:
            payload["reverted"] = {name: obs.field_versions[name] for name in reverted}
        if superseded:
            payload["superseded"] = superseded
        self.change_rows.append({"inspection_id": inspection.id, "kind": "observation",
                                 "payload": payload, "author_id": self.user_id})
        self._remember(op, inspection, result)
        return result

    def _judgement(self, op_id: uuid.UUID, inspection_id: int, item_code: str, obs: _ObsState,
                   base: int, cleaned: dict, clashes: list[str],
                   changed: dict) -> tuple[dict, dict]:
        """Keep a result and the points or note that explain it together (JUDGEMENT).

        When this op's result or points clash, its other judgement fields are not applied but
        held in the Conflict (with the kept side's values, so the leader sees both), and an
        explanation this writer applied after its base is taken back into the Conflict too
        (``reverted``: the field returns to its value before the writer's edits). When this
        writer already has a result or points waiting as a Conflict on the item (and its value
        is not the one stored), the judgement fields it sends now wait with that proposal.
        Returns (held fields {name: value}, reverted fields {name: previous meta}); ``changed``
        loses the held fields.
        """
        held: dict = {}
        reverted: dict = {}
        clashing = [name for name in clashes if name in ("result", "points")]
        waiting = [p for p in self.proposals.get((inspection_id, item_code, self.writer), [])
                   if self.writer not in field_meta(obs.field_versions, p["field"])[1]]
        if not clashing and not waiting:
            return held, reverted
        for name in JUDGEMENT:
            if name in changed:
                held[name] = changed.pop(name)
        if clashing:
            for name in EXPLANATIONS:
                meta = obs.field_versions.get(name)
                version, by = field_meta(obs.field_versions, name)
                if (name not in cleaned and name not in clashes and isinstance(meta, dict)
                        and isinstance(meta.get("prev"), dict) and version > base
                        and by and by[0] == self.writer):
                    held[name] = obs.values[name]
                    reverted[name] = meta["prev"]
            rows = self.conflict_rows[-len(clashes):]
            for row in rows:
                if row["field"] not in ("result", "points"):
                    continue
                others = {r["field"]: r["incoming_value"]["value"] for r in rows
                          if r["field"] in JUDGEMENT and r is not row}
                row["incoming_value"]["with"] = {**held, **others}
                row["current_value"]["with"] = {
                    name: (reverted[name].get("value") if name in reverted else obs.values[name])
                    for name in JUDGEMENT if name != row["field"]}
                self.proposals[(inspection_id, item_code, self.writer)].append(
                    {"op_id": op_id, "field": row["field"], "incoming": row["incoming_value"]})
        elif held:
            for proposal in waiting:
                proposal["incoming"]["with"] = {**(proposal["incoming"].get("with") or {}), **held}
                self.proposal_updates[(proposal["op_id"], proposal["field"])] = proposal["incoming"]
        if held or clashing:
            self.conflict_items.add((inspection_id, item_code))
        return held, reverted

    # -- what services.samples uses of the batch ------------------------------------------
    def reject(self, op: dict, inspection: Inspection | None, reason: str,
               message: str | None = None) -> dict:
        return self._reject(op, inspection, reason, message)

    def remember(self, op: dict, inspection: Inspection, result: dict) -> None:
        self._remember(op, inspection, result)

    def start(self, inspection: Inspection) -> None:
        """A first change of a planned inspection starts it."""
        if inspection.state == InspectionState.planned:
            self._start(inspection)

    def late(self, op: dict, inspection: Inspection, extra: dict) -> None:
        """Keep an op that arrived after approval for the leader (a late submission)."""
        self.late_rows.append({"inspection_id": inspection.id, "op_id": op["op_id"],
                               "author_id": self.user_id,
                               "payload": {**_op_json(op, self.device_id), **extra}})

    def _prev(self, before, meta) -> dict:
        """What to remember of a field's value before this writer changed it: the value before
        the writer's whole run of edits (a second edit keeps the first one's ``prev``)."""
        version, by = field_meta({"f": meta} if meta is not None else {}, "f")
        if (isinstance(meta, dict) and by and by[0] == self.writer
                and isinstance(meta.get("prev"), dict)):
            return meta["prev"]
        return {"value": before, "version": version, "by": by}

    def _apply_photo(self, op: dict, inspection: Inspection) -> dict:
        """photo.caption {fields: {photo: client UUID, caption}} and photo.delete {fields:
        {photo}}: by the photo's author or the trip's leader, until the inspection is approved.
        A deletion is audited with the photo's metadata (the file stays in the store)."""
        try:
            client_uuid = uuid.UUID(str(op["fields"].get("photo")))
        except ValueError:
            return self._reject(op, inspection, "invalid_field", FieldError(
                "'photo' phải là mã (UUID) của ảnh",
                "'photo' must be the photo's id (UUID)").message(request_language()))
        photo = db.session.scalar(select(Photo).where(Photo.client_uuid == client_uuid,
                                                      Photo.inspection_id == inspection.id))
        deleting = op["type"] == "photo.delete"
        if photo is None:
            if deleting:  # already deleted (another device, an earlier try): nothing left to do
                return self._photo_done(op, inspection, None)
            return self._reject(op, inspection, "photo_not_found")
        if inspection.is_locked:
            return self._reject(op, inspection, "photo_locked")
        if photo.author_id != self.user_id and not is_trip_leader(self.user, inspection.trip):
            return self._reject(op, inspection, "forbidden", FieldError(
                "Chỉ người chụp ảnh hoặc trưởng đoàn mới được sửa hay xoá ảnh.",
                "Only the photo's author or the team leader may change or delete it.",
            ).message(request_language()))
        if deleting:
            audit.record("photo.delete", photo, self.user, device_id=self.device_id,
                         inspection_id=inspection.id,
                         client_uuid=str(photo.client_uuid), item_code=photo.item_code,
                         sha256=photo.sha256, caption=photo.caption, author_id=photo.author_id,
                         captured_at=_iso(photo.captured_at))
            payload = {"id": photo.id, "client_uuid": str(photo.client_uuid),
                       "item_code": photo.item_code, "deleted": True}
            db.session.execute(
                update(Upload).where(Upload.photo_id == photo.id).values(photo_id=None))
            db.session.delete(photo)
        else:
            try:
                caption = _clean_caption(op["fields"].get("caption"))
            except FieldError as exc:
                return self._reject(op, inspection, "invalid_field",
                                    exc.message(request_language()))
            audit.record("photo.caption", photo, self.user, device_id=self.device_id,
                         before=photo.caption, after=caption)
            photo.caption = caption
            payload = photo_data(photo)
        return self._photo_done(op, inspection, payload)

    def _photo_done(self, op: dict, inspection: Inspection, payload: dict | None) -> dict:
        result = {"op_id": str(op["op_id"]), "status": "applied"}
        if payload is not None:
            self.change_rows.append({"inspection_id": inspection.id, "kind": "photo",
                                     "payload": {**payload, "op_id": result["op_id"]},
                                     "author_id": self.user_id})
            self.changed_inspections.add(inspection.id)  # photos count for photo items
        self._remember(op, inspection, result)
        return result

    def _start(self, inspection: Inspection) -> None:
        """A first observation on a planned inspection starts it (the workflow audits it and
        writes it to the change feed)."""
        transition_inspection(inspection, "start", self.user, device_id=self.device_id)

    def _reject(self, op: dict, inspection: Inspection | None, reason: str,
                message: str | None = None) -> dict:
        result = {"op_id": str(op["op_id"]), "status": "rejected", "reason": reason,
                  "message": message or reject_message(reason, op["item_code"])}
        self._remember(op, inspection, result)
        return result

    def _remember(self, op: dict, inspection: Inspection | None, result: dict) -> None:
        self.applied_rows.append({
            "op_id": op["op_id"], "device_id": self.device_id, "user_id": self.user_id,
            "inspection_id": inspection.id if inspection is not None else None,
            "type": op["type"], "status": result["status"], "result": result,
            "received_at": self.now})
        self.seen[op["op_id"]] = (self.user_id, result)

    def _duplicate(self, op_id: uuid.UUID) -> dict:
        user_id, original = self.seen[op_id]
        result = {"op_id": str(op_id), "status": "duplicate"}
        if user_id != self.user_id:  # another account's op: say nothing about it
            return result
        result["original_status"] = original.get("status")
        for key in ("version", "reason", "message", "conflicts", "held", "superseded",
                    "versions", "current", "errors"):
            if original.get(key) is not None:
                result[key] = original[key]
        return result

    # -- writing --------------------------------------------------------------------------
    def write(self) -> None:
        """Write what the applied ops produced: a handful of multi-row statements (Core, not
        the ORM unit of work: this is the hot path of sync)."""
        session = db.session
        session.flush()  # inspection starts and their audit events
        if self.conflict_results:
            _count_folded(self.conflict_results)  # before the answers are stored
        if self.applied_rows:
            session.execute(AppliedOp.__table__.insert(), self.applied_rows)
        observations = Observation.__table__
        new = [obs for obs in self.touched.values() if obs.id is None]
        if new:
            created = session.execute(
                observations.insert().returning(observations.c.id, observations.c.inspection_id,
                                                observations.c.item_code),
                [obs.row() for obs in new])
            for row in created:
                self.observations[(row.inspection_id, row.item_code)].id = row.id
            for obs in new:
                obs.dirty = False
        dirty = [obs for obs in self.touched.values() if obs.dirty]
        if dirty:
            session.execute(observations.update().where(observations.c.id == bindparam("_id")),
                            [{"_id": obs.id, **obs.row()} for obs in dirty])
            for obs in dirty:
                obs.dirty = False
        if self.conflict_rows:
            session.execute(Conflict.__table__.insert(), self.conflict_rows)
            _fold_conflicts({key for key, _ in self.conflict_results})
        if self.proposal_updates:
            table = Conflict.__table__
            session.connection().execute(
                table.update().where(table.c.incoming_op_id == bindparam("_op"),
                                     table.c.field == bindparam("_field"))
                .values(incoming_value=bindparam("_value")),
                [{"_op": op_id, "_field": name, "_value": value}
                 for (op_id, name), value in self.proposal_updates.items()])
        if self.late_rows:
            session.execute(LateSubmission.__table__.insert(), self.late_rows)
        if self.conflict_items:
            self.change_rows.extend(conflict_changes(self.conflict_items, self.user_id))
        if self.closing_changed:
            self.change_rows.extend(closing_changes(list(self.closing_changed.values()),
                                                    self.user_id))
        log_changes(self.change_rows)
        self._reset_pending()

    def write_pending(self) -> None:
        """Write what the ops so far produced, mid-batch: an approval reads the database."""
        changed = set(self.changed_inspections)
        self.write()
        self.changed_inspections |= changed
        self.expire_loaded()

    def expire_loaded(self) -> None:
        """ORM objects of what the batch wrote directly must be reloaded on next access."""
        for obj in list(db.session.identity_map.values()):
            if isinstance(obj, Observation | Inspection):
                db.session.expire(obj)


def _open_conflicts(keys) -> dict[tuple[int, str, str], list]:
    """The open Conflicts (id, folded) of each (inspection, item, field), oldest first."""
    table = Conflict.__table__.c
    found: dict[tuple[int, str, str], list] = defaultdict(list)
    for row in db.session.connection().execute(
            select(table.id, table.inspection_id, table.item_code, table.field, table.folded)
            .where(tuple_(table.inspection_id, table.item_code, table.field).in_(sorted(keys)),
                   table.resolved_at.is_(None)).order_by(table.id)):
        found[(row.inspection_id, row.item_code, row.field)].append((row.id, row.folded))
    return found


def _count_folded(pending: list[tuple[tuple[int, str, str], dict]]) -> None:
    """Add to each conflicting op's answer how many proposals of the field are folded once its
    own Conflict is stored (as ``_fold_conflicts`` will leave it): ``folded: {field: n}``."""
    existing = _open_conflicts({key for key, _ in pending})
    state = {key: [len(rows), rows[0][1] if rows else 0] for key, rows in existing.items()}
    for key, result in pending:
        counts = state.setdefault(key, [0, 0])
        counts[0] += 1
        if counts[0] > 1 + KEEP_LATEST_CONFLICTS:
            counts[0] -= 1
            counts[1] += 1
        if counts[1]:
            result.setdefault("folded", {})[key[2]] = counts[1]


def _fold_conflicts(keys) -> None:
    """Keep the first and the latest KEEP_LATEST_CONFLICTS open Conflicts of each (inspection,
    item, field); delete the ones in between and add their number to the first's ``folded``.
    Four statements whatever the number of fields."""
    table = Conflict.__table__
    drop: list[int] = []
    firsts: list[dict] = []
    for rows in _open_conflicts(keys).values():
        if len(rows) > 1 + KEEP_LATEST_CONFLICTS:
            extra = rows[1:len(rows) - KEEP_LATEST_CONFLICTS]
            drop.extend(row_id for row_id, _ in extra)
            firsts.append({"_id": rows[0][0], "_folded": rows[0][1] + len(extra)})
    if drop:
        connection = db.session.connection()
        connection.execute(table.delete().where(table.c.id.in_(drop)))
        connection.execute(table.update().where(table.c.id == bindparam("_id"))
                           .values(folded=bindparam("_folded")), firsts)


def _clean_caption(value) -> str:
    """A photo caption as stored (raises FieldError with a message for people)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise FieldError("'caption' phải là chuỗi ký tự", "'caption' must be text")
    if len(value) > Photo.CAPTION_LIMIT:
        raise FieldError(f"chú thích ảnh dài quá {Photo.CAPTION_LIMIT} ký tự",
                         f"the caption is over {Photo.CAPTION_LIMIT} characters")
    if (bad := bad_character(value)) is not None:
        raise FieldError(f"chú thích ảnh chứa ký tự không hợp lệ U+{ord(bad):04X}; hãy gõ lại",
                         f"the caption holds an invalid character U+{ord(bad):04X}; type it again")
    return clean_text(value).strip()


@dataclass(frozen=True)
class _Item:
    """What clean_fields needs to know about a checklist item."""

    code: str
    kind: str
    max_points: float | None


# Items of published checklist versions, by version id. Published versions never change (and
# are never deleted), so every worker may keep them; drafts are read from the database each time.
_PUBLISHED_ITEMS: dict[int, dict[str, _Item]] = {}


def _checklist_items(version_ids) -> dict[int, dict[str, _Item]]:
    """The items of checklist versions, by version id and item code."""
    missing = [v for v in version_ids if v not in _PUBLISHED_ITEMS]
    loaded: dict[int, dict[str, _Item]] = {v: {} for v in missing}
    published: set[int] = set()
    if missing:
        published = set(db.session.scalars(select(ChecklistVersion.id).where(
            ChecklistVersion.id.in_(missing), ChecklistVersion.status == VersionStatus.published)))
        for row in db.session.execute(select(
                ChecklistItem.version_id, ChecklistItem.code, ChecklistItem.kind,
                ChecklistItem.max_points).where(ChecklistItem.version_id.in_(missing))):
            loaded[row.version_id][row.code] = _Item(row.code, row.kind, row.max_points)
        for version_id in published:
            _PUBLISHED_ITEMS[version_id] = loaded[version_id]
    return {v: _PUBLISHED_ITEMS.get(v) or loaded.get(v, {}) for v in version_ids}


def _op_json(op: dict, device_id: str) -> dict:
    return {"op_id": str(op["op_id"]), "type": op["type"], "inspection_id": op["inspection_id"],
            "item_code": op["item_code"], "base_version": op["base_version"],
            "fields": op["fields"], "at": _iso(op.get("at")), "device_id": device_id}


def _aware(moment: datetime | None) -> datetime | None:
    """A device time with its offset (a device clock without a zone is Vietnam time)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=VIETNAM)


def _older(op_at: datetime | None, meta) -> bool:
    """Whether an edit made at ``op_at`` is older than the one that set the field (``meta``)."""
    if op_at is None or not isinstance(meta, dict) or not meta.get("at"):
        return False
    try:
        return op_at < _aware(datetime.fromisoformat(meta["at"]))
    except (TypeError, ValueError):
        return False


def _user_of(writers: list[str]) -> int | None:
    for writer in writers:
        user_id = writer.split(":", 1)[0]
        if user_id.isdigit():
            return int(user_id)
    return None


def _device_of(writer: str) -> str:
    return writer.split(":", 1)[1] if ":" in writer else writer


def apply_ops(user: User, device_id: str, ops: list[dict]) -> list[dict]:
    """Apply a device's ops in order; one result per op, in the same order (DESIGN §4).

    ``ops`` are dicts as the push schema loads them: op_id (UUID), type, inspection_id,
    item_code, base_version, fields, at. One bad op never fails the batch: invalid ops are
    answered ``rejected`` and every op (rejected ones too) is recorded in AppliedOp, so a retry
    answers ``duplicate`` and changes nothing. The fast path checks every op in memory against
    data loaded up front and writes the batch in a few statements inside one SAVEPOINT; if the
    database refuses that (a concurrent push of the same op_id), the batch is re-run op by op,
    each in its own SAVEPOINT. The score snapshots of inspections whose values changed are
    refreshed at the end (services.score_snapshots).
    """
    if not ops:
        return []
    if hasattr(user, "_get_current_object"):  # flask_login.current_user: resolve the proxy once
        user = user._get_current_object()
    batch = _Batch(user, device_id, ops)
    batch.lock()
    batch.load()
    try:
        with db.session.begin_nested():
            results = [batch.apply(op) for op in ops]
            changed = batch.changed_inspections
            batch.write()
    except IntegrityError:
        results, changed = _apply_one_by_one(batch)
    batch.expire_loaded()
    if changed and current_app.config.get("SYNC_REFRESH_SCORES", True):
        # Keep the score snapshots behind the reports in step with the observations (a large
        # deployment may turn this off and run `flask refresh-scores` on a schedule instead).
        refresh_scores(changed)
    return results


def _apply_one_by_one(batch: _Batch) -> tuple[list[dict], set[int]]:
    batch.load()
    results, changed = [], set()
    for op in batch.ops:
        try:
            with db.session.begin_nested():
                result = batch.apply(op)
                touched = batch.changed_inspections
                batch.write()
            changed |= touched
        except IntegrityError:
            # Someone else recorded this op_id meanwhile: reload what is committed now.
            batch.load()
            if op["op_id"] not in batch.seen:
                raise
            result = batch._duplicate(op["op_id"])
        results.append(result)
    return results, changed
