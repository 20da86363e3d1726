// Local data as the views read it, and what the server sends (GET /assignments, pull changes)
// written into it. The rule throughout: a field with an op still in the outbox keeps its local
// value — the user's unsent work is never overwritten by a download. No DOM.

import { clearStores, getMeta, LOCKED, request, setMeta, STORES, transaction } from "./db.js";
import { APPROVE_TYPE, CLOSING_ITEM, opField } from "./closing.js";
import { FIELDS, addPhotoOp, addSampleOp, attentionKind, newId, sampleField } from "./outbox.js";
import {
  DEFAULT_RETENTION_DAYS, canDropFullImage, forgetReason, hasUnsent, isFinished, isUnsentPhoto,
} from "./retention.js";

const FORGOTTEN_KEPT = 500; // entries of the "cleared from this device" list kept in meta

/** The signed-in user's session record {user, csrf_token, expired}, or undefined. */
/** The Cache Storage name of the evidence files the service worker keeps (static/sw.js). */
export const EVIDENCE_CACHE = "cchc-evidence";

export function getSession() {
  return transaction("session", "readonly", (s) => request(s.session.get("current")));
}

/** Keep the session (user and CSRF token) so the app starts signed in, even offline. */
export function saveSession(session) {
  return transaction("session", "readwrite", (s) => request(s.session.put({ ...session, key: "current" })));
}

/** Change some properties of the stored session, if it is still `username`'s. */
export function updateSession(username, changes) {
  return transaction("session", "readwrite", async (s) => {
    const session = await request(s.session.get("current"));
    if (!session || !session.user || session.user.username !== username) return false;
    await request(s.session.put({ ...session, ...changes }));
    return true;
  });
}

/** Mark the session as ended on the server (401) without touching anything else (read and
 * written in one transaction, so a verifier stored meanwhile is not lost). */
export function markSessionExpired() {
  return transaction("session", "readwrite", async (s) => {
    const session = await request(s.session.get("current"));
    if (session && !session.expired) await request(s.session.put({ ...session, expired: true }));
  });
}

/** This device's id, created once (the server records which device sent each op). */
export async function deviceId() {
  let id = await getMeta("device_id");
  if (!id) {
    id = crypto.randomUUID();
    await setMeta("device_id", id);
  }
  return id;
}

/** Wipe everything the signed-in user had on this device (sign-out); the device id stays, and
 * so does other people's locked work (see lockUnsentWork). */
export async function clearUserData() {
  const keep = await getMeta("device_id");
  await clearStores(STORES);
  // The unit's evidence files the service worker kept (sw.js, EVIDENCE_CACHE).
  if (globalThis.caches) await caches.delete(EVIDENCE_CACHE).catch(() => false);
  if (keep) await setMeta("device_id", keep);
}

/** The fields of one server observation, as the device stores them. */
function serverFields(observation) {
  const fields = {};
  for (const field of FIELDS) fields[field] = observation[field] ?? null;
  return fields;
}

/**
 * Merge a server observation into the local store inside an open transaction: fields with
 * unsent ops keep their local values; other fields take the server's value when it is at least
 * as new as what the device has (pulled changes arrive in order, but a snapshot may be newer).
 */
async function mergeObservation(s, inspectionId, incoming) {
  const version = Number(incoming.version) || 0;
  const key = [inspectionId, incoming.item_code];
  const pending = await request(s.outbox.index("item").getAll(IDBKeyRange.only(key)));
  const unsent = new Set(pending.map((op) => op.field));
  const local = (await request(s.observations.get(key))) || {
    inspection_id: inspectionId, item_code: incoming.item_code, result: null, points: null,
    value: null, text: null, note: null, version: 0, bases: {},
  };
  const bases = { ...(local.bases || {}) };
  const values = serverFields(incoming);
  let changed = false;
  for (const field of FIELDS) {
    if (unsent.has(field)) continue;
    const known = bases[field] ?? local.version ?? 0;
    if (version >= known) {
      if (local[field] !== values[field]) changed = true;
      local[field] = values[field];
      bases[field] = version;
    }
  }
  local.bases = bases;
  local.version = Math.max(local.version || 0, version);
  local.updated_by = incoming.updated_by ?? local.updated_by ?? null;
  local.updated_at = incoming.updated_at ?? local.updated_at ?? null;
  await request(s.observations.put(local));
  return changed;
}

/**
 * Merge server photo metadata: a photo this device took is marked uploaded, others are listed;
 * a caption changed elsewhere is taken unless this device has a caption op of it still to send;
 * a photo deleted on the server (`deleted`) goes.
 */
async function mergePhoto(s, inspectionId, photo) {
  if (!photo.client_uuid) return;
  const local = await request(s.photos.get(photo.client_uuid));
  if (photo.deleted) {
    if (local) await request(s.photos.delete(photo.client_uuid));
    return;
  }
  if (local) {
    let changed = false;
    if (local.status !== "done" && local.status !== "remote") {
      local.status = "done";
      local.photo_id = photo.id;
      changed = true;
    }
    if (photo.caption !== undefined && (local.caption || "") !== (photo.caption || "")) {
      const unsent = await request(s.outbox.index("field").count(IDBKeyRange.only(
        [inspectionId, local.item_code || "photo", `photo.caption:${local.client_uuid}`])));
      if (!unsent) {
        local.caption = photo.caption;
        changed = true;
      }
    }
    if (changed) await request(s.photos.put(local));
    return;
  }
  await request(s.photos.put({
    ...photo, photo_id: photo.id, inspection_id: inspectionId, status: "remote", blob: null, thumb: null,
  }));
}

