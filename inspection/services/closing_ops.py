"""Ops that carry the closing meeting from tablets (DESIGN §4, "closing ops"): ``closing.set``,
``finding.set`` / ``finding.delete``, ``recommendation.set`` / ``recommendation.delete`` and
``inspection.approve``. ``services.sync`` checks the op id (duplicates), that the inspection
exists and that the user is on its team, then hands the op here; the answer is recorded like
every other op's.

Who: the trip's leader or secretary send closing ops, only the leader approves (others:
``not_allowed``). Once approved or signed, closing ops are ``closing_locked`` (the office may
reopen). Values go through the text rule; a bad one is ``invalid_field`` naming the field, and
nothing of that op is applied.

Merging: each closing field of the inspection, and each finding and recommendation, has a
version and remembers its last writer ("<user id>:<device>" for a tablet, "<user id>" for an
office page). A field (or a record's content) that changed after the version the device sent
(``bases`` / ``base_version``), by another writer, to a value different from the one sent, is a
clash: the server's value is kept, the op answers ``conflict`` with the fields and their
``current`` values, every other field of the op is applied. The device shows the kept value; the
leader may send the edit again from the new version. Nothing waits for a decision, so a clash
of the closing data never blocks approval. A record's position never clashes.
"""
from __future__ import annotations

import uuid
from datetime import date, time

from flask import has_request_context
from flask_babel import get_locale
from sqlalchemy import select

from ..errors import ServiceError
from ..extensions import db
from ..models import ChangeLog, Finding, Inspection, Recommendation, TripRole, User
from ..models.base import MAX_BIG
from ..models.inspections import clashing_fields
from . import audit
from .closing import field_value, finding_data, recommendation_data
from .observations import FieldError
from .review import approval_blockers
from .text import clean_text
from .workflow import transition_inspection, unanswered_criteria

OP_TYPES = ("closing.set", "finding.set", "finding.delete", "recommendation.set",
            "recommendation.delete", "inspection.approve")
TEXT_LIMIT = 5000
NAME_LIMIT = 200
MAX_OFFICIALS = 20
MAX_ITEM_CODES = 50
REASON_LIMIT = 2000
# What a teammate changes that the leader must have seen before approving from a tablet.
SEEN_KINDS = ("observation", "photo", "closing")

MESSAGES = {  # (Vietnamese, English)
    "not_allowed": ("Chỉ trưởng đoàn hoặc thư ký đoàn mới được ghi nội dung họp kết thúc.",
                    "Only the team leader or the secretary may record the closing meeting."),
    "approve_not_allowed": ("Chỉ trưởng đoàn mới được duyệt kết quả kiểm tra.",
                            "Only the team leader may approve the results."),
    "closing_locked": ("Kết quả đã được duyệt hoặc biên bản đã ký: không sửa nội dung họp kết "
                       "thúc từ máy tính bảng được nữa (văn phòng có thể mở lại).",
                       "The results are approved or the minutes signed: the closing meeting "
                       "can no longer be changed from a tablet (the office may reopen it)."),
    "blocked": ("Chưa thể duyệt: {errors}", "Cannot approve yet: {errors}"),
}


def _lang() -> str:
    return str(get_locale()) if has_request_context() else "vi"


def _say(vi: str, en: str) -> str:
    return en if _lang() == "en" else vi


def message(reason: str, **values) -> str:
    """A closing op's answer in the request's language."""
    vi, en = MESSAGES[reason]
    return _say(vi, en).format(**values)


