"""Evaluation of one inspection: points, indicators, consistency checks, suggestions, progress.

Pure functions over a template document that passed
``inspection.checklists.format.validate_template`` and the inspection's observations
(item code -> ``{"result", "points", "value", "text"}``). No Flask, no database: the same
answer is computed wherever it is asked for (API, office pages, minutes, reports).

How items earn points (``max`` is the item's ``max_points``):

- yesno: pass = max, partial = ``scoring.partial_factor`` × max, fail = 0;
- score: the given ``points`` clamped to 0..max (without points, the result counts as for yesno);
- ratio: computed from count values, sum(numerator) / sum(denominator) × 100; points by
  ``scoring.ratio_method``: "proportional" = max × min(1, value / target), "threshold" = max
  when the target is met, else 0. A ratio without a target is informational (no points);
- ``result: "na"`` takes an item out of the maximum; so does a ratio whose denominator is 0
  ("không phát sinh": nothing happened to measure);
- an unanswered yesno/score item, and a ratio with a target whose counts are not all entered
  (unmeasurable), earn 0 but stay in the maximum: what was not assessed never raises the
  percentage;
- an optional section in which nothing was answered (e.g. no citizen survey held) is left out;
- a section, item or repeat group whose condition (``relevant``) is false is not applicable: it
  leaves the maximum, earns nothing, offers no recommendation and does not count in progress. A
  condition that cannot be decided yet (its counts not entered) keeps the item applicable, so
  the maximum shrinks only once someone has entered what makes it shrink. A not-applicable
  count has no value for rules, ratios and other conditions;
- a count with a formula (``compute``) takes its value from the formula (over other counts and
  the samples of repeat groups), not from what was typed, and is not counted in progress.

Samples of repeat groups arrive as plain data (``samples``: group code -> list of field code ->
value); when given, a group whose number of samples is outside its bounds is listed among the
checks as a warning.

Criteria are the items that can earn points (yesno, score, and ratios with a target) and
apply (condition true, not "na", not "không phát sinh", section not skipped): ``items``
counts them, ``assessed`` those with a result (or points) or a computed value, and
``not_assessed`` lists the others. While ``assessed < items`` the score is ``partial`` and has
no class, unless the leader's approval confirmed the criteria left unassessed
(``confirmed_unanswered``): then the class is given, with ``partial`` still true.

Because exclusions shrink the maximum, results are read as ``percent`` = total / max × 100,
which is also what the class is taken from. Arithmetic is exact (fractions), so 27 of 30 points
is exactly 90 % and reaches a class starting at 90; rounding happens only in the output
(1 decimal for percents, half away from zero; 2 for points). The class is taken from the exact
percent: 89.99 % is shown as 90.0 but stays below a class that starts at 90.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from . import rules

RESULTS = ("pass", "partial", "fail", "na")

# A template's rules are evaluated for every inspection that uses it: parse each text once.
_parse = functools.lru_cache(maxsize=4096)(rules.parse)


def evaluate(template: Mapping, observations: Mapping[str, Mapping | None], *,
             unit: Mapping | None = None, samples: Mapping | None = None,
             confirmed_unanswered: bool = False) -> dict:
    """Score, checks, indicators, suggestions and progress of one inspection (see module doc).

    ``unit`` gives the unit's ``kind`` and ``level`` for conditions; ``samples`` the samples of
    repeat groups; ``confirmed_unanswered`` that the approval confirmed the criteria not
    assessed (a partial score then keeps its class). Raises ValueError for an observation whose
    result is not one of RESULTS or None.
    """
    for code, obs in observations.items():
        result = (obs or {}).get("result")
        if result is not None and result not in RESULTS:
            raise ValueError(f"observation {code}: unknown result {result!r}")
    items = {item["code"]: item for s in template["sections"] for item in s["items"]}
    found = applicability(template, observations, unit=unit, samples=samples)
    values = found["values"]
    recommend = _Recommender(template)
    score, indicators, progress = _score(template, observations, values, recommend, found,
                                         confirmed_unanswered)
    return {
        "score": score,
        "checks": _checks(template, items, values, recommend, unit=unit,
                          samples=None if samples is None else found["samples"])
        + _sample_checks(template, samples, found),
        "indicators": indicators,
        "suggestions": recommend.suggestions(),
        "progress": progress,
    }


def unit_facts(unit: Any) -> dict | None:
    """What conditions may read of an administrative unit (``unit.kind``, ``unit.level``)."""
    if unit is None:
        return None
    return {"kind": unit.kind, "level": getattr(unit.level, "value", unit.level)}


_NOT_APPLICABLE = {"result": "na"}  # how an item whose condition is false is assessed


def _score(template: Mapping, observations: Mapping, values: Mapping,
           recommend: _Recommender, found: Mapping,
           confirmed_unanswered: bool = False) -> tuple[dict, list[dict], dict]:
    """Points per section and in total, the indicator of every ratio, and progress."""
    scoring = template["scoring"]
    sections, indicators, progress = [], [], []
    total = possible = Fraction(0)
    criteria, not_assessed = 0, []
    off_sections = set(found["not_applicable"]["sections"])
    off_items = set(found["not_applicable"]["items"])
    for section in template["sections"]:
        inputs = [item for item in section["items"] if item["kind"] != "ratio"
                  and "compute" not in item and item["code"] not in off_items]
        answered = sum(_answered(item, observations.get(item["code"])) for item in inputs)
        progress.append({"code": section["code"], "answered": answered, "total": len(inputs)})
        skipped = section["optional"] and answered == 0 and section["code"] not in off_sections
        points = maximum = Fraction(0)
        for item in section["items"]:
            obs = observations.get(item["code"]) or {}
            if item["code"] in off_items:
                obs = _NOT_APPLICABLE
            if item["kind"] == "ratio":
                outcome, indicator = _assess_ratio(item, obs, values, scoring)
                indicators.append(indicator)  # listed even when skipped: "not entered"
            else:
                outcome = _assess_input(item, obs, scoring)
            if skipped:
                continue
            points += outcome.points
            maximum += outcome.max
            if outcome.criterion:
                criteria += 1
                if not outcome.assessed:
                    not_assessed.append(item["code"])
            if outcome.flagged:
                recommend.for_item(item, section["code"])
        total += points
        possible += maximum
        sections.append({
            "code": section["code"], "title_vi": section["title_vi"],
            "title_en": section["title_en"], "points": _round(points, 2),
            "max": _round(maximum, 2), "percent": _round(_percent(points, maximum), 1),
            "nominal_max": section["max_points"], "skipped": skipped,
            "not_applicable": section["code"] in off_sections,
            "not_applicable_items": [i["code"] for i in section["items"]
                                     if i["code"] in off_items],
        })
    percent = _percent(total, possible)
    scaled = None if percent is None else percent / 100 * _exact(scoring["scale"])
    partial = bool(not_assessed)
    score = {
        "total": _round(total, 2), "max": _round(possible, 2), "percent": _round(percent, 1),
        "scaled": _round(scaled, 2),
        "class": None if partial and not confirmed_unanswered
        else _classify(percent, scoring["classes"]),
        "assessed": criteria - len(not_assessed), "items": criteria, "partial": partial,
        "not_assessed": not_assessed, "sections": sections,
    }
    progress_total = {"answered": sum(p["answered"] for p in progress),
                      "total": sum(p["total"] for p in progress), "sections": progress}
    return score, indicators, progress_total


def _checks(template: Mapping, items: Mapping, values: Mapping, recommend: _Recommender, *,
            unit: Mapping | None, samples: Mapping | None) -> list[dict]:
    """Rules that fail, or cannot be decided for a reason other than values not entered yet.

    A rule over samples is checked only when samples are given and its groups apply."""
    checks = []
    for rule in template["rules"]:
        node = _parse(rule["expr"])
        read = rules.references(node).groups
        if read and (samples is None or any(g not in samples for g in read)):
            continue
        outcome = rules.evaluate(node, values, rule["defaults"], unit=unit, samples=samples)
        # "Unknown because something is not entered yet" is normal mid-inspection: not shown.
        if outcome.status == "pass" or outcome.reason == "missing_values":
            continue
        used = rules.referenced_codes(node)
        checks.append({
            "rule_id": rule["id"], "severity": rule["severity"], "status": outcome.status,
            "message_vi": rule["message_vi"], "message_en": rule["message_en"],
            "items": [code for code in items if code in used],  # in checklist order
            "reason": outcome.reason,
        })
        if outcome.status == "fail":
            recommend.for_rule(rule)
    return checks


@dataclass(frozen=True)
class _Outcome:
    """What one item contributes: points earned, points possible, and whether it fell short."""

    points: Fraction = Fraction(0)
    max: Fraction = Fraction(0)  # 0 when the item is out of the maximum (na, informational…)
    flagged: bool = False  # failed, partial or below target: its recommendations are offered
    criterion: bool = False  # can earn points and applies: counted in score.items
    assessed: bool = False  # a criterion with a result, points or a computed value


def _assess_input(item: Mapping, obs: Mapping, scoring: Mapping) -> _Outcome:
    """Outcome of an item the inspector fills in (every kind but ratio)."""
    result = obs.get("result")
    flagged = result in ("fail", "partial")
    if item["kind"] not in ("yesno", "score") or result == "na":
        return _Outcome(flagged=flagged)
    full = _exact(item["max_points"])
    given = _number(obs.get("points")) if item["kind"] == "score" else None
    assessed = result is not None or given is not None
    if given is not None:
        earned = min(max(given, Fraction(0)), full)
    elif result == "pass":
        earned = full
    elif result == "partial":
        earned = full * _exact(scoring["partial_factor"])
    else:  # fail, or not answered yet
        earned = Fraction(0)
    return _Outcome(earned, full, flagged, criterion=True, assessed=assessed)


def _assess_ratio(item: Mapping, obs: Mapping, values: Mapping[str, Any],
                  scoring: Mapping) -> tuple[_Outcome, dict]:
    """Outcome and indicator of a ratio item, computed from its count items."""
    sums: dict[str, Fraction | None] = {}
    missing: list[str] = []
    for part in ("numerator", "denominator"):
        entered = {code: _number(values.get(code)) for code in item["ratio"][part]}
        missing += [code for code, v in entered.items() if v is None]
        sums[part] = None if None in entered.values() else sum(entered.values(), Fraction(0))
    numerator, denominator = sums["numerator"], sums["denominator"]
    target = item["target"]
    value = met = None
    if obs.get("result") == "na":
        status = "na"
    elif denominator == 0:
        status = "no_cases"  # "không phát sinh": nothing to measure, so nothing to score
    elif numerator is None or denominator is None:
        status = "missing"
    else:
        status = "computed"
        value = numerator / denominator * 100
        if target is not None:
            met = value >= _exact(target["value"])

    earned = possible = Fraction(0)
    scored = target is not None and status in ("computed", "missing")
    if scored:  # a target, and a value or counts still to enter (those earn 0 meanwhile)
        possible = _exact(item["max_points"])
    if met is not None:
        if scoring["ratio_method"] == "proportional":
            earned = possible * min(Fraction(1), value / _exact(target["value"]))
        else:
            earned = possible if met else Fraction(0)
    outcome = _Outcome(earned, possible,
                       flagged=met is False or obs.get("result") in ("fail", "partial"),
                       criterion=scored, assessed=status == "computed")

    indicator = {
        "code": item["code"], "indicator": item["indicator"],
        "title_vi": item["title_vi"], "title_en": item["title_en"],
        "value": _round(value, 1),
        "numerator": _plain(numerator), "denominator": _plain(denominator),
        "target": None if target is None else target["value"], "met": met,
        "status": status, "missing": sorted(missing) if status == "missing" else [],
        "points": _round(outcome.points, 2) if met is not None else None,
        "max_points": item["max_points"],
    }
    return outcome, indicator


class _Recommender:
    """Collects library recommendations and why each is offered, in library order."""

    def __init__(self, template: Mapping) -> None:
        self.library = template["recommendations"]
        self.by_item: dict[str, list[str]] = {}
        self.by_section: dict[str, list[str]] = {}  # recommendations not tied to any item
        for rec in self.library:
            for code in rec["items"]:
                self.by_item.setdefault(code, []).append(rec["code"])
            if not rec["items"]:
                self.by_section.setdefault(rec["section"], []).append(rec["code"])
        self.because: dict[str, list[str]] = {}

    def _add(self, rec_code: str, reason: str) -> None:
        reasons = self.because.setdefault(rec_code, [])
        if reason not in reasons:
            reasons.append(reason)

    def for_item(self, item: Mapping, section_code: str) -> None:
        """An item fell short: offer what is written for it, else the section's general ones."""
        for rec_code in self.by_item.get(item["code"]) or self.by_section.get(section_code, []):
            self._add(rec_code, item["code"])

    def for_rule(self, rule: Mapping) -> None:
        """A rule failed: offer what it names."""
        for rec_code in rule["suggests"]:
            self._add(rec_code, rule["id"])

    def suggestions(self) -> list[dict]:
        return [{"code": rec["code"], "text_vi": rec["text_vi"], "text_en": rec["text_en"],
                 "because": self.because[rec["code"]]}
                for rec in self.library if rec["code"] in self.because]