/**
 * Merge a server sample (assignments or the feed's "sample") inside an open transaction: fields
 * with unsent ops keep their local values, others take the server's when it is at least as new;
 * a deletion on the server deletes it here unless this device still has edits of it to send
 * (the server keeps the deletion and makes them a conflict for the leader).
 */
async function mergeSample(s, inspectionId, incoming) {
  if (!incoming || !incoming.sample_id) return false;
  const version = Number(incoming.version) || 0;
  const pending = await request(s.outbox.index("item").getAll(IDBKeyRange.only([inspectionId, incoming.group])));
  const prefix = sampleField(incoming.sample_id, "");
  const unsent = new Set(pending.filter((op) => op.field.startsWith(prefix)).map((op) => op.sample_field));
  const local = (await request(s.samples.get(incoming.sample_id))) || {
    sample_id: incoming.sample_id, inspection_id: inspectionId, group: incoming.group, fields: {},
    version: 0, bases: {}, deleted: false, order: incoming.created_at || new Date().toISOString(),
  };
  if (unsent.has("-")) return false; // deleted here: that wins locally until the server answers
  const fields = { ...local.fields };
  const bases = { ...(local.bases || {}) };
  let changed = false;
  for (const [code, value] of Object.entries(incoming.fields || {})) {
    if (unsent.has(code)) continue;
    if (version >= (bases[code] ?? local.version ?? 0)) {
      if (fields[code] !== value) changed = true;
      fields[code] = value;
      bases[code] = version;
    }
  }
  const deleted = Boolean(incoming.deleted) && !unsent.size;
  if (deleted !== Boolean(local.deleted)) changed = true;
  await request(s.samples.put({ ...local, fields, bases, deleted, version: Math.max(local.version || 0, version) }));
  return changed;
}

/** The later of two change-feed cursors (integers; null means "from the start"). */
function laterCursor(a, b) {
  if (a === null || a === undefined) return b ?? null;
  if (b === null || b === undefined) return a;
  return Number(b) > Number(a) ? b : a;
}

/**
 * Store a GET /assignments answer: checklists, assignments, observations and photo metadata,
 * and the number of days to keep signed inspections. Inspections no longer listed are marked
 * `unassigned` (tidyStorage forgets them once nothing of them is unsent); an inspection this
 * device forgot as finished is not stored again unless it changed since (its revision: a
 * reopened inspection comes back). Each assignment carries the feed cursor of its latest change,
 * so the snapshot covers the feed up to the highest of them; pulling continues from there (or
 * from further on, if pulls already went beyond it). A change applied twice would be harmless
 * anyway: versions decide.
 */
export function saveAssignments(payload) {
  return transaction(["checklists", "assignments", "observations", "photos", "outbox", "meta", "attention", "samples"], "readwrite", async (s) => {
    const attention = await request(s.attention.getAll());
    const forgottenRecord = await request(s.meta.get("forgotten"));
    const forgotten = forgottenRecord ? forgottenRecord.value : [];
    const left = forgotten.filter((f) => f.reason === "finished");
    const ids = new Set();
    const stored = new Set();
    let cursor = null;
    for (const entry of payload.assignments || []) {
      const inspection = entry.inspection;
      ids.add(inspection.id);
      cursor = laterCursor(cursor, entry.cursor ?? null);
      if (left.some((f) => f.id === inspection.id && f.revision === inspection.revision)) continue;
      stored.add(inspection.id);
      // The closing meeting's data travels beside the inspection; the device keeps it inside.
      if (entry.closing) inspection.closing = entry.closing;
      await request(s.assignments.put({
        id: inspection.id, inspection, previous_recommendations: entry.previous_recommendations || [],
        minutes_head: entry.minutes_head || null,
        // The unit's submitted self-assessment (claims, evidence, explanations; issue 16).
        self_assessment: entry.self_assessment || null,
        conflicts: entry.conflicts || [], late_submissions: entry.late_submissions || [],
        cursor: entry.cursor ?? null, fetched_at: payload.server_time || new Date().toISOString(),
        unassigned: false,
      }));
      await settleAttention(s, attention.filter((a) => a.inspection_id === inspection.id), entry);
      for (const observation of entry.observations || []) await mergeObservation(s, inspection.id, observation);
      for (const photo of entry.photos || []) await mergePhoto(s, inspection.id, photo);
      for (const sample of entry.samples || []) await mergeSample(s, inspection.id, sample);
    }
    for (const [versionId, document] of Object.entries(payload.checklists || {})) {
      const needed = (payload.assignments || []).some((entry) => stored.has(entry.inspection.id)
        && String(entry.inspection.checklist_version_id) === versionId);
      if (needed) await request(s.checklists.put({ version_id: Number(versionId), document }));
    }
    for (const old of await request(s.assignments.getAll())) {
      if (ids.has(old.id) || old.unassigned) continue;
      await request(s.assignments.put({ ...old, unassigned: true }));
    }
    const back = forgotten.filter((f) => stored.has(f.id));
    if (back.length) {
      await request(s.meta.put({ key: "forgotten", value: forgotten.filter((f) => !stored.has(f.id)) }));
    }
    if (Number.isFinite(payload.retention_days)) {
      await request(s.meta.put({ key: "retention_days", value: payload.retention_days }));
    }
    const current = await request(s.meta.get("cursor"));
    await request(s.meta.put({ key: "cursor", value: laterCursor(current ? current.value : null, cursor) }));
    await request(s.meta.put({ key: "assignments_at", value: new Date().toISOString() }));
    return stored.size;
  });
}