def apply_closing_op(batch, op: dict, inspection: Inspection) -> dict:
    """Apply one closing op for ``batch`` (services.sync._Batch: the user, device, answers and
    feed rows of the push); returns the op's answer."""
    role = inspection.trip.role_of(batch.user)
    if op["type"] == "inspection.approve":
        if role != TripRole.leader:
            return batch._reject(op, inspection, "not_allowed", message("approve_not_allowed"))
        if inspection.is_locked:
            return batch._reject(op, inspection, "closing_locked", message("closing_locked"))
        return _approve(batch, op, inspection)
    if role not in (TripRole.leader, TripRole.secretary):
        return batch._reject(op, inspection, "not_allowed", message("not_allowed"))
    if inspection.is_locked:
        return batch._reject(op, inspection, "closing_locked", message("closing_locked"))
    apply = {"closing.set": _set_closing, "finding.set": _set_finding,
             "finding.delete": _delete_finding, "recommendation.set": _set_recommendation,
             "recommendation.delete": _delete_recommendation}[op["type"]]
    try:
        result = apply(batch, op, inspection)
    except FieldError as exc:
        return batch._reject(op, inspection, "invalid_field", exc.message(_lang()))
    except ServiceError as exc:  # the text rule (TextRefused) names the field
        return batch._reject(op, inspection, "invalid_field", exc.message(_lang()))
    batch.closing_changed[inspection.id] = inspection
    batch._remember(op, inspection, result)
    return result


def _answer(op: dict, status: str, **extra) -> dict:
    return {"op_id": str(op["op_id"]), "status": status,
            **{key: value for key, value in extra.items() if value is not None}}


# ---------------------------------------------------------------------------------------------
# closing.set


def _set_closing(batch, op: dict, inspection: Inspection) -> dict:
    fields = op["fields"]
    if not fields:
        raise FieldError("không có trường nào để ghi", "no field to record")
    cleaned = {name: _closing_value(name, value, inspection) for name, value in fields.items()}
    bases = op.get("bases") or {}
    if not isinstance(bases, dict):
        raise FieldError("'bases' phải là {trường: phiên bản}", "'bases' must be {field: version}")
    start = cleaned.get("meeting_start", inspection.meeting_start)
    end = cleaned.get("meeting_end", inspection.meeting_end)
    if start and end and end <= start and {"meeting_start", "meeting_end"} & cleaned.keys():
        raise FieldError("'meeting_end': giờ kết thúc phải sau giờ bắt đầu",
                         "'meeting_end': the meeting must end after it starts")
    clashes, changes = [], {}
    for name, value in cleaned.items():
        base = bases.get(name, op["base_version"])
        base = base if isinstance(base, int) and not isinstance(base, bool) else 0
        version, by = inspection.closing_version(name)
        if version > base and by != batch.writer and getattr(inspection, name) != value:
            clashes.append(name)
            continue
        before = field_value(inspection, name)
        if inspection.set_closing(name, value, batch.writer) > version:
            changes[name] = [before, field_value(inspection, name)]
    if changes:
        audit.record("closing.set", inspection, batch.user, batch.device_id, changes=changes)
    versions = {name: inspection.closing_version(name)[0] for name in cleaned}
    return _answer(op, "conflict" if clashes else "applied", version=max(versions.values()),
                   versions=versions, conflicts=clashes or None,
                   current={name: field_value(inspection, name) for name in clashes} or None)


def _closing_value(name: str, value, inspection: Inspection):
    """A closing field's value as stored (raises FieldError naming the field)."""
    if name in ("meeting_start", "meeting_end"):
        return _time(name, value)
    if name == "report_due":
        return _date(name, value, inspection)
    if name == "unit_comments":
        if value is None:
            return ""
        return _text(name, value, required=False)
    if name == "unit_officials":
        return _officials(value)
    if name == "team_present":
        return _team(value, inspection)
    raise FieldError(f"'{name}' không phải là một trường của cuộc họp kết thúc",
                     f"'{name}' is not a field of the closing meeting")


def _time(name: str, value) -> time | None:
    if value is None or value == "":
        return None
    try:
        if not isinstance(value, str) or len(value) != 5:
            raise ValueError(value)
        return time.fromisoformat(value)
    except ValueError:
        raise FieldError(f"'{name}': giờ phải có dạng HH:MM, ví dụ 08:00",
                         f"'{name}': a time is HH:MM, e.g. 08:00") from None


def _date(name: str, value, inspection: Inspection) -> date | None:
    if value is None or value == "":
        return None
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        day = date.fromisoformat(value)
    except ValueError:
        raise FieldError(f"'{name}': ngày phải có dạng YYYY-MM-DD",
                         f"'{name}': a date is YYYY-MM-DD") from None
    if day < inspection.scheduled_on:
        raise FieldError(f"'{name}': ngày không được trước ngày kiểm tra",
                         f"'{name}': the date is before the inspection")
    return day


