"""Samples of repeat groups: the sync ops ``sample.set`` and ``sample.delete`` (DESIGN §4).

Plain functions: they flush, never commit (the view commits).

A sample is one record per sampled dossier (or procedure, meeting …) of a repeat group, made on a
device under a client UUID (``sample_id``), so it is the same record on every device and retry.
Its fields merge like an observation's: per field the version at which it last changed and its
writers (``"<user id>:<device id>"``); an edit from ``base_version`` clashes on a field when the
field changed after that base, by another writer, to another value: the stored value stays and a
Conflict keeps both (``field = "sample"``, the sample and field in its values). A deletion is a
tombstone: the sample keeps its id, values and versions. Deleting a sample another writer edited
after the deleting device's base, or editing a deleted sample, is a Conflict too
(``field = "sample.deleted"``) that the leader decides. Nothing a device sent is dropped.

``services.sync`` hands sample ops here from its batch (``apply_sample_op``); the batch records
the op (idempotency), its answer, the change feed rows and the late submissions.
"""
from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from datetime import date

from sqlalchemy import func, select

from ..errors import ValidationFailed
from ..extensions import db
from ..models import Conflict, Inspection, Sample, User
from ..models.base import iso_utc, utcnow
from . import audit
from .feed import log_change, log_conflicts_settled
from .observations import FieldError
from .text import bad_character, clean_text

SAMPLE_OP_TYPES = ("sample.set", "sample.delete")
# Conflict.field of a sample's conflicts: a field edited from the same base by two devices, and
# an edit against a deletion (either way round).
FIELD_CONFLICT = "sample"
DELETE_CONFLICT = "sample.deleted"
SAMPLE_CONFLICTS = (FIELD_CONFLICT, DELETE_CONFLICT)
TEXT_LIMIT = 2000
MAX_AGREEING_WRITERS = 20

MESSAGES = {  # (Vietnamese, English)
    "unknown_group": ("Danh mục của cuộc kiểm tra không có nhóm mẫu '{group}'.",
                      "This inspection's checklist has no repeat group '{group}'."),
    "unknown_field": ("Nhóm mẫu '{group}' không có trường '{field}'.",
                      "The repeat group '{group}' has no field '{field}'."),
    "too_many": ("Nhóm mẫu '{group}' đã đủ {max} mẫu: không thêm được mẫu nữa.",
                 "The repeat group '{group}' already has its {max} samples: no more can be "
                 "added."),
    "sample_id": ("'sample_id' phải là mã (UUID) của mẫu.",
                  "'sample_id' must be the sample's id (UUID)."),
    "other_group": ("Mẫu này thuộc nhóm '{other}', không thuộc nhóm '{group}'.",
                    "This sample belongs to the group '{other}', not to '{group}'."),
}


def _language() -> str:
    from flask import has_request_context
    from flask_babel import get_locale

    return str(get_locale()) if has_request_context() else "vi"


def _message(key: str, **values) -> str:
    vi, en = MESSAGES[key]
    return (en if _language() == "en" else vi).format(**values)


# ---------------------------------------------------------------------------------------------
# The checklist's groups and the values their fields take


def groups_of(document: Mapping) -> dict[str, Mapping]:
    """The repeat groups of a checklist document by code."""
    return {group["code"]: group for group in document.get("repeats") or []}


def clean_value(kind: str, code: str, value):
    """A sample field's value as stored (raises FieldError): yes/no true or false, a finite
    number, a date ``YYYY-MM-DD``, a text; None clears the field."""
    if value is None:
        return None
    if kind == "yesno":
        if not isinstance(value, bool):
            raise FieldError(f"'{code}' phải là có/không (true hoặc false)",
                             f"'{code}' must be yes or no (true or false)")
        return value
    if kind == "number":
        if (isinstance(value, bool) or not isinstance(value, int | float)
                or not math.isfinite(value)):
            raise FieldError(f"'{code}' phải là một số", f"'{code}' must be a number")
        return value
    if kind == "date":
        try:
            if not isinstance(value, str) or len(value) != 10:
                raise ValueError(value)
            return date.fromisoformat(value).isoformat()
        except ValueError:
            raise FieldError(f"'{code}' phải là một ngày dạng YYYY-MM-DD",
                             f"'{code}' must be a date written YYYY-MM-DD") from None
    if not isinstance(value, str):
        raise FieldError(f"'{code}' phải là chuỗi ký tự", f"'{code}' must be text")
    if len(value) > TEXT_LIMIT:
        raise FieldError(f"'{code}' dài quá {TEXT_LIMIT} ký tự",
                         f"'{code}' is over {TEXT_LIMIT} characters")
    if (bad := bad_character(value)) is not None:
        raise FieldError(f"'{code}' chứa ký tự không hợp lệ U+{ord(bad):04X}; hãy gõ lại",
                         f"'{code}' holds an invalid character U+{ord(bad):04X}; type it again")
    return clean_text(value).strip()


