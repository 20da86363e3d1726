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
