"""Evaluation of an inspection: the Hạ Lang acceptance case, then each scoring rule in isolation.

Most cases use ``tests/data/checklists/minimal.json``: section A (yesno A.01 20 points, score
A.02 20 points, text A.03, photo A.04) and the optional section B (counts B.01 dossiers, B.02 on
time, B.05 apology slips; ratio B.03 = B.02/B.01 worth 60 points with target >= 80; ratio B.04 =
B.02/(B.01+B.05) informational). Rules: R01 B.02 <= B.01, R02 B.02 / B.01 <= 1,
R03 B.05 >= B.01 - B.02 (B.05 defaults to 0) suggesting REC.B.02.
"""

from pathlib import Path

import pytest

from inspection.checklists import DEFAULT_TEMPLATES, load_default
from inspection.checklists.format import load_template_json
from inspection.checklists.scoring import evaluate

MINIMAL = load_template_json(
    (Path(__file__).resolve().parent.parent / "data" / "checklists" / "minimal.json").read_bytes())

# Hạ Lang district, Cao Bằng, inspected 1/10/2021: the figures the provincial report published.
HA_LANG = {
    "TTHC.20": 1081,  # dossiers received
    "TTHC.22": 434,   # of which online
    "TTHC.23": 94,    # by post
    "TTHC.25": 1068,  # resolved
    "TTHC.26": 924,   # of which on time
    "TTHC.28": 13,    # in progress
    "CQS.03": 3601,   # outgoing documents
    "CQS.04": 3432,   # of which digitally signed
    "TTHC.01": 221, "TTHC.02": 221, "TTHC.03": 221,  # procedures published / posted / online
}


def counts(**values) -> dict:
    """Observations for count items, written as counts(B_01=100) for B.01."""
    return {code.replace("_", "."): {"value": v} for code, v in values.items()}


def by_code(entries: list[dict], key: str = "code") -> dict:
    return {e[key]: e for e in entries}


def section(result: dict, code: str) -> dict:
    return by_code(result["score"]["sections"])[code]


# ---------------------------------------------------------------------------- acceptance


@pytest.fixture(scope="module")
def ha_lang():
    return evaluate(load_default("cchc-huyen"), counts(**{
        code.replace(".", "_"): v for code, v in HA_LANG.items()}))


def test_ha_lang_indicators(ha_lang):
    indicators = by_code(ha_lang["indicators"], "indicator")
    online, signed, on_time = (indicators[k] for k in ("online_share", "signed_share",
                                                       "on_time_rate"))
    assert (online["code"], online["value"], online["target"], online["met"]) == \
        ("TTHC.33", 40.1, None, None)
    assert (online["numerator"], online["denominator"]) == (434, 1081)
    assert (signed["code"], signed["value"], signed["target"], signed["met"]) == \
        ("CQS.05", 95.3, 90, True)
    assert (on_time["code"], on_time["value"], on_time["target"], on_time["met"]) == \
        ("TTHC.32", 86.5, 98, False)
    assert indicators["posted_share"]["value"] == 100.0 and indicators["posted_share"]["met"]
    # Late dossiers were never entered, so the apology-slip share cannot be computed.
    assert indicators["apology_slip_share"]["status"] == "missing"
    assert indicators["apology_slip_share"]["value"] is None


def test_ha_lang_checks_flag_missing_apology_slips_only(ha_lang):
    checks = by_code(ha_lang["checks"], "rule_id")
    assert list(checks) == ["R08"]  # R01 passes: 1068 + 13 + 0 = 1081
    r08 = checks["R08"]
    assert (r08["severity"], r08["status"], r08["reason"]) == ("finding", "fail", None)
    assert r08["items"] == ["TTHC.25", "TTHC.26", "TTHC.29", "TTHC.31"]
    assert "xác minh" in r08["message_vi"] and "verify" in r08["message_en"]


def test_ha_lang_suggestions(ha_lang):
    suggestions = by_code(ha_lang["suggestions"])
    assert suggestions["REC.TTHC.02"]["because"] == ["R08"]  # apology slips
    assert "Phiếu xin lỗi" in suggestions["REC.TTHC.02"]["text_vi"]
    assert suggestions["REC.TTHC.05"]["because"] == ["TTHC.32"]  # on-time rate below 98 %
    assert "REC.CQS.03" not in suggestions  # signed share met its target


