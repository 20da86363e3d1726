// The closing meeting as the tablet shows it: the server's closing with the device's pending
// ops laid on top (static/js/closing.js), and the helpers of the closing screen.
import { test } from "node:test";
import assert from "node:assert/strict";

import {
  effectiveClosing, findingsOf, nextPosition, openSuggestions, opField, parseTime, presentMembers, reorder,
} from "../../static/js/closing.js";

const server = {
  findings: [
    { id: "f2", kind: "weakness", text: "Chưa niêm yết đủ TTHC", position: 2, version: 3 },
    { id: "f1", kind: "strength", text: "Bộ phận Một cửa gọn gàng", position: 1, version: 1 },
  ],
  recommendations: [{ id: "r1", text: "Niêm yết đủ", item_codes: ["TTHC.05"], library_code: "KN.01", due_on: null, position: 1, version: 2 }],
  meeting_start: "08:00", meeting_end: null, unit_officials: [{ name: "Nông Văn A", position: "Chủ tịch" }],
  team_present: null, unit_comments: "", report_due: null, versions: { meeting_start: 4 },
  minutes_revision: null, can_edit: true, can_approve: true,
};

const op = (type, fields, seq) => ({ seq, type, fields, item_code: "closing", inspection_id: 7 });

test("without pending ops the server's closing is shown as it is, in order", () => {
  const shown = effectiveClosing(server, []);
  assert.deepEqual(shown.findings.map((f) => f.id), ["f1", "f2"]);
  assert.equal(shown.meeting_start, "08:00");
  assert.equal(shown.pending.fields.size, 0);
  assert.equal(server.findings[0].id, "f2", "the server's copy is not reordered in place");
});

test("pending ops apply on top, in the order they were made", () => {
  const shown = effectiveClosing(server, [
    op("closing.set", { meeting_end: "11:30" }, 1),
    op("finding.set", { id: "f3", kind: "weakness", text: "Hồ sơ trễ hạn", position: 3 }, 2),
    op("finding.set", { id: "f1", kind: "strength", text: "Sửa lại", position: 1 }, 3),
    op("finding.delete", { id: "f2" }, 4),
    op("recommendation.set", { id: "r1", text: "Niêm yết đủ 221 TTHC", item_codes: ["TTHC.05"], library_code: "KN.01", due_on: "2021-12-31", position: 1 }, 5),
    op("closing.set", { meeting_end: "11:45" }, 6),
  ]);
  assert.equal(shown.meeting_end, "11:45");
  assert.deepEqual(shown.findings.map((f) => [f.id, f.text]), [["f1", "Sửa lại"], ["f3", "Hồ sơ trễ hạn"]]);
  assert.equal(shown.findings[1].version, 0, "a new finding has no server version yet");
  assert.equal(shown.recommendations[0].due_on, "2021-12-31");
  assert.deepEqual([...shown.pending.fields], ["meeting_end"]);
  assert.deepEqual([...shown.pending.findings].sort(), ["f1", "f2", "f3"]);
  assert.deepEqual(findingsOf(shown, "weakness").map((f) => f.id), ["f3"]);
});

test("an inspection the server sent no closing for starts empty", () => {
  const shown = effectiveClosing(null, [op("closing.set", { unit_comments: "Nhất trí" }, 1)]);
  assert.equal(shown.unit_comments, "Nhất trí");
  assert.deepEqual(shown.findings, []);
  assert.equal(shown.team_present, null);
  assert.equal(shown.can_edit, false);
});

test("each field, finding and recommendation has its own outbox slot", () => {
  assert.equal(opField("closing.set", { meeting_start: "08:00" }), "closing.set:meeting_start");
  assert.equal(opField("finding.delete", { id: "f1" }), opField("finding.set", { id: "f1", text: "x" }));
  assert.notEqual(opField("recommendation.set", { id: "f1" }), opField("finding.set", { id: "f1" }));
});

test("reordering swaps neighbours and renumbers only what moved", () => {
  const rows = [{ id: "a", position: 1 }, { id: "b", position: 2 }, { id: "c", position: 3 }];
  assert.deepEqual(reorder(rows, "c", -1), [{ id: "c", position: 2 }, { id: "b", position: 3 }]);
  assert.deepEqual(reorder(rows, "a", -1), []);
  assert.deepEqual(reorder(rows, "c", 1), []);
  assert.equal(nextPosition(rows), 4);
  assert.equal(nextPosition([]), 1);
});

test("a suggestion already taken is not offered again", () => {
  const shown = effectiveClosing(server, []);
  const left = openSuggestions([{ code: "KN.01" }, { code: "KN.02" }], shown);
  assert.deepEqual(left.map((s) => s.code), ["KN.02"]);
});

test("times of day are read as people write them", () => {
  assert.equal(parseTime("8:05"), "08:05");
  assert.equal(parseTime("14h30"), "14:30");
  assert.equal(parseTime("24:00"), null);
  assert.equal(parseTime("8"), null);
});

test("team members present: everyone until it is recorded", () => {
  const team = [{ user_id: 1 }, { user_id: 2 }, { user_id: 3 }];
  assert.equal(presentMembers(team, { team_present: null }).length, 3);
  assert.deepEqual(presentMembers(team, { team_present: [3, 1] }).map((m) => m.user_id), [1, 3]);
});