/**
 * Drop the conflict flags and late-change entries the leader has decided (inside an open
 * transaction): a conflict entry stays while its item has an open Conflict on the server, a
 * late change while the server lists it as pending. `server`: {conflicts, late_submissions}.
 */
async function settleAttention(s, entries, server) {
  const openItems = new Set((server.conflicts || []).map((c) => c.item_code));
  const pendingLate = new Set((server.late_submissions || []).map((late) => late.op_id));
  for (const entry of entries) {
    const kind = attentionKind(entry);
    if ((kind === "conflict" && !openItems.has(entry.item_code)) || (kind === "late" && !pendingLate.has(entry.id))) {
      await request(s.attention.delete(entry.id));
    }
  }
}

/** The open conflicts of an item and who disagrees (for its card): [{field, current, incoming}]. */
export function conflictsOf(assignment, itemCode) {
  return ((assignment && assignment.conflicts) || []).filter((c) => c.item_code === itemCode);
}

/**
 * Apply pulled changes (teammates' edits, photos, inspection state) and move the cursor, in one
 * transaction. Returns {changed: Set of inspection ids touched, unknown: whether a change named
 * an inspection the device does not have (then the assignments must be fetched again)}.
 */
export function applyChanges(changes, cursor) {
  return transaction(["assignments", "observations", "photos", "outbox", "meta", "attention", "samples"], "readwrite", async (s) => {
    const changed = new Set();
    let unknown = false;
    for (const change of changes || []) {
      const inspectionId = change.inspection_id;
      const assignment = await request(s.assignments.get(inspectionId));
      if (!assignment) { unknown = true; continue; }
      const data = change.data || {};
      if (change.kind === "observation") {
        if (await mergeObservation(s, inspectionId, data)) changed.add(inspectionId);
      } else if (change.kind === "sample") {
        if (await mergeSample(s, inspectionId, data)) changed.add(inspectionId);
      } else if (change.kind === "photo") {
        await mergePhoto(s, inspectionId, data);
        changed.add(inspectionId);
      } else if (change.kind === "inspection") {
        assignment.inspection = { ...assignment.inspection, ...data, id: inspectionId };
        await request(s.assignments.put(assignment));
        changed.add(inspectionId);
      } else if (change.kind === "conflicts") {
        // What is open on the item now (none: the leader decided): flags follow it.
        assignment.conflicts = [...(assignment.conflicts || []).filter((c) => c.item_code !== data.item_code),
          ...(data.open || [])];
        await request(s.assignments.put(assignment));
        const entries = (await request(s.attention.getAll())).filter((a) => a.inspection_id === inspectionId
          && a.item_code === data.item_code);
        await settleAttention(s, entries.filter((a) => attentionKind(a) === "conflict"), { conflicts: data.open || [] });
        changed.add(inspectionId);
      } else if (change.kind === "closing") {
        // The whole closing as the server holds it now; pending ops are laid over it on screen.
        assignment.inspection = { ...assignment.inspection, closing: data };
        await request(s.assignments.put(assignment));
        changed.add(inspectionId);
      } else if (change.kind === "late_submission") {
        if (data.status !== "pending") {
          assignment.late_submissions = (assignment.late_submissions || []).filter((l) => l.op_id !== data.op_id);
          await request(s.assignments.put(assignment));
          await request(s.attention.delete(data.op_id));
        }
        changed.add(inspectionId);
      }
    }
    if (cursor !== undefined && cursor !== null) await request(s.meta.put({ key: "cursor", value: cursor }));
    return { changed, unknown };
  });
}

/** Every assignment with its checklist, observations and photos' count, for the list view. */
export function listAssignments() {
  return transaction(["assignments", "checklists", "observations", "outbox", "photos", "samples"], "readonly", async (s) => {
    const assignments = await request(s.assignments.getAll());
    const result = [];
    for (const assignment of assignments) {
      const checklist = await request(s.checklists.get(assignment.inspection.checklist_version_id));
      const observations = await request(s.observations.index("inspection_id").getAll(assignment.id));
      const photos = await request(s.photos.index("inspection_id").getAll(assignment.id));
      const unsent = await request(s.outbox.index("item").count(
        IDBKeyRange.bound([assignment.id, ""], [assignment.id, "\uffff"])));
      const samples = (await request(s.samples.index("inspection_id").getAll(assignment.id))).filter((x) => !x.deleted);
      result.push({
        assignment, checklist: checklist ? checklist.document : null, observations, samples,
        photos: photos.map(({ blob, thumb, ...meta }) => meta), unsent,
      });
    }
    return result.sort((a, b) => String(a.assignment.inspection.scheduled_on).localeCompare(
      String(b.assignment.inspection.scheduled_on)) || a.assignment.id - b.assignment.id);
  });
}

/** One inspection with everything its page shows, or null when the device does not have it. */
export function loadInspection(id) {
  return transaction(["assignments", "checklists", "observations", "photos", "outbox", "attention", "session", "samples"], "readonly", async (s) => {
    const assignment = await request(s.assignments.get(id));
    if (!assignment) return null;
    const session = await request(s.session.get("current"));
    const checklist = await request(s.checklists.get(assignment.inspection.checklist_version_id));
    const observations = await request(s.observations.index("inspection_id").getAll(id));
    const photos = (await request(s.photos.index("inspection_id").getAll(id))).map(withBlobs);
    const outbox = await request(s.outbox.index("item").getAll(IDBKeyRange.bound([id, ""], [id, "\uffff"])));
    const attention = (await request(s.attention.getAll())).filter((a) => a.inspection_id === id);
    return {
      assignment, checklist: checklist ? checklist.document : null,
      observations: new Map(observations.map((o) => [o.item_code, o])),
      photos, unsentItems: new Set(outbox.map((op) => op.item_code)), attention,
      samples: (await request(s.samples.index("inspection_id").getAll(id))).filter((x) => !x.deleted)
        .sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0)),
      unsentSamples: new Set(outbox.filter((op) => op.sample_id).map((op) => op.sample_id)),
      me: session && session.user ? session.user.id : null,
      // The closing meeting's pending ops (oldest first) and refusals (closing.js, ui/closing.js).
      ops: outbox.filter((op) => op.item_code === CLOSING_ITEM).sort((a, b) => a.seq - b.seq),
      closingAttention: attention.filter((a) => a.item_code === CLOSING_ITEM),
    };
  });
}

