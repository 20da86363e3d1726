// Runs every shared case in tests/data/rules_cases.json through static/js/rules.js;
// tests/services/test_rules.py runs the same cases through the Python twin.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  parse, evaluate, compute, referencedCodes, checkSyntax, RuleSyntaxError,
} from "../../static/js/rules.js";

const { cases } = JSON.parse(
  readFileSync(new URL("../data/rules_cases.json", import.meta.url), "utf8"),
);

test("shared case file is substantial", () => {
  assert.ok(cases.length >= 80);
  assert.equal(new Set(cases.map((c) => c.name)).size, cases.length);
});

for (const c of cases) {
  test(`shared: ${c.name}`, () => {
    const want = c.mode === "compute" ? "number" : "bool";
    if (c.expect.error) {
      assert.throws(() => parse(c.expr, want), (err) => {
        assert.ok(err instanceof RuleSyntaxError, String(err));
        assert.equal(err.position, c.expect.position, err.message);
        assert.equal(err.code, c.expect.code);
        assert.ok(err.messageEn && err.messageVi);
        return true;
      });
      return;
    }
    const run = want === "number" ? compute : evaluate;
    const outcome = run(c.expr, c.values ?? {}, c.defaults ?? {}, { unit: c.unit, samples: c.samples });
    assert.deepEqual(outcome, c.expect);
  });
}

test("AST can be evaluated repeatedly and lists its codes", () => {
  const ast = parse("TTHC.31 >= (TTHC.25 - TTHC.26) + TTHC.29");
  assert.equal(ast.op, ">=");
  assert.deepEqual(referencedCodes(ast), ["TTHC.25", "TTHC.26", "TTHC.29", "TTHC.31"]);
  assert.deepEqual(referencedCodes("TTHC.01 + TTHC.01 < CQS.04"), ["CQS.04", "TTHC.01"]);
  const values = { "TTHC.25": 1, "TTHC.26": 1, "TTHC.29": 0, "TTHC.31": 0 };
  assert.equal(evaluate(ast, values).status, "pass");
  assert.equal(evaluate(ast, new Map(Object.entries(values))).status, "pass");
});

test("JS-only values count as missing", () => {
  for (const v of [NaN, Infinity, -Infinity, 3n, "3", [3], {}, true, undefined, null]) {
    assert.deepEqual(evaluate("TTHC.01 == 3", { "TTHC.01": v }),
      { status: "unknown", missing: ["TTHC.01"], reason: "missing_values" });
    assert.equal(evaluate("TTHC.01 == 3", { "TTHC.01": v }, { "TTHC.01": 3 }).status, "pass");
  }
});

test("prototype properties are not values", () => {
  const values = Object.create({ "TTHC.01": 3 });
  assert.equal(evaluate("TTHC.01 == 3", values).status, "unknown");
  assert.equal(evaluate("TTHC.01 == 3", null, undefined).status, "unknown");
});

test("errors: shape and checkSyntax", () => {
  const err = checkSyntax("TTHC.01 == 1; import os");
  assert.ok(err instanceof RuleSyntaxError && err instanceof Error);
  assert.equal(err.name, "RuleSyntaxError");
  assert.equal(err.position, 12);
  assert.match(err.messageVi, /';'/);
  assert.equal(checkSyntax("TTHC.01 <= TTHC.02"), null);
  assert.throws(() => parse(42), TypeError);
});

test("hostile nesting never overflows the stack", () => {
  for (let n = 1; n <= 250; n++) {
    for (const expr of ["(".repeat(n) + "1<2" + ")".repeat(n), "-".repeat(n) + "1<2"]) {
      try { evaluate(expr, {}); } catch (err) { assert.ok(err instanceof RuleSyntaxError); }
    }
  }
  assert.throws(() => parse("(".repeat(1e6)), (err) => err.position === 500);
});
