"""The draft minutes on the tablet (static/js/scoring.js, static/js/minutes.js) print the points,
percents, class, unassessed criteria and part II rows the PDF prints (checklists/scoring.py,
services/minutes_data.py), and the closing screen suggests the review page's recommendations:
the same observations go through both."""
from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from inspection.checklists import DEFAULT_TEMPLATES, scoring
from inspection.checklists.format import load_template_json
from inspection.services.minutes_data import sections_from_evaluation

ROOT = Path(__file__).resolve().parents[2]

NODE_SCRIPT = """
import { readFileSync } from "node:fs";
import { compileRules, countValues, failingChecks } from "./static/js/checks.js";
import { evaluateScore, suggestRecommendations } from "./static/js/scoring.js";
import { minutesSections } from "./static/js/minutes.js";
const cases = JSON.parse(readFileSync(0, "utf8"));
const out = cases.map(({ template, observations, confirmed }) => {
  const obs = new Map(Object.entries(observations));
  const evaluation = evaluateScore(template, obs, { confirmedUnanswered: confirmed });
  const s = evaluation.score;
  const failing = failingChecks(compileRules(template), countValues(template, obs));
  const sections = minutesSections(template, obs, evaluation, false);
  return {
    score: [s.total, s.max, s.percent, s.class && s.class.code, s.assessed, s.items,
      s.not_assessed],
    sections: s.sections.map((x) => [x.code, x.points, x.max, x.skipped]),
    suggestions: suggestRecommendations(template, obs, failing).map((x) => [x.code, x.because]),
    rows: sections.map((x) => [x.criteria.map((r) => [r.code, r.result, r.points]),
      x.counts.map((r) => [r.code, r.value]), x.rates.map((r) => [r.code, r.value, r.status]),
      x.notes, x.unassessed]),
  };
});
process.stdout.write(JSON.stringify(out));
"""


def random_observations(template: dict, rng: random.Random) -> dict:
    """Results (na and points included), counts (zeros included), texts and notes."""
    observations = {}
    for section in template["sections"]:
        for item in section["items"]:
            roll = rng.random()
            if roll < 0.2:
                continue
            if item["kind"] == "count":
                obs = {"value": rng.choice([0, 1, 5, 13, 94, 434, 1081]), "note": None}
                if roll > 0.93:
                    obs["result"] = "na"
            elif item["kind"] == "score" and roll > 0.8:
                obs = {"points": rng.choice([0, 0.5, 1, 2.5, 99])}
            elif item["kind"] in ("yesno", "score"):
                obs = {"result": rng.choice(["pass", "partial", "fail", "na"]),
                       "note": rng.choice([None, "", "Có biên bản"])}
            elif item["kind"] in ("text", "photo"):
                obs = {"text": rng.choice(["", "  ", "Có biên bản"]),
                       "note": rng.choice([None, "x"])}
            else:
                obs = {"result": "na"} if roll > 0.9 else {"note": "ghi chú"}
            observations[item["code"]] = obs
    return observations


def python_view(template: dict, observations: dict, confirmed: bool) -> dict:
    result = scoring.evaluate(template, observations, confirmed_unanswered=confirmed)
    s = result["score"]
    sections = sections_from_evaluation(template, observations, result)
    return {
        "score": [s["total"], s["max"], s["percent"], (s["class"] or {}).get("code"),
                  s["assessed"], s["items"], s["not_assessed"]],
        "sections": [[x["code"], x["points"], x["max"], x["skipped"]] for x in s["sections"]],
        "suggestions": [[x["code"], x["because"]] for x in result["suggestions"]],
        "rows": [[[[r.code, r.result, r.points] for r in x.criteria],
                  [[r.code, r.value] for r in x.counts],
                  [[r.code, r.value, r.status] for r in x.rates],
                  list(x.notes), list(x.unassessed)] for x in sections],
    }


@pytest.mark.skipif(shutil.which("node") is None, reason="node runs static/js/scoring.js")
def test_the_draft_minutes_and_the_pdf_compute_the_same_score_rows_and_suggestions():
    rng = random.Random(30)
    cases = []
    for path in DEFAULT_TEMPLATES:
        template = load_template_json(path.read_bytes())
        for n in range(12):
            cases.append({"template": template, "observations": random_observations(template, rng),
                          "confirmed": n % 2 == 0})
    proc = subprocess.run(["node", "--input-type=module", "-e", NODE_SCRIPT], cwd=ROOT,
                          input=json.dumps(cases), capture_output=True, text=True,
                          encoding="utf-8", timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    device = json.loads(proc.stdout)
    suggested = 0
    for case, seen in zip(cases, device, strict=True):
        expected = python_view(case["template"], case["observations"], case["confirmed"])
        assert seen == json.loads(json.dumps(expected))
        suggested += len(seen["suggestions"])
    assert suggested > 0  # the random results do fall short somewhere