def _sample_checks(template: Mapping, samples: Mapping | None, found: Mapping) -> list[dict]:
    """A warning for each applicable repeat group with fewer or more samples than its bounds
    (only when samples are given at all)."""
    if samples is None:
        return []
    checks = []
    off = set(found["not_applicable"]["groups"])
    for group in template.get("repeats", []):
        given = samples.get(group["code"]) if isinstance(samples, Mapping) else None
        n = len(given) if isinstance(given, list) else 0
        if group["code"] in off or group["min"] <= n <= group["max"]:
            continue
        checks.append({
            "rule_id": group["code"], "severity": "warning", "status": "fail",
            "message_vi": f"{group['title_vi']}: có {n} mẫu, cần từ {group['min']} "
                          f"đến {group['max']} mẫu.",
            "message_en": f"{group['title_en']}: {n} samples, {group['min']} to "
                          f"{group['max']} needed.",
            "items": [], "reason": None,
        })
    return checks


def _count_value(obs: Mapping | None) -> Any:
    """A typed count as rules and ratios see it; "na" means no value."""
    if obs and obs.get("result") != "na" and obs.get("value") is not None:
        return obs["value"]
    return None


def _reads(text: str, want: str = "bool") -> set[tuple[str, str]]:
    refs = rules.references(_parse(text, want))
    return {("item", c) for c in refs.codes} | {("group", g) for g in refs.groups}