def test_ha_lang_with_slips_and_late_count_entered():
    template = load_default("cchc-huyen")
    observations = counts(**{code.replace(".", "_"): v for code, v in HA_LANG.items()})
    observations |= counts(TTHC_31=144)
    assert "R08" not in by_code(evaluate(template, observations)["checks"], "rule_id")
    # Once the late count is entered it must agree with resolved − on time.
    observations |= counts(TTHC_27=100)
    checks = by_code(evaluate(template, observations)["checks"], "rule_id")
    assert checks["R02"]["status"] == "fail"


# ------------------------------------------------------------------------- item points


@pytest.mark.parametrize("result,points,maximum", [
    ("pass", 20 + 15, 40), ("partial", 10 + 15, 40), ("fail", 0 + 15, 40),
    ("na", 15, 20), (None, 0 + 15, 40),  # unanswered stays in the maximum
])
def test_yesno_results(result, points, maximum):
    got = evaluate(MINIMAL, {"A.01": {"result": result}, "A.02": {"points": 15}})
    assert (section(got, "A")["points"], section(got, "A")["max"]) == (points, maximum)
    assert (got["score"]["total"], got["score"]["max"]) == (points, maximum)
    assert got["score"]["percent"] == round(points / maximum * 100, 1)


@pytest.mark.parametrize("observation,points", [
    ({"points": 12.5}, 12.5), ({"points": 25}, 20), ({"points": -3}, 0),
    ({"result": "pass"}, 20), ({"result": "partial"}, 10), ({"result": "fail", "points": 4}, 4),
])
def test_score_points_are_clamped_or_follow_the_result(observation, points):
    got = evaluate(MINIMAL, {"A.02": observation})
    assert section(got, "A")["points"] == points
    assert section(got, "A")["max"] == 40


def test_partial_factor_comes_from_the_template():
    template = {**MINIMAL, "scoring": {**MINIMAL["scoring"], "partial_factor": 0.25}}
    got = evaluate(template, {"A.01": {"result": "partial"}})
    assert section(got, "A")["points"] == 5


# ------------------------------------------------------------------------------ ratios


@pytest.mark.parametrize("method,on_time,points", [
    ("proportional", 60, 45.0),  # 60 % of a target of 80 % earns 3/4 of 60 points
    ("threshold", 60, 0.0),
    ("proportional", 80, 60.0), ("threshold", 80, 60.0),
    ("proportional", 95, 60.0),  # above target: capped at the item's points
])
def test_ratio_points_by_method(method, on_time, points):
    template = {**MINIMAL, "scoring": {**MINIMAL["scoring"], "ratio_method": method}}
    got = evaluate(template, counts(B_01=100, B_02=on_time))
    indicator = by_code(got["indicators"])["B.03"]
    assert indicator["value"] == on_time
    assert indicator["met"] is (on_time >= 80)
    assert indicator["points"] == points
    assert (section(got, "B")["points"], section(got, "B")["max"]) == (points, 60)


def test_zero_denominator_is_no_cases_and_leaves_the_maximum():
    got = evaluate(MINIMAL, {"A.01": {"result": "pass"}} | counts(B_01=0, B_02=0, B_05=0))
    indicator = by_code(got["indicators"])["B.03"]
    assert (indicator["status"], indicator["value"], indicator["met"]) == \
        ("no_cases", None, None)
    assert (indicator["numerator"], indicator["denominator"]) == (0, 0)
    assert section(got, "B")["max"] == 0 and section(got, "B")["percent"] is None
    assert not section(got, "B")["skipped"]
    assert (got["score"]["total"], got["score"]["max"], got["score"]["percent"]) == (20, 40, 50.0)
    # "B.02 / B.01" cannot be decided: shown, with its reason, for the team to look at.
    r02 = by_code(got["checks"], "rule_id")["R02"]
    assert (r02["status"], r02["reason"], r02["items"]) == \
        ("unknown", "division_by_zero", ["B.01", "B.02"])