# ---------------------------------------------------------------------------------------------
# What devices and the office see


def sample_data(sample: Sample) -> dict:
    """A sample as devices see it (assignments and the change feed's ``sample`` entries)."""
    return {"group": sample.group_code, "sample_id": str(sample.client_uuid),
            "fields": dict(sample.values or {}), "version": sample.version,
            "deleted": sample.deleted, "created_at": iso_utc(sample.created_at)}


def samples_data(inspection_ids) -> dict[int, list[dict]]:
    """The samples of inspections (tombstones too: a device must learn of a deletion), in the
    order they were added, by inspection id."""
    found: dict[int, list[dict]] = {i: [] for i in inspection_ids}
    if not found:
        return found
    for sample in db.session.scalars(select(Sample).where(
            Sample.inspection_id.in_(sorted(found))).order_by(Sample.id)):
        found[sample.inspection_id].append(sample_data(sample))
    return found


def live_samples(inspection: Inspection) -> list[Sample]:
    """The inspection's samples that are not deleted, in the order they were added."""
    return db.session.scalars(select(Sample).where(
        Sample.inspection_id == inspection.id, Sample.deleted_at.is_(None))
                              .order_by(Sample.id)).all()


# ---------------------------------------------------------------------------------------------
# Applying ops (called by services.sync's batch)


def _meta(sample: Sample, name: str) -> tuple[int, list[str]]:
    meta = (sample.field_versions or {}).get(name)
    if not isinstance(meta, dict):
        return 0, []
    return int(meta.get("version", 0)), list(meta.get("by") or [])


def _parse(op: dict, inspection: Inspection, batch):
    """(group, sample UUID, cleaned fields) of an op, or the rejection answer."""
    group = groups_of(inspection.checklist_version.document).get(op["item_code"])
    if group is None:
        return batch.reject(op, inspection, "unknown_group",
                            _message("unknown_group", group=op["item_code"]))
    try:
        sample_id = uuid.UUID(str(op.get("sample_id")))
    except ValueError:
        return batch.reject(op, inspection, "invalid_field", _message("sample_id"))
    if op["type"] == "sample.delete":
        return group, sample_id, {}
    kinds = {f["code"]: f["kind"] for f in group["fields"]}
    cleaned = {}
    for name, value in (op.get("fields") or {}).items():
        if name not in kinds:
            shown = name if bad_character(name) is None else "?"
            return batch.reject(op, inspection, "unknown_field",
                                _message("unknown_field", group=group["code"], field=shown))
        try:
            cleaned[name] = clean_value(kinds[name], name, value)
        except FieldError as exc:
            return batch.reject(op, inspection, "invalid_field", exc.message(_language()))
    return group, sample_id, cleaned  # no fields: a sample added, nothing entered yet


def apply_sample_op(batch, op: dict, inspection: Inspection) -> dict:
    """Apply one ``sample.set`` or ``sample.delete`` op of a sync batch (access was checked).

    ``batch`` is services.sync's batch: it gives the writer, user, device and time, records
    the op and its answer (``remember``/``reject``), and collects feed rows and late
    submissions. Answers as observation ops: applied, merged, conflict, rejected (unknown_group,
    unknown_field, invalid_field, too_many, locked: kept as a late submission).
    """
    parsed = _parse(op, inspection, batch)
    if isinstance(parsed, dict):
        return parsed
    group, sample_id, cleaned = parsed
    sample = db.session.scalar(select(Sample).where(Sample.inspection_id == inspection.id,
                                                    Sample.client_uuid == sample_id))
    if sample is not None and sample.group_code != group["code"]:
        return batch.reject(op, inspection, "invalid_field",
                            _message("other_group", other=sample.group_code, group=group["code"]))
    if inspection.is_locked:
        batch.late(op, inspection, {"group": group["code"], "sample_id": str(sample_id),
                                    "fields": cleaned})
        return batch.reject(op, inspection, "locked")
    batch.start(inspection)
    if op["type"] == "sample.delete":
        result = _delete(batch, op, inspection, group, sample_id, sample)
    else:
        result = _set(batch, op, inspection, group, sample_id, sample, cleaned)
    if result["status"] != "rejected":  # a rejection is remembered by batch.reject
        batch.remember(op, inspection, result)
    return result


