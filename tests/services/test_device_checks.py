"""The field app computes progress, ratios and consistency checks on the tablet (static/js/
checks.js, offline); the office pages compute them on the server (checklists/scoring.py). Both must
show the inspector and the leader the same thing, so the same observations go through both."""
from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from inspection.checklists import DEFAULT_TEMPLATES, scoring
from inspection.checklists.format import load_template_json
from inspection.services.demo import HA_LANG_FIGURES, HA_LANG_RESULTS, HA_LANG_TEXTS

ROOT = Path(__file__).resolve().parents[2]
NODE_SCRIPT = """
import { readFileSync } from "node:fs";
import { compileRules, computeRatio, countValues, failingChecks, progress }
  from "./static/js/checks.js";
const cases = JSON.parse(readFileSync(0, "utf8"));
const out = cases.map(({ template, observations }) => {
  const obs = new Map(Object.entries(observations));
  const values = countValues(template, obs);
  const checks = failingChecks(compileRules(template), values)
    .map((c) => [c.rule.id, c.status, c.reason]);
  const ratios = template.sections.flatMap((s) => s.items).filter((i) => i.kind === "ratio")
    .map((i) => { const r = computeRatio(i, values, obs.get(i.code));
                  const value = r.value === null ? null : Math.round(r.value * 10) / 10;
                  return [i.code, r.status, value, r.met]; });
  const done = progress(template, obs);
  return { checks, ratios, progress: [done.answered, done.total,
    Object.entries(done.sections).map(([code, p]) => [code, p.answered, p.total])] };
});
process.stdout.write(JSON.stringify(out));
"""


def random_observations(template: dict, rng: random.Random) -> dict:
    """Counts (zeros included), results (na included), texts: what an inspection may hold."""
    observations = {}
    for section in template["sections"]:
        for item in section["items"]:
            roll = rng.random()
            if roll < 0.25:
                continue
            if item["kind"] == "count":
                obs = {"value": rng.choice([0, 0, 1, 5, 13, 94, 434, 1081])}
                if roll > 0.93:
                    obs["result"] = "na"
            elif item["kind"] in ("yesno", "score"):
                obs = {"result": rng.choice(["pass", "partial", "fail", "na"])}
            elif item["kind"] in ("text", "photo"):
                obs = {"text": rng.choice(["", "  ", "Có biên bản"])}
            else:
                obs = {"result": "na"} if roll > 0.9 else {"note": "ghi chú"}
            observations[item["code"]] = obs
    return observations


def python_view(template: dict, observations: dict) -> dict:
    result = scoring.evaluate(template, observations)
    progress = result["progress"]
    return {
        "checks": [[c["rule_id"], c["status"], c["reason"]] for c in result["checks"]],
        "ratios": [[i["code"], i["status"], i["value"], i["met"]] for i in result["indicators"]],
        "progress": [progress["answered"], progress["total"],
                     [[p["code"], p["answered"], p["total"]] for p in progress["sections"]]],
    }


@pytest.mark.skipif(shutil.which("node") is None,
                    reason="node is needed to run static/js/checks.js")
def test_the_tablet_and_the_server_see_the_same_progress_ratios_and_checks():
    rng = random.Random(2021)
    cases = []
    for path in DEFAULT_TEMPLATES:
        template = load_template_json(path.read_bytes())
        for _ in range(15):
            cases.append({"template": template, "observations": random_observations(template, rng)})
    huyen = load_template_json((ROOT / "inspection/checklists/cchc-huyen.json").read_bytes())
    demo = {code: {"value": v} for code, v in HA_LANG_FIGURES.items()}
    demo |= {code: {"result": r} for code, r in HA_LANG_RESULTS.items()}
    demo |= {code: {"text": t} for code, t in HA_LANG_TEXTS.items()}
    cases.append({"template": huyen, "observations": demo})

    proc = subprocess.run(["node", "--input-type=module", "-e", NODE_SCRIPT], cwd=ROOT,
                          input=json.dumps(cases), capture_output=True, text=True,
                          encoding="utf-8", timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    device = json.loads(proc.stdout)
    for case, seen in zip(cases, device, strict=True):
        assert seen == python_view(case["template"], case["observations"])
    # The demo inspection of Hạ Lang: one finding (apology slips), on-time rate 86.5 % < 98 %.
    assert [c[0] for c in device[-1]["checks"]] == ["R08"]
    assert ["TTHC.32", "computed", 86.5, False] in device[-1]["ratios"]