def test_missing_counts_leave_the_ratio_uncomputed():
    got = evaluate(MINIMAL, counts(B_01=40))
    b03, b04 = (by_code(got["indicators"])[code] for code in ("B.03", "B.04"))
    assert (b03["status"], b03["missing"], b03["value"]) == ("missing", ["B.02"], None)
    assert b04["missing"] == ["B.02", "B.05"]
    # Unmeasurable, not out of the question: B.03 keeps its 60 points in the maximum, earns 0.
    assert (section(got, "B")["points"], section(got, "B")["max"]) == (0, 60)
    assert b03["points"] is None
    assert "B.03" in got["score"]["not_assessed"]
    assert got["checks"] == []  # unknown for lack of values: not shown


def test_missing_counts_never_raise_the_percentage():
    # What was reported: ratios whose counts were never entered left the maximum, so a unit
    # with few answers scored 100 %. Whatever the missing count turns out to be, the score
    # without it is never higher.
    answered = {"A.01": {"result": "pass"}, "A.02": {"points": 20}}
    without = evaluate(MINIMAL, {**answered, **counts(B_01=40)})["score"]
    assert without["percent"] < 100
    for on_time in range(0, 41, 4):
        entered = evaluate(MINIMAL, {**answered, **counts(B_01=40, B_02=on_time)})["score"]
        assert without["percent"] <= entered["percent"]
        assert without["max"] == entered["max"]


def test_criteria_assessed_and_the_class_of_a_partial_score():
    all_pass = {"A.01": {"result": "pass"}, "A.02": {"points": 20},
                **counts(B_01=40, B_02=40)}
    full = evaluate(MINIMAL, all_pass)["score"]
    assert (full["assessed"], full["items"], full["partial"], full["not_assessed"]) == \
        (3, 3, False, [])
    assert full["class"] is not None

    half = {"A.01": {"result": "pass"}, **counts(B_01=40)}
    partial = evaluate(MINIMAL, half)["score"]
    assert (partial["assessed"], partial["items"], partial["partial"]) == (1, 3, True)
    assert partial["not_assessed"] == ["A.02", "B.03"]
    assert partial["class"] is None  # no class on a partial assessment...
    confirmed = evaluate(MINIMAL, half, confirmed_unanswered=True)["score"]
    assert confirmed["class"] is not None and confirmed["partial"]  # ...unless approval confirmed
    assert confirmed["percent"] == partial["percent"]


def test_not_applicable_and_no_cases_are_not_criteria():
    got = evaluate(MINIMAL, {"A.01": {"result": "na"}, "A.02": {"points": 10},
                             **counts(B_01=0, B_02=0)})["score"]
    assert (got["assessed"], got["items"], got["partial"]) == (1, 1, False)


def test_informational_ratio_sums_its_denominator_and_earns_nothing():
    got = evaluate(MINIMAL, counts(B_01=30, B_02=27, B_05=6))
    b04 = by_code(got["indicators"])["B.04"]
    assert (b04["value"], b04["numerator"], b04["denominator"]) == (75.0, 27, 36)
    assert (b04["target"], b04["met"], b04["points"], b04["max_points"]) == \
        (None, None, None, None)
    assert section(got, "B")["max"] == 60  # B.03 only


def test_ratio_marked_na_is_excluded():
    got = evaluate(MINIMAL, counts(B_01=100, B_02=10) | {"B.03": {"result": "na"}})
    assert by_code(got["indicators"])["B.03"]["status"] == "na"
    assert section(got, "B")["max"] == 0
    assert "REC.B.01" not in by_code(got["suggestions"])


def test_count_marked_na_or_not_a_number_counts_as_missing():
    got = evaluate(MINIMAL, {"B.01": {"value": 50, "result": "na"}, "B.02": {"value": True}})
    assert by_code(got["indicators"])["B.03"]["missing"] == ["B.01", "B.02"]


def test_percents_round_half_up_after_exact_arithmetic():
    got = evaluate(MINIMAL, counts(B_01=16, B_02=1))  # 6.25 %
    b03 = by_code(got["indicators"])["B.03"]
    assert b03["value"] == 6.3
    assert b03["points"] == 4.69  # 60 × 6.25 / 80 = 4.6875


# --------------------------------------------------------------- totals and classes


