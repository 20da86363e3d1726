// The sync loop: push the outbox, upload photos (tus), then bring the device up to date
// (GET /assignments when a refresh is due, then pull the change feed). It runs on start, when
// the network comes back, on a timer, after edits, and on demand, with exponential backoff
// capped at 5 minutes after failures. One run at a time across all tabs (Web Locks), so two
// tabs never send the same op at once. No DOM: the page listens to "status" and "data" events.

import { ApiError, NetworkError, apiFetch, apiJson, me, setCsrfToken, API_ROOT } from "./api.js";
import { getMeta, request, setMeta, transaction } from "./db.js";
import { applyPushResults, moveToAttention, takeBatch, wireOp } from "./outbox.js";
import { PERSISTENCE_EVENT, isQuotaError, storageLevel } from "./retention.js";
import {
  EVIDENCE_CACHE, applyChanges, captionPhoto, deviceId, getSession, lockUnsentWork, markSessionExpired, noteQuotaError, pendingCounts,
  photosToUpload, saveAssignments, saveSession, tidyStorage, updatePhoto, updateSession,
} from "./store.js";
import { DEFAULT_CHUNK, TusHttpError, TusRefused, upload } from "./tus.js";

export const LOCK_NAME = "cchc-sync";
export const PUSH_BATCH = 100;
const PULL_LIMIT = 500;
const PULL_PAGES_PER_RUN = 50;

/** The session ended (401) or belongs to someone else: the user must sign in again. */
export class AuthRequired extends Error {
  constructor(reason = "expired") {
    super(`sign-in required (${reason})`);
    this.name = "AuthRequired";
    this.reason = reason;
  }
}

/**
 * The server's word that this account may no longer use the data (its sessions were ended, or
 * it was deactivated): the device locks the unsent work away and wipes the rest. A plain 401
 * ("unauthorized": the session expired) only asks to sign in again.
 */
export const LOCKING_CODES = new Set(["session_ended", "account_deactivated"]);

/** Whether an error is the server answering 401. */
function isUnauthorised(err) {
  return err instanceof AuthRequired || ((err instanceof ApiError || err instanceof TusHttpError) && err.status === 401);
}

/** Backoff delay after `failures` consecutive failed runs: 2 s, 4 s, 8 s … capped, ±20 % jitter. */
export function backoffDelay(failures, baseMs = 2000, maxMs = 300000, random = Math.random) {
  const raw = Math.min(maxMs, baseMs * 2 ** Math.max(0, failures - 1));
  return Math.min(maxMs, Math.round(raw * (0.8 + 0.4 * random())));
}

/** Whether an API error is a stale or missing CSRF token (fixed by asking /auth/me again). */
function isCsrfError(err) {
  return (err instanceof ApiError || err instanceof TusHttpError || err instanceof TusRefused)
    && err.status === 400 && err.code === "csrf_failed";
}

/**
 * The sync engine. Events: "status" (detail: a snapshot for the status bar) and "data"
 * (detail: {inspections: Set of ids, all: bool}) when local data changed under the views.
 */
export class SyncEngine extends EventTarget {
  constructor({ intervalMs = 30000, baseBackoffMs = 2000, maxBackoffMs = 300000, nudgeMs = 3000,
    chunkSize = DEFAULT_CHUNK, pendingDrafts = () => new Set(), beforeLock = async () => {} } = {}) {
    super();
    this.pendingDrafts = pendingDrafts; // inspection ids with typing not yet committed
    this.beforeLock = beforeLock; // commit what is being typed before the work is locked away
    this.intervalMs = intervalMs;
    this.baseBackoffMs = baseBackoffMs;
    this.maxBackoffMs = maxBackoffMs;
    this.nudgeMs = nudgeMs;
    this.chunkSize = chunkSize;
    this.timer = null;
    this.running = false;
    this.again = false;
    this.refreshDue = true; // the first run after start fetches the session and assignments
    this.failures = 0;
    this.stopped = true;
    this.inFlight = null;
    this.status = {
      online: globalThis.navigator ? navigator.onLine : true, running: false, lastSuccessAt: null,
      error: null, authRequired: false, locked: null, nextAt: null, upload: null, storage: null,
      counts: { ops: 0, photos: 0, rejected: 0, conflicts: 0 },
    };
    this.onOnline = () => {
      this.update({ online: true });
      this.failures = 0; // the network is back: try now, not after the last backoff delay
      this.syncNow({ refresh: true });
    };
    this.onOffline = () => this.update({ online: false });
    // The answer to navigator.storage.persist() (asked at each start) changes what the bar says.
    this.onPersistence = () => this.measureStorage().catch(() => {});
  }

