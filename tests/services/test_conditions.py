"""Conditions (``relevant``), computed counts and repeat groups: what applies to an inspection
(shared with static/js/checks.js through tests/data/conditions_cases.json) and how it scores."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from inspection.checklists import DEFAULT_TEMPLATES, load_default
from inspection.checklists.format import validate_template
from inspection.checklists.scoring import applicability, evaluate

DATA = Path(__file__).resolve().parent.parent / "data"
SHARED = json.loads((DATA / "conditions_cases.json").read_text(encoding="utf-8"))
TEMPLATE = validate_template(copy.deepcopy(SHARED["template"]))
LATE = {"HS": [{"HS.HEN": "2025-08-10", "HS.TRA": "2025-08-09"},
               {"HS.HEN": "2025-08-10", "HS.TRA": "2025-08-12"}]}


@pytest.mark.parametrize("case", SHARED["cases"], ids=[c["name"] for c in SHARED["cases"]])
def test_shared_condition_case(case):
    got = applicability(TEMPLATE, case["observations"], unit=case.get("unit"),
                        samples=case.get("samples"))
    assert {"not_applicable": got["not_applicable"], "values": got["values"]} == case["expect"]


def section(result: dict, code: str) -> dict:
    return next(s for s in result["score"]["sections"] if s["code"] == code)


def test_not_applicable_leaves_the_maximum():
    commune = evaluate(TEMPLATE, {"TTHC.23": {"value": 0}, "TTHC.20": {"value": 10}},
                       unit={"kind": "Xã", "level": "commune"}, samples=LATE)
    # TTHC.24 (2 points, no postal dossiers) and the urban section DT (4) leave; TTHC.30 (4)
    # stays because a sampled dossier was late.
    assert (commune["score"]["max"], commune["score"]["total"]) == (4, 0)
    assert section(commune, "DT")["not_applicable"] and section(commune, "DT")["max"] == 0
    assert section(commune, "TTHC")["not_applicable_items"] == ["TTHC.24"]
    ward = evaluate(TEMPLATE, {"TTHC.23": {"value": 3}, "TTHC.24": {"result": "pass"},
                               "TTHC.20": {"value": 10}, "DT.01": {"result": "pass"}},
                    unit={"kind": "Phường"}, samples=LATE)
    assert (ward["score"]["max"], ward["score"]["total"]) == (10, 6)
    assert not section(ward, "DT")["not_applicable"]


def test_an_undecided_condition_keeps_the_item_and_its_points():
    got = evaluate(TEMPLATE, {}, unit=None)  # TTHC.23 not entered yet, unit unknown
    assert got["score"]["max"] == 6  # TTHC.24 (2) and DT.01 (4); TTHC.30 needs a late sample
    assert got["progress"]["total"] == 5  # counts and criteria that apply; TTHC.27 is computed


def test_a_not_applicable_criterion_offers_no_recommendation_and_is_not_progress():
    template = copy.deepcopy(SHARED["template"])
    template["recommendations"] = [{"code": "REC.TTHC.01", "section": "TTHC",
                                    "items": ["TTHC.24"], "text_vi": "Lập sổ",
                                    "text_en": "Keep a register"}]
    template = validate_template(template)
    observations = {"TTHC.23": {"value": 0}, "TTHC.24": {"result": "fail"}}
    got = evaluate(template, observations, unit={"kind": "Xã"})
    assert got["suggestions"] == []
    # TTHC.20 and TTHC.23 count; TTHC.24, 30 and 31 do not apply, TTHC.27 is computed.
    assert got["progress"]["sections"][0] == {"code": "TTHC", "answered": 1, "total": 2}
    observations["TTHC.23"] = {"value": 2}
    assert [s["code"] for s in evaluate(template, observations)["suggestions"]] == \
        ["REC.TTHC.01"]


def test_a_computed_count_feeds_ratios_rules_and_points():
    template = copy.deepcopy(SHARED["template"])
    items = template["sections"][0]["items"]
    items.append({"code": "TTHC.28", "kind": "count", "title_vi": "Hồ sơ mẫu đúng hạn",
                  "title_en": "On-time samples", "compute": "count(HS, HS.TRA <= HS.HEN)"})
    items.append({"code": "TTHC.29", "kind": "count", "title_vi": "Hồ sơ mẫu",
                  "title_en": "Samples", "compute": "count(HS)"})
    items.append({"code": "TTHC.32", "kind": "ratio", "title_vi": "Tỷ lệ mẫu đúng hạn",
                  "title_en": "On-time share of samples", "max_points": 4,
                  "ratio": {"numerator": ["TTHC.28"], "denominator": ["TTHC.29"]},
                  "target": {"op": ">=", "value": 100}})
    template["sections"][0]["max_points"] = 10
    template["scoring"]["scale"] = 14
    template["rules"] = [{"id": "R01", "severity": "warning", "expr": "TTHC.31 >= TTHC.27",
                          "message_vi": "Thiếu phiếu xin lỗi", "message_en": "Slips missing"},
                         {"id": "R02", "severity": "finding",
                          "expr": "share(HS, HS.TRA <= HS.HEN) >= 90",
                          "message_vi": "Mẫu trễ hạn", "message_en": "Late samples"}]
    template = validate_template(template)
    got = evaluate(template, {"TTHC.20": {"value": 40}, "TTHC.31": {"value": 0}},
                   unit={"kind": "Xã"}, samples=LATE)
    ratio = next(i for i in got["indicators"] if i["code"] == "TTHC.32")
    assert (ratio["numerator"], ratio["denominator"], ratio["value"], ratio["points"]) == \
        (1, 2, 50.0, 2.0)
    assert sorted(c["rule_id"] for c in got["checks"]) == ["R01", "R02"]
    # Without samples given, the rule over samples is not checked; the formula counts none.
    quiet = evaluate(template, {"TTHC.20": {"value": 40}, "TTHC.31": {"value": 0}})
    assert [c["rule_id"] for c in quiet["checks"]] == []


def test_sample_counts_outside_the_bounds_are_a_warning():
    got = evaluate(TEMPLATE, {"TTHC.20": {"value": 5}}, samples={"HS": []})
    [check] = got["checks"]
    assert (check["rule_id"], check["severity"], check["status"]) == ("HS", "warning", "fail")
    assert "0 mẫu" in check["message_vi"] and "1 to 5" in check["message_en"]
    assert evaluate(TEMPLATE, {"TTHC.20": {"value": 5}}, samples=LATE)["checks"] == []
    too_many = {"HS": LATE["HS"] * 3}
    assert [c["rule_id"] for c in evaluate(TEMPLATE, {}, samples=too_many)["checks"]] == ["HS"]
    # A group that does not apply needs no samples.
    assert evaluate(TEMPLATE, {"TTHC.20": {"value": 0}}, samples={"HS": []})["checks"] == []


@pytest.mark.parametrize("path", DEFAULT_TEMPLATES, ids=lambda p: p.stem)
def test_shipped_templates_have_no_conditions_and_everything_applies(path):
    template = load_default(path.stem)
    text = json.dumps(template)
    assert '"relevant"' not in text and '"repeats"' not in text and '"compute"' not in text
    got = applicability(template, {}, unit={"kind": "Xã", "level": "commune"})
    assert got["not_applicable"] == {"sections": [], "items": [], "groups": []}
