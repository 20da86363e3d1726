// Typing is saved in two steps. Every keystroke goes synchronously into localStorage (a
// "draft"), so closing the tab or a crash a moment later loses nothing; after a short pause the
// value is committed to IndexedDB and the outbox (one op per pause, coalesced further by the
// outbox), and the draft is removed. Drafts left by a closed tab are committed on the next
// start. No DOM (localStorage is injected, so tests can pass a stand-in).

const KEY = "cchc-drafts";

/** Debounced, crash-safe saving of field values; `save(inspectionId, itemCode, field, value)` commits. */
export class Drafts {
  constructor({ save, storage = globalThis.localStorage, delayMs = 600 }) {
    this.save = save;
    this.storage = storage;
    this.delayMs = delayMs;
    this.timers = new Map();
    this.serial = 0;
    this.inflight = new Set();
  }

  read() {
    try {
      return JSON.parse(this.storage.getItem(KEY) || "{}") || {};
    } catch {
      return {};
    }
  }

  write(drafts) {
    try {
      this.storage.setItem(KEY, JSON.stringify(drafts));
    } catch { /* storage full or blocked: the debounced commit still saves to IndexedDB */ }
  }

  /**
   * Remember a new value now and commit it after `delay` ms (0: at once). Returns a promise
   * that resolves when this value is committed.
   */
  set(inspectionId, itemCode, field, value, { delay = this.delayMs } = {}) {
    const key = JSON.stringify([inspectionId, itemCode, field]);
    const drafts = this.read();
    const serial = ++this.serial;
    drafts[key] = { value, serial, at: new Date().toISOString() };
    this.write(drafts);
    clearTimeout(this.timers.get(key)?.timer);
    return new Promise((resolve, reject) => {
      const entry = { resolve, reject, timer: null };
      entry.timer = setTimeout(() => {
        this.timers.delete(key);
        this.commit(key).then(resolve, reject);
      }, delay);
      const previous = this.timers.get(key);
      if (previous) previous.resolve(); // superseded: the newer value carries the change
      this.timers.set(key, entry);
    });
  }

  /** Commit the draft under `key` (if any) and remove it unless it changed meanwhile. */
  async commit(key) {
    const draft = this.read()[key];
    if (!draft) return;
    const [inspectionId, itemCode, field] = JSON.parse(key);
    const work = this.save(inspectionId, itemCode, field, draft.value);
    this.inflight.add(work);
    try {
      await work;
    } finally {
      this.inflight.delete(work);
    }
    const drafts = this.read();
    if (drafts[key] && drafts[key].serial === draft.serial) {
      delete drafts[key];
      this.write(drafts);
    }
  }

  /** Commit everything now (page hidden or closing, before sync, before sign-out). */
  async flush() {
    const pending = [...this.timers.entries()];
    for (const [key, entry] of pending) {
      clearTimeout(entry.timer);
      this.timers.delete(key);
    }
    const keys = new Set([...pending.map(([key]) => key), ...Object.keys(this.read())]);
    const results = await Promise.allSettled([...keys].map((key) => this.commit(key)));
    for (const [key, entry] of pending) {
      const index = [...keys].indexOf(key);
      if (results[index].status === "fulfilled") entry.resolve(); else entry.reject(results[index].reason);
    }
    await Promise.allSettled([...this.inflight]);
  }

  /** The value being typed for a field that is not committed yet, or undefined. */
  pending(inspectionId, itemCode, field) {
    const draft = this.read()[JSON.stringify([inspectionId, itemCode, field])];
    return draft ? draft.value : undefined;
  }

  /** Inspection ids with a draft not yet committed (their work is not yet in IndexedDB). */
  inspections() {
    return new Set(Object.keys(this.read()).map((key) => JSON.parse(key)[0]));
  }

  /** Whether any draft waits to be committed. */
  hasPending() {
    return Object.keys(this.read()).length > 0;
  }
}
