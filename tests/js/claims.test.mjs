// The unit's self-assessment on the tablet (issue 16): what "Confirm" copies, which criteria
// differ from the claim, and how many per section (static/js/claims.js).
import { test } from "node:test";
import assert from "node:assert/strict";

import { claimOf, confirmFields, differingBySection, differs, evidenceOf, threadsOf } from "../../static/js/claims.js";

const yesno = { code: "CDDH.10", kind: "yesno" };
const score = { code: "TC.03", kind: "score", max_points: 2 };
const count = { code: "TTHC.25", kind: "count" };
const text = { code: "TT.01", kind: "text" };

const sa = {
  state: "submitted",
  claims: [
    { item_code: "CDDH.10", result: "fail", points: null, value: null, text: null, note: "Chưa có QĐ", explanation: "Chưa ban hành", evidence: [] },
    { item_code: "TC.03", result: "partial", points: 1.5, value: null, text: null, note: null, explanation: null, evidence: [12, 11] },
    { item_code: "TTHC.25", result: null, points: null, value: 221, text: null, note: null, explanation: null, evidence: [99] },
    { item_code: "TT.01", result: null, points: null, value: null, text: "Có niêm yết", note: null, explanation: null, evidence: [] },
  ],
  evidence: [
    { id: 11, name: "ke-hoach.pdf", content_type: "application/pdf", size: 1000, url: "/e/11" },
    { id: 12, name: "anh.jpg", content_type: "image/jpeg", size: 2000, url: "/e/12" },
    { id: 13, name: "qd-1187.pdf", content_type: "application/pdf", size: 3000, url: "/e/13" },
  ],
  explanations: [{ item_code: "CDDH.10", question: "Vì sao?", asked_at: "2021-10-01T02:00:00Z", answer: "Có QĐ 1187", answered_at: null, evidence: [13] }],
};

test("Confirm copies the fields the kind records, never the unit's note", () => {
  assert.deepEqual(confirmFields(yesno, claimOf(sa, "CDDH.10")), { result: "fail" });
  assert.deepEqual(confirmFields(score, claimOf(sa, "TC.03")), { result: "partial", points: 1.5 });
  assert.deepEqual(confirmFields(count, claimOf(sa, "TTHC.25")), { value: 221 });
  assert.deepEqual(confirmFields(text, claimOf(sa, "TT.01")), { text: "Có niêm yết" });
  assert.deepEqual(confirmFields(yesno, claimOf(sa, "NONE")), {}, "no claim, nothing to confirm");
  const computed = { ...count, compute: "TTHC.26 + TTHC.27" };
  assert.deepEqual(confirmFields(computed, claimOf(sa, "TTHC.25")), {}, "a count from its formula is not typed");
  assert.equal(differs(computed, claimOf(sa, "TTHC.25"), { value: 3 }), false);
  assert.deepEqual(confirmFields({ code: "TTHC.25", kind: "ratio" }, claimOf(sa, "TTHC.25")), {}, "a ratio is computed");
  assert.deepEqual(confirmFields(yesno, claimOf(null, "CDDH.10")), {}, "no self-assessment submitted");
});

test("an observation differs when a recorded scoring field is not what was claimed", () => {
  const claim = claimOf(sa, "CDDH.10");
  assert.equal(differs(yesno, claim, { result: "pass" }), true);
  assert.equal(differs(yesno, claim, { result: "fail" }), false);
  assert.equal(differs(yesno, claim, { note: "chưa xem" }), false, "not yet appraised: no difference");
  assert.equal(differs(yesno, claim, undefined), false);
  assert.equal(differs(yesno, null, { result: "pass" }), false, "no claim: nothing to differ from");
  const scored = claimOf(sa, "TC.03");
  assert.equal(differs(score, scored, { result: "partial", points: 1.5 }), false);
  assert.equal(differs(score, scored, { result: "partial", points: 1 }), true, "same result, other points");
  assert.equal(differs(count, claimOf(sa, "TTHC.25"), { value: 221 }), false);
  assert.equal(differs(count, claimOf(sa, "TTHC.25"), { value: 220 }), true);
  assert.equal(differs(text, claimOf(sa, "TT.01"), { text: "Khác" }), false, "wording is not a difference");
  assert.equal(differs(score, { item_code: "TC.03", result: "pass", points: null }, { result: "pass", points: 2 }), true,
    "points the unit did not claim differ");
});

test("the section list counts the criteria that differ, per section", () => {
  const checklist = { sections: [
    { code: "CDDH", items: [yesno] }, { code: "TC", items: [score, text] }, { code: "TTHC", items: [count] },
  ] };
  const observations = new Map([
    ["CDDH.10", { result: "pass" }], ["TC.03", { result: "pass", points: 2 }], ["TTHC.25", { value: 221 }],
  ]);
  assert.deepEqual([...differingBySection(checklist, sa, observations)], [["CDDH", 1], ["TC", 1]]);
  observations.set("CDDH.10", { result: "fail" }); // confirmed
  assert.deepEqual([...differingBySection(checklist, sa, observations)], [["TC", 1]]);
  assert.equal(differingBySection(checklist, null, observations).size, 0);
});

test("a claim's files and explanation threads come with their metadata, in the claim's order", () => {
  assert.deepEqual(evidenceOf(sa, claimOf(sa, "TC.03")).map((e) => e.name), ["anh.jpg", "ke-hoach.pdf"]);
  assert.deepEqual(evidenceOf(sa, claimOf(sa, "TTHC.25")), [], "an unknown file id is left out");
  const [thread] = threadsOf(sa, "CDDH.10");
  assert.equal(thread.answer, "Có QĐ 1187");
  assert.deepEqual(thread.files.map((f) => f.url), ["/e/13"]);
  assert.deepEqual(threadsOf(sa, "TC.03"), []);
});
