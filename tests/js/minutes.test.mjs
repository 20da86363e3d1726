// The draft minutes' wording (static/js/minutes.js), as pdf/minutes.py writes it.
import { test } from "node:test";
import assert from "node:assert/strict";

import {
  answerLabel, assessmentRemark, countCell, fmtMeetingTime, fmtNumber, rateCells, recommendationLines, sectionHeading,
} from "../../static/js/minutes.js";

test("numbers and times the Vietnamese way", () => {
  assert.equal(fmtNumber(1081), "1.081");
  assert.equal(fmtNumber(8.5), "8,5");
  assert.equal(fmtNumber(9.333), "9,33");
  assert.equal(fmtNumber(null), "–");
  assert.equal(fmtMeetingTime("8:05"), "08 giờ 05");
  assert.equal(fmtMeetingTime(null), "… giờ …");
});

test("part IV ends with one reporting deadline", () => {
  assert.deepEqual(recommendationLines([{ text: "Niêm yết đủ TTHC.", due_on: "2021-12-31" }], "2022-01-15", "Sở Nội vụ"), [
    "1. Niêm yết đủ TTHC (thời hạn: 31/12/2021);",
    "2. Báo cáo kết quả khắc phục về Sở Nội vụ trước ngày 15/01/2022.",
  ]);
  // A recommendation that asks for the report gets the date in its blank; none is added.
  assert.deepEqual(recommendationLines([{ text: "Báo cáo kết quả khắc phục về Sở Nội vụ trước ngày …/…/…." }], null, "Sở Nội vụ"),
    ["1. Báo cáo kết quả khắc phục về Sở Nội vụ trước ngày …/…/…."]);
  assert.deepEqual(recommendationLines([{ text: "Báo cáo kết quả khắc phục trước ngày .../.../...." }], "2021-11-30", "Sở Nội vụ"),
    ["1. Báo cáo kết quả khắc phục trước ngày 30/11/2021."]);
});

test("headings, rows and the remark say what the PDF says", () => {
  assert.equal(sectionHeading(3, { title: "Cải cách TTHC", points: 9.33, max_points: 26, skipped: false }),
    "3. Cải cách TTHC: đạt 9,33/26 điểm");
  assert.equal(sectionHeading(8, { title: "Khảo sát", points: 0, max_points: 0, skipped: true }), "8. Khảo sát (không đánh giá)");
  assert.equal(countCell({ value: 1081, unit: "hồ sơ" }), "1.081 hồ sơ");
  assert.equal(countCell({ value: null }), "chưa nhập");
  assert.deepEqual(rateCells({ value: 86.5, numerator: 924, denominator: 1068, target: 98, met: false }),
    ["86,5% (924/1.068)", "≥ 98%", "Chưa đạt"]);
  assert.deepEqual(rateCells({ value: null, status: "no_cases", target: null, met: null }), ["không phát sinh", "", "theo dõi"]);
  assert.equal(answerLabel("Phiên bản tiêu chuẩn áp dụng (ví dụ TCVN ISO 9001:2015)"), "Phiên bản tiêu chuẩn áp dụng");
  assert.equal(assessmentRemark({ partial: false }, "x"), "");
  assert.equal(assessmentRemark({ partial: true, assessed: 34, items: 46, not_assessed: ["TC.02", "TC.03"] }, "Thiếu số liệu."),
    "Ghi chú: đã đánh giá 34/46 tiêu chí; 2 tiêu chí chưa được đánh giá (TC.02, TC.03) không được tính điểm. "
    + "Trưởng đoàn duyệt kết quả khi chưa đánh giá đủ, lý do: Thiếu số liệu.");
});
