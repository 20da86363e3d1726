// The score of an inspection and the recommendations its shortfalls suggest, computed on the
// tablet: the twin of inspection/checklists/scoring.py's evaluate (score, indicators,
// suggestions), so the draft minutes print the same points, percents and class as the PDF and
// the closing screen offers the same library texts as the office's review page. No DOM.

import { applicability, isAnswered } from "./checks.js";

const EPS = 1e-9; // floats stand for the server's exact fractions: compare and round with care

function number(v) {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/** Round half away from zero (86.45 → 86.5), as scoring.py's _round. */
export function roundHalf(value, places) {
  if (value === null || value === undefined) return null;
  const scale = 10 ** places;
  const rounded = Math.floor(Math.abs(value) * scale + 0.5 + EPS);
  return (value < 0 ? -rounded : rounded) / scale;
}

function assessInput(item, obs, scoring) {
  const result = obs.result ?? null;
  const flagged = result === "fail" || result === "partial";
  if (!["yesno", "score"].includes(item.kind) || result === "na") return { points: 0, max: 0, flagged, criterion: false, assessed: false };
  const full = item.max_points;
  const given = item.kind === "score" ? number(obs.points) : null;
  let earned = 0;
  if (given !== null) earned = Math.min(Math.max(given, 0), full);
  else if (result === "pass") earned = full;
  else if (result === "partial") earned = full * scoring.partial_factor;
  return { points: earned, max: full, flagged, criterion: true, assessed: result !== null || given !== null };
}

function assessRatio(item, obs, values, scoring) {
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
  const { numerator, denominator } = sums;
  const target = item.target || null;
  let value = null;
  let met = null;
  let status;
  if (obs.result === "na") status = "na";
  else if (denominator === 0) status = "no_cases";
  else if (numerator === null || denominator === null) status = "missing";
  else {
    status = "computed";
    value = (numerator * 100) / denominator;
    if (target) met = value + EPS >= target.value; // scoring.py reads every target as "at least"
  }
  const scored = Boolean(target) && (status === "computed" || status === "missing");
  const possible = scored ? item.max_points : 0;
  let earned = 0;
  if (met !== null) {
    earned = scoring.ratio_method === "proportional" ? possible * Math.min(1, value / target.value) : (met ? possible : 0);
  }
  const outcome = { points: earned, max: possible, flagged: met === false || ["fail", "partial"].includes(obs.result),
    criterion: scored, assessed: status === "computed" };
  const indicator = {
    code: item.code, title_vi: item.title_vi, title_en: item.title_en, value: roundHalf(value, 1),
    numerator, denominator, target: target ? target.value : null, met, status,
    missing: status === "missing" ? [...new Set(missing)].sort() : [],
  };
  return { outcome, indicator };
}

function classify(percent, classes) {
  if (percent === null) return null;
  for (const cls of classes) if (percent + EPS >= cls.min) return { code: cls.code, vi: cls.vi, en: cls.en };
  return null;
}

/**
 * Score, indicators and suggested library recommendations of one inspection, as scoring.py's
 * evaluate gives them (its `checks` are checks.js's failingChecks). `observations`: a Map of
 * code → observation. Options: unit {kind, level}, confirmedUnanswered.
 */
export function evaluateScore(checklist, observations, { unit = null, confirmedUnanswered = false } = {}) {
  const scoring = checklist.scoring || { partial_factor: 0.5, ratio_method: "proportional", classes: [] };
  const found = applicability(checklist, observations, { unit });
  const values = found.values;
  const offSections = new Set(found.notApplicable.sections);
  const offItems = new Set(found.notApplicable.items);
  const recommend = recommender(checklist);
  const sections = [];
  const indicators = [];
  let total = 0;
  let possible = 0;
  let criteria = 0;
  const notAssessed = [];
  for (const section of checklist.sections) {
    const inputs = section.items.filter((item) => item.kind !== "ratio" && item.compute === undefined && !offItems.has(item.code));
    const answered = inputs.filter((item) => isAnswered(item, observations.get(item.code))).length;
    const skipped = Boolean(section.optional) && answered === 0 && !offSections.has(section.code);
    let points = 0;
    let maximum = 0;
    for (const item of section.items) {
      const obs = offItems.has(item.code) ? { result: "na" } : (observations.get(item.code) || {});
      let outcome;
      if (item.kind === "ratio") {
        const r = assessRatio(item, obs, values, scoring);
        outcome = r.outcome;
        indicators.push(r.indicator);
      } else {
        outcome = assessInput(item, obs, scoring);
      }
      if (skipped) continue;
      points += outcome.points;
      maximum += outcome.max;
      if (outcome.criterion) {
        criteria += 1;
        if (!outcome.assessed) notAssessed.push(item.code);
      }
      if (outcome.flagged) recommend.forItem(item, section.code);
    }
    total += points;
    possible += maximum;
    sections.push({ code: section.code, title_vi: section.title_vi, title_en: section.title_en,
      points: roundHalf(points, 2), max: roundHalf(maximum, 2),
      percent: maximum ? roundHalf((points * 100) / maximum, 1) : null, skipped });
  }
  const percent = possible ? (total * 100) / possible : null;
  const partial = notAssessed.length > 0;
  return {
    score: {
      total: roundHalf(total, 2), max: roundHalf(possible, 2), percent: roundHalf(percent, 1),
      class: partial && !confirmedUnanswered ? null : classify(percent, scoring.classes || []),
      assessed: criteria - notAssessed.length, items: criteria, partial, not_assessed: notAssessed, sections,
    },
    indicators, values, recommend,
  };
}


/** Library recommendations offered for failing items and rules, in library order (_Recommender). */
function recommender(checklist) {
  const library = checklist.recommendations || [];
  const byItem = new Map();
  const bySection = new Map();
  for (const rec of library) {
    for (const code of rec.items || []) byItem.set(code, [...(byItem.get(code) || []), rec.code]);
    if (!(rec.items || []).length) bySection.set(rec.section, [...(bySection.get(rec.section) || []), rec.code]);
  }
  const because = new Map();
  const add = (code, reason) => {
    const list = because.get(code) || [];
    if (!list.includes(reason)) list.push(reason);
    because.set(code, list);
  };
  return {
    forItem(item, sectionCode) {
      for (const code of byItem.get(item.code) || bySection.get(sectionCode) || []) add(code, item.code);
    },
    forRule(rule) {
      for (const code of rule.suggests || []) add(code, rule.id);
    },
    suggestions() {
      return library.filter((rec) => because.has(rec.code)).map((rec) => ({
        code: rec.code, text_vi: rec.text_vi, text_en: rec.text_en, because: because.get(rec.code),
        items: (rec.items || []).slice(),
      }));
    },
  };
}

/**
 * The recommendations the tablet suggests (the review page's list): library texts of items
 * that fell short and of failing rules. `failing`: checks.js failingChecks output.
 */
export function suggestRecommendations(checklist, observations, failing, options = {}) {
  const { recommend } = evaluateScore(checklist, observations, options);
  for (const check of failing || []) if (check.status === "fail") recommend.forRule(check.rule);
  return recommend.suggestions();
}