def _text(name: str, value, required: bool = True, limit: int = TEXT_LIMIT,
          single_line: bool = False) -> str:
    if not isinstance(value, str):
        raise FieldError(f"'{name}' phải là chuỗi ký tự", f"'{name}' must be text")
    text = clean_text(value, single_line=single_line, field=name).strip()
    if required and not text:
        raise FieldError(f"'{name}': nội dung không được để trống", f"'{name}' is required")
    if len(text) > limit:
        raise FieldError(f"'{name}': dài quá {limit} ký tự", f"'{name}' is over {limit} characters")
    return text


def _officials(value) -> list[dict]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_OFFICIALS:
        raise FieldError(f"'unit_officials' phải là danh sách (tối đa {MAX_OFFICIALS} người) "
                         "{name, position}",
                         f"'unit_officials' must be a list (at most {MAX_OFFICIALS}) of "
                         "{name, position}")
    rows = []
    for row in value:
        if not isinstance(row, dict):
            raise FieldError("'unit_officials': mỗi người là {name, position}",
                             "'unit_officials': each person is {name, position}")
        name = _text("unit_officials", row.get("name") or "", required=False, limit=NAME_LIMIT,
                     single_line=True)
        position = _text("unit_officials", row.get("position") or "", required=False,
                         limit=NAME_LIMIT, single_line=True)
        if not name and not position:
            continue
        if not name:
            raise FieldError("'unit_officials': mỗi người dự họp cần có họ tên",
                             "'unit_officials': each official needs a name")
        rows.append({"name": name, "position": position})
    return rows


def _team(value, inspection: Inspection) -> list[int] | None:
    if value is None:
        return None
    members = {m.user_id for m in inspection.trip.members}
    if (not isinstance(value, list)
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)):
        raise FieldError("'team_present' phải là danh sách mã thành viên đoàn",
                         "'team_present' must be a list of team members' ids")
    strangers = [v for v in value if v not in members]
    if strangers:
        raise FieldError(f"'team_present': {strangers[0]} không phải thành viên đoàn",
                         f"'team_present': {strangers[0]} is not on the team")
    present = set(value)
    # In the team's order (leader first), once each.
    return [m.user_id for m in sorted(inspection.trip.members,
                                      key=lambda m: (m.role != TripRole.leader, m.id))
            if m.user_id in present]


# ---------------------------------------------------------------------------------------------
# Findings and recommendations


def _client_uuid(fields: dict) -> uuid.UUID:
    try:
        return uuid.UUID(str(fields.get("id")))
    except ValueError:
        raise FieldError("'id' phải là mã (UUID) do thiết bị tạo",
                         "'id' must be the UUID the device made") from None


def _position(fields: dict) -> int | None:
    value = fields.get("position")
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 10_000:
        raise FieldError("'position' phải là số thứ tự (0…10000)",
                         "'position' must be an order number (0…10000)")
    return value


def _record(model, client_uuid: uuid.UUID, inspection: Inspection):
    record = db.session.scalar(select(model).where(model.client_uuid == client_uuid))
    if record is not None and record.inspection_id != inspection.id:
        raise FieldError("'id' đã được dùng cho cuộc kiểm tra khác",
                         "'id' is already used in another inspection")
    return record


def _next_position(model, inspection: Inspection) -> int:
    positions = db.session.scalars(select(model.position)
                                   .where(model.inspection_id == inspection.id)).all()
    return max(positions, default=-1) + 1