@pytest.mark.parametrize("observations,percent,cls", [
    ({"A.01": {"result": "pass"}, "A.02": {"points": 16}}, 90.0, "A"),       # 36 / 40
    # 35.996 / 40 = 89.99 %: shown rounded as 90.0 but classified on the exact value.
    ({"A.01": {"result": "pass"}, "A.02": {"points": 15.996}}, 90.0, "B"),
    ({"A.01": {"result": "pass"}, "A.02": {"points": 15.96}}, 89.9, "B"),    # 35.96 / 40
    ({"A.01": {"result": "na"}, "A.02": {"points": 18}}, 90.0, "A"),         # 18 / 20
    ({"A.01": {"result": "pass"}, "A.02": {"points": 12}}, 80.0, "B"),       # 32 / 40
    ({"A.01": {"result": "fail"}, "A.02": {"points": 16}}, 40.0, "D"),
])
def test_class_boundaries(observations, percent, cls):
    got = evaluate(MINIMAL, observations)
    assert got["score"]["percent"] == percent
    assert got["score"]["class"]["code"] == cls


def test_arithmetic_is_exact_at_a_target():
    # In floats 57 / 100 * 100 is 56.99999999999999, which would miss a 57 % target.
    b03 = MINIMAL["sections"][1]["items"][2]
    template = {**MINIMAL, "sections": [MINIMAL["sections"][0], {
        **MINIMAL["sections"][1],
        "items": [*MINIMAL["sections"][1]["items"][:2],
                  {**b03, "target": {**b03["target"], "value": 57}},
                  *MINIMAL["sections"][1]["items"][3:]]}]}
    got = evaluate(template, counts(B_01=100, B_02=57))
    b03 = by_code(got["indicators"])["B.03"]
    assert (b03["value"], b03["met"], b03["points"]) == (57.0, True, 60.0)


def test_scores_are_scaled_when_the_maximum_shrinks():
    got = evaluate(MINIMAL, {"A.01": {"result": "pass"}, "A.02": {"points": 10}}
                   | counts(B_01=100, B_02=80))
    assert (got["score"]["total"], got["score"]["max"], got["score"]["percent"]) == \
        (90, 100, 90.0)
    got = evaluate(MINIMAL, {"A.01": {"result": "pass"}, "A.02": {"result": "na"}})
    assert (got["score"]["total"], got["score"]["max"], got["score"]["percent"],
            got["score"]["scaled"]) == (20, 20, 100.0, 100.0)


def test_optional_section_left_out_until_something_is_answered():
    got = evaluate(MINIMAL, {"A.01": {"result": "pass"}, "A.02": {"points": 20}})
    assert section(got, "B")["skipped"] and section(got, "B")["max"] == 0
    assert got["score"]["percent"] == 100.0
    got = evaluate(MINIMAL, {"A.01": {"result": "pass"}, "A.02": {"points": 20}}
                   | counts(B_01=10, B_02=4))
    assert not section(got, "B")["skipped"]
    assert (got["score"]["total"], got["score"]["max"]) == (70, 100)  # 40 + 60 × 40/80


def test_nothing_answered():
    got = evaluate(MINIMAL, {})
    assert (got["score"]["total"], got["score"]["max"], got["score"]["percent"]) == (0, 40, 0.0)
    assert (got["score"]["assessed"], got["score"]["items"]) == (0, 2)
    assert got["score"]["class"] is None  # nothing assessed: no class yet
    assert evaluate(MINIMAL, {}, confirmed_unanswered=True)["score"]["class"]["code"] == "D"
    assert got["checks"] == [] and got["suggestions"] == []


def test_no_maximum_at_all_has_no_percent_and_no_class():
    got = evaluate(MINIMAL, {"A.01": {"result": "na"}, "A.02": {"result": "na"}})
    assert (got["score"]["max"], got["score"]["percent"], got["score"]["class"]) == \
        (0, None, None)


# ---------------------------------------------------------------- checks, suggestions


def test_failing_rule_is_listed_and_passing_rules_are_not():
    got = evaluate(MINIMAL, counts(B_01=10, B_02=12, B_05=0))
    checks = by_code(got["checks"], "rule_id")
    assert set(checks) == {"R01", "R02"}  # R03: 0 >= 10 - 12 passes
    assert checks["R01"] == {
        "rule_id": "R01", "severity": "error", "status": "fail",
        "message_vi": "Đúng hạn ≤ tổng", "message_en": "On time <= total",
        "items": ["B.01", "B.02"], "reason": None}


