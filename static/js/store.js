// Local data as the views read it, and what the server sends (GET /assignments, pull changes)
// written into it. The rule throughout: a field with an op still in the outbox keeps its local
// value — the user's unsent work is never overwritten by a download. No DOM.

import { clearStores, getMeta, request, setMeta, STORES, transaction } from "./db.js";
import { FIELDS } from "./outbox.js";

/** The signed-in user's session record {user, csrf_token, expired}, or undefined. */
export function getSession() {
  return transaction("session", "readonly", (s) => request(s.session.get("current")));
}

/** Keep the session (user and CSRF token) so the app starts signed in, even offline. */
export function saveSession(session) {
  return transaction("session", "readwrite", (s) => request(s.session.put({ ...session, key: "current" })));
}

/** Mark the session as ended on the server (401) without touching anything else. */
export async function markSessionExpired() {
  const session = await getSession();
  if (session && !session.expired) await saveSession({ ...session, expired: true });
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

/** Wipe everything the signed-in user had on this device (sign-out); the device id stays. */
export async function clearUserData() {
  const keep = await getMeta("device_id");
  await clearStores(STORES);
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

/** Merge server photo metadata: a photo this device took is marked uploaded, others are listed. */
async function mergePhoto(s, inspectionId, photo) {
  if (!photo.client_uuid) return;
  const local = await request(s.photos.get(photo.client_uuid));
  if (local) {
    if (local.status !== "done") {
      local.status = "done";
      local.photo_id = photo.id;
      await request(s.photos.put(local));
    }
    return;
  }
  await request(s.photos.put({
    ...photo, photo_id: photo.id, inspection_id: inspectionId, status: "remote", blob: null, thumb: null,
  }));
}

/** The later of two change-feed cursors (integers; null means "from the start"). */
function laterCursor(a, b) {
  if (a === null || a === undefined) return b ?? null;
  if (b === null || b === undefined) return a;
  return Number(b) > Number(a) ? b : a;
}

/**
 * Store a GET /assignments answer: checklists, assignments, observations and photo metadata.
 * Inspections no longer assigned are removed unless they still have unsent work. Each
 * assignment carries the feed cursor of its latest change, so the snapshot covers the feed up
 * to the highest of them; pulling continues from there (or from further on, if pulls already
 * went beyond it). A change applied twice would be harmless anyway: versions decide.
 */
export function saveAssignments(payload) {
  return transaction(["checklists", "assignments", "observations", "photos", "outbox", "meta"], "readwrite", async (s) => {
    for (const [versionId, document] of Object.entries(payload.checklists || {})) {
      await request(s.checklists.put({ version_id: Number(versionId), document }));
    }
    const ids = new Set();
    let cursor = null;
    for (const entry of payload.assignments || []) {
      const inspection = entry.inspection;
      ids.add(inspection.id);
      await request(s.assignments.put({
        id: inspection.id, inspection, previous_recommendations: entry.previous_recommendations || [],
        cursor: entry.cursor ?? null, fetched_at: payload.server_time || new Date().toISOString(),
      }));
      for (const observation of entry.observations || []) await mergeObservation(s, inspection.id, observation);
      for (const photo of entry.photos || []) await mergePhoto(s, inspection.id, photo);
      cursor = laterCursor(cursor, entry.cursor ?? null);
    }
    for (const old of await request(s.assignments.getAllKeys())) {
      if (ids.has(old)) continue;
      const unsent = await request(s.outbox.index("item").count(
        IDBKeyRange.bound([old, ""], [old, "\uffff"])));
      if (!unsent) await request(s.assignments.delete(old));
    }
    const current = await request(s.meta.get("cursor"));
    await request(s.meta.put({ key: "cursor", value: laterCursor(current ? current.value : null, cursor) }));
    await request(s.meta.put({ key: "assignments_at", value: new Date().toISOString() }));
    return ids.size;
  });
}

/**
 * Apply pulled changes (teammates' edits, photos, inspection state) and move the cursor, in one
 * transaction. Returns {changed: Set of inspection ids touched, unknown: whether a change named
 * an inspection the device does not have (then the assignments must be fetched again)}.
 */
export function applyChanges(changes, cursor) {
  return transaction(["assignments", "observations", "photos", "outbox", "meta"], "readwrite", async (s) => {
    const changed = new Set();
    let unknown = false;
    for (const change of changes || []) {
      const inspectionId = change.inspection_id;
      const assignment = await request(s.assignments.get(inspectionId));
      if (!assignment) { unknown = true; continue; }
      const data = change.data || {};
      if (change.kind === "observation") {
        if (await mergeObservation(s, inspectionId, data)) changed.add(inspectionId);
      } else if (change.kind === "photo") {
        await mergePhoto(s, inspectionId, data);
        changed.add(inspectionId);
      } else if (change.kind === "inspection") {
        assignment.inspection = { ...assignment.inspection, ...data, id: inspectionId };
        await request(s.assignments.put(assignment));
        changed.add(inspectionId);
      }
    }
    if (cursor !== undefined && cursor !== null) await request(s.meta.put({ key: "cursor", value: cursor }));
    return { changed, unknown };
  });
}

/** Every assignment with its checklist, observations and photos' count, for the list view. */
export function listAssignments() {
  return transaction(["assignments", "checklists", "observations", "outbox", "photos"], "readonly", async (s) => {
    const assignments = await request(s.assignments.getAll());
    const result = [];
    for (const assignment of assignments) {
      const checklist = await request(s.checklists.get(assignment.inspection.checklist_version_id));
      const observations = await request(s.observations.index("inspection_id").getAll(assignment.id));
      const photos = await request(s.photos.index("inspection_id").getAll(assignment.id));
      const unsent = await request(s.outbox.index("item").count(
        IDBKeyRange.bound([assignment.id, ""], [assignment.id, "\uffff"])));
      result.push({
        assignment, checklist: checklist ? checklist.document : null, observations,
        photos: photos.map(({ blob, thumb, ...meta }) => meta), unsent,
      });
    }
    return result.sort((a, b) => String(a.assignment.inspection.scheduled_on).localeCompare(
      String(b.assignment.inspection.scheduled_on)) || a.assignment.id - b.assignment.id);
  });
}

/** One inspection with everything its page shows, or null when the device does not have it. */
export function loadInspection(id) {
  return transaction(["assignments", "checklists", "observations", "photos", "outbox", "attention"], "readonly", async (s) => {
    const assignment = await request(s.assignments.get(id));
    if (!assignment) return null;
    const checklist = await request(s.checklists.get(assignment.inspection.checklist_version_id));
    const observations = await request(s.observations.index("inspection_id").getAll(id));
    const photos = (await request(s.photos.index("inspection_id").getAll(id))).map(withBlobs);
    const outbox = await request(s.outbox.index("item").getAll(IDBKeyRange.bound([id, ""], [id, "\uffff"])));
    const attention = (await request(s.attention.getAll())).filter((a) => a.inspection_id === id);
    return {
      assignment, checklist: checklist ? checklist.document : null,
      observations: new Map(observations.map((o) => [o.item_code, o])),
      photos, unsentItems: new Set(outbox.map((op) => op.item_code)), attention,
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

/** Counts for the status bar: unsent ops, photos to upload, entries needing attention. */
export function pendingCounts() {
  return transaction(["outbox", "photos", "attention"], "readonly", async (s) => {
    const ops = await request(s.outbox.count());
    const pending = await request(s.photos.index("status").count("pending"));
    const uploading = await request(s.photos.index("status").count("uploading"));
    const attention = await request(s.attention.getAll());
    return {
      ops, photos: pending + uploading,
      rejected: attention.filter((a) => a.kind !== "conflict").length,
      conflicts: attention.filter((a) => a.kind === "conflict").length,
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
