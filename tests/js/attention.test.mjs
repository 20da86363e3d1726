// Attention entries as the user sees them (issue 14): a change sent after approval is kept by
// the server for the leader — "late", never "refused" — whatever version of the app stored it.

import { test } from "node:test";
import assert from "node:assert/strict";

import { attentionKind } from "../../static/js/outbox.js";

test("a change the server kept for the leader is late, not refused", () => {
  assert.equal(attentionKind({ kind: "late", reason: "locked" }), "late");
  // Stored by an earlier version of the app: rejected with reason "locked".
  assert.equal(attentionKind({ kind: "rejected", reason: "locked" }), "late");
});

test("refusals, refused photos and conflicts keep their kind", () => {
  assert.equal(attentionKind({ kind: "rejected", reason: "invalid_field" }), "rejected");
  assert.equal(attentionKind({ kind: "rejected", reason: "photo_locked" }), "rejected");
  assert.equal(attentionKind({ kind: "photo", reason: "too_large" }), "photo");
  assert.equal(attentionKind({ kind: "conflict", reason: null }), "conflict");
});