def _set_record(batch, op: dict, inspection: Inspection, model, values: dict, data) -> dict:
    """Create or edit a finding or recommendation by its client UUID (see the module doc)."""
    client_uuid = _client_uuid(op["fields"])
    record = _record(model, client_uuid, inspection)
    if record is None:
        # New, or deleted elsewhere meanwhile: the tablet's text is kept (created again).
        if "text" not in values or (model is Finding and "kind" not in values):
            raise FieldError("'text' (và 'kind' của nhận xét) là bắt buộc khi tạo mới",
                             "'text' (and a finding's 'kind') are required to create one")
        extra = ({"author_id": batch.user_id} if model is Finding
                 else {"unit_id": inspection.unit_id})
        record = model(inspection_id=inspection.id, client_uuid=client_uuid, version=1,
                       changed_by=batch.writer, **extra,
                       **{"position": _next_position(model, inspection), **values})
        db.session.add(record)
        db.session.flush()
        _audit(record, "add", batch)
        return _answer(op, "applied", version=record.version)
    clashes = clashing_fields(record, op["base_version"], batch.writer, values)
    kept = {key: value for key, value in values.items() if key not in clashes}
    before = data(record)
    if record.edit(kept, batch.writer):
        _audit(record, "update", batch, before={k: before[k] for k in kept},
               after={k: data(record)[k] for k in kept})
    if clashes:
        now = data(record)
        return _answer(op, "conflict", version=record.version, conflicts=clashes,
                       current={key: now[key] for key in clashes})
    return _answer(op, "applied", version=record.version)


def _audit(record: Finding | Recommendation, change: str, batch, **details) -> None:
    """The audit event of a tablet's change of a finding or recommendation (spelt out: the
    activity page has a sentence for each action)."""
    who = (batch.user, batch.device_id)
    if isinstance(record, Finding):
        if change == "add":
            audit.record("finding.add", record, *who, via="tablet")
        elif change == "update":
            audit.record("finding.update", record, *who, via="tablet", **details)
        else:
            audit.record("finding.delete", record, *who, via="tablet", **details)
    elif change == "add":
        audit.record("recommendation.add", record, *who, via="tablet")
    elif change == "update":
        audit.record("recommendation.update", record, *who, via="tablet", **details)
    else:
        audit.record("recommendation.delete", record, *who, via="tablet", **details)


def _delete_record(batch, op: dict, inspection: Inspection, model, data) -> dict:
    record = _record(model, _client_uuid(op["fields"]), inspection)
    if record is None:  # already deleted (elsewhere, or an earlier try)
        return _answer(op, "applied")
    if (op["base_version"] < record.version and record.changed_by != batch.writer):
        # Changed by someone else after the device saw it: kept.
        return _answer(op, "conflict", version=record.version, conflicts=["deleted"],
                       current=data(record))
    _audit(record, "delete", batch, text=record.text)
    db.session.delete(record)
    db.session.flush()
    return _answer(op, "applied")


def _set_finding(batch, op: dict, inspection: Inspection) -> dict:
    fields = op["fields"]
    values = {}
    if "kind" in fields:
        if fields["kind"] not in ("strength", "weakness"):
            raise FieldError("'kind' phải là strength (ưu điểm) hoặc weakness (hạn chế)",
                             "'kind' must be strength or weakness")
        values["kind"] = fields["kind"]
    if "text" in fields:
        values["text"] = _text("text", fields["text"])
    if (position := _position(fields)) is not None:
        values["position"] = position
    return _set_record(batch, op, inspection, Finding, values, finding_data)


def _delete_finding(batch, op: dict, inspection: Inspection) -> dict:
    return _delete_record(batch, op, inspection, Finding, finding_data)


def _set_recommendation(batch, op: dict, inspection: Inspection) -> dict:
    fields = op["fields"]
    values: dict = {}
    if "text" in fields:
        values["text"] = _text("text", fields["text"])
    if "item_codes" in fields:
        codes = fields["item_codes"] if fields["item_codes"] is not None else []
        if (not isinstance(codes, list) or len(codes) > MAX_ITEM_CODES
                or not all(isinstance(c, str) and 0 < len(c) <= 40 for c in codes)):
            raise FieldError("'item_codes' phải là danh sách mã tiêu chí",
                             "'item_codes' must be a list of criterion codes")
        values["item_codes"] = [_text("item_codes", c, single_line=True, limit=40)
                                for c in codes]
    if "library_code" in fields:
        code = fields["library_code"]
        values["library_code"] = (None if code in (None, "") else
                                  _text("library_code", code, single_line=True, limit=40))
    if "due_on" in fields:
        values["due_on"] = _date("due_on", fields["due_on"], inspection)
    if (position := _position(fields)) is not None:
        values["position"] = position
    return _set_record(batch, op, inspection, Recommendation, values, recommendation_data)


