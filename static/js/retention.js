// What the tablet keeps, and for how long: the rules of the storage lifecycle as pure functions
// (no IndexedDB, no DOM), so they are tested in Node and applied by store.js in one transaction.
//
// - A photo's full-size image is dropped once the server has confirmed it (stored, SHA-256
//   checked: status "done") and the inspection is approved or signed; its thumbnail and
//   metadata stay. Until approval the team may need the pictures offline during the visit.
// - An inspection is forgotten (observations, photos, notes, conflicts) when it is no longer
//   assigned to the user, or was signed more than `retentionDays` ago, or the user clears
//   finished inspections — but never while anything of it is unsent.

export const DEFAULT_RETENTION_DAYS = 30;
export const WARN_AT = 0.8; // share of the quota at which the device page warns
// Safari deletes the script-written data of a site not used for 7 days: warn well before.
export const STALE_DAYS = 4;
// Dispatched on the window once the browser answered navigator.storage.persist().
export const PERSISTENCE_EVENT = "cchc-persistence";
const DAY_MS = 24 * 60 * 60 * 1000;
const FINISHED = new Set(["approved", "signed"]);
const UNSENT_PHOTO = new Set(["pending", "uploading"]);

/** Whether the inspection's work is finished (approved or signed): its photos are on the server. */
export function isFinished(inspection) {
  return Boolean(inspection) && FINISHED.has(inspection.state);
}

/**
 * Whether a photo is still to be uploaded. A photo the server refused is kept by its entry in
 * the attention list (until exported and dismissed), which hasUnsent counts.
 */
export function isUnsentPhoto(photo) {
  return UNSENT_PHOTO.has(photo.status);
}

/** Whether the device may drop this photo's full-size image (it keeps the thumbnail). */
export function canDropFullImage(photo, inspection) {
  return photo.status === "done" && Boolean(photo.blob) && isFinished(inspection);
}

/** Whether an inspection was signed more than `retentionDays` before `now` (a Date or ms). */
export function signedLongAgo(inspection, retentionDays = DEFAULT_RETENTION_DAYS, now = Date.now()) {
  if (!inspection || inspection.state !== "signed" || !inspection.signed_at) return false;
  const signed = Date.parse(inspection.signed_at);
  if (Number.isNaN(signed)) return false;
  const days = Number.isFinite(Number(retentionDays)) ? Math.max(0, Number(retentionDays)) : DEFAULT_RETENTION_DAYS;
  return Number(now) - signed > days * DAY_MS;
}

/**
 * Why an assignment may be forgotten, or null: "finished" (signed long ago, or finished and the
 * user asked to clear finished inspections) or "unassigned" (the server no longer lists it).
 * Whether something of it is unsent is the caller's question (see hasUnsent).
 */
export function forgetReason(assignment, { retentionDays = DEFAULT_RETENTION_DAYS, now = Date.now(), clearFinished = false } = {}) {
  const inspection = assignment.inspection;
  if (signedLongAgo(inspection, retentionDays, now)) return "finished";
  if (clearFinished && isFinished(inspection)) return "finished";
  if (assignment.unassigned) return "unassigned";
  return null;
}

/**
 * Whether anything of one inspection exists only on this device: `counts` has the inspection's
 * outbox ops, photos and attention entries (refused work; conflict notes are only notes), and
 * `drafts` whether typing for it is not committed yet.
 */
export function hasUnsent({ ops = 0, photos = [], attention = [], drafts = false }) {
  return ops > 0 || drafts || photos.some(isUnsentPhoto) || attention.some((a) => a.kind !== "conflict");
}

/**
 * The quota situation from navigator.storage.estimate() ({usage, quota}): the share used, and
 * whether to warn (at `warnAt` or after the browser refused a write for lack of space).
 */
export function storageLevel(estimate, { warnAt = WARN_AT, quotaErrorSeen = false } = {}) {
  const usage = estimate && Number.isFinite(estimate.usage) ? estimate.usage : null;
  const quota = estimate && Number.isFinite(estimate.quota) && estimate.quota > 0 ? estimate.quota : null;
  const ratio = usage !== null && quota !== null ? usage / quota : null;
  return { usage, quota, ratio, warn: quotaErrorSeen || (ratio !== null && ratio >= warnAt), full: quotaErrorSeen };
}

/** Whether `bytes` more would still fit, by the browser's estimate (true when it cannot tell). */
export function fitsInQuota(estimate, bytes) {
  if (!estimate || !Number.isFinite(estimate.usage) || !Number.isFinite(estimate.quota) || estimate.quota <= 0) return true;
  return estimate.usage + bytes <= estimate.quota;
}

/** Whether an error is the browser refusing to store for lack of space (22: older WebKit). */
export function isQuotaError(err) {
  return Boolean(err) && (err.name === "QuotaExceededError" || err.code === 22);
}

/**
 * Whether the browser may delete this device's data, and why: it refused persistent storage
 * (`persisted` false; null when the browser cannot tell), or the last successful sync
 * (`lastSyncAt`, ISO) is `staleDays` or more ago (Safari evicts sites unused for 7 days).
 * `unsent` is carried along for the words ("3 items not sent").
 */
export function evictionRisk({ persisted = null, lastSyncAt = null, unsent = 0, now = Date.now(),
  staleDays = STALE_DAYS } = {}) {
  const last = lastSyncAt ? Date.parse(lastSyncAt) : NaN;
  const days = Number.isFinite(last) ? Math.max(0, Math.floor((now - last) / DAY_MS)) : null;
  const refused = persisted === false;
  const stale = days !== null && days >= staleDays;
  return { refused, stale, days, unsent, warn: refused || stale };
}