def _answer(op: dict, status: str, sample: Sample | None) -> dict:
    result = {"op_id": str(op["op_id"]), "status": status}
    if sample is not None:
        result["version"] = sample.version
    return result


def _changed(batch, inspection: Inspection, sample: Sample, op: dict) -> None:
    db.session.flush()
    batch.change_rows.append({"inspection_id": inspection.id, "kind": "sample",
                              "payload": {**sample_data(sample), "op_id": str(op["op_id"]),
                                          "device_id": batch.device_id},
                              "author_id": batch.user_id})
    batch.changed_inspections.add(inspection.id)


def _conflict(batch, op: dict, inspection: Inspection, sample: Sample, kind: str,
              current: dict, incoming: dict) -> None:
    writers = current.pop("writers", [])
    by = next((int(w.split(":", 1)[0]) for w in writers if w.split(":", 1)[0].isdigit()),
              sample.updated_by_id)
    db.session.add(Conflict(
        inspection_id=inspection.id, item_code=sample.group_code, field=kind,
        base_version=op["base_version"],
        current_value={**current, "by": by, "sample_id": str(sample.client_uuid)},
        incoming_value={**incoming, "by": batch.user_id, "device": batch.device_id,
                        "at": iso_utc(op.get("at")), "sample_id": str(sample.client_uuid)},
        incoming_op_id=op["op_id"], author_id=batch.user_id, created_at=batch.now))
    batch.conflict_items.add((inspection.id, sample.group_code))


def _set(batch, op, inspection, group, sample_id, sample, cleaned) -> dict:
    if sample is None:
        live = db.session.scalar(select(func.count(Sample.id)).where(
            Sample.inspection_id == inspection.id, Sample.group_code == group["code"],
            Sample.deleted_at.is_(None)))
        if live >= group["max"]:
            return batch.reject(op, inspection, "too_many",
                             _message("too_many", group=group["code"], max=group["max"]))
        sample = Sample(inspection_id=inspection.id, group_code=group["code"],
                        client_uuid=sample_id, values=dict(cleaned), version=1,
                        field_versions={name: {"version": 1, "by": [batch.writer]}
                                        for name in cleaned},
                        created_by_id=batch.user_id, updated_by_id=batch.user_id,
                        updated_at=batch.now)
        db.session.add(sample)
        _changed(batch, inspection, sample, op)
        return _answer(op, "applied", sample)
    base = op["base_version"]
    if sample.deleted:
        # Never brought back silently: the leader decides between the deletion and this edit.
        _conflict(batch, op, inspection, sample, DELETE_CONFLICT,
                  {"value": "deleted", "writers": []}, {"value": "edited", "fields": cleaned})
        return {**_answer(op, "conflict", sample), "conflicts": sorted(cleaned)}
    stale = base < sample.version
    values = dict(sample.values or {})
    versions = {k: dict(v) for k, v in (sample.field_versions or {}).items()}
    clashes, changed = [], {}
    for name, value in cleaned.items():
        version, by = _meta(sample, name)
        stored = values.get(name)
        if stale and version > base and batch.writer not in by and stored != value:
            clashes.append(name)
            _conflict(batch, op, inspection, sample, FIELD_CONFLICT,
                      {"value": stored, "field": name, "version": version, "writers": by},
                      {"value": value, "field": name})
        elif stored == value:
            if by and batch.writer not in by:
                versions[name] = {"version": version,
                                  "by": (by + [batch.writer])[-MAX_AGREEING_WRITERS:]}
        else:
            changed[name] = value
    if changed:
        version = sample.version + 1
        for name, value in changed.items():
            values[name] = value
            versions[name] = {"version": version, "by": [batch.writer]}
        sample.version = version
        sample.updated_by_id = batch.user_id
        sample.updated_at = batch.now
    sample.values = values
    sample.field_versions = versions
    if changed:
        _changed(batch, inspection, sample, op)
    status = "conflict" if clashes else "merged" if stale else "applied"
    result = _answer(op, status, sample)
    if clashes:
        result["conflicts"] = clashes
    return result


