"""The server side of sync: what a device needs offline, applying its ops, and the change feed.

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
score snapshots of the inspections whose scored values changed are refreshed (services.scores;
config SYNC_REFRESH_SCORES = False leaves that to `flask refresh-scores`).

Concurrency: the inspections an op batch touches are locked first (``SELECT … FOR NO KEY
UPDATE`` on PostgreSQL: not FOR UPDATE, which would also wait for every transaction that merely
inserted a row referencing the inspection — a photo, an audit event — and deadlock with it when
that transaction then locks the inspection to write the feed; on SQLite a no-op UPDATE takes the database write lock and opens the transaction, which
also makes SAVEPOINTs behave). So two pushes touching the same inspection run one after the other,
and each sees what the other committed. ``AppliedOp.op_id`` is the primary key: a concurrent
second insert of the same op fails, and the batch is then re-run op by op, each in its own
SAVEPOINT, where that op becomes a ``duplicate``.

The change feed (ChangeLog) is read by cursor (its id). On PostgreSQL ids come from a sequence and
transactions may commit out of id order, so a device could skip a change that commits late; every
writer of the feed therefore takes one transaction-level advisory lock before inserting (see
``lock_change_feed``; ORM inserts do it through a mapper event), which makes commits happen in id
order. ``log_change`` writes one entry.
"""
from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, event, func, select, text, tuple_
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
    User,
    unit_merges,
)
from ..models.base import VIETNAM, utcnow
from ..models.checklists import VersionStatus
from .access import can_edit, can_view, inspections_query
from .errors import NotFound
from .observations import FieldError, clean_fields, observation_payload
from .scores import refresh_scores
from .text import bad_character
from .workflow import transition_inspection

MAX_OPS = 500
PULL_LIMIT = 500
PULL_MAX_LIMIT = 1000
OP_TYPES = ("observation.set",)
FIELDS = Observation.FIELDS
# Any constant identifies the change feed's advisory lock (PostgreSQL); "CCHCFEED" in ASCII.
CHANGE_FEED_LOCK = 0x4343484346454544
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
               "The inspection is approved or signed: the change is kept for the team leader to decide."),
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
# The change feed


def is_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def lock_change_feed(connection, inspection_ids) -> None:
    """Before adding to the change feed on PostgreSQL: lock the inspections' rows, then take the
    feed's transaction-level advisory lock. Feed ids are then committed in id order, so a device
    reading by cursor never skips a change that commits late. The order (inspection rows first,
    the feed lock second) is the one every writer follows, so writers cannot deadlock. The row
    lock is FOR NO KEY UPDATE, which does not conflict with the KEY SHARE lock a foreign key takes:
    a writer that inserted a photo of the inspection first can still take it."""
    if connection.dialect.name != "postgresql":
        return
    connection.execute(select(Inspection.id).where(Inspection.id.in_(sorted(set(inspection_ids))))
                       .order_by(Inspection.id).with_for_update(key_share=True))
    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHANGE_FEED_LOCK})


@event.listens_for(ChangeLog, "before_insert")
def _lock_feed_for_orm_inserts(mapper, connection, target: ChangeLog) -> None:
    """The same ordering for entries added through the ORM (e.g. by the office pages)."""
    lock_change_feed(connection, [target.inspection_id])


def log_change(inspection_id: int, kind: str, payload: dict, author_id: int | None) -> None:
    """Append one entry to the change feed (kind: observation | photo | inspection)."""
    log_changes([{"inspection_id": inspection_id, "kind": kind, "payload": payload,
                  "author_id": author_id}])


def log_changes(rows: list[dict]) -> None:
    """Append entries ({inspection_id, kind, payload, author_id}) to the change feed."""
    if not rows:
        return
    db.session.flush()
    lock_change_feed(db.session.connection(), [row["inspection_id"] for row in rows])
    now = utcnow()
    db.session.execute(ChangeLog.__table__.insert(), [{**row, "at": now} for row in rows])


