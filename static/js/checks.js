// What the inspection page computes live from local observations, offline: progress per
// section, ratio items from their counts, and the template's consistency rules (rules.js).
// It follows inspection/checklists/scoring.py so the device and the office pages agree on what is
// answered, what a ratio is and which checks are shown. No DOM.

import { compute, evaluate, parse, referencedCodes, references } from "./rules.js";

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
 * items and counts with a formula (`compute`) are computed, not answered, so they are not
 * counted, nor are items that do not apply (`notApplicable`: a Set of item codes, from
 * applicability).
 */
export function progress(checklist, observations, photoCounts = new Map(), notApplicable = new Set()) {
  const sections = {};
  let answered = 0;
  let total = 0;
  for (const section of checklist.sections) {
    const inputs = section.items.filter((item) => item.kind !== "ratio" && item.compute === undefined
      && !notApplicable.has(item.code));
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
      compiled.push({ rule, node, codes: referencedCodes(node), groups: [...references(node).groups.keys()] });
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
export function failingChecks(compiled, values, context = {}) {
  const checks = [];
  const samples = context.samples || null;
  for (const { rule, node, codes, groups = [] } of compiled) {
    // A rule over samples is checked only when its groups apply (as scoring.py's _checks).
    if (groups.length && (!samples || groups.some((g) => !Array.isArray(samples[g])))) continue;
    const outcome = evaluate(node, values, rule.defaults || {}, context);
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

// Conditions are parsed once per text (a checklist is evaluated on every keystroke).
const parsedExpressions = new Map();
function parseOnce(text, want = "bool") {
  const key = `${want}\u0000${text}`;
  if (!parsedExpressions.has(key)) parsedExpressions.set(key, parse(text, want));
  return parsedExpressions.get(key);
}

function reads(text, want = "bool") {
  const refs = references(parseOnce(text, want));
  return [...refs.codes.map((c) => `item:${c}`), ...[...refs.groups.keys()].map((g) => `group:${g}`)];
}

/** Nodes so that each comes after what it reads (depth first, iterative, as scoring.py). */
function inDependencyOrder(depends) {
  const order = [];
  const seen = new Set();
  for (const root of depends.keys()) {
    if (seen.has(root)) continue;
    seen.add(root);
    const stack = [[root, [...depends.get(root)].sort()[Symbol.iterator]()]];
    while (stack.length) {
      const [node, following] = stack[stack.length - 1];
      const step = following.next();
      if (step.done) {
        stack.pop();
        order.push(node);
      } else if (depends.has(step.value) && !seen.has(step.value)) {
        seen.add(step.value);
        stack.push([step.value, [...depends.get(step.value)].sort()[Symbol.iterator]()]);
      }
    }
  }
  return order;
}

/**
 * Which sections, items and repeat groups do not apply to an inspection (their condition
 * `relevant` is false; undecided keeps them), and the value of every count rules, ratios and
 * conditions read (typed, or from its formula `compute`). The twin of scoring.applicability:
 * {notApplicable: {sections, items, groups}, values} with codes in checklist order.
 * `observations` is a Map of code -> observation; `context` {unit: {kind, level},
 * samples: {group: [sample]}}.
 */
export function applicability(checklist, observations, context = {}) {
  const sections = new Map(checklist.sections.map((s) => [s.code, s]));
  const items = new Map();
  for (const section of checklist.sections) {
    for (const item of section.items) items.set(item.code, [item, section.code]);
  }
  const groups = new Map((checklist.repeats || []).map((g) => [g.code, g]));
  const depends = new Map();
  for (const [code, section] of sections) {
    depends.set(`section:${code}`, new Set(section.relevant !== undefined ? reads(section.relevant) : []));
  }
  for (const [code, [item, sectionCode]] of items) {
    const set = new Set([`section:${sectionCode}`]);
    if (item.relevant !== undefined) for (const r of reads(item.relevant)) set.add(r);
    if (item.compute !== undefined) for (const r of reads(item.compute, "number")) set.add(r);
    depends.set(`item:${code}`, set);
  }
  for (const [code, group] of groups) {
    const set = new Set([`section:${group.section}`]);
    if (group.relevant !== undefined) for (const r of reads(group.relevant)) set.add(r);
    depends.set(`group:${code}`, set);
  }
  const applies = new Map();
  const values = {};
  const given = context.samples && typeof context.samples === "object" ? context.samples : {};
  const usableSamples = () => {
    const out = {};
    for (const code of groups.keys()) {
      if (applies.get(`group:${code}`)) {
        out[code] = Object.prototype.hasOwnProperty.call(given, code) ? given[code] : undefined;
      }
    }
    return out;
  };
  const holds = (text) => evaluate(parseOnce(text), values, {},
    { unit: context.unit, samples: usableSamples() }).status !== "fail";

  for (const node of inDependencyOrder(depends)) {
    const at = node.indexOf(":");
    const kind = node.slice(0, at);
    const code = node.slice(at + 1);
    if (kind === "section") {
      const section = sections.get(code);
      applies.set(node, section.relevant === undefined || holds(section.relevant));
    } else if (kind === "group") {
      const group = groups.get(code);
      const sectionApplies = applies.has(`section:${group.section}`) ? applies.get(`section:${group.section}`) : true;
      applies.set(node, sectionApplies && (group.relevant === undefined || holds(group.relevant)));
    } else if (items.has(code)) {
      const [item, sectionCode] = items.get(code);
      applies.set(node, applies.get(`section:${sectionCode}`)
        && (item.relevant === undefined || holds(item.relevant)));
      if (item.kind !== "count" || !applies.get(node)) continue;
      let value = null;
      if (item.compute !== undefined) {
        value = compute(parseOnce(item.compute, "number"), values, {},
          { unit: context.unit, samples: usableSamples() }).value;
      } else {
        const obs = observations.get(code);
        if (obs && obs.result !== "na" && obs.value !== null && obs.value !== undefined) value = obs.value;
      }
      if (value !== null) values[code] = value;
    }
  }
  return {
    notApplicable: {
      sections: [...sections.keys()].filter((c) => !applies.get(`section:${c}`)),
      items: [...items.keys()].filter((c) => !applies.get(`item:${c}`)),
      groups: [...groups.keys()].filter((c) => !applies.get(`group:${c}`)),
    },
    values,
  };
}