def _delete_recommendation(batch, op: dict, inspection: Inspection) -> dict:
    return _delete_record(batch, op, inspection, Recommendation, recommendation_data)


# ---------------------------------------------------------------------------------------------
# inspection.approve


def _approve(batch, op: dict, inspection: Inspection) -> dict:
    """Approve as the office does (services.workflow), unless something blocks it: open
    conflicts, failing error rules, criteria not assessed without confirmation and a reason, or
    a teammate's change the device had not seen (after ``seen``, its pull cursor)."""
    fields = op["fields"]
    confirm = fields.get("confirm_unanswered") is True
    try:
        reason = (_text("reason", fields.get("reason") or "", required=False,
                        limit=REASON_LIMIT) or None)
    except (FieldError, ServiceError) as exc:
        return batch._reject(op, inspection, "invalid_field", exc.message(_lang()))
    seen = fields.get("seen")
    if not isinstance(seen, int) or isinstance(seen, bool) or not 0 <= seen <= MAX_BIG:
        return batch._reject(op, inspection, "invalid_field", _say(
            "'seen' phải là con trỏ (cursor) của lần đồng bộ gần nhất của thiết bị",
            "'seen' must be the device's last pull cursor"))
    batch.write_pending()  # the batch's earlier ops count (their observations, conflicts)
    lang = _lang()
    errors = [b["message_en" if lang == "en" else "message_vi"]
              for b in approval_blockers(inspection)]
    unanswered = unanswered_criteria(inspection)
    if unanswered and not confirm:
        errors.append(_say(
            f"Còn {len(unanswered)} tiêu chí chưa được đánh giá ({', '.join(unanswered)}): "
            "muốn duyệt khi chưa đủ, hãy xác nhận và nêu lý do",
            f"{len(unanswered)} criteria are not assessed ({', '.join(unanswered)}): to approve "
            "anyway, confirm it and give a reason"))
    elif unanswered and not reason:
        errors.append(_say("Cần nêu lý do duyệt khi còn tiêu chí chưa đánh giá",
                           "A reason is required to approve with criteria not assessed"))
    errors.extend(_unseen_changes(inspection, batch.user, seen))
    if not errors:
        try:
            transition_inspection(inspection, "approve", batch.user, reason=reason,
                                  device_id=batch.device_id, confirm_unanswered=confirm)
        except ServiceError as exc:
            errors.append(exc.message(lang))
    if errors:
        result = _answer(op, "rejected", reason="blocked",
                         message=message("blocked", errors="; ".join(errors)), errors=errors)
        batch._remember(op, inspection, result)
        return result
    result = _answer(op, "applied", version=inspection.revision)
    batch._remember(op, inspection, result)
    return result


def _unseen_changes(inspection: Inspection, user: User, seen: int) -> list[str]:
    """Teammates' changes of observations, photos or closing data after the cursor ``seen``,
    in words (one line per person)."""
    rows = db.session.execute(
        select(ChangeLog.author_id, ChangeLog.kind)
        .where(ChangeLog.inspection_id == inspection.id, ChangeLog.id > seen,
               ChangeLog.kind.in_(SEEN_KINDS),
               (ChangeLog.author_id != user.id) | ChangeLog.author_id.is_(None))).all()
    if not rows:
        return []
    counts: dict[int | None, int] = {}
    for author_id, _ in rows:
        counts[author_id] = counts.get(author_id, 0) + 1
    names = {u.id: u.full_name for u in db.session.scalars(
        select(User).where(User.id.in_([a for a in counts if a is not None])))}
    return [_say(f"{names.get(author, 'Văn phòng')} có {n} thay đổi mà thiết bị này chưa nhận "
                 "(hãy đồng bộ, xem lại rồi duyệt)",
                 f"{names.get(author, 'The office')} made {n} change(s) this device has not "
                 "received yet (sync, review, then approve)")
            for author, n in counts.items()]
