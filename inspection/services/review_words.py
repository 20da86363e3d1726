"""The review in words: conflicts, late changes, approval blockers and history as a leader reads
them (the item's title, the field's name, values in words, who and when), in Vietnamese and
English. Pure functions over plain records; no Flask, no database.

Each description is a dict whose texts come in pairs (``title_vi``/``title_en``,
``field_vi``/``field_en``…) so a page shows one with ``loc`` and an API message joins the
other.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ..localtime import format_datetime

FIELD_WORDS = {
    "result": ("Kết quả", "Result"),
    "points": ("Điểm", "Points"),
    "value": ("Số liệu", "Figure"),
    "text": ("Nội dung", "Text"),
    "note": ("Ghi chú", "Note"),
}
RESULT_WORDS = {
    "pass": ("Đạt", "Met"),
    "partial": ("Đạt một phần", "Partly met"),
    "fail": ("Không đạt", "Not met"),
    "na": ("Không áp dụng", "Not applicable"),
}
EMPTY = ("(để trống)", "(empty)")


def items_by_code(document: Mapping) -> dict[str, Mapping]:
    """The checklist's items by code."""
    return {item["code"]: item for section in document["sections"] for item in section["items"]}


def item_title(items: Mapping[str, Mapping], code: str) -> dict:
    """``title_vi``/``title_en`` of an item, its code kept apart (``code``); an item the
    checklist no longer has is named by its code."""
    item = items.get(code) or {}
    return {"code": code, "title_vi": item.get("title_vi") or code,
            "title_en": item.get("title_en") or item.get("title_vi") or code}


def number_words(value: float | int) -> tuple[str, str]:
    """1081 → ("1.081", "1,081"); 86.5 → ("86,5", "86.5"): as each language writes numbers."""
    number = float(value)
    text = f"{number:,.0f}" if number == int(number) else f"{number:,.2f}".rstrip("0")
    return text.replace(",", " ").replace(".", ",").replace(" ", "."), text


def value_words(item: Mapping | None, field: str, value: Any) -> tuple[str, str]:
    """A field's value in words: a result by name, a figure with its unit, points as points."""
    if value is None or value == "":
        return EMPTY
    if field == "result":
        return RESULT_WORDS.get(str(value), (str(value), str(value)))
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if field in ("points", "value") and number:
        vi, en = number_words(value)
        if field == "points":
            return f"{vi} điểm", f"{en} points"
        unit_vi = (item or {}).get("unit_vi") or ""
        unit_en = (item or {}).get("unit_en") or unit_vi
        return (f"{vi} {unit_vi}".strip(), f"{en} {unit_en}".strip())
    return str(value), str(value)


def field_words(field: str) -> tuple[str, str]:
    """A field's name for people (Vietnamese, English): "Ghi chú" rather than note."""
    return FIELD_WORDS.get(field, (field, field))


def _pair(prefix: str, words: tuple[str, str]) -> dict:
    return {f"{prefix}_vi": words[0], f"{prefix}_en": words[1]}


def _name(users: Mapping[int, Any], user_id: int | None) -> str:
    user = users.get(user_id) if user_id is not None else None
    return user.full_name if user is not None else ""


def local_time(moment: datetime | None) -> str:
    """dd/mm/yyyy HH:MM in Vietnam's time (what the pages show)."""
    return format_datetime(moment)


def _with_words(item: Mapping | None, values: Mapping | None) -> tuple[str, str]:
    """The fields of the same judgement that go with a side of a conflict (a note explaining
    a result, its points), in words: "Ghi chú: Thiếu hồ sơ; Điểm: 2 điểm"."""
    parts = [(field_words(name), value_words(item, name, value))
             for name, value in (values or {}).items()]
    return ("; ".join(f"{f[0]}: {v[0]}" for f, v in parts),
            "; ".join(f"{f[1]}: {v[1]}" for f, v in parts))


def describe_conflict(conflict: Any, items: Mapping[str, Mapping],
                      users: Mapping[int, Any]) -> dict:
    """A conflict side by side: the item, the field, the current value (and who set it) and the
    incoming one (who sent it, when), each with what goes with it (`current_with_vi`,
    `incoming_with_vi`: a note or points applied together when that side is chosen)."""
    item = items.get(conflict.item_code)
    current_by = (conflict.current_value or {}).get("by")
    return {
        "id": conflict.id, "field": conflict.field, **item_title(items, conflict.item_code),
        **_pair("field", field_words(conflict.field)),
        **_pair("current", value_words(item, conflict.field,
                                       (conflict.current_value or {}).get("value"))),
        **_pair("incoming", value_words(item, conflict.field,
                                        (conflict.incoming_value or {}).get("value"))),
        "current_by": _name(users, current_by),
        "incoming_by": _name(users, conflict.author_id),
        **_pair("current_with", _with_words(item, (conflict.current_value or {}).get("with"))),
        **_pair("incoming_with", _with_words(item, (conflict.incoming_value or {}).get("with"))),
        "at": conflict.created_at, "folded": conflict.folded,
    }