  /** Start listening to the network and run the first sync. */
  async start() {
    this.stopped = false;
    globalThis.addEventListener("online", this.onOnline);
    globalThis.addEventListener("offline", this.onOffline);
    globalThis.addEventListener(PERSISTENCE_EVENT, this.onPersistence);
    this.update({ lastSuccessAt: await getMeta("last_sync", null) });
    await this.refreshCounts();
    // Offline for weeks, the device still forgets what its retention rules say (by its clock).
    await this.tidy().catch((err) => console.error(err));
    this.syncNow({ refresh: true });
  }

  /** Stop timers and listeners (sign-out). */
  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    globalThis.removeEventListener("online", this.onOnline);
    globalThis.removeEventListener("offline", this.onOffline);
    globalThis.removeEventListener(PERSISTENCE_EVENT, this.onPersistence);
  }

  /** Merge `changes` into the status and tell the listeners. */
  update(changes) {
    Object.assign(this.status, changes);
    this.dispatchEvent(new CustomEvent("status", { detail: { ...this.status } }));
  }

  /** Recount what is waiting (after an edit, a photo, a run). */
  async refreshCounts() {
    this.update({ counts: await pendingCounts() });
  }

  /** Something was saved locally: push it soon, unless a backoff says the server is unwell. */
  nudge() {
    this.refreshCounts();
    if (this.stopped || this.status.authRequired || this.failures > 0) return;
    if (this.timer && this.status.nextAt && this.status.nextAt - Date.now() < this.nudgeMs) return;
    this.schedule(this.nudgeMs);
  }

  /** The user signed in again: forget the auth error and sync. */
  resume() {
    this.failures = 0;
    this.update({ authRequired: false, error: null, locked: null });
    if (this.stopped) this.start();
    else this.syncNow({ refresh: true });
  }

  schedule(delayMs) {
    clearTimeout(this.timer);
    if (this.stopped) return;
    this.timer = setTimeout(() => this.syncNow(), delayMs);
    this.update({ nextAt: Date.now() + delayMs });
  }

  /**
   * Run a sync now (one at a time; across tabs through navigator.locks with ifAvailable, so a
   * tab never waits behind another: it simply lets that one do the work). `refresh` also
   * fetches /auth/me and /assignments. Resolves with "ok", "busy", "offline", "auth" or "error".
   */
  async syncNow({ refresh = false } = {}) {
    if (refresh) this.refreshDue = true;
    if (this.stopped) return "stopped";
    if (this.running) { this.again = true; return "busy"; }
    this.running = true;
    clearTimeout(this.timer);
    let outcome;
    try {
      const body = async (lock) => (lock === null ? "busy" : this.run());
      this.inFlight = globalThis.navigator && navigator.locks
        ? navigator.locks.request(LOCK_NAME, { ifAvailable: true }, body)
        : body(true);
      outcome = await this.inFlight;
    } finally {
      this.running = false;
    }
    await this.refreshCounts().catch(() => {});
    if (this.stopped || outcome === "auth") return outcome;
    if (this.again) { this.again = false; return this.syncNow(); }
    if (outcome === "ok") this.schedule(this.intervalMs);
    else if (outcome === "busy") this.schedule(Math.min(this.intervalMs, 5000));
    else this.schedule(backoffDelay(this.failures, this.baseBackoffMs, this.maxBackoffMs));
    return outcome;
  }

  /**
   * Resolves once no sync run is in progress, in this tab or (with Web Locks) any other. Sign-out
   * waits for it after stop(): a run still fetching assignments would otherwise write the user's
   * data back onto the device after it was cleared.
   */
  async idle() {
    if (globalThis.navigator && navigator.locks) {
      await navigator.locks.request(LOCK_NAME, () => {}); // every run holds it while it works
      return;
    }
    while (this.running) await this.inFlight.catch(() => {});
  }

  /**
   * One sync run; every failure is turned into a status the user can read. "Synced at" is the
   * time the run began: what was saved or changed on the server before it is on both sides.
   */
  async run() {
    const startedAt = new Date().toISOString();
    this.update({ running: true });
    try {
      if (globalThis.navigator && navigator.onLine === false) throw new NetworkError("offline");
      await this.withFreshToken(() => this.steps());
      this.failures = 0;
      await setMeta("last_sync", startedAt);
      this.update({ running: false, error: null, online: true, lastSuccessAt: startedAt, upload: null });
      return "ok";
    } catch (err) {
      if (isUnauthorised(err) && LOCKING_CODES.has(err.code)) {
        await this.lock(err.code);
        return "auth";
      }
      if (isUnauthorised(err)) {
        await markSessionExpired();
        this.update({ running: false, authRequired: true, error: { kind: "auth" }, upload: null });
        return "auth";
      }
      this.failures += 1;
      if (err instanceof NetworkError) {
        // The browser may think it is online (Wi-Fi without a route, a dead cell): say which.
        const online = navigator.onLine;
        this.update({ running: false, online, error: { kind: online ? "unreachable" : "offline" }, upload: null });
        return "offline";
      }
      if (isQuotaError(err)) {
        // The browser will not store what the server sends: say so, and offer to free space.
        await noteQuotaError();
        this.update({ running: false, upload: null, error: { kind: "storage" } });
        await this.measureStorage().catch(() => {});
        return "error";
      }
      const status = err.status || null;
      this.update({ running: false, upload: null,
        error: { kind: "server", status, message: err.message || String(err) } });
      if (!(err instanceof ApiError || err instanceof TusHttpError)) console.error(err); // a bug
      return "error";
    }
  }

  /**
   * The server ended this account's sessions or deactivated it: stop, set the unsent work apart
   * (locked for the same person), wipe everything else, and tell the page ("locked" event).
   */
  async lock(reason) {
    this.stop();
    await this.beforeLock().catch((err) => console.error(err));
    const locked = await lockUnsentWork(reason);
    this.update({ running: false, authRequired: true, locked, error: { kind: "locked", reason }, upload: null,
      counts: { ops: 0, photos: 0, rejected: 0, conflicts: 0 } });
    this.dispatchEvent(new CustomEvent("locked", { detail: locked }));
  }

  /** Whether an API error seen outside the sync run (e.g. opening a photo) must lock the device. */
  async handleApiError(err) {
    if (isUnauthorised(err) && LOCKING_CODES.has(err.code)) {
      await this.lock(err.code);
      return true;
    }
    return false;
  }

  /**
   * Free what the server holds and forget what is no longer needed (store.tidyStorage), then
   * measure the browser's storage for the header bar's warning. `clearFinished`: the user asked
   * to remove finished inspections now. Returns tidyStorage's summary.
   */
  async tidy({ clearFinished = false } = {}) {
    const result = await tidyStorage({ clearFinished, drafts: this.pendingDrafts() });
    if (result.freedPhotos || result.forgotten.length) {
      this.dispatchEvent(new CustomEvent("data", { detail: { all: true, inspections: new Set() } }));
    }
    await this.measureStorage();
    return result;
  }

  /** navigator.storage.estimate() and a refused write, as the status's `storage` level. */
  async measureStorage() {
    let estimate = null;
    try {
      if (globalThis.navigator && navigator.storage && navigator.storage.estimate) estimate = await navigator.storage.estimate();
    } catch { /* not available: no figures */ }
    let persisted = null; // whether the browser keeps the data under pressure (null: cannot tell)
    try {
      if (globalThis.navigator && navigator.storage && navigator.storage.persisted) persisted = await navigator.storage.persisted();
    } catch { /* not available */ }
    const quotaErrorAt = await getMeta("quota_error_at", null);
    this.update({ storage: { ...storageLevel(estimate, { quotaErrorSeen: Boolean(quotaErrorAt) }), quotaErrorAt, persisted } });
  }

  /** Run `fn`; if the server says the CSRF token is stale, ask /auth/me for one and retry once. */
  async withFreshToken(fn) {
    try {
      return await fn();
    } catch (err) {
      if (!isCsrfError(err)) throw err;
      this.refreshDue = true;
      await this.refreshSession();
      return fn();
    }
  }

  /** GET /auth/me: a fresh CSRF token, and proof the session is still the same person's. */
  async refreshSession() {
    const session = await getSession();
    if (!session || session.expired) throw new AuthRequired("no-session");
    const answer = await me();
    if (session.user && answer.user && answer.user.id !== session.user.id) {
      // Someone else signed in in this browser: never send this user's work under their name.
      throw new AuthRequired("other-user");
    }
    // Only what the server answered changes: whatever was stored while we waited (the offline
    // password check, made in the background after sign-in) stays.
    const fresh = { user: answer.user, csrf_token: answer.csrf_token, expired: false };
    if (session.user) await updateSession(session.user.username, fresh);
    else await saveSession({ ...session, ...fresh });
  }

  async steps() {
    const session = await getSession();
    if (!session || session.expired) throw new AuthRequired("no-session");
    setCsrfToken(session.csrf_token);
    const refresh = this.refreshDue;
    if (refresh) await this.refreshSession();
    await this.push();
    await this.uploadPhotos();
    if (refresh) await this.fetchAssignments();
    if (await this.pull()) await this.fetchAssignments(); // a change named a new inspection
    this.refreshDue = false;
    await this.tidy();
  }

  /** GET /assignments into IndexedDB: the device then has all it needs for the field. */
  async fetchAssignments() {
    const payload = await apiJson("assignments");
    await saveAssignments(payload);
    this.dispatchEvent(new CustomEvent("data", { detail: { all: true, inspections: new Set() } }));
    await keepEvidenceImages(payload);
  }

  /** Send the outbox in batches until it is empty or the server stops answering for ops. */
  async push() {
    const device = await deviceId();
    for (let round = 0; round < 1000; round++) {
      const batch = await takeBatch(PUSH_BATCH);
      if (!batch.length) return;
      const answered = await this.pushBatch(device, batch);
      await this.refreshCounts();
      if (!answered) return; // nothing settled: do not spin; the next run tries again
    }
  }

  /** Push one batch; a batch the server calls malformed is retried op by op to isolate the bad one. */
  async pushBatch(device, batch) {
    let response;
    try {
      response = await apiJson("sync/push", { method: "POST", json: { device_id: device, ops: batch.map(wireOp) } });
    } catch (err) {
      if (err instanceof ApiError && [400, 413, 422].includes(err.status) && !isCsrfError(err)) {
        if (batch.length === 1) {
          await moveToAttention(batch, err.message, err.code || "invalid");
          return 1;
        }
        let settled = 0;
        for (const op of batch) settled += await this.pushBatch(device, [op]);
        return settled;
      }
      throw err;
    }
    const counts = await applyPushResults(batch, response && response.results);
    const touched = new Set(batch.map((op) => op.inspection_id));
    if (counts.conflict || counts.rejected) {
      this.dispatchEvent(new CustomEvent("data", { detail: { all: false, inspections: touched } }));
    }
    return batch.length - counts.unanswered;
  }

  /** Upload every waiting photo with tus, resuming where an earlier attempt stopped. */
  async uploadPhotos() {
    for (const photo of await photosToUpload()) {
      const uuid = photo.client_uuid;
      if (!photo.blob) continue;
      await updatePhoto(uuid, { status: "uploading" });
      const metadata = {
        client_uuid: uuid, inspection_id: photo.inspection_id, item_code: photo.item_code,
        sha256: photo.sha256, filename: photo.filename, content_type: photo.content_type,
        captured_at: photo.captured_at, latitude: photo.latitude, longitude: photo.longitude,
        caption: photo.caption,
      };
      this.update({ upload: { uuid, offset: photo.offset || 0, size: photo.size } });
      let sent = 0; // bytes of this photo put on the wire, retries included (bench_app.py)
      const send = (url, init) => {
        if (init.body) sent += init.body.size;
        return apiFetch(url, { ...init, timeoutMs: 60000 });
      };
      try {
        const result = await upload({
          endpoint: `${API_ROOT}/uploads`, blob: photo.blob, metadata, uploadUrl: photo.upload_url,
          chunkSize: this.chunkSize, send,
          onCreated: (url) => updatePhoto(uuid, { upload_url: url, sent_caption: metadata.caption || "" }),
          onProgress: async (offset) => {
            await updatePhoto(uuid, { offset });
            this.update({ upload: { uuid, offset, size: photo.size } });
          },
        });
        const done = await updatePhoto(uuid, { status: "done", photo_id: result.photoId ? Number(result.photoId) : null,
          uploaded_at: new Date().toISOString(), sent_bytes: (photo.sent_bytes || 0) + sent });
        // Captioned after the upload began: the server has the old caption; send the new one.
        const sentCaption = done && done.sent_caption !== undefined ? done.sent_caption : (metadata.caption || "");
        if (done && (done.caption || "") !== sentCaption) await captionPhoto(uuid, done.caption || "");
        this.dispatchEvent(new CustomEvent("data", { detail: { all: false, inspections: new Set([photo.inspection_id]) } }));
      } catch (err) {
        if (err instanceof TusRefused && !isCsrfError(err)) {
          await this.refusePhoto(photo, err);
          continue;
        }
        await updatePhoto(uuid, { status: "pending", sent_bytes: (photo.sent_bytes || 0) + sent }).catch(() => {});
        throw err;
      }
      await this.refreshCounts();
    }
  }

  /** The server will not take this photo: tell the user, keep the picture on the device. */
  async refusePhoto(photo, err) {
    await transaction(["photos", "attention"], "readwrite", async (s) => {
      const stored = await request(s.photos.get(photo.client_uuid));
      if (stored) {
        stored.status = "refused";
        stored.error = err.message;
        await request(s.photos.put(stored));
      }
      await request(s.attention.put({
        id: photo.client_uuid, kind: "photo", inspection_id: photo.inspection_id,
        item_code: photo.item_code, reason: err.code || String(err.status),
        message: err.message, at: new Date().toISOString(),
        photo: { client_uuid: photo.client_uuid, sha256: photo.sha256, size: photo.size, filename: photo.filename },
      }));
    });
    this.dispatchEvent(new CustomEvent("data", { detail: { all: false, inspections: new Set([photo.inspection_id]) } }));
  }

  /** Pull the change feed from the stored cursor; returns true when an unknown inspection appeared. */
  async pull() {
    let cursor = await getMeta("cursor", null);
    let unknownSeen = false;
    for (let page = 0; page < PULL_PAGES_PER_RUN; page++) {
      const query = new URLSearchParams({ limit: String(PULL_LIMIT) });
      if (cursor !== null && cursor !== undefined) query.set("since", String(cursor));
      const answer = await apiJson(`sync/pull?${query}`);
      const { changed, unknown } = await applyChanges(answer.changes, answer.cursor);
      unknownSeen = unknownSeen || unknown;
      if (changed.size) this.dispatchEvent(new CustomEvent("data", { detail: { all: false, inspections: changed } }));
      if (answer.cursor !== undefined && answer.cursor !== null) cursor = answer.cursor;
      if (!answer.more || !(answer.changes || []).length) break;
    }
    return unknownSeen;
  }
}

/**
 * The images among the units' evidence files (issue 16), fetched once while online so that the
 * service worker keeps them (sw.js, EVIDENCE_CACHE) and the claims show them offline. Documents
 * are kept when first opened. A failure here is not a sync failure.
 */
async function keepEvidenceImages(payload) {
  if (!globalThis.caches) return;
  const cache = await caches.open(EVIDENCE_CACHE);
  for (const entry of payload.assignments || []) {
    for (const file of (entry.self_assessment && entry.self_assessment.evidence) || []) {
      if (!file.url || !(file.content_type || "").startsWith("image/")) continue;
      const url = new URL(file.url, location.href).href;
      if (await cache.match(url)) continue;
      await fetch(url, { credentials: "same-origin" }).catch(() => null);
    }
  }
}
