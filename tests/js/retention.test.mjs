// The storage lifecycle's rules (static/js/retention.js) and the offline password check for
// locked work (static/js/verifier.js), in Node: what a tablet keeps, frees and forgets.
import { test } from "node:test";
import assert from "node:assert/strict";

import {
  STALE_DAYS, canDropFullImage, evictionRisk, fitsInQuota, forgetReason, hasUnsent, isQuotaError,
  signedLongAgo, storageLevel,
} from "../../static/js/retention.js";
import { checkVerifier, makeVerifier } from "../../static/js/verifier.js";

const DAY = 24 * 60 * 60 * 1000;
const NOW = Date.parse("2026-03-01T00:00:00Z");
const photo = (status, blob = { size: 267000 }) => ({ status, blob });

test("a full image goes only when the server has it and the inspection is approved or signed", () => {
  for (const state of ["approved", "signed"]) assert.ok(canDropFullImage(photo("done"), { state }), state);
  for (const state of ["planned", "in_progress", "submitted"]) {
    assert.ok(!canDropFullImage(photo("done"), { state }), `${state}: the team may need it offline`);
  }
  for (const status of ["pending", "uploading", "refused", "remote"]) {
    assert.ok(!canDropFullImage(photo(status), { state: "approved" }), `${status}: not confirmed by the server`);
  }
  assert.ok(!canDropFullImage(photo("done", null), { state: "approved" }), "nothing left to drop");
});

test("a signed inspection is kept for the retention days, counted from its signing", () => {
  const signed = (daysAgo) => ({ state: "signed", signed_at: new Date(NOW - daysAgo * DAY).toISOString() });
  assert.ok(!signedLongAgo(signed(29), 30, NOW));
  assert.ok(!signedLongAgo(signed(30), 30, NOW));
  assert.ok(signedLongAgo(signed(30.01), 30, NOW));
  assert.ok(signedLongAgo(signed(1), 0, NOW), "0 days: forgotten once signed");
  assert.ok(!signedLongAgo({ state: "approved", signed_at: null }, 30, NOW));
  assert.ok(!signedLongAgo({ state: "signed", signed_at: null }, 30, NOW), "no time: kept");
  assert.ok(!signedLongAgo({ state: "signed", signed_at: "hôm qua" }, 30, NOW), "unreadable time: kept");
});

test("what may be forgotten, and why", () => {
  const of = (inspection, unassigned = false) => ({ inspection, unassigned });
  const old = { state: "signed", signed_at: new Date(NOW - 40 * DAY).toISOString() };
  assert.equal(forgetReason(of(old), { retentionDays: 30, now: NOW }), "finished");
  assert.equal(forgetReason(of(old), { retentionDays: 45, now: NOW }), null);
  assert.equal(forgetReason(of({ state: "in_progress" }, true), { now: NOW }), "unassigned");
  assert.equal(forgetReason(of({ state: "approved" }), { now: NOW }), null);
  assert.equal(forgetReason(of({ state: "approved" }), { now: NOW, clearFinished: true }), "finished");
  assert.equal(forgetReason(of({ state: "submitted" }), { now: NOW, clearFinished: true }), null);
});

test("anything only on the device keeps an inspection", () => {
  assert.ok(!hasUnsent({ ops: 0, photos: [photo("done"), photo("remote")], attention: [{ kind: "conflict" }] }));
  assert.ok(hasUnsent({ ops: 1 }));
  assert.ok(hasUnsent({ drafts: true }), "typing not yet committed");
  for (const status of ["pending", "uploading"]) assert.ok(hasUnsent({ photos: [photo(status)] }), status);
  assert.ok(hasUnsent({ attention: [{ kind: "rejected" }] }), "a refused change waits for export");
  assert.ok(hasUnsent({ photos: [photo("refused")], attention: [{ kind: "photo" }] }), "a refused photo too");
  assert.ok(!hasUnsent({ photos: [photo("refused")] }), "exported and dismissed: it may go");
});

test("the device warns from 80 % of the quota, or once the browser refused a write", () => {
  assert.deepEqual(storageLevel({ usage: 790, quota: 1000 }), { usage: 790, quota: 1000, ratio: 0.79, warn: false, full: false });
  assert.equal(storageLevel({ usage: 800, quota: 1000 }).warn, true);
  assert.equal(storageLevel({ usage: 10, quota: 1000 }, { quotaErrorSeen: true }).full, true);
  assert.deepEqual(storageLevel(null), { usage: null, quota: null, ratio: null, warn: false, full: false });
  assert.ok(fitsInQuota({ usage: 700, quota: 1000 }, 300));
  assert.ok(!fitsInQuota({ usage: 701, quota: 1000 }, 300));
  assert.ok(fitsInQuota(undefined, 1e12), "no estimate: let the browser decide");
  assert.ok(isQuotaError(new DOMException("full", "QuotaExceededError")));
  assert.ok(!isQuotaError(new DOMException("gone", "NotFoundError")));
});

test("locked work is exported only with the owner's password, checked offline", async () => {
  const verifier = await makeVerifier("Mật khẩu đúng 2026", 1000);
  assert.equal(verifier.algorithm, "PBKDF2-SHA-256");
  assert.ok(!JSON.stringify(verifier).includes("Mật khẩu"), "the password itself is not kept");
  assert.ok(await checkVerifier(verifier, "Mật khẩu đúng 2026"));
  assert.ok(await checkVerifier(verifier, "Mật khẩu đúng 2026".normalize("NFD")), "NFD typing is the same password");
  assert.ok(!(await checkVerifier(verifier, "mật khẩu đúng 2026")));
  assert.ok(!(await checkVerifier(null, "Mật khẩu đúng 2026")));
  const other = await makeVerifier("Mật khẩu đúng 2026", 1000);
  assert.notEqual(other.salt, verifier.salt);
});

test("the device warns when the browser refused persistent storage or the last sync is days old", () => {
  const synced = (daysAgo) => new Date(NOW - daysAgo * DAY).toISOString();
  const fresh = evictionRisk({ persisted: true, lastSyncAt: synced(1), unsent: 3, now: NOW });
  assert.deepEqual(fresh, { refused: false, stale: false, days: 1, unsent: 3, warn: false });
  const refused = evictionRisk({ persisted: false, lastSyncAt: synced(0.5), unsent: 2, now: NOW });
  assert.ok(refused.warn && refused.refused && !refused.stale && refused.unsent === 2);
  assert.ok(!evictionRisk({ persisted: null, lastSyncAt: synced(1), now: NOW }).warn, "a browser that cannot tell");
  const stale = evictionRisk({ persisted: true, lastSyncAt: synced(STALE_DAYS), now: NOW });
  assert.ok(stale.warn && stale.stale && stale.days === STALE_DAYS, "Safari evicts after 7 days: warn before");
  assert.ok(!evictionRisk({ persisted: true, lastSyncAt: synced(STALE_DAYS - 0.1), now: NOW }).warn);
  assert.ok(!evictionRisk({ persisted: true, lastSyncAt: null, now: NOW }).warn, "never synced: nothing to age");
  assert.ok(STALE_DAYS < 7);
});