def describe_late(late: Any, items: Mapping[str, Mapping], users: Mapping[int, Any],
                  observations: Mapping[str, Any]) -> dict:
    """A change sent after approval: per field, what the record says now and what was sent."""
    code = (late.payload or {}).get("item_code") or ""
    item = items.get(code)
    current = observations.get(code)
    changes = []
    for field, incoming in ((late.payload or {}).get("fields") or {}).items():
        if field not in FIELD_WORDS:
            continue
        changes.append({
            **_pair("field", field_words(field)),
            **_pair("current", value_words(item, field, getattr(current, field, None))),
            **_pair("incoming", value_words(item, field, incoming)),
        })
    return {"id": late.id, **item_title(items, code), "changes": changes,
            "by": _name(users, late.author_id), "at": late.received_at}


def conflict_blocker(view: Mapping) -> dict:
    """An open conflict as an approval blocker, in words."""
    where = f"{view['title_vi']} ({view['code']}), {view['field_vi'].lower()}"
    where_en = f"{view['title_en']} ({view['code']}), {view['field_en'].lower()}"
    return {
        "kind": "conflict", "id": view["id"], "item_code": view["code"], "field": view["field"],
        "message_vi": f"Xung đột chưa xử lý: {where}: hiện tại {view['current_vi']}, "
                      f"mới gửi {view['incoming_vi']}",
        "message_en": f"Unresolved conflict: {where_en}: current {view['current_en']}, "
                      f"incoming {view['incoming_en']}",
    }


def rule_blocker(check: Mapping, items: Mapping[str, Mapping]) -> dict:
    """A failing error-level rule as an approval blocker: its message and the items it reads."""
    titles = [item_title(items, code) for code in check["items"]]
    vi = "; ".join(t["title_vi"] for t in titles)
    en = "; ".join(t["title_en"] for t in titles)
    return {"kind": "rule", "id": check["rule_id"], "items": check["items"],
            "message_vi": f"{check['message_vi']}" + (f" (tiêu chí: {vi})" if vi else ""),
            "message_en": f"{check['message_en']}" + (f" (criteria: {en})" if en else "")}


ACTION_WORDS = {
    "inspection.start": ("Bắt đầu kiểm tra", "Started the inspection"),
    "inspection.submit": ("Gửi kết quả cho trưởng đoàn", "Sent the results to the team leader"),
    "inspection.approve": ("Duyệt kết quả", "Approved the results"),
    "inspection.sign": ("Biên bản có đủ chữ ký", "The minutes carry every signature"),
    "inspection.reopen": ("Mở lại cuộc kiểm tra", "Reopened the inspection"),
    "inspection.unit_comments": ("Ghi ý kiến của đơn vị", "Wrote the unit's comments"),
    "observation.set": ("Sửa kết quả ghi nhận", "Corrected a recorded result"),
    "closing.set": ("Ghi nội dung họp kết thúc từ máy tính bảng",
                    "Recorded the closing meeting on a tablet"),
    "minutes.details": ("Ghi thông tin cho biên bản (người dự họp, hạn báo cáo, nơi nhận)",
                        "Wrote the minutes' details (officials present, deadline, recipients)"),
}


def describe_event(event: Any, items: Mapping[str, Mapping]) -> dict:
    """One line of the inspection's history in words: what happened, to which item, and why."""
    details = event.details or {}
    vi, en = ACTION_WORDS.get(event.action, (event.action, event.action))
    code = details.get("item_code")
    if code:
        title = item_title(items, code)
        field_vi, field_en = field_words(details.get("field", ""))
        vi += f": {title['title_vi']} ({code}), {field_vi.lower()}"
        en += f": {title['title_en']} ({code}), {field_en.lower()}"
    unanswered = details.get("unanswered") or []
    if unanswered:
        vi += f", còn {len(unanswered)} tiêu chí chưa đánh giá"
        en += f", {len(unanswered)} criteria not assessed"
    reason = details.get("reason")
    if reason:
        vi += f" — lý do: {reason}"
        en += f" — reason: {reason}"
    return {"text_vi": vi, "text_en": en, "at": event.at}