def pull_changes(user: User, since: int = 0, inspection_id: int | None = None,
                 limit: int = PULL_LIMIT) -> dict:
    """Changes after the cursor ``since`` in inspections the user may see, oldest first.

    Returns {changes: [{cursor, kind, inspection_id, data}], cursor, more}; ``cursor`` is the
    last one returned (or ``since`` when there is nothing new), ``more`` says whether to ask again.
    """
    limit = max(1, min(int(limit), PULL_MAX_LIMIT))
    visible = inspections_query(user).order_by(None).with_only_columns(Inspection.id)
    query = select(ChangeLog.id, ChangeLog.kind, ChangeLog.inspection_id, ChangeLog.payload).where(
        ChangeLog.id > since)
    if inspection_id is not None:
        if db.session.scalar(visible.where(Inspection.id == inspection_id)) is None:
            raise NotFound("Không tìm thấy cuộc kiểm tra.", "Inspection not found.")
        query = query.where(ChangeLog.inspection_id == inspection_id)
    elif user.role != Role.admin:
        query = query.where(ChangeLog.inspection_id.in_(visible))
    rows = db.session.execute(query.order_by(ChangeLog.id).limit(limit + 1)).all()
    changes = [{"cursor": row.id, "kind": row.kind, "inspection_id": row.inspection_id,
                "data": row.payload} for row in rows[:limit]]
    return {"changes": changes, "cursor": changes[-1]["cursor"] if changes else since,
            "more": len(rows) > limit}


# ---------------------------------------------------------------------------------------------
# Serialising observations and photos (the same shape in assignments and in the change feed)


def _iso(value: datetime | date | None) -> str | None:
    """ISO 8601; times carry their offset (SQLite gives stored UTC times back without it)."""
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat() if value is not None else None


def observation_data(obs: Observation) -> dict:
    """An observation as devices see it (the same shape in assignments and in the feed)."""
    return {**observation_payload(obs), "updated_at": _iso(obs.updated_at)}


def photo_data(photo: Photo) -> dict:
    """A photo's metadata as devices see it, with the URLs of the file and its thumbnail."""
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
        "url": f"/api/v1/photos/{photo.id}",
        "thumb_url": f"/api/v1/photos/{photo.id}/thumb",
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
    # in order, see lock_change_feed).
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

    previous = _previous_recommendations(inspections)

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
            "observations": [observation_data(o) for o in inspection.observations],
            "photos": photos.get(inspection.id, []),
            "previous_recommendations": previous.get(inspection.id, []),
            "cursor": cursors.get(inspection.id) or 0,
        })
    return result


def _member_order(member: TripMember):
    return ({"leader": 0, "secretary": 1}.get(member.role.value, 2), member.user.full_name)


def _previous_recommendations(inspections: list[Inspection]) -> dict[int, list[dict]]:
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
        if self.inspections:
            for row in connection.execute(select(
                    table.id, table.inspection_id, table.item_code,
                    *(table[name] for name in FIELDS), table.version, table.field_versions,
                    table.updated_by_id, table.updated_at,
            ).where(tuple_(table.inspection_id, table.item_code).in_(sorted(
                    {(op["inspection_id"], op["item_code"]) for op in self.ops
                     if op["inspection_id"] in self.inspections
                     and bad_character(op["item_code"]) is None})))):  # rejected in apply()
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
        if (bad := bad_character(op["item_code"])) is not None:
            return self._reject(op, inspection, "invalid_field", FieldError(
                f"'item_code' chứa ký tự không hợp lệ U+{ord(bad):04X}",
                f"'item_code' holds an invalid character U+{ord(bad):04X}").message(request_language()))
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
            status = "conflict" if clashes else ("merged" if stale or superseded else "applied")
        if changed or created:
            obs.version += 1
            for name, value in changed.items():
                obs.values[name] = value
                obs.field_versions[name] = {"version": obs.version, "by": [self.writer]}
                if op_at is not None:
                    obs.field_versions[name]["at"] = op_at.isoformat()
            obs.updated_by_id = self.user_id
            obs.updated_at = self.now
            obs.dirty = True
            if changed.keys() - {"note"}:  # a note alone does not change the score
                self.changed_inspections.add(inspection.id)
        self.touched[key] = obs

        result = {"op_id": str(op_id), "status": status, "version": obs.version}
        if clashes:
            result["conflicts"] = clashes
            # write() adds "folded" once it knows how many proposals each field holds
            self.conflict_results.extend(((inspection.id, item.code, name), result)
                                         for name in clashes)
        if superseded:
            result["superseded"] = superseded
        payload = {**obs.payload(self.now, self.now_iso), "device_id": self.device_id,
                   "op_id": result["op_id"]}
        if clashes:
            payload["conflicts"] = clashes
        if superseded:
            payload["superseded"] = superseded
        self.change_rows.append({"inspection_id": inspection.id, "kind": "observation",
                                 "payload": payload, "author_id": self.user_id})
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
        for key in ("version", "reason", "message", "conflicts", "superseded"):
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
        if self.late_rows:
            session.execute(LateSubmission.__table__.insert(), self.late_rows)
        log_changes(self.change_rows)
        self._reset_pending()

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
    refreshed at the end (services.scores).
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