def _delete(batch, op, inspection, group, sample_id, sample) -> dict:
    if sample is None:
        # Deleted before this device heard of it: keep a tombstone, so that an edit of it still
        # on its way cannot bring it back unnoticed.
        sample = Sample(inspection_id=inspection.id, group_code=group["code"],
                        client_uuid=sample_id, values={}, version=1, field_versions={},
                        created_by_id=batch.user_id, updated_by_id=batch.user_id,
                        updated_at=batch.now, deleted_at=batch.now, deleted_by_id=batch.user_id)
        db.session.add(sample)
        _changed(batch, inspection, sample, op)
        return _answer(op, "applied", sample)
    if sample.deleted:
        return _answer(op, "applied", sample)  # nothing left to do
    base = op["base_version"]
    edited = [name for name in (sample.field_versions or {})
              if _meta(sample, name)[0] > base and batch.writer not in _meta(sample, name)[1]]
    if edited:
        # Someone changed the sample after this device saw it: the leader decides.
        writers = [w for name in edited for w in _meta(sample, name)[1]]
        _conflict(batch, op, inspection, sample, DELETE_CONFLICT,
                  {"value": "edited", "fields": dict(sample.values or {}), "writers": writers},
                  {"value": "deleted"})
        return {**_answer(op, "conflict", sample), "conflicts": ["deleted"]}
    stale = base < sample.version
    sample.delete(batch.user_id)
    _changed(batch, inspection, sample, op)
    return _answer(op, "merged" if stale else "applied", sample)


# ---------------------------------------------------------------------------------------------
# The leader's decisions


def resolve_sample_conflict(conflict: Conflict, user: User, choice: str) -> object:
    """Settle a sample's Conflict: keep what is stored (``current``) or take the proposal
    (``incoming``: the edited value, the deletion, or the edit of a deleted sample, which brings
    it back). Writing another value is not offered for samples. Returns the value chosen."""
    if choice not in ("current", "incoming"):
        raise ValidationFailed("Với mẫu, hãy giữ giá trị hiện tại hoặc nhận giá trị đề xuất.",
                               "For a sample, keep the current value or take the proposal.",
                               {"choice": [choice]})
    incoming = conflict.incoming_value or {}
    sample = db.session.scalar(select(Sample).where(
        Sample.inspection_id == conflict.inspection_id,
        Sample.client_uuid == uuid.UUID(str(incoming.get("sample_id")))))
    value = (conflict.current_value if choice == "current" else incoming).get("value")
    if choice == "incoming" and sample is not None:
        if conflict.field == FIELD_CONFLICT:
            _write(sample, {incoming["field"]: incoming.get("value")}, user)
        elif incoming.get("value") == "deleted":
            if not sample.deleted:
                sample.delete(user.id)
        else:
            if sample.deleted:
                sample.restore(user.id)
            _write(sample, incoming.get("fields") or {}, user)
        db.session.flush()
        log_change(conflict.inspection_id, "sample", sample_data(sample), user.id)
    conflict.resolved_at = utcnow()
    conflict.resolved_by_id = user.id
    conflict.resolution = {"choice": choice, "value": value}
    audit.record("conflict.resolve", conflict, user, choice=choice)
    log_conflicts_settled(conflict.inspection_id, conflict.item_code, user)
    return value


def _write(sample: Sample, fields: Mapping, user: User) -> None:
    """The leader's (or an accepted late change's) values, written as an office edit."""
    sample.version += 1
    values = dict(sample.values or {})
    versions = {k: dict(v) for k, v in (sample.field_versions or {}).items()}
    for name, value in fields.items():
        values[name] = value
        versions[name] = {"version": sample.version, "by": [f"{user.id}:office"]}
    sample.values = values
    sample.field_versions = versions
    sample.updated_by_id = user.id
    sample.updated_at = utcnow()


def apply_late_sample(inspection: Inspection, payload: Mapping, user: User) -> None:
    """The leader accepted a sample op that arrived after approval: apply it as sent."""
    try:
        sample_id = uuid.UUID(str(payload.get("sample_id")))
    except ValueError:
        raise ValidationFailed("Không áp dụng được: mẫu không rõ.",
                               "Cannot apply: unknown sample.") from None
    sample = db.session.scalar(select(Sample).where(Sample.inspection_id == inspection.id,
                                                    Sample.client_uuid == sample_id))
    if payload.get("type") == "sample.delete":
        if sample is not None and not sample.deleted:
            sample.delete(user.id)
    else:
        if sample is None:
            sample = Sample(inspection_id=inspection.id, group_code=payload.get("group"),
                            client_uuid=sample_id, values={}, version=0, field_versions={},
                            created_by_id=user.id)
            db.session.add(sample)
        elif sample.deleted:
            sample.restore(user.id)
        _write(sample, payload.get("fields") or {}, user)
    db.session.flush()
    log_change(inspection.id, "sample", sample_data(sample), user.id)