// WebKit refuses Blobs in IndexedDB when its storage lives in memory only (Safari's private
// browsing, in-app browsers without a data store): "UnknownError: Error preparing Blob/File data
// to be stored in object store". Photos are then stored as their bytes, {bytes, type}, and read
// back as Blobs (asBlob), so the rest of the app sees the same records either way.
let blobsRefused = false;

/** Store a prepared photo (see photos.js); it waits in the store until it is uploaded. */
export async function savePhoto(record) {
  if (!blobsRefused) {
    try {
      return await transaction("photos", "readwrite", (s) => request(s.photos.put(record)));
    } catch (err) {
      if (!(record.blob instanceof Blob) || !["UnknownError", "DataCloneError"].includes(err && err.name)) throw err;
      blobsRefused = true;
    }
  }
  const stored = { ...record, blob: await asBytes(record.blob), thumb: await asBytes(record.thumb) };
  return transaction("photos", "readwrite", (s) => request(s.photos.put(stored)));
}

async function asBytes(value) {
  return value instanceof Blob ? { bytes: await value.arrayBuffer(), type: value.type } : value;
}

/** A stored photo's `blob` or `thumb` as a Blob, however it was stored (null stays null). */
export function asBlob(value) {
  if (value && !(value instanceof Blob) && value.bytes) return new Blob([value.bytes], { type: value.type });
  return value;
}

function withBlobs(photo) {
  return { ...photo, blob: asBlob(photo.blob), thumb: asBlob(photo.thumb) };
}

/** Photos still to upload (pending or interrupted), oldest first. */
export function photosToUpload() {
  return transaction("photos", "readonly", async (s) => {
    const all = await request(s.photos.getAll());
    return all.filter((p) => p.status === "pending" || p.status === "uploading")
      .sort((a, b) => (a.created_at < b.created_at ? -1 : 1)).map(withBlobs);
  });
}

/** Change some properties of a stored photo (upload URL, offset, status). */
export function updatePhoto(clientUuid, changes) {
  return transaction("photos", "readwrite", async (s) => {
    const photo = await request(s.photos.get(clientUuid));
    if (!photo) return null;
    Object.assign(photo, changes);
    await request(s.photos.put(photo));
    return photo;
  });
}

/**
 * Caption a photo on the device: the record takes the caption at once; a photo the server
 * already holds also gets a "photo.caption" op (one still to upload sends it with the upload;
 * sync.js queues the op when the caption changed after the upload began). Returns the photo.
 */
export function captionPhoto(clientUuid, caption, at = new Date().toISOString()) {
  return transaction(["photos", "outbox"], "readwrite", async (s) => {
    const photo = await request(s.photos.get(clientUuid));
    if (!photo) return null;
    photo.caption = caption;
    await request(s.photos.put(photo));
    if (photo.status === "done" || photo.status === "remote") await addPhotoOp(s, photo, "photo.caption", { caption }, at);
    return photo;
  });
}

/**
 * Delete a photo on the device; one that may have reached the server (uploaded, uploading, a
 * teammate's) also gets a "photo.delete" op, so it goes on the server and every tablet (the
 * server keeps the deletion in its audit log). A refused photo's attention entry goes with it.
 */
export function deletePhoto(clientUuid, at = new Date().toISOString()) {
  return transaction(["photos", "outbox", "attention"], "readwrite", async (s) => {
    const photo = await request(s.photos.get(clientUuid));
    if (!photo) return false;
    await request(s.photos.delete(clientUuid));
    await request(s.attention.delete(clientUuid));
    const captions = await request(s.outbox.index("field").getAll(IDBKeyRange.only(
      [photo.inspection_id, photo.item_code || "photo", `photo.caption:${clientUuid}`])));
    for (const op of captions) if (!op.attempts) await request(s.outbox.delete(op.seq));
    const mayBeOnServer = ["done", "remote", "uploading"].includes(photo.status) || Boolean(photo.upload_url);
    if (mayBeOnServer && photo.status !== "refused") await addPhotoOp(s, photo, "photo.delete", {}, at);
    return true;
  });
}

// --- Samples of repeat groups (DESIGN §4): written with their ops, like observations ----------

/**
 * Add a sample of `group` to inspection `inspectionId` on the device: a new record under a new
 * client UUID and a "sample.set" op without fields, in one transaction. Returns the sample.
 */
export function addSample(inspectionId, group, at = new Date().toISOString()) {
  return transaction(["samples", "outbox"], "readwrite", async (s) => {
    const sample = { sample_id: newId(), inspection_id: inspectionId, group, fields: {}, version: 0,
      bases: {}, deleted: false, order: at, local_at: at };
    await request(s.samples.put(sample));
    await addSampleOp(s, sample, "sample.set", "+", {}, at);
    return sample;
  });
}

