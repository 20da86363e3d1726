// The inspection page's data (static/js/ui/inspection/page.js) in Node: no DOM is needed to know
// what the page shows — typing not yet committed, unsent marks, locked states, live checks.
import { test } from "node:test";
import assert from "node:assert/strict";

import { inspectionPage } from "../../static/js/ui/inspection/page.js";

const checklist = {
  sections: [{ code: "TTHC", items: [
    { code: "TTHC.20", kind: "count" },
    { code: "TTHC.25", kind: "count" },
    { code: "TTHC.27", kind: "ratio", ratio: { numerator: ["TTHC.25"], denominator: ["TTHC.20"] } },
  ] }, { code: "CDDH", items: [{ code: "CDDH.01", kind: "yesno" }, { code: "CDDH.02", kind: "photo" }] }],
  rules: [{ id: "R1", severity: "error", expr: "TTHC.25 <= TTHC.20" }],
};

/** A stand-in for drafts.js Drafts: `typing` maps "code field" to a value not yet committed. */
function drafts(typing = {}) {
  return { pending: (id, code, field) => (id === 7 ? typing[`${code} ${field}`] : undefined) };
}

function loaded({ state = "in_progress", observations = [], photos = [] } = {}) {
  return {
    checklist,
    assignment: { inspection: { id: 7, state, unit: { name: "Xã A" } } },
    observations: new Map(observations.map((o) => [o.item_code, { inspection_id: 7, ...o }])),
    photos, unsentItems: new Set(), attention: [],
  };
}

test("typing not yet committed is shown instead of the stored value", () => {
  const page = inspectionPage(7, loaded({ observations: [{ item_code: "TTHC.20", value: 1000, note: "sổ" }] }),
    drafts({ "TTHC.20 value": 1081, "CDDH.01 note": "đang gõ" }));
  assert.deepEqual([page.observations.get("TTHC.20").value, page.observations.get("TTHC.20").note], [1081, "sổ"]);
  assert.equal(page.observations.get("CDDH.01").note, "đang gõ");
});

test("an edit is shown at once, marked unsent, and the ratio and checks follow it", () => {
  const page = inspectionPage(7, loaded({ observations: [{ item_code: "TTHC.20", value: 1081 }] }), drafts());
  page.edit("TTHC.25", "value", 1068);
  assert.equal(page.cardState("TTHC.25").unsent, true);
  assert.equal(page.cardState("TTHC.20").unsent, false);
  assert.equal(page.cardState("TTHC.27").ratio.value.toFixed(1), "98.8");
  assert.deepEqual(page.computed().done.sections.TTHC, { answered: 2, total: 2 });
  assert.deepEqual(page.computed().checks, []);
  page.edit("TTHC.25", "value", 2000); // more resolved than received
  assert.deepEqual(page.computed().checks.map((c) => c.rule.id), ["R1"]);
});

test("a photo answers a photo item; approved and signed inspections are read-only", () => {
  const photo = { client_uuid: "u1", item_code: "CDDH.02", status: "queued" };
  const page = inspectionPage(7, loaded({ photos: [photo] }), drafts());
  assert.equal(page.cardState("CDDH.02").answered, true);
  assert.deepEqual(page.cardState("CDDH.02").photos, [photo]);
  assert.equal(page.readOnly(), false);
  for (const state of ["approved", "signed"]) {
    page.load(loaded({ state }));
    assert.equal(page.readOnly(), true, state);
    assert.equal(page.cardState("CDDH.01").readOnly, true);
  }
});

// Conditions and repeat groups: what applies follows the counts as they are typed, and counts
// with a formula follow the samples on the device.
const sampled = {
  sections: [
    { code: "TTHC", items: [
      { code: "TTHC.20", kind: "count" },
      { code: "TTHC.23", kind: "count" },
      { code: "TTHC.50", kind: "yesno", relevant: "TTHC.23 > 0" },
    ] },
    { code: "MAU", relevant: "TTHC.20 > 0", items: [
      { code: "MAU.01", kind: "count", compute: "count(HS)" },
      { code: "MAU.02", kind: "count", compute: "count(HS, HS.TRA <= HS.HEN)" },
    ] },
  ],
  repeats: [{ code: "HS", section: "MAU", min: 2, max: 3, fields: [
    { code: "HS.HEN", kind: "date" }, { code: "HS.TRA", kind: "date" }] }],
  rules: [{ id: "R9", severity: "warning", expr: "share(HS, HS.TRA <= HS.HEN) >= 50" }],
};

function sampledPage(samples = []) {
  return inspectionPage(7, {
    checklist: sampled, assignment: { inspection: { id: 7, state: "in_progress", unit: { kind: "Xã", level: "commune" } } },
    observations: new Map(), photos: [], unsentItems: new Set(), attention: [], samples,
  }, drafts());
}

test("a condition hides criteria and whole sections until the counts make them apply", () => {
  const page = sampledPage();
  let computed = page.computed();
  // Nothing typed yet: undecided conditions keep everything.
  assert.deepEqual([...computed.notApplicable.items], []);
  assert.equal(computed.done.sections.TTHC.total, 3);
  page.edit("TTHC.23", "value", 0);
  page.edit("TTHC.20", "value", 0);
  computed = page.computed();
  assert.deepEqual([...computed.notApplicable.items], ["TTHC.50", "MAU.01", "MAU.02"]);
  assert.deepEqual([...computed.notApplicable.sections], ["MAU"]);
  assert.deepEqual([...computed.notApplicable.groups], ["HS"]);
  assert.equal(computed.done.sections.TTHC.total, 2);
  page.edit("TTHC.23", "value", 4);
  page.edit("TTHC.20", "value", 40);
  computed = page.computed();
  assert.deepEqual([...computed.notApplicable.items], []);
  assert.equal(computed.done.sections.TTHC.total, 3);
  // Counts with a formula are computed, never answered: not in progress.
  assert.equal(computed.done.sections.MAU.total, 0);
});

test("samples on the device feed formulas and rules; one added, changed or removed counts at once", () => {
  const late = { sample_id: "b", group: "HS", fields: { "HS.HEN": "2025-08-10", "HS.TRA": "2025-08-12" } };
  const page = sampledPage([{ sample_id: "a", group: "HS", fields: { "HS.HEN": "2025-08-10", "HS.TRA": "2025-08-09" } }, late]);
  page.edit("TTHC.20", "value", 40);
  let computed = page.computed();
  assert.deepEqual([computed.values["MAU.01"], computed.values["MAU.02"]], [2, 1]);
  assert.deepEqual(computed.checks, []); // 50 % on time
  page.putSample({ ...late, fields: { ...late.fields, "HS.TRA": "2025-08-20" } });
  page.putSample({ sample_id: "c", group: "HS", fields: { "HS.HEN": "2025-08-10", "HS.TRA": "2025-08-30" } });
  computed = page.computed();
  assert.deepEqual([computed.values["MAU.01"], computed.values["MAU.02"]], [3, 1]);
  assert.deepEqual(computed.checks.map((c) => c.rule.id), ["R9"]);
  assert.equal(page.cardState("MAU.01").computed, 3);
  page.dropSample("c");
  page.dropSample("b");
  assert.deepEqual(page.computed().values["MAU.01"], 1);
  // The section does not apply: its group's rule is not checked.
  page.edit("TTHC.20", "value", 0);
  computed = page.computed();
  assert.deepEqual([computed.values["MAU.01"], computed.checks], [undefined, []]);
});
