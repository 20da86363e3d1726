"""A template version that extends a published base version (a national core with provincial
additions): it may add sections, items, rules, recommendations and repeat groups, but must keep
every part of the base exactly as it is, in the base's order.

The document is complete (the base's parts are in it), so scoring, the field app and the
minutes read it like any other; this module only checks that it keeps its base. Pure: two
validated documents in, problems out (``{"path", "message", "message_vi"}`` as in
``inspection.checklists.format.TemplateError``, so a spreadsheet can place them).
"""

from __future__ import annotations

from typing import Any

# What must be equal to the base as a whole; a section's points and items may grow.
SAME_SETTINGS = ("applies_to", "unit_level", "era")
SAME_SCORING = ("ratio_method", "partial_factor", "classes")
SECTION_KEYS = ("order", "title_vi", "title_en", "optional", "relevant")


def _problem(path: str, en: str, vi: str) -> dict:
    return {"path": path, "message": en, "message_vi": vi}


def _differences(base: dict, mine: dict, keys: tuple[str, ...] | None = None) -> list[str]:
    """The keys whose values differ (absent counts as a value of its own)."""
    keys = keys or tuple(dict.fromkeys([*base, *mine]))
    missing = object()
    return [k for k in keys if base.get(k, missing) != mine.get(k, missing)]


def extension_problems(doc: dict, base: dict) -> list[dict]:
    """Every way ``doc`` changes or drops a part of ``base`` (both validated documents)."""
    name = f"{base['code']} {base['version']}"
    problems: list[dict] = []

    def changed(path: str, what_en: str, what_vi: str, keys: list[str]) -> None:
        listed = ", ".join(keys)
        problems.append(_problem(
            path, f"The base version {name} has {what_en}; an extension may add to it but not "
                  f"change it ({listed} differ).",
            f"Phiên bản gốc {name} có {what_vi}; bản kế thừa chỉ được bổ sung, không được sửa "
            f"({listed} khác bản gốc)."))

    def removed(path: str, what_en: str, what_vi: str) -> None:
        problems.append(_problem(
            path, f"The base version {name} has {what_en}; an extension cannot remove it.",
            f"Phiên bản gốc {name} có {what_vi}; bản kế thừa không được bỏ đi."))

    for key in _differences(base, doc, SAME_SETTINGS):
        changed(key, f"{key} {base[key]!r}", f"{key} {base[key]!r}", [key])
    for key in _differences(base["scoring"], doc["scoring"], SAME_SCORING):
        changed(f"scoring.{key}", f"scoring.{key}", f"scoring.{key}", [key])

    sections = {s["code"]: (n, s) for n, s in enumerate(doc["sections"])}
    for base_section in base["sections"]:
        code = base_section["code"]
        if code not in sections:
            removed("sections", f"section {code}", f"lĩnh vực {code}")
            continue
        n, section = sections[code]
        keys = _differences(base_section, section, SECTION_KEYS)
        if keys:
            changed(f"sections[{n}]", f"section {code}", f"lĩnh vực {code}", keys)
        problems += _items(base_section, section, n, changed, removed)

    for part, key, en, vi in (("rules", "id", "rule", "quy tắc"),
                              ("recommendations", "code", "recommendation", "kiến nghị"),
                              ("repeats", "code", "repeat group", "nhóm lặp")):
        mine = {entry[key]: (n, entry) for n, entry in enumerate(doc.get(part, []))}
        for entry in base.get(part, []):
            found = mine.get(entry[key])
            if found is None:
                removed(part, f"{en} {entry[key]}", f"{vi} {entry[key]}")
            elif found[1] != entry:
                changed(f"{part}[{found[0]}]", f"{en} {entry[key]}", f"{vi} {entry[key]}",
                        _differences(entry, found[1]))

    for term, value in base.get("terms", {}).items():
        if doc.get("terms", {}).get(term) != value:
            changed("terms", f"term {term}", f"thuật ngữ {term}", [term])
    for entry in base.get("basis", []):
        if entry not in doc.get("basis", []):
            removed("basis", f"the legal basis {entry!r}", f"căn cứ {entry!r}")
    return problems


def _items(base_section: dict, section: dict, n: int, changed, removed) -> list[dict]:
    """Base items kept unchanged and in the base's order within their section."""
    problems: list[dict] = []
    mine: dict[str, tuple[int, Any]] = {i["code"]: (k, i) for k, i in
                                       enumerate(section["items"])}
    kept = []
    for item in base_section["items"]:
        found = mine.get(item["code"])
        if found is None:
            removed(f"sections[{n}]", f"item {item['code']} in section {base_section['code']}",
                    f"chỉ tiêu {item['code']} trong lĩnh vực {base_section['code']}")
            continue
        kept.append(found[0])
        if found[1] != item:
            changed(f"sections[{n}].items[{found[0]}]", f"item {item['code']}",
                    f"chỉ tiêu {item['code']}", _differences(item, found[1]))
    if kept != sorted(kept):
        problems.append(_problem(
            f"sections[{n}]",
            f"The items of the base in section {base_section['code']} must keep their order; "
            f"additions may go between them.",
            f"Các chỉ tiêu của bản gốc trong lĩnh vực {base_section['code']} phải giữ thứ tự; "
            f"chỉ tiêu bổ sung có thể xen vào giữa."))
    return problems
