// The data behind the inspection page, without the DOM: what the device holds for one
// inspection, with typing not yet committed laid over it, and everything computed from it.

import {
  applicability, compileRules, computeRatio, failingChecks, indexItems, isAnswered, progress,
} from "../../checks.js";
import { claimOf, confirmFields, differingBySection, differs, evidenceOf, threadsOf } from "../../claims.js";
import { FIELDS } from "../../outbox.js";

const LOCKED_STATES = new Set(["approved", "signed"]);

/** The state of inspection `id` from store.loadInspection's `data`, with `drafts`' pending typing. */
export function inspectionPage(id, data, drafts) {
  const { checklist } = data;
  const items = indexItems(checklist);

  function withDrafts(map) {
    // Typing not yet committed (the pause has not passed) must not flicker back to the old value.
    for (const [code] of items) {
      for (const field of FIELDS) {
        const draft = drafts.pending(id, code, field);
        if (draft === undefined) continue;
        const obs = { ...(map.get(code) || { item_code: code }) };
        obs[field] = draft;
        map.set(code, obs);
      }
    }
    return map;
  }

  const page = {
    id, checklist, items,
    compiled: compileRules(checklist),
    sectionsByCode: new Map(checklist.sections.map((s) => [s.code, s])),
    groups: checklist.repeats || [],

    /** Take in what store.loadInspection read. */
    load(fresh) {
      page.assignment = fresh.assignment;
      page.observations = withDrafts(fresh.observations);
      page.photos = fresh.photos;
      page.unsentItems = fresh.unsentItems;
      page.attention = fresh.attention;
      page.me = fresh.me ?? null;
      page.samples = fresh.samples || []; // not deleted, in the order they were added
      page.unsentSamples = fresh.unsentSamples || new Set();
    },

    /** A sample added or changed on this device (already stored). */
    putSample(sample) {
      const index = page.samples.findIndex((x) => x.sample_id === sample.sample_id);
      if (sample.deleted) {
        if (index >= 0) page.samples.splice(index, 1);
      } else if (index >= 0) page.samples[index] = sample;
      else page.samples.push(sample);
      page.unsentSamples.add(sample.sample_id);
    },

    /** A sample deleted on this device. */
    dropSample(sampleId) {
      page.samples = page.samples.filter((x) => x.sample_id !== sampleId);
    },

    /** The samples of one group, in their order. */
    samplesOf(group) {
      return page.samples.filter((x) => x.group === group);
    },

    /** What conditions and aggregates read besides counts: the unit and the samples. */
    context() {
      const unit = page.assignment.inspection.unit || {};
      const samples = {};
      for (const group of page.groups) {
        samples[group.code] = page.samplesOf(group.code).map((x) => ({ ...x.fields }));
      }
      return { unit: { kind: unit.kind, level: unit.level }, samples };
    },

    /** Approved or signed: nothing can be changed any more. */
    readOnly() {
      return LOCKED_STATES.has(page.assignment.inspection.state);
    },

    /** A value typed or picked: the page shows it at once (the caller saves it). */
    edit(code, field, value) {
      const obs = { ...(page.observations.get(code) || { inspection_id: id, item_code: code }) };
      obs[field] = value;
      page.observations.set(code, obs);
      page.unsentItems.add(code);
    },

    /** Progress, counts and failing checks. Cheap: runs per keystroke. */
    computed() {
      const counts = new Map();
      for (const photo of page.photos) counts.set(photo.item_code, (counts.get(photo.item_code) || 0) + 1);
      // What applies (conditions, live as counts are typed) and every count's value (typed, or
      // from its formula over other counts and the samples), as scoring.applicability.
      const context = page.context();
      const found = applicability(checklist, page.observations, context);
      const notApplicable = {
        sections: new Set(found.notApplicable.sections), items: new Set(found.notApplicable.items),
        groups: new Set(found.notApplicable.groups),
      };
      const samples = {};
      for (const [group, list] of Object.entries(context.samples)) {
        if (!notApplicable.groups.has(group)) samples[group] = list;
      }
      page.latest = { values: found.values, notApplicable };
      return {
        done: progress(checklist, page.observations, counts, notApplicable.items),
        values: found.values, notApplicable,
        checks: failingChecks(page.compiled, found.values, { unit: context.unit, samples }),
      };
    },

    /** What the card of item `code` shows (see ui/item.js update). */
    cardState(code) {
      const obs = page.observations.get(code) || {};
      const { item } = items.get(code);
      const photos = page.photos.filter((p) => p.item_code === code);
      return {
        obs, photos, unsent: page.unsentItems.has(code), readOnly: page.readOnly(),
        attention: page.attention.filter((a) => a.item_code === code),
        // Open conflicts on the item as the server last said (who keeps, who proposes).
        disagreements: (page.assignment.conflicts || []).filter((c) => c.item_code === code),
        me: page.me, team: page.assignment.inspection.team || [],
        ratio: item.kind === "ratio" ? computeRatio(item, (page.latest || page.computed()).values, obs) : null,
        computed: item.compute !== undefined ? ((page.latest || page.computed()).values[code] ?? null) : undefined,
        answered: isAnswered(item, obs, photos.length),
        claim: page.claimState(item, obs),
      };
    },

    /** The unit's self-assessment of `item` as its card shows it (issue 16). */
    claimState(item, obs) {
      const sa = page.assignment.self_assessment;
      const claim = claimOf(sa, item.code);
      // "Confirm" is offered while the observation is not already what the unit claimed.
      const copied = Object.entries(confirmFields(item, claim));
      return { claim, evidence: evidenceOf(sa, claim), threads: threadsOf(sa, item.code),
        differs: differs(item, claim, obs), confirmable: copied.some(([field, value]) => obs[field] !== value) };
    },

    /** Per section, how many criteria the team saw otherwise than the unit claimed. */
    differing() {
      return differingBySection(checklist, page.assignment.self_assessment, page.observations);
    },
  };
  page.load(data);
  return page;
}