/** Record one field of a sample (its value shown at once, its op queued together). */
export function saveSampleField(sampleId, field, value, at = new Date().toISOString()) {
  return transaction(["samples", "outbox"], "readwrite", async (s) => {
    const sample = await request(s.samples.get(sampleId));
    if (!sample || sample.deleted) return null;
    sample.fields = { ...sample.fields, [field]: value };
    sample.local_at = at;
    await request(s.samples.put(sample));
    await addSampleOp(s, sample, "sample.set", field, { [field]: value }, at);
    return sample;
  });
}

/**
 * Delete a sample on the device. One the server never heard of (no op of it sent yet) goes with
 * its unsent ops and nothing is sent; otherwise its unsent edits are dropped, it is marked
 * deleted and a "sample.delete" op is queued (the server keeps a tombstone).
 */
export function deleteSample(sampleId, at = new Date().toISOString()) {
  return transaction(["samples", "outbox"], "readwrite", async (s) => {
    const sample = await request(s.samples.get(sampleId));
    if (!sample) return false;
    const ops = (await request(s.outbox.index("item").getAll(IDBKeyRange.only([sample.inspection_id, sample.group]))))
      .filter((op) => op.sample_id === sampleId);
    const sent = ops.some((op) => op.attempts) || (sample.version || 0) > 0;
    for (const op of ops) if (!op.attempts) await request(s.outbox.delete(op.seq));
    if (!sent) {
      await request(s.samples.delete(sampleId));
      return true;
    }
    sample.deleted = true;
    sample.local_at = at;
    await request(s.samples.put(sample));
    await addSampleOp(s, sample, "sample.delete", "-", {}, at);
    return true;
  });
}

/** Counts for the status bar: unsent ops, photos to upload, entries needing attention. */
export function pendingCounts() {
  return transaction(["outbox", "photos", "attention"], "readonly", async (s) => {
    const ops = await request(s.outbox.count());
    const pending = await request(s.photos.index("status").count("pending"));
    const uploading = await request(s.photos.index("status").count("uploading"));
    const kinds = (await request(s.attention.getAll())).map(attentionKind);
    return {
      ops, photos: pending + uploading,
      // Refused: still only on this device (export before dismissing).
      rejected: kinds.filter((k) => k === "rejected" || k === "photo").length,
      // Sent after approval: on the server, for the leader to accept or dismiss.
      late: kinds.filter((k) => k === "late").length,
      conflicts: kinds.filter((k) => k === "conflict").length,
    };
  });
}

/**
 * Everything not yet on the server, as one JSON-ready object: the outbox, the attention list
 * and the photos still to upload (with their bytes as base64), for the "export" last resort.
 */
export async function exportUnsent() {
  const data = await transaction(["outbox", "attention", "photos", "session", "meta"], "readonly", async (s) => ({
    outbox: await request(s.outbox.getAll()),
    attention: await request(s.attention.getAll()),
    photos: (await request(s.photos.getAll())).filter((p) => p.status === "pending" || p.status === "uploading"),
    session: await request(s.session.get("current")),
    device: await request(s.meta.get("device_id")),
  }));
  const photos = [];
  for (const photo of data.photos) {
    const { blob, thumb, ...meta } = photo;
    photos.push({ ...meta, data_base64: blob ? await blobToBase64(asBlob(blob)) : null });
  }
  return {
    format: "cchc-field-export/1", exported_at: new Date().toISOString(),
    device_id: data.device ? data.device.value : null,
    user: data.session ? data.session.user : null,
    outbox: data.outbox, attention: data.attention, photos,
  };
}

