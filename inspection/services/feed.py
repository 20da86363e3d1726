"""The change feed devices pull: what changed in which inspection, read by cursor.

Plain functions: they flush, never commit (the view commits). Entries are written by whatever
changes what devices hold (observations, photos, inspection states, sync batches) and read by
``pull_changes``.

The change feed (ChangeLog) is read by cursor (its id). On PostgreSQL ids come from a sequence and
transactions may commit out of id order, so a device could skip a change that commits late; every
writer of the feed therefore takes one transaction-level advisory lock before inserting (see
``lock_change_feed``; ORM inserts do it through a mapper event), which makes commits happen in id
order. ``log_change`` writes one entry.
"""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import event, select, text
from sqlalchemy.orm import selectinload

from ..errors import NotFound
from ..extensions import db
from ..models import ChangeLog, Conflict, Inspection, LateSubmission, Role, Trip, User
from ..models.base import iso_utc, utcnow
from .access import inspections_query

PULL_LIMIT = 500
PULL_MAX_LIMIT = 1000
# Any constant identifies the change feed's advisory lock (PostgreSQL); "CCHCFEED" in ASCII.
CHANGE_FEED_LOCK = 0x4343484346454544


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
    _add_closing_permissions(user, [c for c in changes if c["kind"] == "closing"])
    return {"changes": changes, "cursor": changes[-1]["cursor"] if changes else since,
            "more": len(rows) > limit}


def _add_closing_permissions(user: User, changes: list[dict]) -> None:
    """A "closing" entry is stored once for everyone; each reader gets its can_edit and
    can_approve as of now (services.closing)."""
    if not changes:
        return
    inspections = {i.id: i for i in db.session.scalars(
        select(Inspection).where(Inspection.id.in_({c["inspection_id"] for c in changes}))
        .options(selectinload(Inspection.trip).selectinload(Trip.members)))}
    for change in changes:
        inspection = inspections[change["inspection_id"]]
        change["data"] = {**change["data"],
                          **inspection.closing_permissions(inspection.trip.role_of(user))}


# ---------------------------------------------------------------------------------------------
# Conflicts and late submissions as devices see them (assignments and the change feed)


def conflict_data(row) -> dict:
    """An open Conflict as devices see it: the item and field, the value kept (``current``) and
    the value proposed (``incoming``), each with who (user id) and the fields of the same
    judgement that go with it (``with``: e.g. the note that explains a result)."""
    current, incoming = row.current_value or {}, row.incoming_value or {}
    return {"id": row.id, "item_code": row.item_code, "field": row.field,
            "current": {"value": current.get("value"), "by": current.get("by"),
                        "with": current.get("with") or {}},
            "incoming": {"value": incoming.get("value"), "by": incoming.get("by"),
                         "at": incoming.get("at"), "with": incoming.get("with") or {}},
            "folded": row.folded or 0}


def open_conflicts_data(inspection_ids, item_codes=None) -> dict[int, list[dict]]:
    """The open Conflicts of inspections (optionally of some items only), by inspection id."""
    table = Conflict.__table__.c
    query = (select(table.id, table.inspection_id, table.item_code, table.field,
                    table.current_value, table.incoming_value, table.folded)
             .where(table.inspection_id.in_(sorted(set(inspection_ids))),
                    table.resolved_at.is_(None)).order_by(table.id))
    if item_codes is not None:
        query = query.where(table.item_code.in_(sorted(set(item_codes))))
    found: dict[int, list[dict]] = defaultdict(list)
    for row in db.session.connection().execute(query):
        found[row.inspection_id].append(conflict_data(row))
    return found


def pending_late_data(inspection_ids) -> dict[int, list[dict]]:
    """Changes that arrived after approval and wait for the leader, by inspection id."""
    table = LateSubmission.__table__.c
    found: dict[int, list[dict]] = defaultdict(list)
    for row in db.session.connection().execute(
            select(table.op_id, table.inspection_id, table.payload, table.received_at)
            .where(table.inspection_id.in_(sorted(set(inspection_ids))),
                   table.status == "pending").order_by(table.id)):
        found[row.inspection_id].append({
            "op_id": str(row.op_id), "item_code": (row.payload or {}).get("item_code"),
            "fields": (row.payload or {}).get("fields") or {},
            "received_at": iso_utc(row.received_at)})
    return found


def conflict_changes(items, author_id: int | None) -> list[dict]:
    """Change-feed rows saying which Conflicts are open now on each (inspection, item): devices
    replace what they know of the item's conflicts with ``open`` (an empty list: all settled)."""
    items = sorted(set(items))
    by_inspection: dict[int, set[str]] = defaultdict(set)
    for inspection_id, item_code in items:
        by_inspection[inspection_id].add(item_code)
    rows = []
    for inspection_id, codes in by_inspection.items():
        found = open_conflicts_data([inspection_id], codes).get(inspection_id, [])
        for code in sorted(codes):
            rows.append({"inspection_id": inspection_id, "kind": "conflicts",
                         "author_id": author_id,
                         "payload": {"item_code": code,
                                     "open": [c for c in found if c["item_code"] == code]}})
    return rows


def log_conflicts_settled(inspection_id: int, item_code: str, author: User | None) -> None:
    """After the leader's decision on a Conflict: tell devices what is still open on the item,
    so tablets stop showing the flag at their next sync."""
    db.session.flush()
    log_changes(conflict_changes([(inspection_id, item_code)], author.id if author else None))


def log_late_decided(late: LateSubmission, author: User | None) -> None:
    """After the leader accepted or dismissed a late change: tell devices (its author's tablet
    drops the entry it kept for it)."""
    log_change(late.inspection_id, "late_submission",
               {"op_id": str(late.op_id), "item_code": (late.payload or {}).get("item_code"),
                "status": str(late.status)}, author.id if author else None)