def applicability(template: Mapping, observations: Mapping[str, Mapping | None], *,
                  unit: Mapping | None = None, samples: Mapping | None = None) -> dict:
    """Which sections, items and repeat groups do not apply to an inspection, and the value of
    every count that rules, ratios and conditions read (typed, or from its formula).

    Returns ``{"not_applicable": {"sections", "items", "groups"}, "values", "samples"}`` (codes
    in checklist order; an item of a section that does not apply is listed too; ``samples`` the
    samples of the groups that apply). Conditions are
    evaluated after whatever they read, so the order of the template does not matter; the
    template has no circles (validation refuses them). static/js/checks.js ``applicability``
    is its twin, checked against tests/data/conditions_cases.json.
    """
    sections = {s["code"]: s for s in template["sections"]}
    items = {i["code"]: (i, s["code"]) for s in template["sections"] for i in s["items"]}
    groups = {g["code"]: g for g in template.get("repeats", [])}
    depends: dict[tuple[str, str], set] = {}
    for code, section in sections.items():
        depends[("section", code)] = _reads(section["relevant"]) if "relevant" in section \
            else set()
    for code, (item, section_code) in items.items():
        reads = {("section", section_code)}
        for key, want in (("relevant", "bool"), ("compute", "number")):
            if key in item:
                reads |= _reads(item[key], want)
        depends[("item", code)] = reads
    for code, group in groups.items():
        reads = {("section", group["section"])}
        if "relevant" in group:
            reads |= _reads(group["relevant"])
        depends[("group", code)] = reads

    applies: dict[tuple[str, str], bool] = {}
    values: dict[str, Any] = {}
    group_samples = samples if isinstance(samples, Mapping) else {}

    def holds(text: str) -> bool:
        """A condition is false only when it is decided so; undecided keeps the item."""
        outcome = rules.evaluate(_parse(text), values, unit=unit, samples=usable_samples())
        return outcome.status != "fail"

    def usable_samples() -> dict:
        return {g: group_samples.get(g) for g in groups if applies.get(("group", g))}

    for node in _in_dependency_order(depends):
        kind, code = node
        if kind == "section":
            section = sections[code]
            applies[node] = "relevant" not in section or holds(section["relevant"])
        elif kind == "group":
            group = groups[code]
            applies[node] = applies.get(("section", group["section"]), True) \
                and ("relevant" not in group or holds(group["relevant"]))
        elif code in items:
            item, section_code = items[code]
            applies[node] = applies[("section", section_code)] \
                and ("relevant" not in item or holds(item["relevant"]))
            if item["kind"] != "count" or not applies[node]:
                continue
            if "compute" in item:
                result = rules.compute(_parse(item["compute"], "number"), values, unit=unit,
                                       samples=usable_samples())
                value = result.value
            else:
                value = _count_value(observations.get(code))
            if value is not None:
                values[code] = value
    return {
        "samples": usable_samples(),
        "not_applicable": {
            "sections": [c for c in sections if not applies[("section", c)]],
            "items": [c for c in items if not applies[("item", c)]],
            "groups": [c for c in groups if not applies[("group", c)]],
        },
        "values": values,
    }


