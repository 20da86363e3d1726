// The closing meeting's data as the screens show it: the server's `closing` (GET /assignments,
// the feed's "closing" change) with this device's pending ops laid on top, in the order they
// were made. Pure (no DOM, no IndexedDB): tested in tests/js/closing.test.mjs. The ops
// themselves are written by store.js (queueClosingOp), like observations.

export const CLOSING_ITEM = "closing"; // the outbox's item_code for closing ops
export const CLOSING_FIELDS = ["meeting_start", "meeting_end", "unit_officials", "team_present", "unit_comments", "report_due"];
export const CLOSING_TYPES = ["closing.set", "finding.set", "finding.delete", "recommendation.set", "recommendation.delete"];
export const APPROVE_TYPE = "inspection.approve";

/** A closing with nothing recorded (a server that sends none, an inspection not yet synced). */
export function emptyClosing() {
  return {
    findings: [], recommendations: [], meeting_start: null, meeting_end: null, unit_officials: [],
    team_present: null, unit_comments: "", report_due: null, versions: {}, minutes_revision: null,
    can_edit: false, can_approve: false,
  };
}

/** The outbox `field` of a closing op: one per closing field, finding or recommendation. */
export function opField(type, fields) {
  if (type === "closing.set") return `closing.set:${Object.keys(fields)[0]}`;
  if (type.startsWith("finding.")) return `finding:${fields.id}`;
  if (type.startsWith("recommendation.")) return `recommendation:${fields.id}`;
  return type;
}

function byPosition(a, b) {
  return (a.position ?? 0) - (b.position ?? 0) || String(a.id).localeCompare(String(b.id));
}

/**
 * The closing to show: `server` (may be null) with `ops` (outbox ops of this inspection, oldest
 * first) applied. Adds `pending`: {fields: Set, findings: Set of ids, recommendations: Set of
 * ids} — what is not on the server yet — and `rejected` entries are the caller's (attention).
 */
export function effectiveClosing(server, ops = []) {
  const base = { ...emptyClosing(), ...(server || {}) };
  const closing = {
    ...base,
    findings: (base.findings || []).map((f) => ({ ...f })),
    recommendations: (base.recommendations || []).map((r) => ({ ...r, item_codes: [...(r.item_codes || [])] })),
    unit_officials: (base.unit_officials || []).map((o) => ({ ...o })),
    versions: { ...(base.versions || {}) },
  };
  const pending = { fields: new Set(), findings: new Set(), recommendations: new Set() };
  for (const op of ops) {
    if (!CLOSING_TYPES.includes(op.type)) continue;
    const fields = op.fields || {};
    if (op.type === "closing.set") {
      for (const [name, value] of Object.entries(fields)) {
        if (!CLOSING_FIELDS.includes(name)) continue;
        closing[name] = Array.isArray(value) ? value.map((v) => (v && typeof v === "object" ? { ...v } : v)) : value;
        pending.fields.add(name);
      }
      continue;
    }
    const list = op.type.startsWith("finding.") ? "findings" : "recommendations";
    const rows = closing[list];
    const at = rows.findIndex((row) => row.id === fields.id);
    if (op.type.endsWith(".delete")) {
      if (at >= 0) rows.splice(at, 1);
    } else if (at >= 0) {
      rows[at] = { ...rows[at], ...fields };
    } else {
      rows.push({ version: 0, ...fields });
    }
    pending[list].add(fields.id);
  }
  closing.findings.sort(byPosition);
  closing.recommendations.sort(byPosition);
  closing.pending = pending;
  return closing;
}

/** Findings of one kind ("strength" | "weakness"), in order. */
export function findingsOf(closing, kind) {
  return closing.findings.filter((f) => f.kind === kind);
}

/** A position after every row of `rows` (new rows go last). */
export function nextPosition(rows) {
  return rows.reduce((max, row) => Math.max(max, Number(row.position) || 0), 0) + 1;
}

/**
 * Move row `id` of `rows` (already in order) one place up (delta -1) or down (+1): the rows
 * whose position changes, as [{id, position}] (positions renumbered 1…n), or [] at an end.
 */
export function reorder(rows, id, delta) {
  const at = rows.findIndex((row) => row.id === id);
  const to = at + delta;
  if (at < 0 || to < 0 || to >= rows.length) return [];
  const order = rows.slice();
  [order[at], order[to]] = [order[to], order[at]];
  const changes = [];
  order.forEach((row, n) => { if (row.position !== n + 1) changes.push({ id: row.id, position: n + 1 }); });
  return changes;
}

/** The suggestions not yet taken (a recommendation with that library code exists). */
export function openSuggestions(suggestions, closing) {
  const taken = new Set(closing.recommendations.map((r) => r.library_code).filter(Boolean));
  return suggestions.filter((s) => !taken.has(s.code));
}

/** "08:30" when `text` is a time of day (H:MM or HH:MM), else null. */
export function parseTime(text) {
  const m = String(text || "").trim().match(/^(\d{1,2})[:hg.](\d{2})$/i);
  if (!m) return null;
  const hour = Number(m[1]);
  const minute = Number(m[2]);
  if (hour > 23 || minute > 59) return null;
  return `${String(hour).padStart(2, "0")}:${m[2]}`;
}

/** The team members present: every member when not recorded (null), else those listed. */
export function presentMembers(team, closing) {
  const present = closing.team_present;
  if (!Array.isArray(present)) return team.slice();
  const ids = new Set(present.map(Number));
  return team.filter((m) => ids.has(Number(m.user_id)));
}
