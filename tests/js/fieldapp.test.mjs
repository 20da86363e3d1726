// Pure functions of the field app, in Node (no browser needed): backoff, number entry, tus
// metadata, photo sizing, jump-box codes. The modules they live in must import without a DOM.
import { test } from "node:test";
import assert from "node:assert/strict";

import { backoffDelay } from "../../static/js/sync.js";
import { encodeMetadata, upload } from "../../static/js/tus.js";
import { fitWithin } from "../../static/js/photos.js";
import { normaliseCode } from "../../static/js/checks.js";
import { parseCount, parsePoints } from "../../static/js/ui/item/values.js";

test("backoff doubles from 2 s and never exceeds 5 minutes", () => {
  const middle = () => 0.5; // no jitter
  assert.deepEqual([1, 2, 3, 4].map((n) => backoffDelay(n, 2000, 300000, middle)), [2000, 4000, 8000, 16000]);
  assert.equal(backoffDelay(9, 2000, 300000, middle), 300000);
  assert.equal(backoffDelay(50, 2000, 300000, () => 0.999), 300000);
  assert.ok(backoffDelay(3, 2000, 300000, () => 0) >= 6400);
});

test("counts are whole numbers, with Vietnamese or spaced thousands", () => {
  assert.equal(parseCount("1081"), 1081);
  assert.equal(parseCount("1.081"), 1081);
  assert.equal(parseCount(" 3 601 "), 3601);
  assert.equal(parseCount(""), null);
  for (const bad of ["-1", "1,5", "1.5", "12a", "1.08"]) assert.ok(Number.isNaN(parseCount(bad)), bad);
});

test("points accept a decimal comma", () => {
  assert.equal(parsePoints("1,5"), 1.5);
  assert.equal(parsePoints("2"), 2);
  assert.equal(parsePoints(""), null);
  assert.ok(Number.isNaN(parsePoints("-1")));
});

test("tus metadata is key base64(UTF-8 value), empty values left out", () => {
  const header = encodeMetadata({ caption: "Bộ phận Một cửa", item_code: "TTHC.41", latitude: null, filename: "" });
  const pairs = Object.fromEntries(header.split(",").map((p) => p.split(" ")));
  assert.deepEqual(Object.keys(pairs), ["caption", "item_code"]);
  assert.equal(Buffer.from(pairs.caption, "base64").toString("utf8"), "Bộ phận Một cửa");
});

test("photos shrink to a long side of 2048 px and are never enlarged", () => {
  assert.deepEqual(fitWithin(4000, 3000, 2048), { width: 2048, height: 1536 });
  assert.deepEqual(fitWithin(3000, 4000, 2048), { width: 1536, height: 2048 });
  assert.deepEqual(fitWithin(800, 600, 2048), { width: 800, height: 600 });
});

test("the jump box understands sloppy codes", () => {
  assert.equal(normaliseCode("tthc25"), "TTHC.25");
  assert.equal(normaliseCode(" TTHC 25 "), "TTHC.25");
  assert.equal(normaliseCode("cddh.1"), "CDDH.01");
  assert.equal(normaliseCode("TTHC"), "TTHC");
});

test("tus: every byte on the server but no photo yet (it was busy): an empty chunk finishes it", async () => {
  const blob = new Blob([new Uint8Array(10)]);
  const calls = [];
  const send = async (url, init) => {
    calls.push([init.method, init.headers["Upload-Offset"], init.body ? init.body.size : null]);
    if (init.method === "HEAD") return new Response(null, { status: 200, headers: { "Upload-Offset": "10" } });
    return new Response(null, { status: 204, headers: { "Upload-Offset": "10", "Photo-Id": "7" } });
  };
  const result = await upload({ endpoint: "http://127.0.0.1/api/v1/uploads", blob, metadata: {},
    uploadUrl: "http://127.0.0.1/api/v1/uploads/abc", send });
  assert.equal(result.photoId, "7");
  assert.deepEqual(calls, [["HEAD", undefined, null], ["PATCH", "10", 0]]);
});

test("a sample's fields take yes/no, numbers with a decimal comma, dates and text", async () => {
  const { fieldValue } = await import("../../static/js/ui/inspection/samples.js");
  assert.equal(fieldValue("yesno", "yes"), true);
  assert.equal(fieldValue("yesno", "no"), false);
  assert.equal(fieldValue("yesno", ""), null);
  assert.equal(fieldValue("number", "2,5"), 2.5);
  assert.equal(fieldValue("number", "hai"), undefined);
  assert.equal(fieldValue("date", "2025-08-15"), "2025-08-15");
  assert.equal(fieldValue("date", "15/08/2025"), undefined);
  assert.equal(fieldValue("text", "  HS-01 "), "HS-01");
});

test("a sample op goes out with its group and sample id, without device bookkeeping", async () => {
  const { wireOp } = await import("../../static/js/outbox.js");
  const op = { seq: 4, op_id: "o", type: "sample.set", inspection_id: 3, item_code: "HS", field: "sample:s:HS.TRA",
    group: "HS", sample_id: "s", sample_field: "HS.TRA", base_version: 2, fields: { "HS.TRA": "2025-08-15" },
    at: "2025-08-20T09:00:00+07:00", attempts: 1 };
  assert.deepEqual(wireOp(op), { op_id: "o", type: "sample.set", inspection_id: 3, item_code: "HS", group: "HS",
    sample_id: "s", base_version: 2, fields: { "HS.TRA": "2025-08-15" }, at: "2025-08-20T09:00:00+07:00" });
  assert.deepEqual(Object.keys(wireOp({ ...op, sample_id: undefined, group: undefined })).sort(),
    ["at", "base_version", "fields", "inspection_id", "item_code", "op_id", "type"]);
});
