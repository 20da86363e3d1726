// Runs tests/data/conditions_cases.json through static/js/checks.js `applicability`;
// tests/services/test_conditions.py runs the same cases through scoring.applicability.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { applicability } from "../../static/js/checks.js";

const { template, cases } = JSON.parse(
  readFileSync(new URL("../data/conditions_cases.json", import.meta.url), "utf8"),
);

test("shared condition cases exist", () => {
  assert.ok(cases.length >= 8);
});

for (const c of cases) {
  test(`conditions: ${c.name}`, () => {
    const got = applicability(template, new Map(Object.entries(c.observations)),
      { unit: c.unit, samples: c.samples });
    assert.deepEqual({ not_applicable: got.notApplicable, values: got.values }, c.expect);
  });
}
