"""The differences between two versions of a checklist, as a list a person reads: sections,
items (criteria, counts, rates), rules, recommendations and repeat groups added, removed or
changed, and the settings that changed. Pure: two validated documents in, a list out.

Each difference is ``{"part", "code", "change", "title_vi", "title_en", "keys"}``: ``part`` is
one of ``PARTS`` (or ``"setting"``), ``change`` one of ``added``, ``removed``, ``changed``,
``reordered``; ``keys`` lists ``(key, old, new)`` for a change, the values as short texts.
"""

from __future__ import annotations

import json
from typing import Any

PARTS = ("section", "item", "rule", "recommendation", "group")
# Top-level settings compared one by one (the parts are compared by their codes).
_NOT_SETTINGS = ("sections", "rules", "recommendations", "repeats", "scoring")


def shown(value: Any) -> str:
    """A value as a short text: numbers without a needless .0, lists and objects as JSON."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _changes(old: dict, new: dict, skip: tuple[str, ...] = ()) -> list[tuple[str, str, str]]:
    keys = [k for k in dict.fromkeys([*old, *new]) if k not in skip]
    return [(k, shown(old.get(k)), shown(new.get(k))) for k in keys if old.get(k) != new.get(k)]


def _entry(part: str, code: str, change: str, record: dict,
           keys: list[tuple[str, str, str]] | None = None) -> dict:
    title = ("title", "message", "text")
    vi = next((record[f"{t}_vi"] for t in title if record.get(f"{t}_vi")), "")
    en = next((record[f"{t}_en"] for t in title if record.get(f"{t}_en")), "")
    return {"part": part, "code": code, "change": change, "title_vi": vi, "title_en": en,
            "keys": keys or []}


def _compare(part: str, old: list[dict], new: list[dict], key: str,
             skip: tuple[str, ...] = ()) -> list[dict]:
    before = {entry[key]: entry for entry in old}
    after = {entry[key]: entry for entry in new}
    found = []
    for code, entry in after.items():
        if code not in before:
            found.append(_entry(part, code, "added", entry))
        else:
            keys = _changes(before[code], entry, skip)
            if keys:
                found.append(_entry(part, code, "changed", entry, keys))
    found += [_entry(part, code, "removed", entry)
              for code, entry in before.items() if code not in after]
    return found


def differences(old: dict, new: dict) -> list[dict]:
    """What changed from ``old`` to ``new`` (two template documents), in checklist order:
    settings, then each section with its items, then rules, recommendations and groups."""
    found: list[dict] = []
    settings = _changes({k: v for k, v in old.items() if k not in _NOT_SETTINGS},
                        {k: v for k, v in new.items() if k not in _NOT_SETTINGS})
    settings += [(f"scoring.{k}", a, b) for k, a, b in
                 _changes(old.get("scoring", {}), new.get("scoring", {}))]
    found += [{"part": "setting", "code": key, "change": "changed", "title_vi": "",
               "title_en": "", "keys": [(key, a, b)]} for key, a, b in settings]

    old_sections = {s["code"]: s for s in old["sections"]}
    new_codes = {s["code"] for s in new["sections"]}
    for section in new["sections"]:
        before = old_sections.get(section["code"])
        if before is None:
            found.append(_entry("section", section["code"], "added", section))
            found += [_entry("item", item["code"], "added", item) for item in section["items"]]
            continue
        keys = _changes(before, section, ("items",))
        if keys:
            found.append(_entry("section", section["code"], "changed", section, keys))
        found += _compare("item", before["items"], section["items"], "code")
        kept_old = [i["code"] for i in before["items"]
                    if i["code"] in {n["code"] for n in section["items"]}]
        kept_new = [i["code"] for i in section["items"] if i["code"] in set(kept_old)]
        if kept_old != kept_new:
            found.append(_entry("section", section["code"], "reordered", section))
    for section in old["sections"]:
        if section["code"] not in new_codes:
            found.append(_entry("section", section["code"], "removed", section))
            found += [_entry("item", item["code"], "removed", item) for item in section["items"]]
    found += _compare("rule", old.get("rules", []), new.get("rules", []), "id")
    found += _compare("recommendation", old.get("recommendations", []),
                      new.get("recommendations", []), "code")
    found += _compare("group", old.get("repeats", []), new.get("repeats", []), "code")
    return found