async function blobToBase64(blob) {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

// --- The storage lifecycle (rules in retention.js) ---------------------------------------------

const TIDY_STORES = ["assignments", "checklists", "observations", "photos", "outbox", "attention", "meta", "samples"];

/** Every inspection id found under an index (each once), by walking its keys. */
async function idsUnder(index) {
  const ids = new Set();
  let cursor = await request(index.openKeyCursor(null, "nextunique"));
  while (cursor) {
    ids.add(cursor.key);
    cursor.continue();
    cursor = await request(cursor.request);
  }
  return ids;
}

/** Remove an inspection's observations, photos and attention entries inside a transaction. */
async function removeInspectionData(s, id, photos, attention) {
  await request(s.observations.delete(IDBKeyRange.bound([id, ""], [id, "\uffff"])));
  for (const key of await request(s.samples.index("inspection_id").getAllKeys(id))) await request(s.samples.delete(key));
  for (const photo of photos) await request(s.photos.delete(photo.client_uuid));
  for (const entry of attention) await request(s.attention.delete(entry.id));
}

/**
 * Free what the server holds and forget what is no longer needed, in one transaction:
 * full-size images of confirmed photos of approved or signed inspections are dropped (the
 * thumbnail stays); inspections no longer assigned, signed more than the server's retention
 * days ago, or finished when `clearFinished` is asked, are removed with everything of them —
 * unless something of them is unsent (outbox, photos to upload or refused, refused changes, or
 * uncommitted typing: `drafts`, a Set of inspection ids). Records of inspections the device no
 * longer has (earlier versions removed only the assignment) go too. Checklists nobody uses go.
 * Returns {freedPhotos, freedBytes, forgotten: [{id, reason, name, …}]}.
 */
export function tidyStorage({ now = Date.now(), clearFinished = false, drafts = new Set() } = {}) {
  return transaction(TIDY_STORES, "readwrite", async (s) => {
    const retention = await request(s.meta.get("retention_days"));
    const retentionDays = retention ? retention.value : DEFAULT_RETENTION_DAYS;
    const at = new Date(now).toISOString();
    const attention = await request(s.attention.getAll());
    const result = { freedPhotos: 0, freedBytes: 0, forgotten: [] };
    const kept = new Set();
    const unsentIn = async (id, photos) => hasUnsent({
      ops: await request(s.outbox.index("item").count(IDBKeyRange.bound([id, ""], [id, "\uffff"]))),
      photos, attention: attention.filter((a) => a.inspection_id === id), drafts: drafts.has(id),
    });
    for (const assignment of await request(s.assignments.getAll())) {
      const id = assignment.id;
      const inspection = assignment.inspection;
      const photos = await request(s.photos.index("inspection_id").getAll(id));
      const reason = forgetReason(assignment, { retentionDays, now, clearFinished });
      if (reason && !(await unsentIn(id, photos))) {
        await request(s.assignments.delete(id));
        await removeInspectionData(s, id, photos, attention.filter((a) => a.inspection_id === id));
        result.forgotten.push({ id, reason, revision: inspection.revision, state: inspection.state,
          name: inspection.unit.full_name || inspection.unit.name, at });
        continue;
      }
      kept.add(id);
      for (const photo of photos) {
        if (!canDropFullImage(photo, inspection)) continue;
        result.freedPhotos += 1;
        result.freedBytes += storedSize(photo.blob);
        await request(s.photos.put({ ...photo, blob: null, full_dropped_at: at }));
      }
    }
    const orphans = new Set([...await idsUnder(s.observations.index("inspection_id")),
      ...await idsUnder(s.photos.index("inspection_id"))].filter((id) => !kept.has(id)));
    for (const id of orphans) {
      const photos = await request(s.photos.index("inspection_id").getAll(id));
      if (!(await unsentIn(id, photos))) {
        await removeInspectionData(s, id, photos, attention.filter((a) => a.inspection_id === id && a.kind === "conflict"));
      }
    }
    const used = new Set();
    for (const assignment of await request(s.assignments.getAll())) used.add(assignment.inspection.checklist_version_id);
    for (const versionId of await request(s.checklists.getAllKeys())) {
      if (!used.has(versionId)) await request(s.checklists.delete(versionId));
    }
    if (result.forgotten.length) {
      const record = await request(s.meta.get("forgotten"));
      const ids = new Set(result.forgotten.map((f) => f.id));
      const list = [...(record ? record.value : []).filter((f) => !ids.has(f.id)), ...result.forgotten];
      await request(s.meta.put({ key: "forgotten", value: list.slice(-FORGOTTEN_KEPT) }));
    }
    return result;
  });
}

/** How many inspections this device forgot, by reason: {finished, unassigned}. */
export async function forgottenCounts() {
  const list = await getMeta("forgotten", []);
  return {
    finished: list.filter((f) => f.reason === "finished").length,
    unassigned: list.filter((f) => f.reason === "unassigned").length,
  };
}

/** The approximate size of a record as stored (its JSON, without Blobs or photo bytes). */
function recordBytes(value) {
  return JSON.stringify(value, (key, v) => (v instanceof Blob || v instanceof ArrayBuffer ? undefined : v)).length;
}

/** The bytes of a stored image: a Blob, or {bytes, type} where Blobs are refused (savePhoto). */
function storedSize(value) {
  if (!value) return 0;
  return value instanceof Blob ? value.size : (value.bytes ? value.bytes.byteLength : 0);
}

/**
 * What this device stores, per inspection and in all: for each assignment {id, name, state,
 * unassigned, photos, fullImages, thumbs, unsent, clearable, bytes}; and {total, other}. Bytes
 * are Blob sizes plus the JSON size of the records (close to what IndexedDB stores).
 */
export function storageUse() {
  return transaction(["assignments", "checklists", "observations", "photos", "outbox", "attention", "meta", "session"], "readonly", async (s) => {
    const attention = await request(s.attention.getAll());
    const outbox = await request(s.outbox.getAll());
    const inspections = [];
    let total = 0;
    for (const assignment of await request(s.assignments.getAll())) {
      const id = assignment.id;
      const photos = await request(s.photos.index("inspection_id").getAll(id));
      const observations = await request(s.observations.index("inspection_id").getAll(id));
      let bytes = recordBytes(assignment) + recordBytes(observations);
      let fullImages = 0;
      let thumbs = 0;
      for (const photo of photos) {
        bytes += recordBytes(photo) + storedSize(photo.blob) + storedSize(photo.thumb);
        if (photo.blob) fullImages += 1;
        if (photo.thumb) thumbs += 1;
      }
      const unsent = hasUnsent({ ops: outbox.filter((op) => op.inspection_id === id).length, photos,
        attention: attention.filter((a) => a.inspection_id === id) });
      const inspection = assignment.inspection;
      inspections.push({ id, name: inspection.unit.full_name || inspection.unit.name, state: inspection.state,
        scheduled_on: inspection.scheduled_on, unassigned: Boolean(assignment.unassigned),
        photos: photos.length, fullImages, thumbs, unsent, clearable: isFinished(inspection) && !unsent, bytes });
      total += bytes;
    }
    let other = recordBytes(await request(s.checklists.getAll())) + recordBytes(outbox)
      + recordBytes(attention) + recordBytes(await request(s.meta.getAll()));
    for (const photo of await request(s.photos.getAll())) {
      if (inspections.some((i) => i.id === photo.inspection_id)) continue;
      other += recordBytes(photo) + storedSize(photo.blob) + storedSize(photo.thumb);
    }
    inspections.sort((a, b) => b.bytes - a.bytes || a.id - b.id);
    return { inspections, other, total: total + other };
  });
}

/** Remember that the browser refused a write for lack of space (the device page warns). */
export async function noteQuotaError(at = new Date().toISOString()) {
  try { await setMeta("quota_error_at", at); } catch { /* the store is full: the message on screen remains */ }
}

/** Forget an earlier lack of space (something was stored, or storage was freed). */
export async function clearQuotaError() {
  if (await getMeta("quota_error_at", null)) await setMeta("quota_error_at", null);
}

// --- Locked work of an ended or deactivated account --------------------------------------------

/** The key of a person's locked work (usernames are compared without case, as at sign-in). */
function ownerKey(username) {
  return String(username || "").toLowerCase();
}

function countsOf(bundle) {
  return { ops: bundle.outbox.length, photos: bundle.photos.length, rejected: bundle.attention.length };
}

/**
 * The server ended the signed-in account's sessions or deactivated it (`reason`). In one
 * transaction: the unsent work (outbox, photos still to upload or refused, refused changes, and
 * the local values of fields with unsent ops) is set apart in the "locked" store under the
 * owner's username, and every other store is emptied (the device id stays). Returns {reason,
 * user, kept: {ops, photos, rejected}}; nothing is changed when nobody is signed in.
 */
export function lockUnsentWork(reason, at = new Date().toISOString()) {
  return transaction([...STORES, LOCKED], "readwrite", async (s) => {
    const session = await request(s.session.get("current"));
    if (!session || !session.user) return null;
    const outbox = await request(s.outbox.getAll());
    // Conflicts and late changes are on the server already: only refused work is set apart.
    const attention = (await request(s.attention.getAll())).filter((a) => !["conflict", "late", "closing_conflict"].includes(attentionKind(a)));
    const refused = new Set(attention.filter((a) => a.kind === "photo").map((a) => a.id));
    const photos = (await request(s.photos.getAll())).filter((p) => isUnsentPhoto(p) || refused.has(p.client_uuid));
    const observations = [];
    for (const key of new Set(outbox.filter((op) => !op.sample_id).map((op) => JSON.stringify([op.inspection_id, op.item_code])))) {
      const observation = await request(s.observations.get(JSON.parse(key)));
      if (observation) observations.push(observation);
    }
    const samples = []; // samples with unsent ops, as shown on the device
    for (const sampleId of new Set(outbox.filter((op) => op.sample_id).map((op) => op.sample_id))) {
      const sample = await request(s.samples.get(sampleId));
      if (sample) samples.push(sample);
    }
    const units = {};
    for (const id of new Set([...outbox, ...photos, ...attention].map((x) => x.inspection_id))) {
      const assignment = await request(s.assignments.get(id));
      if (assignment) units[id] = assignment.inspection.unit.full_name || assignment.inspection.unit.name;
    }
    const user = { id: session.user.id, username: session.user.username, full_name: session.user.full_name };
    let kept = { ops: 0, photos: 0, rejected: 0 };
    if (outbox.length || photos.length || attention.length) {
      const key = ownerKey(user.username);
      const bundle = (await request(s.locked.get(key))) || {
        username: key, user, outbox: [], photos: [], attention: [], observations: [], units: {},
      };
      Object.assign(bundle, { reason, locked_at: at, verifier: session.verifier || bundle.verifier || null, exported_at: null });
      bundle.outbox.push(...outbox);
      bundle.photos.push(...photos);
      bundle.attention.push(...attention);
      bundle.observations.push(...observations);
      bundle.samples = [...(bundle.samples || []), ...samples];
      Object.assign(bundle.units, units);
      await request(s.locked.put(bundle));
      kept = countsOf(bundle);
    }
    const device = await request(s.meta.get("device_id"));
    for (const name of STORES) await request(s[name].clear());
    if (device) await request(s.meta.put(device));
    const notice = { reason, user, kept, at };
    await request(s.meta.put({ key: "lock_notice", value: notice }));
    return notice;
  });
}

/** Locked work on this device, one summary per owner: {username, user, reason, locked_at, kept,
 * units, exported_at, can_export (a password check is possible offline)}. */
export function lockedWork() {
  return transaction(LOCKED, "readonly", async (s) => (await request(s.locked.getAll())).map((bundle) => ({
    username: bundle.username, user: bundle.user, reason: bundle.reason, locked_at: bundle.locked_at,
    kept: countsOf(bundle), units: Object.values(bundle.units || {}), exported_at: bundle.exported_at || null,
    can_export: Boolean(bundle.verifier),
  })));
}

/** The stored password check of `username`'s locked work (see verifier.js), or null. */
export async function lockedVerifier(username) {
  const bundle = await transaction(LOCKED, "readonly", (s) => request(s.locked.get(ownerKey(username))));
  return bundle ? bundle.verifier || null : null;
}

/**
 * `username` signed in again: put their locked work back where sync finds it (outbox in its
 * original order, photos, refused entries, local values), in one transaction, and drop the
 * lock. Returns the counts given back, or null when nothing was locked for them.
 */
export function unlockWork(username) {
  return transaction([...STORES, LOCKED], "readwrite", async (s) => {
    const bundle = await request(s.locked.get(ownerKey(username)));
    if (!bundle) return null;
    for (const op of [...bundle.outbox].sort((a, b) => a.seq - b.seq)) {
      if (await request(s.outbox.index("op_id").get(op.op_id))) continue;
      const { seq, ...rest } = op;
      await request(s.outbox.add(rest));
    }
    for (const photo of bundle.photos) await request(s.photos.put(photo));
    for (const entry of bundle.attention) await request(s.attention.put(entry));
    for (const observation of bundle.observations) {
      const key = [observation.inspection_id, observation.item_code];
      if (!(await request(s.observations.get(key)))) await request(s.observations.put(observation));
    }
    for (const sample of bundle.samples || []) {
      if (!(await request(s.samples.get(sample.sample_id)))) await request(s.samples.put(sample));
    }
    await request(s.locked.delete(bundle.username));
    const notice = await request(s.meta.get("lock_notice"));
    if (notice && ownerKey(notice.value.user.username) === bundle.username) await request(s.meta.delete("lock_notice"));
    return countsOf(bundle);
  });
}

/** `username`'s locked work as an export file (the format of exportUnsent); marks it exported. */
export async function exportLocked(username) {
  const at = new Date().toISOString();
  const bundle = await transaction(LOCKED, "readwrite", async (s) => {
    const found = await request(s.locked.get(ownerKey(username)));
    if (found) await request(s.locked.put({ ...found, exported_at: at }));
    return found;
  });
  if (!bundle) return null;
  const photos = [];
  for (const photo of bundle.photos) {
    const { blob, thumb, ...meta } = photo;
    photos.push({ ...meta, data_base64: blob ? await blobToBase64(asBlob(blob)) : null });
  }
  const device = await getMeta("device_id", null);
  return {
    format: "cchc-field-export/1", exported_at: at, device_id: device, user: bundle.user,
    locked: { reason: bundle.reason, at: bundle.locked_at }, outbox: bundle.outbox,
    attention: bundle.attention, photos,
  };
}

/** Remove `username`'s locked work from the device (only after it was exported). */
export function removeLocked(username) {
  return transaction(LOCKED, "readwrite", async (s) => {
    const bundle = await request(s.locked.get(ownerKey(username)));
    if (!bundle || !bundle.exported_at) return false;
    await request(s.locked.delete(bundle.username));
    return true;
  });
}

/** Why the device was last locked and for whom ({reason, user, kept, at}), or null. */
export function lockNotice() {
  return getMeta("lock_notice", null);
}

/** Stop showing why the device was locked (someone signed in since). */
export async function dismissLockNotice() {
  if (await getMeta("lock_notice", null)) await setMeta("lock_notice", null);
}

// --- The closing meeting (closing.js lays the pending ops over the server's closing) -------------

/** The server's copy of a closing row or field version, as the device last heard of it. */
function serverBase(closing, type, fields) {
  if (!closing) return 0;
  if (type === "closing.set") return (closing.versions || {})[Object.keys(fields)[0]] ?? 0;
  const rows = type.startsWith("finding.") ? closing.findings : closing.recommendations;
  const row = (rows || []).find((r) => r.id === fields.id);
  return row ? row.version || 0 : 0;
}

/**
 * Queue a closing op (DESIGN §4: closing.set of one field, finding.set/delete,
 * recommendation.set/delete) in the outbox, as saveField does for observations: an op of the
 * same field, row or closing field not yet handed to the server takes the new value; one in
 * flight is followed by a new op on the same base (rebased when its answer comes). Deleting a
 * row the server never had just drops its waiting op. Returns the op (or null when dropped).
 */
export function queueClosingOp(inspectionId, type, fields, at = new Date().toISOString()) {
  return transaction(["outbox", "assignments"], "readwrite", async (s) => {
    const field = opField(type, fields);
    const assignment = await request(s.assignments.get(inspectionId));
    const server = assignment && assignment.inspection ? assignment.inspection.closing : null;
    const cursor = await request(s.outbox.index("field").openCursor(
      IDBKeyRange.only([inspectionId, CLOSING_ITEM, field]), "prev"));
    const last = cursor && cursor.value;
    let base = serverBase(server, type, fields);
    if (last && !last.attempts) {
      if (type.endsWith(".delete") && last.type.endsWith(".set") && !base && last.base_version === 0) {
        await request(cursor.delete()); // never reached the server: nothing to delete there
        return null;
      }
      const merged = type === last.type && !type.endsWith(".delete") ? { ...last.fields, ...fields } : fields;
      const op = { ...last, type, fields: merged, at };
      await request(cursor.update(op));
      return op;
    }
    if (last) base = last.base_version; // in flight: rebased on its result (applyPushResults)
    const op = {
      op_id: newId(), type, inspection_id: inspectionId, item_code: CLOSING_ITEM, field,
      base_version: base, fields, at, attempts: 0,
    };
    if (type === "closing.set") op.bases = { [Object.keys(fields)[0]]: base };
    await request(s.outbox.add(op));
    return op;
  });
}

/**
 * Queue the leader's approval (`inspection.approve`): the criteria-not-assessed confirmation
 * and reason, and `seen`, the feed cursor this device had (a teammate's later change blocks it).
 */
export function queueApproval(inspectionId, { confirmUnanswered = false, reason = "" } = {}, at = new Date().toISOString()) {
  return transaction(["outbox", "meta"], "readwrite", async (s) => {
    const cursorRecord = await request(s.meta.get("cursor"));
    const fields = { confirm_unanswered: Boolean(confirmUnanswered), reason: String(reason || ""),
      seen: cursorRecord && Number.isInteger(Number(cursorRecord.value)) && cursorRecord.value !== null ? Number(cursorRecord.value) : 0 };
    const waiting = await request(s.outbox.index("field").openCursor(
      IDBKeyRange.only([inspectionId, CLOSING_ITEM, APPROVE_TYPE]), "prev"));
    if (waiting && !waiting.value.attempts) {
      const op = { ...waiting.value, fields, at };
      await request(waiting.update(op));
      return op;
    }
    const op = { op_id: newId(), type: APPROVE_TYPE, inspection_id: inspectionId, item_code: CLOSING_ITEM,
      field: APPROVE_TYPE, base_version: 0, fields, at, attempts: 0 };
    await request(s.outbox.add(op));
    return op;
  });
}
