"""Figures for the province reports, computed independently of the application's scoring and
reporting code: plain Python over the raw results the generator wrote (``Province``) and the
checklist documents, following the rules written in the checklist format and the issue."""
from __future__ import annotations

import math
from collections import defaultdict
from datetime import date
from fractions import Fraction

from inspection.checklists import load_default

TEMPLATES = {code: load_default(code) for code in ("cchc-huyen", "cchc-xa-3cap", "cchc-xa-2cap")}


def round_half_up(value: Fraction, places: int = 1) -> float:
    scaled = value * 10 ** places
    return math.floor(scaled + Fraction(1, 2)) / 10 ** places


def exact_percent(template_code: str, observations: dict[str, dict]) -> Fraction | None:
    """Points earned / points possible × 100, by the checklist's published rules: yes/no items
    give full points for pass, half for partial, none for fail, and leave the maximum when "na";
    a ratio with a target gives its points × min(1, value / target), and leaves the maximum
    when its denominator is 0; an optional section with nothing entered is left out."""
    document = TEMPLATES[template_code]
    earned = possible = Fraction(0)
    values = {code: Fraction(str(o["value"])) for code, o in observations.items()
              if o.get("value") is not None and o.get("result") != "na"}
    for section in document["sections"]:
        entered = [i for i in section["items"] if i["kind"] != "ratio"
                   and observations.get(i["code"])]
        if section["optional"] and not entered:
            continue
        for item in section["items"]:
            found = observations.get(item["code"], {})
            if item["kind"] == "yesno":
                if found.get("result") == "na":
                    continue
                full = Fraction(str(item["max_points"]))
                possible += full
                earned += {"pass": full, "partial": full / 2}.get(found.get("result"), 0)
            elif item["kind"] == "ratio" and item.get("target"):
                parts = item["ratio"]["numerator"] + item["ratio"]["denominator"]
                if any(code not in values for code in parts):
                    continue
                denominator = sum(values[c] for c in item["ratio"]["denominator"])
                if denominator == 0:
                    continue
                value = sum(values[c] for c in item["ratio"]["numerator"]) / denominator * 100
                full = Fraction(str(item["max_points"]))
                possible += full
                earned += full * min(Fraction(1), value / Fraction(str(item["target"]["value"])))
    return None if possible == 0 else earned / possible * 100


def grade(percent: Fraction) -> str:
    return "A" if percent >= 90 else "B" if percent >= 80 else "C" if percent >= 70 else "D"


def ratio(template_code: str, observations: dict, indicator: str) -> float | None:
    item = next(i for s in TEMPLATES[template_code]["sections"] for i in s["items"]
                if i.get("indicator") == indicator)
    try:
        num = sum(Fraction(str(observations[c]["value"])) for c in item["ratio"]["numerator"])
        den = sum(Fraction(str(observations[c]["value"])) for c in item["ratio"]["denominator"])
    except KeyError:
        return None
    return None if den == 0 else round_half_up(num / den * 100)


def expected_ranking(province, year: int, level: str, era: str) -> list[dict]:
    """[{code, name, percent, class, previous}] best first, as the issue defines the ranking."""
    approved = [i for i in province.inspections if i["state"] == "approved"]
    exact = {i["id"]: exact_percent(i["template"], i["observations"]) for i in approved}
    chosen: dict[int, dict] = {}
    for i in approved:
        wanted = i["scheduled_on"].year == year and i["level"] == level and i["era"] == era
        if wanted and (i["unit_id"] not in chosen
                       or i["scheduled_on"] > chosen[i["unit_id"]]["scheduled_on"]):
            chosen[i["unit_id"]] = i
    by_unit = defaultdict(list)
    for i in approved:
        if i["level"] == level:
            by_unit[i["unit_id"]].append(i)

    def previous(unit_id: int, before: date) -> list[float]:
        earlier = [i for i in by_unit[unit_id] if i["scheduled_on"] < before]
        if earlier:
            latest = max(earlier, key=lambda i: i["scheduled_on"])
            return [round_half_up(exact[latest["id"]])]
        return [p for source in province.merges.get(unit_id, []) for p in previous(source, before)]

    rows = []
    for unit_id, i in chosen.items():
        history = previous(unit_id, i["scheduled_on"])
        rows.append({"code": i["unit_code"], "name": i["unit_name"],
                     "percent": round_half_up(exact[i["id"]]), "class": grade(exact[i["id"]]),
                     "previous": round(sum(history) / len(history), 1) if history else None,
                     "on_time_rate": ratio(i["template"], i["observations"], "on_time_rate")})
    rows.sort(key=lambda r: (-r["percent"], r["name"], r["code"]))
    return rows


def make_province(**options):
    """Generate the test province (see inspection.services.synthetic) and commit it."""
    from inspection.extensions import db
    from inspection.services.synthetic import build_province

    province = build_province(**options)
    db.session.commit()
    return province
