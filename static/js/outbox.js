// The outbox: every change the user makes becomes one op with a client UUID, stored in the
// same IndexedDB transaction as the local value, so the two never disagree. Ops leave the outbox
// only when the server has answered for them. No DOM here (tested on its own).
//
// An op: {seq, op_id, type: "observation.set", inspection_id, item_code, field, base_version,
// fields: {<field>: value}, at, attempts}. `field`, `seq` and `attempts` stay on the device.

import { request, transaction } from "./db.js";

export const FIELDS = ["result", "points", "value", "text", "note"];

/** A random UUID (v4); crypto.randomUUID needs a secure context, which the app always has. */
export function newId() {
  if (globalThis.crypto && crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The server version a field's local value is based on (what base_version an op carries). */
export function baseOf(observation, field) {
  if (!observation) return 0;
  const bases = observation.bases || {};
  return bases[field] ?? observation.version ?? 0;
}

/**
 * Record a change of one field of one item: the local observation and the outbox op are written
 * together. Consecutive edits of the same field are coalesced into the op still waiting to be
 * sent (same op_id and base_version, new value), so typing "1081" sends one op, not four. An op
 * that has been handed to the server (attempts > 0) is never changed: the server may already
 * have applied it under its op_id, so a new op follows it instead.
 * Returns the updated observation.
 */
export function saveField(inspectionId, itemCode, field, value, at = new Date().toISOString()) {
  if (!FIELDS.includes(field)) throw new Error(`unknown field ${field}`);
  return transaction(["observations", "outbox"], "readwrite", async (s) => {
    const key = [inspectionId, itemCode];
    const observation = (await request(s.observations.get(key))) || {
      inspection_id: inspectionId, item_code: itemCode, result: null, points: null, value: null,
      text: null, note: null, version: 0, bases: {},
    };
    observation[field] = value;
    observation.local_at = at;
    await request(s.observations.put(observation));

    const cursor = await request(s.outbox.index("field").openCursor(
      IDBKeyRange.only([inspectionId, itemCode, field]), "prev"));
    const last = cursor && cursor.value;
    if (last && !last.attempts) {
      last.fields = { [field]: value };
      last.at = at;
      await request(cursor.update(last));
    } else {
      await request(s.outbox.add({
        op_id: newId(), type: "observation.set", inspection_id: inspectionId, item_code: itemCode,
        field, base_version: baseOf(observation, field), fields: { [field]: value }, at, attempts: 0,
      }));
    }
    return observation;
  });
}

/**
 * Take up to `limit` ops in the order they were made and mark them attempted, in one
 * transaction: from then on saveField no longer coalesces into them. At most one op per field
 * goes in a batch: a later op on the same field waits until the earlier one is answered and it
 * has been rebased on the version that one produced (else the server would see two edits from
 * the same base and call it a conflict with ourselves). Returns the ops as stored.
 */
export function takeBatch(limit = 100) {
  return transaction("outbox", "readwrite", async (s) => {
    const batch = [];
    const fields = new Set();
    let cursor = await request(s.outbox.openCursor());
    while (cursor && batch.length < limit) {
      const op = cursor.value;
      const key = `${op.inspection_id}|${op.item_code}|${op.field}`;
      if (!fields.has(key)) {
        fields.add(key);
        op.attempts = (op.attempts || 0) + 1;
        await request(cursor.update(op));
        batch.push(op);
      }
      cursor.continue();
      cursor = await request(cursor.request);
    }
    return batch;
  });
}

/**
 * What an attention entry is for the user: "rejected" (refused: unsent, export before
 * dismissing), "late" (sent after approval: the server kept it for the leader; entries stored
 * before this kind existed are "rejected" with reason "locked"), "conflict" or "photo".
 */
export function attentionKind(entry) {
  if (entry.kind === "late" || (entry.kind === "rejected" && entry.reason === "locked")) return "late";
  return entry.kind;
}

/**
 * Queue a photo op (DESIGN §4 "Photo ops") inside an open transaction with the outbox: type
 * "photo.caption" (extra {caption}) or "photo.delete". A caption op not yet sent takes the new
 * caption (one op per photo, as saveField coalesces typing).
 */
export async function addPhotoOp(s, photo, type, extra = {}, at = new Date().toISOString()) {
  const itemCode = photo.item_code || "photo";
  const field = `${type}:${photo.client_uuid}`;
  const fields = { photo: photo.client_uuid, ...extra };
  const cursor = await request(s.outbox.index("field").openCursor(
    IDBKeyRange.only([photo.inspection_id, itemCode, field]), "prev"));
  if (cursor && !cursor.value.attempts) {
    await request(cursor.update({ ...cursor.value, fields, at }));
    return;
  }
  await request(s.outbox.add({
    op_id: newId(), type, inspection_id: photo.inspection_id, item_code: itemCode, field,
    base_version: 0, fields, at, attempts: 0,
  }));
}

/** The op as the server's push contract wants it (device-only bookkeeping removed). */
export function wireOp(op) {
  const wire = {
    op_id: op.op_id, type: op.type, inspection_id: op.inspection_id, item_code: op.item_code,
    base_version: op.base_version, fields: op.fields, at: op.at,
  };
  if (op.sample_id) { wire.group = op.group; wire.sample_id = op.sample_id; }
  if (op.bases) wire.bases = op.bases; // closing.set: the version of each field it changes
  return wire;
}

/** The outbox `field` key of a sample op: one per sample and field ("+": the sample added). */
export function sampleField(sampleId, field) {
  return `sample:${sampleId}:${field}`;
}

/** The server version a sample field's local value is based on. */
export function sampleBase(sample, field) {
  if (!sample) return 0;
  return (sample.bases || {})[field] ?? sample.version ?? 0;
}

/**
 * Queue a sample op inside an open transaction with the outbox (DESIGN §4 "Samples"):
 * "sample.set" of one field (`field`: its code, or "+" when the sample is added, with no
 * fields) or "sample.delete" (`field` "-"). An unsent set of the same field takes the new value,
 * as saveField coalesces typing.
 */
export async function addSampleOp(s, sample, type, field, fields, at = new Date().toISOString()) {
  const key = sampleField(sample.sample_id, field);
  const cursor = await request(s.outbox.index("field").openCursor(
    IDBKeyRange.only([sample.inspection_id, sample.group, key]), "prev"));
  if (type === "sample.set" && cursor && !cursor.value.attempts) {
    await request(cursor.update({ ...cursor.value, fields, at }));
    return;
  }
  await request(s.outbox.add({
    op_id: newId(), type, inspection_id: sample.inspection_id, item_code: sample.group, field: key,
    group: sample.group, sample_id: sample.sample_id, sample_field: field,
    base_version: field === "+" || field === "-" ? (sample.version || 0) : sampleBase(sample, field),
    fields, at, attempts: 0,
  }));
}

/**
 * An applied closing op, written into the device's copy of the server's closing (inside an
 * open transaction with "assignments"): until the feed brings the server's closing, the next
 * op of the same field or row is based on the version this one made.
 */
async function settleClosingOp(s, op, version) {
  if (!op.type || !/^(closing|finding|recommendation)\./.test(op.type)) return;
  const assignment = await request(s.assignments.get(op.inspection_id));
  if (!assignment || !assignment.inspection) return;
  const closing = { findings: [], recommendations: [], versions: {}, ...(assignment.inspection.closing || {}) };
  const fields = op.fields || {};
  if (op.type === "closing.set") {
    closing.versions = { ...(closing.versions || {}) };
    for (const [name, value] of Object.entries(fields)) {
      closing[name] = value;
      if (version !== null) closing.versions[name] = version;
    }
  } else {
    const list = op.type.startsWith("finding.") ? "findings" : "recommendations";
    const rows = (closing[list] || []).filter((row) => row.id !== fields.id);
    if (op.type.endsWith(".set")) {
      const old = (closing[list] || []).find((row) => row.id === fields.id) || {};
      rows.push({ ...old, ...fields, version: version ?? old.version ?? 0 });
    }
    closing[list] = rows;
  }
  assignment.inspection = { ...assignment.inspection, closing };
  await request(s.assignments.put(assignment));
}

/**
 * Apply the server's answers to a pushed batch. applied / merged / duplicate: the op leaves the
 * outbox and the field's base becomes the new version (ops queued after it on the same field
 * are rebased, since they were made on top of it). conflict: the op leaves the outbox and a
 * note is kept for the user (the leader resolves it; "held" lists the fields of the same
 * judgement that wait with it). rejected with reason "locked": kept as "late" (the server
 * stored it for the leader; dropped once the leader decided). rejected: the op moves to the attention
 * list with the server's message, never silently dropped. Ops without an answer stay queued.
 * Returns counts per status.
 */
export function applyPushResults(sentOps, results, now = new Date().toISOString()) {
  const byId = new Map(sentOps.map((op) => [op.op_id, op]));
  return transaction(["outbox", "observations", "attention", "samples", "assignments"], "readwrite", async (s) => {
    const counts = { applied: 0, merged: 0, duplicate: 0, conflict: 0, rejected: 0, unanswered: 0 };
    const answered = new Set();
    for (const result of results || []) {
      const op = byId.get(result.op_id);
      if (!op || answered.has(op.op_id)) continue;
      answered.add(op.op_id);
      // A duplicate of an op whose first answer never reached us: what counts is that answer.
      const first = result.status === "duplicate" ? result.original_status : null;
      const status = first === "rejected" || first === "conflict" ? first : result.status;
      if (!(status in counts) || status === "unanswered") continue; // unknown: keep the op
      counts[status] += 1;
      await request(s.outbox.delete(op.seq));
      const version = Number.isFinite(result.version) ? result.version : null;
      if (status === "rejected" || status === "conflict") {
        // A change sent after approval is not refused: the server keeps it for the leader.
        // A closing op that clashed: the server kept the other writer's value (nothing waits
        // for the leader); the closing screen says which, until dismissed.
        const kind = status === "rejected" && result.reason === "locked" ? "late"
          : status === "conflict" && op.item_code === "closing" ? "closing_conflict" : status;
        await request(s.attention.put({
          id: op.op_id, kind, op: wireOp(op), field: op.field,
          inspection_id: op.inspection_id, item_code: op.item_code,
          reason: result.reason || null, message: result.message || null, at: now,
          held: result.held || [], // fields waiting with this writer's result in conflict
          // How many other proposals for this field the server folded (it keeps the first and
          // the latest few for the leader).
          folded: (result.folded && result.folded[op.field]) || 0,
          errors: Array.isArray(result.errors) ? result.errors : [], // inspection.approve: what blocks it
          conflicts: Array.isArray(result.conflicts) ? result.conflicts : [], // closing fields kept
          current: result.current && typeof result.current === "object" ? result.current : null,
        }));
      }
      if (status !== "rejected" && status !== "conflict") await settleClosingOp(s, op, version);
      if (version === null || status === "rejected") continue;
      const key = [op.inspection_id, op.item_code];
      const observation = op.sample_id ? null : await request(s.observations.get(key));
      if (op.sample_id) {
        // The sample's version moves on; the field sent is now based on it.
        const sample = await request(s.samples.get(op.sample_id));
        if (sample) {
          sample.bases = { ...(sample.bases || {}) };
          if (op.sample_field && op.sample_field.length > 1) {
            sample.bases[op.sample_field] = Math.max(version, sampleBase(sample, op.sample_field));
          }
          sample.version = Math.max(sample.version || 0, version);
          await request(s.samples.put(sample));
        }
      }
      if (observation) {
        observation.bases = { ...(observation.bases || {}) };
        observation.bases[op.field] = Math.max(version, baseOf(observation, op.field));
        observation.version = Math.max(observation.version || 0, version);
        await request(s.observations.put(observation));
      }
      if (status === "conflict") continue;
      // Edits made while this op was in flight were made on top of it: rebase them.
      const queued = await request(s.outbox.index("field").getAll(
        IDBKeyRange.only([op.inspection_id, op.item_code, op.field])));
      for (const next of queued) {
        if (!next.attempts && next.base_version === op.base_version) {
          next.base_version = version;
          if (next.bases) next.bases = Object.fromEntries(Object.keys(next.bases).map((k) => [k, version]));
          await request(s.outbox.put(next));
        }
      }
    }
    counts.unanswered = sentOps.length - answered.size;
    return counts;
  });
}

/**
 * Move ops the server refused as a whole (e.g. a batch it called malformed) to the attention
 * list with its message, so one bad op cannot block the queue forever.
 */
export function moveToAttention(ops, message, reason = "refused", now = new Date().toISOString()) {
  return transaction(["outbox", "attention"], "readwrite", async (s) => {
    for (const op of ops) {
      await request(s.outbox.delete(op.seq));
      await request(s.attention.put({
        id: op.op_id, kind: "rejected", op: wireOp(op), field: op.field,
        inspection_id: op.inspection_id, item_code: op.item_code, reason, message, at: now,
      }));
    }
  });
}

/** All ops still to send, oldest first. */
export function pendingOps() {
  return transaction("outbox", "readonly", (s) => request(s.outbox.getAll()));
}

/** Number of ops still to send. */
export function unsentCount() {
  return transaction("outbox", "readonly", (s) => request(s.outbox.count()));
}

/** Fields of one item that have ops still to send (their local values win over pulled ones). */
export function unsentFields(inspectionId, itemCode) {
  return transaction("outbox", "readonly", async (s) => {
    const ops = await request(s.outbox.index("item").getAll(IDBKeyRange.only([inspectionId, itemCode])));
    return new Set(ops.map((op) => op.field));
  });
}

/** The attention list (refused ops and photos, conflict notes), newest first. */
export function listAttention() {
  return transaction("attention", "readonly", async (s) => {
    const all = await request(s.attention.getAll());
    return all.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
  });
}

/** Remove an entry from the attention list (the caller checks it was exported first). */
export function dismissAttention(id) {
  return transaction("attention", "readwrite", (s) => request(s.attention.delete(id)));
}
