"""Rule language: shared cases (also run by tests/js/rules.test.mjs) plus Python-only checks."""

from __future__ import annotations

import json
import math
import random
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run without the shared conftest (pytest --noconftest)
    sys.path.insert(0, str(ROOT))

from inspection.checklists import rules  # noqa: E402
from inspection.checklists.rules import (  # noqa: E402
    MAX_LENGTH,
    Node,
    RuleOutcome,
    RuleSyntaxError,
    check_syntax,
    evaluate,
    parse,
    referenced_codes,
)

CASES = json.loads((ROOT / "tests/data/rules_cases.json").read_text(encoding="utf-8"))["cases"]
CHECKLIST = ROOT.parent / "shared/reference/checklist-cchc.json"  # shared/ sits beside the repo


def test_shared_case_file_is_substantial():
    assert len(CASES) >= 80
    assert len({c["name"] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_shared_case(case):
    expect = case["expect"]
    want = "number" if case.get("mode") == "compute" else "bool"
    if expect.get("error"):
        with pytest.raises(RuleSyntaxError) as info:
            parse(case["expr"], want)
        assert info.value.position == expect["position"], info.value
        assert info.value.code == expect["code"]
        assert info.value.message_en and info.value.message_vi
        return
    run = rules.compute if want == "number" else evaluate
    outcome = run(case["expr"], case.get("values", {}), case.get("defaults", {}),
                  unit=case.get("unit"), samples=case.get("samples"))
    assert outcome.as_dict() == expect


def test_js_suite_passes():
    """The JS twin runs the same cases; keep it inside the Python suite so CI cannot miss it."""
    node = shutil.which("node")
    assert node, "node is required to test static/js/rules.js"
    proc = subprocess.run([node, "--test", "tests/js/"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]


def test_error_messages_match_js():
    """Both implementations show the same English and Vietnamese text for every shared error."""
    node = shutil.which("node")
    assert node, "node is required to test static/js/rules.js"
    script = """
        import { parse } from "./static/js/rules.js";
        import { readFileSync } from "node:fs";
        const { cases } = JSON.parse(readFileSync("tests/data/rules_cases.json", "utf8"));
        const out = [];
        for (const c of cases.filter((c) => c.expect.error)) {
          const want = c.mode === "compute" ? "number" : "bool";
          try { parse(c.expr, want); out.push(null); }
          catch (e) { out.push([e.messageEn, e.messageVi]); }
        }
        process.stdout.write(JSON.stringify(out));
    """
    proc = subprocess.run([node, "--input-type=module", "-e", script], cwd=ROOT,
                          capture_output=True, text=True, encoding="utf-8", timeout=60)
    assert proc.returncode == 0, proc.stderr
    js = json.loads(proc.stdout)
    errors = [check_syntax(c["expr"], "number" if c.get("mode") == "compute" else "bool")
              for c in CASES if c["expect"].get("error")]
    py = [[e.message_en, e.message_vi] for e in errors]
    assert py == js


def test_checklist_rules_parse():
    if not CHECKLIST.exists():
        pytest.skip("shared reference checklist not present; the shared cases cover R01-R16")
    for rule in json.loads(CHECKLIST.read_text(encoding="utf-8"))["rules"]:
        if rule["id"] not in ("R17", "R18"):  # those two are prose, not expressions
            assert check_syntax(rule["expr"]) is None, rule


def test_error_shape():
    err = check_syntax("TTHC.01 == 1; import os")
    assert isinstance(err, RuleSyntaxError) and isinstance(err, ValueError)
    assert (err.position, err.code) == (12, "bad_char")
    assert "';'" in err.message_en and "';'" in err.message_vi
    assert "12" in str(err)
    assert check_syntax("TTHC.01 <= TTHC.02") is None
    with pytest.raises(TypeError):
        parse(None)  # type: ignore[arg-type]


def test_ast_and_referenced_codes():
    node = parse("TTHC.31 >= (TTHC.25 - TTHC.26) + TTHC.29")
    assert isinstance(node, Node) and node.kind == "bin" and node.op == ">="
    assert node.args[0] == Node("code", 0, value="TTHC.31")
    assert referenced_codes(node) == referenced_codes(node.args[1]) | {"TTHC.31"}
    assert referenced_codes("TTHC.01 + TTHC.01 < CQS.04") == frozenset({"TTHC.01", "CQS.04"})
    # A parsed AST can be evaluated repeatedly without re-parsing.
    assert evaluate(node, {"TTHC.25": 1, "TTHC.26": 1, "TTHC.29": 0, "TTHC.31": 0}).status == "pass"


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -math.inf, 10**400, True, False,
                                   Decimal("3"), "3", [3], None])
def test_python_values_that_count_as_missing(value):
    outcome = evaluate("TTHC.01 == 3", {"TTHC.01": value})
    assert outcome == RuleOutcome("unknown", ["TTHC.01"], "missing_values")
    assert evaluate("TTHC.01 == 3", {"TTHC.01": value}, {"TTHC.01": 3}).status == "pass"


def test_python_numbers_that_count():
    assert evaluate("TTHC.01 == 3", {"TTHC.01": 3}).status == "pass"
    assert evaluate("TTHC.01 == 3", {"TTHC.01": 3.0}).status == "pass"
    assert evaluate("TTHC.01 == 3", {"TTHC.01": 10**15 * 3 // 10**15}).status == "pass"
    # Big Python ints are compared as floats, exactly as the tablet would.
    assert evaluate("TTHC.01 > 999999999999999", {"TTHC.01": 10**300}).status == "pass"


def test_values_may_be_none_and_defaults_optional():
    assert evaluate("1 < 2", None).as_dict() == {"status": "pass", "missing": [], "reason": None}
    assert evaluate("TTHC.01 < 2", {}).missing == ["TTHC.01"]


def _deepest_stack(expr: str) -> int:
    """Maximum Python call depth reached while parsing and evaluating ``expr``."""
    depth = deepest = 0

    def tracer(frame, event, arg):
        nonlocal depth, deepest
        if event == "call":
            depth += 1
            deepest = max(deepest, depth)
        elif event == "return":
            depth -= 1

    sys.setprofile(tracer)
    try:
        try:
            evaluate(expr, {})
        except RuleSyntaxError:
            pass
    finally:
        sys.setprofile(None)
    return deepest


@pytest.mark.parametrize("expr", [
    "(" * 250 + ")" * 250,
    "(" * 60 + "1 < 2" + ")" * 60,
    "-" * 499 + "1",
    "-(" * 40 + "1<2" + ")" * 40,
    "(-" * 40 + "1<2" + ")" * 40,
    "(" * 31 + "1 < 2" + ")" * 31,
    "(" * 30 + "1 < 2" + ")" * 30,
    "-" * 30 + "1 < 2",
    "+".join(["1"] * 31) + " == 31",
    "(" * 10000,
])
def test_no_deep_recursion(expr):
    """Hostile nesting is refused with a bounded stack, far below Python's recursion limit."""
    assert _deepest_stack(expr) < 400


def test_no_recursion_error_for_any_short_nesting():
    for n in range(1, MAX_LENGTH // 2 + 1):
        for expr in ("(" * n + "1<2" + ")" * n, "-" * n + "1<2", "(-" * (n // 2) + "1<2"):
            if len(expr) <= MAX_LENGTH:
                try:
                    evaluate(expr, {})
                except RuleSyntaxError:
                    pass


def test_no_eval_or_ast_in_sources():
    for path in (Path(rules.__file__), ROOT / "static/js/rules.js"):
        text = path.read_text(encoding="utf-8")
        # Method calls such as re.compile( or regex.exec( are fine; bare builtins are not.
        for banned in ("eval", "exec", "compile", "Function", "literal_eval", "__import__"):
            pattern = rf"(?<![.\w]){banned}\s*\("
            assert not re.search(pattern, text), (path, banned)
        assert not re.search(r"^\s*(import|from) ast\b", text, re.M), path


def _random_rules(rng: random.Random, count: int) -> list[str]:
    """Grammar-shaped rules, then the same with a random edit, so both valid and broken input."""
    atoms = ["TTHC.01", "TTHC.02", "CQS.04", "0", "1", "2.5", "0.1", "0.2", "999999999999999"]

    def num(d: int) -> str:
        r = rng.random()
        if d <= 0 or r < 0.4:
            return rng.choice(atoms)
        if r < 0.5:
            return f"-{num(d - 1)}"
        if r < 0.6:
            return f"({num(d - 1)})"
        return f"{num(d - 1)} {rng.choice('+-*/')} {num(d - 1)}"

    def cond(d: int) -> str:
        r = rng.random()
        if d <= 0 or r < 0.5:
            return f"{num(2)} {rng.choice(['==', '!=', '<', '<=', '>', '>='])} {num(2)}"
        if r < 0.6:
            return f"({cond(d - 1)})"
        return f"{cond(d - 1)} {rng.choice(['and', 'or'])} {cond(d - 1)}"

    noise = list("()+-*/<>=!. _a1") + ["and", "or", "TTHC.01", "1e5"]
    out = []
    for _ in range(count):
        expr = cond(3)
        out.append(expr)
        i = rng.randrange(len(expr) + 1)
        cut = rng.choice([0, 0, 1, 2])
        out.append(expr[:i] + rng.choice(["", *noise]) + expr[i + cut:])
    return out


def test_python_and_js_agree_on_random_rules(tmp_path):
    """Differential check beyond the hand-written cases: same outcome or same error position."""
    node = shutil.which("node")
    assert node, "node is required to test static/js/rules.js"
    rng = random.Random(20240501)
    choices = [0, 1, 2, 2.5, 0.1, -3, 1e200, None, "7", True]
    cases = [{"expr": e,
              "values": {c: rng.choice(choices) for c in ("TTHC.01", "TTHC.02", "CQS.04")},
              "defaults": {"CQS.04": rng.choice([0, 5, None])}}
             for e in _random_rules(rng, 1500)]
    (tmp_path / "in.json").write_text(json.dumps(cases), encoding="utf-8")
    script = """
        import { evaluate } from "./static/js/rules.js";
        import { readFileSync } from "node:fs";
        const cases = JSON.parse(readFileSync(process.argv[1], "utf8"));
        const out = cases.map((c) => {
          try { return evaluate(c.expr, c.values, c.defaults); }
          catch (e) { return { error: e.code, position: e.position }; }
        });
        process.stdout.write(JSON.stringify(out));
    """
    proc = subprocess.run([node, "--input-type=module", "-e", script, str(tmp_path / "in.json")],
                          cwd=ROOT, capture_output=True, text=True, encoding="utf-8", timeout=60)
    assert proc.returncode == 0, proc.stderr
    js = json.loads(proc.stdout)
    valid = 0
    for case, js_result in zip(cases, js, strict=True):
        try:
            py_result = evaluate(case["expr"], case["values"], case["defaults"]).as_dict()
            valid += 1
        except RuleSyntaxError as exc:
            py_result = {"error": exc.code, "position": exc.position}
        assert py_result == js_result, case
    assert valid > 1000  # the generator must exercise evaluation, not only errors


def _random_conditions(rng: random.Random, count: int) -> list[str]:
    """Conditions with unit tests and aggregates over samples, then each with a random edit."""
    numbers = ["TTHC.01", "1", "2.5", "0", "count(HS)", "sum(HS, HS.SO)", "sum(HS, HS.B - HS.A)",
               "share(HS, HS.OK == 1)", "count(HS, HS.SO > TTHC.01)", "share(HS; HS.B <= HS.A)"]
    texts = ['unit.kind', 'unit.level', '"Xã"', "'phường'", '"commune"', '""']

    def cond(d: int) -> str:
        r = rng.random()
        if d <= 0 or r < 0.5:
            if rng.random() < 0.3:
                return f"{rng.choice(texts)} {rng.choice(['==', '!='])} {rng.choice(texts)}"
            return f"{rng.choice(numbers)} {rng.choice(['==', '<', '>='])} {rng.choice(numbers)}"
        return f"{cond(d - 1)} {rng.choice(['and', 'or'])} {cond(d - 1)}"

    noise = ['"', "'", ",", ";", "(", ")", "count", "unit.", "HS", "sum(", " == "]
    out = []
    for _ in range(count):
        expr = cond(2)
        out.append(expr)
        i = rng.randrange(len(expr) + 1)
        out.append(expr[:i] + rng.choice(["", *noise]) + expr[i + rng.choice([0, 1, 3]):])
    return out


def test_python_and_js_agree_on_random_conditions(tmp_path):
    """The same differential check for texts, unit attributes and aggregates over samples."""
    node = shutil.which("node")
    assert node, "node is required to test static/js/rules.js"
    rng = random.Random(20251117)
    field_values = [0, 1, 7, 2.5, True, False, None, "2025-08-01", "2025-02-30", "x", -1e300]

    def sample() -> dict:
        return {f: rng.choice(field_values) for f in ("HS.SO", "HS.OK", "HS.A", "HS.B")
                if rng.random() < 0.85}

    cases = [{"expr": e, "values": {"TTHC.01": rng.choice([0, 3, None])},
              "unit": rng.choice([None, {"kind": "Xã", "level": "commune"},
                                  {"kind": "PHƯỜNG"}, {"kind": 3}]),
              "samples": {"HS": [sample() for _ in range(rng.choice([0, 1, 3]))]}}
             for e in _random_conditions(rng, 600)]
    (tmp_path / "in.json").write_text(json.dumps(cases), encoding="utf-8")
    script = """
        import { evaluate } from "./static/js/rules.js";
        import { readFileSync } from "node:fs";
        const cases = JSON.parse(readFileSync(process.argv[1], "utf8"));
        const out = cases.map((c) => {
          try { return evaluate(c.expr, c.values, {}, { unit: c.unit, samples: c.samples }); }
          catch (e) { return { error: e.code, position: e.position }; }
        });
        process.stdout.write(JSON.stringify(out));
    """
    proc = subprocess.run([node, "--input-type=module", "-e", script, str(tmp_path / "in.json")],
                          cwd=ROOT, capture_output=True, text=True, encoding="utf-8", timeout=60)
    assert proc.returncode == 0, proc.stderr
    statuses = set()
    for case, js_result in zip(cases, json.loads(proc.stdout), strict=True):
        try:
            py_result = evaluate(case["expr"], case["values"], unit=case["unit"],
                                 samples=case["samples"]).as_dict()
            statuses.add(py_result["status"])
        except RuleSyntaxError as exc:
            py_result = {"error": exc.code, "position": exc.position}
        assert py_result == js_result, case
    assert statuses == {"pass", "fail", "unknown"}
