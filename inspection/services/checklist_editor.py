"""Editing a draft checklist version on the office pages: its settings, sections, items
(criteria, counts, rates), rules, recommendation texts and repeat groups; reordering and
deleting; starting a new draft from a version; the differences between two versions.

Every change builds the whole new document and validates it with the template validator (and,
for an extension, against its base) before anything is written: a refused change leaves the
draft as it was and comes back as ``ValidationFailed`` whose ``errors`` list each problem with
the form field it belongs to (``field``, or None for a problem elsewhere in the checklist).
A section's points are the sum of its items' and the scale the sum of the sections', kept so by
the editor. A published version is never changed. Plain functions: they flush, never commit.
"""
from __future__ import annotations

import copy
import re
from fractions import Fraction
from typing import Any

from sqlalchemy import select

from ..checklists import spreadsheet
from ..checklists.diff import differences
from ..checklists.format import FIELD_KINDS
from ..errors import Conflict, NotFound, ValidationFailed
from ..extensions import db
from ..models import ChecklistTemplate, ChecklistVersion, User
from . import audit
from .checklists import (
    base_version_of,
    document_sha256,
    import_checklist,
    read_checklist,
    replace_rows,
)

PARTS = ("settings", "section", "item", "rule", "recommendation", "group")
# Which list of the document each part lives in, and the key that names an entry.
_LISTS = {"rule": ("rules", "id"), "recommendation": ("recommendations", "code"),
          "group": ("repeats", "code")}

# Each part's form: field name → how its text is read (spreadsheet.parse_value kinds, plus
# "sample_fields": one repeat-group field per line, "CODE | kind | title vi | title en").
FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "settings": (("title_vi", "text"), ("title_en", "text"), ("valid_from", "date"),
                 ("valid_to", "date"), ("notes_vi", "text"), ("notes_en", "text")),
    "section": (("code", "code"), ("title_vi", "text"), ("title_en", "text"),
                ("optional", "flag"), ("relevant", "text")),
    "item": (("code", "code"), ("kind", "code"), ("title_vi", "text"), ("title_en", "text"),
             ("max_points", "number"), ("evidence_hint_vi", "text"),
             ("evidence_hint_en", "text"), ("note_vi", "text"), ("note_en", "text"),
             ("unit_vi", "text"), ("unit_en", "text"), ("numerator", "codes"),
             ("denominator", "codes"), ("target", "target"), ("target_source", "text"),
             ("indicator", "code"), ("relevant", "text"), ("compute", "text")),
    "rule": (("id", "code"), ("severity", "code"), ("expr", "text"), ("defaults", "defaults"),
             ("message_vi", "text"), ("message_en", "text"), ("suggests", "codes")),
    "recommendation": (("code", "code"), ("section", "code"), ("items", "codes"),
                       ("text_vi", "text"), ("text_en", "text"), ("source", "text")),
    "group": (("code", "code"), ("section", "code"), ("title_vi", "text"), ("title_en", "text"),
              ("hint_vi", "text"), ("hint_en", "text"), ("min", "integer"), ("max", "integer"),
              ("relevant", "text"), ("fields", "sample_fields")),
}
# A new section comes with its first item (a section cannot be empty): these item fields,
# named with the prefix "item_" in the form.
FIRST_ITEM_FIELDS = ("code", "kind", "title_vi", "title_en", "max_points")
# Document paths (after the part's own path) that belong to another form field.
_ALIASES = {
    "item": (("ratio.numerator", "numerator"), ("ratio.denominator", "denominator"),
             ("ratio", "numerator"), ("target.source", "target_source"), ("target", "target")),
}


def _problem(field: str | None, en: str, vi: str, path: str = "") -> dict:
    return {"field": field, "path": path, "message": en, "message_vi": vi}


def _refused(problems: list[dict]) -> ValidationFailed:
    n = len(problems)
    return ValidationFailed(f"Chưa lưu: còn {n} lỗi cần sửa.",
                            f"Not saved: {n} problem{'s' if n != 1 else ''} to fix.", problems)


# ----------------------------------------------------------------------------- reading forms


