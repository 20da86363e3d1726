// The unit's self-assessment as the tablet keeps it (issue 16): each criterion's claim, its
// evidence files and explanation thread, and whether the team's observation differs from the
// claim. Pure functions over the `self_assessment` of an assignment (GET /assignments); no DOM.

/** The fields a claim can copy into an observation, by the item's kind (never the note): the
 * ones its card lets the inspector record (a ratio is computed from counts, as is a count with a
 * formula: nothing to copy or compare). */
const COPIED = { yesno: ["result"], score: ["result", "points"], count: ["value"], text: ["text"], photo: ["text"] };
const recorded = (item) => (item.compute !== undefined ? [] : COPIED[item.kind] || []);
/** The fields compared: the scoring ones (free text differs in wording, not in result). */
const COMPARED = ["result", "points", "value"];

const empty = (v) => v === null || v === undefined || v === "";

/** The claim of criterion `code` in `sa` (an assignment's self_assessment), or null. */
export function claimOf(sa, code) {
  return (sa && sa.claims || []).find((c) => c.item_code === code) || null;
}

/** The evidence files of `claim` (metadata with url), in the claim's order. */
export function evidenceOf(sa, claim) {
  if (!sa || !claim) return [];
  const byId = new Map((sa.evidence || []).map((e) => [e.id, e]));
  return (claim.evidence || []).map((id) => byId.get(id)).filter(Boolean);
}

/** The explanation threads of criterion `code`, each with its answer's files. */
export function threadsOf(sa, code) {
  if (!sa) return [];
  const byId = new Map((sa.evidence || []).map((e) => [e.id, e]));
  return (sa.explanations || []).filter((x) => x.item_code === code)
    .map((x) => ({ ...x, files: (x.evidence || []).map((id) => byId.get(id)).filter(Boolean) }));
}

/** What "Confirm" writes for `item`: {field: value} of the claim's fields the kind records. */
export function confirmFields(item, claim) {
  const out = {};
  if (!claim) return out;
  for (const field of recorded(item)) {
    if (!empty(claim[field])) out[field] = claim[field];
  }
  return out;
}

function same(field, a, b) {
  if (field === "result") return a === b;
  return Number(a) === Number(b);
}

/**
 * Whether the observation `obs` of `item` differs from `claim`: some scoring field the kind
 * records is set in the observation and is not what the unit claimed. A criterion not yet
 * observed, or without a claim, does not differ.
 */
export function differs(item, claim, obs) {
  if (!claim || !obs) return false;
  const fields = recorded(item).filter((f) => COMPARED.includes(f));
  const observed = fields.filter((f) => !empty(obs[f]));
  if (!observed.length) return false;
  return observed.some((f) => empty(claim[f]) || !same(f, obs[f], claim[f]));
}

/** Per section code, how many criteria differ from the claims: Map(code → n), zeros left out. */
export function differingBySection(checklist, sa, observations) {
  const counts = new Map();
  if (!sa || !(sa.claims || []).length) return counts;
  for (const section of checklist.sections) {
    let n = 0;
    for (const item of section.items) {
      if (differs(item, claimOf(sa, item.code), observations.get(item.code))) n += 1;
    }
    if (n) counts.set(section.code, n);
  }
  return counts;
}