def test_rule_defaults_fill_empty_counts():
    got = evaluate(MINIMAL, counts(B_01=10, B_02=7))  # 3 late, slips not entered = 0
    r03 = by_code(got["checks"], "rule_id")["R03"]
    assert r03["status"] == "fail"
    assert by_code(got["suggestions"])["REC.B.02"]["because"] == ["R03"]
    got = evaluate(MINIMAL, counts(B_01=10, B_02=7, B_05=3))
    assert got["checks"] == []


def test_suggestions_follow_item_links_then_section_links():
    got = evaluate(MINIMAL, {
        "A.01": {"result": "fail"},     # linked to REC.A.01
        "A.02": {"result": "partial"},  # no linked recommendation: A's general one
        "A.04": {"result": "fail"},     # the photo is missing: A's general one again
    } | counts(B_01=10, B_02=5, B_05=5))  # B.03 50 % < 80 %
    assert [(s["code"], s["because"]) for s in got["suggestions"]] == [
        ("REC.A.01", ["A.01"]),
        ("REC.A.02", ["A.02", "A.04"]),
        ("REC.B.01", ["B.03"]),
    ]


def test_rule_and_item_reasons_merge_into_one_suggestion():
    template = {**MINIMAL, "rules": [{**MINIMAL["rules"][2], "suggests": ["REC.B.01"]}]}
    got = evaluate(template, counts(B_01=10, B_02=5))
    assert [(s["code"], s["because"]) for s in got["suggestions"]] == \
        [("REC.B.01", ["B.03", "R03"])]


# ---------------------------------------------------------------------------- progress


def test_progress_counts_what_the_inspector_dealt_with():
    got = evaluate(MINIMAL, {
        "A.01": {"result": "pass"}, "A.02": {"points": None}, "A.03": {"text": "  "},
        "A.04": {"value": 2},  # two photos attached
        "B.01": {"value": 3}, "B.02": {"result": "na"}, "B.99": {"value": 1},
    })
    assert got["progress"] == {"answered": 4, "total": 7, "sections": [
        {"code": "A", "answered": 2, "total": 4},
        {"code": "B", "answered": 2, "total": 3},  # ratios are computed, not answered
    ]}


def test_unknown_result_is_refused():
    with pytest.raises(ValueError, match="A.01"):
        evaluate(MINIMAL, {"A.01": {"result": "maybe"}})


def test_result_has_the_shape_of_the_evaluation_endpoint():
    got = evaluate(MINIMAL, counts(B_01=10, B_02=9))
    assert set(got) == {"score", "checks", "indicators", "suggestions", "progress"}
    assert {"total", "max", "percent", "class", "sections"} <= set(got["score"])
    assert {"code", "title_vi", "title_en", "points", "max", "percent"} <= \
        set(got["score"]["sections"][0])
    assert {"code", "indicator", "title_vi", "title_en", "value", "numerator", "denominator",
            "target", "met"} <= set(got["indicators"][0])


@pytest.mark.parametrize("path", DEFAULT_TEMPLATES, ids=lambda p: p.stem)
def test_every_shipped_template_evaluates(path):
    template = load_default(path.stem)
    empty = evaluate(template, {})
    assert empty["checks"] == [] and empty["suggestions"] == []
    assert sum(s["nominal_max"] for s in empty["score"]["sections"]) == 100
    # Everything passed and every ratio on target: full marks.
    observations = {}
    for s in template["sections"]:
        for item in s["items"]:
            if item["kind"] in ("yesno", "score"):
                observations[item["code"]] = {"result": "pass"}
            elif item["kind"] == "count":
                # Every ratio 10 / 10; TTHC.34 sums two counts, so one of them is 0.
                observations[item["code"]] = {"value": 0 if item["code"] == "TTHC.29" else 10}
    full = evaluate(template, observations)
    assert (full["score"]["total"], full["score"]["max"], full["score"]["percent"]) == \
        (100, 100, 100.0)
    assert full["score"]["class"]["code"] == "A"