def _in_dependency_order(depends: Mapping) -> list:
    """Nodes so that each comes after what it reads (depth first, iterative); a node that
    reads itself through a circle is taken where the circle closes."""
    order, seen = [], set()
    for root in depends:
        if root in seen:
            continue
        seen.add(root)
        stack = [(root, iter(sorted(depends[root])))]
        while stack:
            node, following = stack[-1]
            step = next(following, None)
            if step is None:
                stack.pop()
                order.append(node)
            elif step in depends and step not in seen:
                seen.add(step)
                stack.append((step, iter(sorted(depends[step]))))
    return order


def _answered(item: Mapping, obs: Mapping | None) -> bool:
    """Whether the inspector has dealt with an item: a result, or the kind's own field.

    A photo item also counts as answered when ``value`` (the number of photos) is positive.
    """
    if not obs:
        return False
    if obs.get("result") is not None:
        return True
    kind = item["kind"]
    if kind == "score":
        return _number(obs.get("points")) is not None
    if kind == "count":
        return _number(obs.get("value")) is not None
    if kind == "photo" and (_number(obs.get("value")) or 0) > 0:
        return True
    if kind in ("text", "photo"):
        text = obs.get("text")
        return isinstance(text, str) and bool(text.strip())
    return False


def _classify(percent: Fraction | None, classes: list[Mapping]) -> dict | None:
    """The first (best) class whose min the exact percent reaches."""
    if percent is None:
        return None
    for cls in classes:
        if percent >= _exact(cls["min"]):
            return {"code": cls["code"], "vi": cls["vi"], "en": cls["en"]}
    return None


def _percent(points: Fraction, maximum: Fraction) -> Fraction | None:
    return None if maximum == 0 else points / maximum * 100


def _number(value: Any) -> Fraction | None:
    """Exact value of an entered number; bools, strings, NaN and infinities are no value."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return _exact(value)


def _exact(number: int | float) -> Fraction:
    # Through str: the float 0.1 stands for 1/10, not for its binary approximation.
    return Fraction(str(number)) if isinstance(number, float) else Fraction(number)


def _round(value: Fraction | None, places: int) -> float | None:
    """Round half away from zero, as people do by hand (86.45 -> 86.5), to a float."""
    if value is None:
        return None
    scaled = abs(value) * 10 ** places
    rounded = math.floor(scaled + Fraction(1, 2))
    return (-rounded if value < 0 else rounded) / 10 ** places


def _plain(value: Fraction | None) -> int | float | None:
    """A sum of entered counts as a JSON number: an int when whole."""
    if value is None:
        return None
    return value.numerator if value.denominator == 1 else float(value)
