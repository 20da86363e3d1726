// What the inspection page computes live from local observations, offline: progress per
// section, ratio items from their counts, and the template's consistency rules (rules.js).
// It follows inspection/services/scoring.py so the device and the office pages agree on what is
// answered, what a ratio is and which checks are shown. No DOM.

import { evaluate, parse, referencedCodes } from "./rules.js";

const TARGET_OPS = {
  ">=": (a, b) => a >= b, ">": (a, b) => a > b, "<=": (a, b) => a <= b, "<": (a, b) => a < b,
  "==": (a, b) => a === b,
};

/** Item code → {item, section} for a checklist document. */
export function indexItems(checklist) {
  const map = new Map();
  for (const section of checklist.sections) {
    for (const item of section.items) map.set(item.code, { item, section });
  }
  return map;
}

function number(v) {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/** Values of count items as rules and ratios see them (an item marked "na" has no value). */
export function countValues(checklist, observations) {
  const values = {};
  for (const section of checklist.sections) {
    for (const item of section.items) {
      if (item.kind !== "count") continue;
      const obs = observations.get(item.code);
      if (obs && obs.result !== "na" && number(obs.value) !== null) values[item.code] = obs.value;
    }
  }
  return values;
}

/**
 * A ratio item computed from its counts: {status: "computed" | "no_cases" (denominator 0,
 * "không phát sinh") | "missing" | "na", value (percent), numerator, denominator, target, met,
 * missing (codes not entered)}.
 */
export function computeRatio(item, values, observation = null) {
  const sums = {};
  const missing = [];
  for (const part of ["numerator", "denominator"]) {
    let sum = 0;
    let complete = true;
    for (const code of item.ratio[part]) {
      const v = number(values[code]);
      if (v === null) { complete = false; missing.push(code); } else sum += v;
    }
    sums[part] = complete ? sum : null;
  }
  const target = item.target || null;
  const result = { status: "computed", value: null, numerator: sums.numerator, denominator: sums.denominator,
    target, met: null, missing: [] };
  if (observation && observation.result === "na") return { ...result, status: "na" };
  if (sums.denominator === 0) return { ...result, status: "no_cases" };
  if (sums.numerator === null || sums.denominator === null) {
    return { ...result, status: "missing", missing: [...new Set(missing)].sort() };
  }
  result.value = (sums.numerator / sums.denominator) * 100;
  if (target) result.met = (TARGET_OPS[target.op] || TARGET_OPS[">="])(result.value, target.value);
  return result;
}

/**
 * Whether the inspector has dealt with an item (as scoring.py's _answered): a result, or the
 * kind's own field; a photo item also by having photos.
 */
export function isAnswered(item, obs, photoCount = 0) {
  if (item.kind === "photo" && photoCount > 0) return true;
  if (!obs) return false;
  if (obs.result !== null && obs.result !== undefined) return true;
  if (item.kind === "score") return number(obs.points) !== null;
  if (item.kind === "count") return number(obs.value) !== null;
  if (item.kind === "photo" && (number(obs.value) || 0) > 0) return true;
  if (item.kind === "text" || item.kind === "photo") return typeof obs.text === "string" && obs.text.trim() !== "";
  return false;
}

/**
 * Progress of an inspection: {answered, total, sections: {code: {answered, total}}}; ratio
 * items are computed, not answered, so they are not counted.
 */
export function progress(checklist, observations, photoCounts = new Map()) {
  const sections = {};
  let answered = 0;
  let total = 0;
  for (const section of checklist.sections) {
    const inputs = section.items.filter((item) => item.kind !== "ratio");
    const done = inputs.filter((item) => isAnswered(item, observations.get(item.code), photoCounts.get(item.code) || 0)).length;
    sections[section.code] = { answered: done, total: inputs.length };
    answered += done;
    total += inputs.length;
  }
  return { answered, total, sections };
}

/** Parse every rule of a template once: [{rule, node, codes}] (a rule that fails to parse is left out). */
export function compileRules(checklist) {
  const compiled = [];
  for (const rule of checklist.rules || []) {
    try {
      const node = parse(rule.expr);
      compiled.push({ rule, node, codes: referencedCodes(node) });
    } catch {
      // The server validated the template; a rule the device cannot parse is not shown.
    }
  }
  return compiled;
}

/**
 * Checks to show: rules that fail, or cannot be decided for a reason other than values not yet
 * entered (as scoring.py's _checks). Each: {rule, codes, status, reason}.
 */
export function failingChecks(compiled, values) {
  const checks = [];
  for (const { rule, node, codes } of compiled) {
    const outcome = evaluate(node, values, rule.defaults || {});
    if (outcome.status === "pass" || outcome.reason === "missing_values") continue;
    checks.push({ rule, codes, status: outcome.status, reason: outcome.reason });
  }
  return checks;
}

/** Normalise what someone types in the jump box: "tthc25", "TTHC 25" → "TTHC.25". */
export function normaliseCode(text) {
  const cleaned = String(text || "").trim().toUpperCase().replace(/\s+/g, "");
  const match = cleaned.match(/^([A-Z]+)[.\-_]?(\d+)$/);
  if (!match) return cleaned;
  return `${match[1]}.${match[2].padStart(2, "0")}`;
}