def _text(raw: Any) -> str:
    return str(raw or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def _sample_fields(text: str) -> list[dict]:
    """One repeat-group field per line: ``CODE | kind | title vi | title en [| hint vi |
    hint en]``."""
    found = []
    for n, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        cells = [c.strip() for c in line.split("|")]
        if len(cells) < 4 or len(cells) > 6:
            raise spreadsheet.BadValue(
                f"Line {n}: write 'CODE | kind | title in Vietnamese | title in English' "
                f"(kind: {', '.join(FIELD_KINDS)}).",
                f"Dòng {n}: ghi 'MÃ | loại | tên tiếng Việt | tên tiếng Anh' "
                f"(loại: {', '.join(FIELD_KINDS)}).")
        cells += [""] * (6 - len(cells))
        found.append({"code": cells[0], "kind": cells[1], "title_vi": cells[2],
                      "title_en": cells[3], "hint_vi": cells[4] or None,
                      "hint_en": cells[5] or None})
    return found


def read_form(part: str, form: Any, prefix: str = "") -> tuple[dict, list[dict]]:
    """The values of a part's form, read as their kinds; problems for values that cannot be
    read (a number that is not one), each at its field."""
    values: dict[str, Any] = {}
    problems: list[dict] = []
    for name, kind in FIELDS[part]:
        if prefix and name not in FIRST_ITEM_FIELDS:
            continue
        raw = _text(form.get(prefix + name))
        try:
            if kind == "sample_fields":
                values[name] = _sample_fields(raw)
            else:
                values[name] = spreadsheet.parse_value(raw, kind)
        except spreadsheet.BadValue as exc:
            problems.append(_problem(prefix + name, f"{raw!r}: {exc.en}", f"{raw!r}: {exc.vi}"))
    return values, problems


def _optional(record: dict, key: str, value: Any) -> None:
    """Set an optional expression key: absent, not null, when unused (format.py)."""
    if value is None:
        record.pop(key, None)
    else:
        record[key] = value


def _item(values: dict, old: dict | None = None) -> dict:
    item = dict(old or {})
    for key in ("code", "kind", "title_vi", "title_en", "max_points", "evidence_hint_vi",
                "evidence_hint_en", "note_vi", "note_en", "unit_vi", "unit_en", "indicator"):
        if key in values:
            item[key] = values[key]
    if "numerator" in values:
        item["ratio"] = {"numerator": values["numerator"] or [],
                         "denominator": values["denominator"] or []} \
            if values["numerator"] or values["denominator"] else None
        target = values["target"]
        item["target"] = None if target is None else {**target,
                                                      "source": values["target_source"]}
        for key in ("relevant", "compute"):
            _optional(item, key, values[key])
    return item


def _section(values: dict, old: dict | None) -> dict:
    section = dict(old or {"items": []})
    for key in ("code", "title_vi", "title_en"):
        section[key] = values[key]
    section["optional"] = bool(values["optional"])
    _optional(section, "relevant", values["relevant"])
    return section


def _entry(part: str, values: dict, old: dict | None) -> dict:
    entry = dict(old or {})
    if part == "rule":
        entry.update(id=values["id"], severity=values["severity"], expr=values["expr"],
                     defaults=values["defaults"] or {}, message_vi=values["message_vi"],
                     message_en=values["message_en"], suggests=values["suggests"] or [])
    elif part == "recommendation":
        entry.update(code=values["code"], section=values["section"],
                     items=values["items"] or [], text_vi=values["text_vi"],
                     text_en=values["text_en"], source=values["source"])
    else:
        entry.update({k: values[k] for k in ("code", "section", "title_vi", "title_en",
                                             "hint_vi", "hint_en", "min", "max")})
        entry["fields"] = values["fields"]
        _optional(entry, "relevant", values["relevant"])
    return entry


# ----------------------------------------------------------------------- the current values


def _shown(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind == "flag":
        return "có" if value else ""
    if kind == "number" or kind == "integer":
        return spreadsheet._show(value)
    if kind == "codes":
        return ", ".join(value)
    if kind == "defaults":
        return "; ".join(f"{k} = {spreadsheet._show(v)}" for k, v in value.items())
    if kind == "target":
        return f"{value['op']} {spreadsheet._show(value['value'])}"
    if kind == "sample_fields":
        return "\n".join(" | ".join(x for x in (f["code"], f["kind"], f["title_vi"],
                                                  f["title_en"], f.get("hint_vi") or "",
                                                  f.get("hint_en") or "")).rstrip(" |")
                         for f in value)
    return str(value)


def form_values(version: ChecklistVersion, part: str, key: str | None) -> dict[str, str]:
    """A part's current values as its form shows them (empty for a new one)."""
    if key is None:
        return {}
    record = _find(version.document, part, key)[1]
    if part == "item":
        record = {**record, "numerator": (record.get("ratio") or {}).get("numerator"),
                  "denominator": (record.get("ratio") or {}).get("denominator"),
                  "target_source": (record.get("target") or {}).get("source")}
    return {name: _shown(record.get(name), kind) for name, kind in FIELDS[part]}


# ------------------------------------------------------------------------------ the document


def _find(doc: dict, part: str, key: str) -> tuple[str, dict]:
    """The document path of a part and the part itself; NotFound when there is none."""
    if part == "settings":
        return "", doc
    if part == "section":
        for s, section in enumerate(doc["sections"]):
            if section["code"] == key:
                return f"sections[{s}]", section
    elif part == "item":
        for s, section in enumerate(doc["sections"]):
            for i, item in enumerate(section["items"]):
                if item["code"] == key:
                    return f"sections[{s}].items[{i}]", item
    elif part in _LISTS:
        name, code = _LISTS[part]
        for n, entry in enumerate(doc.get(name, [])):
            if entry[code] == key:
                return f"{name}[{n}]", entry
    raise NotFound(f"Không có {key!r} trong phiên bản này.", f"No {key!r} in this version.")


def _exact(number: Any) -> Fraction:
    return Fraction(str(number)) if isinstance(number, float) else Fraction(number or 0)


def _number(total: Fraction) -> int | float:
    return int(total) if total.denominator == 1 else float(total)


def _add_up(doc: dict) -> None:
    """Each section's points are its items' sum; the scale is the sections' sum; the sections
    are numbered in their order."""
    scale = Fraction(0)
    for n, section in enumerate(doc["sections"], start=1):
        section["order"] = n
        points = [item.get("max_points") for item in section["items"]]
        if all(p is None or isinstance(p, (int, float)) for p in points):
            total = sum((_exact(p) for p in points), Fraction(0))
            section["max_points"] = _number(total)
        scale += _exact(section.get("max_points"))
    if isinstance(doc.get("scoring"), dict):
        doc["scoring"]["scale"] = _number(scale)


def _editable(version: ChecklistVersion) -> None:
    if version.is_published:
        raise Conflict(
            f"Phiên bản {version.version} đã ban hành nên không sửa được nữa; hãy tạo bản nháp "
            "mới từ phiên bản này.",
            f"Version {version.version} is published and can no longer be changed; start a "
            "new draft from it.")


def _unchanged_since_read(version: ChecklistVersion, form: Any) -> None:
    """A form carries the fingerprint of the draft it was filled on: refused when someone
    saved another change since (theirs would be lost)."""
    seen = _text(form.get("sha256"))
    if seen and seen != version.sha256:
        raise Conflict("Bản nháp vừa được người khác sửa; hãy mở lại trang để xem bản mới rồi "
                       "sửa tiếp.",
                       "Someone else has just changed this draft; open the page again to see "
                       "the new one, then make your change.")


def base_parts(version: ChecklistVersion) -> dict[str, set[str]]:
    """The codes of the parts an extension takes from its base (which it cannot change)."""
    base = version.base_version
    if base is None:
        return {part: set() for part in PARTS}
    doc = base.document
    return {"settings": set(),
            "section": {s["code"] for s in doc["sections"]},
            "item": {i["code"] for s in doc["sections"] for i in s["items"]},
            **{part: {e[code] for e in doc.get(name, [])}
               for part, (name, code) in _LISTS.items()}}


def _from_base(version: ChecklistVersion, part: str, key: str, deleting: bool) -> None:
    if key in base_parts(version)[part]:
        base = version.base_version
        name = f"{base.template.code} {base.version}"
        en, vi = ("remove", "bỏ") if deleting else ("change", "sửa")
        raise _refused([_problem(None, f"{key} belongs to the base version {name}: an "
                                       f"extension may add to its base but not {en} it.",
                                 f"{key} thuộc phiên bản gốc {name}: bản kế thừa chỉ được bổ "
                                 f"sung, không được {vi} phần của bản gốc.")])


def _placed(problems: list[dict], places: list[tuple[str, str, tuple[str, ...], str]]
            ) -> list[dict]:
    """Problems with document paths, each given the form field it belongs to: ``places`` are
    (path prefix, field prefix, field names, part) of what the form edits, most specific
    first."""
    placed = []
    for p in problems:
        path, field = p.get("path") or "", None
        for prefix, field_prefix, names, part in places:
            if prefix and path != prefix and not path.startswith((prefix + ".", prefix + "[")):
                continue
            rest = path[len(prefix):].lstrip(".")
            for alias, name in _ALIASES.get(part, ()):
                if rest == alias or rest.startswith((alias + ".", alias + "[")):
                    field = name
                    break
            else:
                head = re.split(r"[.\[]", rest, maxsplit=1)[0]
                field = head if head in names else None
            field = field_prefix + field if field and field in names else None
            break
        placed.append({"field": field, "path": path, "message": p["message"],
                       "message_vi": p.get("message_vi") or p["message"]})
    return placed


def _where(doc: dict, path: str) -> str:
    """A document path as a person names the place: ``rules[3].expr`` is ``R08 · expr``."""
    match = re.match(r"(sections\[(\d+)\](?:\.items\[(\d+)\])?|(rules|recommendations|repeats)"
                     r"\[(\d+)\])\.?(.*)", path)
    try:
        if match is None:
            return path
        rest = match.group(6)
        if match.group(4):
            entry = doc[match.group(4)][int(match.group(5))]
            name = entry.get("id") or entry.get("code")
        else:
            entry = doc["sections"][int(match.group(2))]
            if match.group(3) is not None:
                entry = entry["items"][int(match.group(3))]
            name = entry.get("code")
        return f"{name} · {rest}" if rest else str(name)
    except (IndexError, KeyError, TypeError, ValueError):
        return path


def _store(version: ChecklistVersion, doc: dict, places, by: User | None, **details) -> bool:
    """Validate the new document; when valid, make it the draft's (and its rows), audited.
    Returns whether anything changed."""
    _add_up(doc)
    try:
        document, _ = read_checklist(doc)
        base_version_of(document, None)
    except ValidationFailed as exc:
        raise _refused([p | {"path": _where(doc, p["path"])}
                        for p in _placed(exc.errors or [], places)]) from exc
    if document.get("extends") != version.document.get("extends") \
            or document["code"] != version.document["code"] \
            or document["version"] != version.document["version"]:
        raise AssertionError("the editor never changes a version's code, number or base")
    digest = document_sha256(document)
    if digest == version.sha256:
        return False
    version.document, version.sha256 = document, digest
    version.template.title_vi, version.template.title_en = document["title_vi"], \
        document["title_en"]
    replace_rows(version, document)
    audit.record("checklist.edit", version, by, sha256=digest, **details)
    return True


def _names(part: str) -> tuple[str, ...]:
    return tuple(name for name, _ in FIELDS[part])


def save_part(version: ChecklistVersion, part: str, key: str | None, form: Any, *,
              section: str | None = None, by: User | None = None) -> str:
    """Add (``key`` None) or change a part of a draft from its form; returns the part's code.
    A new item goes at the end of ``section``; a new section comes with its first item."""
    _editable(version)
    _unchanged_since_read(version, form)
    if part not in PARTS or (part == "settings" and key is None):
        raise NotFound("Không có phần này.", "No such part.")
    if key is not None:
        _from_base(version, part, key, deleting=False)
    values, problems = read_form(part, form)
    first: dict = {}
    if part == "section" and key is None:
        first, more = read_form("item", form, prefix="item_")
        problems += more
    if problems:
        raise _refused(problems)
    doc = copy.deepcopy(version.document)
    if part == "settings":
        for name in _names("settings"):
            doc[name] = values[name]
        _store(version, doc, [("", "", _names("settings"), "")], by, part=part, change="edit")
        return ""
    if part == "section":
        if key is None:
            new = _section(values, None)
            new["items"] = [_item({**{k: None for k in _names("item")}, **first,
                                   "numerator": None, "denominator": None, "target": None})]
            doc["sections"].append(new)
            path = f"sections[{len(doc['sections']) - 1}]"
            places = [(path + ".items[0]", "item_", FIRST_ITEM_FIELDS, "item"),
                      (path, "", _names("section"), "")]
        else:
            path, old = _find(doc, "section", key)
            doc_index = int(path[9:-1])
            doc["sections"][doc_index] = _section(values, old)
            places = [(path, "", _names("section"), "")]
    elif part == "item":
        if key is None:
            _, home = _find(doc, "section", section or "")
            home["items"].append(_item(values))
            path = f"sections[{doc['sections'].index(home)}].items[{len(home['items']) - 1}]"
        else:
            path, old = _find(doc, "item", key)
            s, i = (int(n) for n in re.findall(r"\[(\d+)\]", path))
            doc["sections"][s]["items"][i] = _item(values, old)
        places = [(path, "", _names("item"), "item")]
    else:
        name, code_key = _LISTS[part]
        entries = doc.setdefault(name, [])
        if key is None:
            entries.append(_entry(part, values, None))
            index = len(entries) - 1
        else:
            found, old = _find(doc, part, key)
            index = int(found[len(name) + 1:-1])
            entries[index] = _entry(part, values, old)
        places = [(f"{name}[{index}]", "", _names(part), part)]
    code = values.get("id") or values.get("code") or ""
    _store(version, doc, places, by, part=part, code=code,
           change="add" if key is None else "edit")
    return code


def delete_part(version: ChecklistVersion, part: str, key: str, *, by: User | None = None) -> None:
    """Remove a section (with its items), an item, a rule, a recommendation or a group; refused
    while something else in the checklist still refers to it."""
    _editable(version)
    if part not in PARTS or part == "settings":
        raise NotFound("Không có phần này.", "No such part.")
    _from_base(version, part, key, deleting=True)
    doc = copy.deepcopy(version.document)
    path, record = _find(doc, part, key)
    if part == "section":
        doc["sections"].remove(record)
    elif part == "item":
        for section in doc["sections"]:
            if record in section["items"]:
                section["items"].remove(record)
    else:
        doc[_LISTS[part][0]].remove(record)
    _store(version, doc, [], by, part=part, code=key, change="delete")


def move_part(version: ChecklistVersion, part: str, key: str, direction: str, *,
              by: User | None = None) -> bool:
    """Move a section, or an item within its section, one place up or down; False when it is
    already first (last)."""
    _editable(version)
    if part not in ("section", "item") or direction not in ("up", "down"):
        raise NotFound("Không có phần này.", "No such part.")
    doc = copy.deepcopy(version.document)
    _, record = _find(doc, part, key)
    siblings = doc["sections"] if part == "section" else next(
        s["items"] for s in doc["sections"] if record in s["items"])
    n = siblings.index(record)
    m = n - 1 if direction == "up" else n + 1
    if not 0 <= m < len(siblings):
        return False
    siblings[n], siblings[m] = siblings[m], siblings[n]
    return _store(version, doc, [], by, part=part, code=key, change="move_" + direction)


# ---------------------------------------------------------------------- drafts and versions


def new_draft(source: ChecklistVersion, form: Any, *, by: User | None = None) -> ChecklistVersion:
    """A new draft that starts as a copy of ``source``: the next version of its template
    (``version``), or, with a new template ``code``, an extension of ``source`` (which must be
    published) that may add to it but not change it."""
    label = _text(form.get("version"))
    code = _text(form.get("code")) or None
    problems = []
    if not label or len(label) > 40:
        problems.append(_problem("version", "Give a version number of at most 40 characters.",
                                 "Hãy nhập số phiên bản, tối đa 40 ký tự."))
    if code is not None and code == source.template.code:
        problems.append(_problem("code", "An extension needs a template code of its own.",
                                 "Bản kế thừa cần mã mẫu riêng, khác mã của bản gốc."))
    if code is not None and not source.is_published:
        problems.append(_problem("code", "Only a published version can be extended.",
                                 "Chỉ kế thừa được phiên bản đã ban hành."))
    template_code = code or source.template.code
    taken = db.session.scalar(select(ChecklistVersion.id).join(ChecklistTemplate).where(
        ChecklistTemplate.code == template_code, ChecklistVersion.version == label))
    if taken is not None:
        problems.append(_problem("version", f"{template_code} already has a version {label}.",
                                 f"Mẫu {template_code} đã có phiên bản {label}."))
    if problems:
        raise _refused(problems)
    doc = copy.deepcopy(source.document)
    doc["version"] = label
    if code is not None:
        doc["code"] = code
        doc["extends"] = {"code": source.template.code, "version": source.version}
    try:
        version, _ = import_checklist(doc, by=by, audited=False)
    except ValidationFailed as exc:
        raise _refused(_placed(exc.errors or [], [("", "", ("version", "code"), "")])) from exc
    audit.record("checklist.new_draft", version, by, source=source.id, code=doc["code"],
                 version=label, sha256=version.sha256)
    return version


def compare(old: ChecklistVersion, new: ChecklistVersion) -> list[dict]:
    """What changed from one version to another (see checklists/diff.py)."""
    return differences(old.document, new.document)
