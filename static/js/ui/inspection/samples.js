// Repeat groups on the inspection page: the samples of a group (sampled dossiers …), one row of
// fields each, added, edited and deleted offline. Every change is stored at once with its op
// (store.js: addSample, saveSampleField, deleteSample); the sync engine sends the ops.

import { loc, t } from "../../i18n.js";
import { isQuotaError } from "../../retention.js";
import { addSample, deleteSample, noteQuotaError, saveSampleField } from "../../store.js";
import { h } from "../dom.js";

/** The add, change and delete actions of the group cards of `page`; `refresh()` recomputes. */
export function sampleActions(page, ctx, { refresh, redraw }) {
  const id = page.id;
  const done = (promise) => promise.then((sample) => {
    ctx.afterSave(id);
    return sample;
  }).catch((err) => {
    console.error(err);
    if (isQuotaError(err)) noteQuotaError();
    ctx.showError(isQuotaError(err) ? t("insp.save_no_space") : t("insp.save_failed"));
    return null;
  });
  return {
    async add(group) {
      if (page.samplesOf(group.code).length >= group.max) return;
      const sample = await done(addSample(id, group.code));
      if (!sample) return;
      page.putSample(sample);
      redraw(group.code, sample.sample_id);
      refresh();
    },
    async change(group, sampleId, field, value) {
      const sample = await done(saveSampleField(sampleId, field, value));
      if (!sample) return;
      page.putSample(sample);
      redraw(group.code);
      refresh();
    },
    async remove(group, sampleId) {
      if (!(await done(deleteSample(sampleId)))) return;
      page.dropSample(sampleId);
      redraw(group.code);
      refresh();
    },
  };
}

/** What a typed or picked value of a field of `kind` is: undefined while invalid. */
export function fieldValue(kind, raw) {
  const text = String(raw ?? "").trim();
  if (text === "") return null;
  if (kind === "yesno") return text === "yes" ? true : text === "no" ? false : undefined;
  if (kind === "number") {
    const n = Number(text.replace(",", "."));
    return Number.isFinite(n) ? n : undefined;
  }
  if (kind === "date") return /^\d{4}-\d{2}-\d{2}$/.test(text) ? text : undefined;
  return text;
}

function shown(kind, value) {
  if (value === null || value === undefined) return "";
  if (kind === "yesno") return value ? "yes" : "no";
  return String(value);
}

function fieldInput(field, onValue) {
  let input;
  if (field.kind === "yesno") {
    input = h("select", { class: "sample-input" },
      h("option", { value: "", text: "—" }),
      h("option", { value: "yes", text: t("samples.yes") }),
      h("option", { value: "no", text: t("samples.no") }));
  } else {
    input = h("input", { class: "sample-input", type: field.kind === "date" ? "date" : "text",
      attrs: { inputmode: field.kind === "number" ? "decimal" : null, autocomplete: "off" } });
  }
  input.dataset.field = field.code;
  input.addEventListener("change", () => {
    const value = fieldValue(field.kind, input.value);
    input.classList.toggle("invalid", value === undefined);
    if (value !== undefined) onValue(value);
  });
  return input;
}

/**
 * The card of repeat group `group`: its title, hint and bounds, a row per sample and the add
 * button (disabled at the maximum). Returns {el, update({applies, readOnly}), focusSample(id)}.
 */
export function createGroupCard(group, page, actions) {
  const rows = new Map(); // sample id -> {el, inputs, number}
  const list = h("ol", { class: "sample-list" });
  const counter = h("p", { class: "meta sample-count", attrs: { "aria-live": "polite" } });
  const add = h("button", { type: "button", class: "add-sample", text: `+ ${t("samples.add")}`,
    on: { click: () => actions.add(group) } });
  const hint = loc(group, "hint");
  const el = h("section", { class: "card repeat-group", id: `group-${group.code}`, dataset: { group: group.code } },
    h("header", { class: "item-head" },
      h("span", { class: "code", text: group.code }),
      h("h3", { class: "item-title", text: loc(group, "title") })),
    hint ? h("p", { class: "hint", text: hint }) : null,
    counter, list, add);

  function row(sample) {
    const inputs = new Map();
    const number = h("span", { class: "sample-number" });
    const fields = group.fields.map((field) => {
      const input = fieldInput(field, (value) => actions.change(group, sample.sample_id, field.code, value));
      inputs.set(field.code, input);
      return h("label", { class: `sample-field kind-${field.kind}` }, h("span", { text: loc(field, "title") }), input);
    });
    const remove = h("button", { type: "button", class: "delete-sample danger", text: t("samples.delete"),
      on: { click: () => actions.remove(group, sample.sample_id) } });
    const el = h("li", { class: "sample", dataset: { sample: sample.sample_id } },
      h("div", { class: "sample-head" }, number, remove), h("div", { class: "sample-fields" }, fields));
    return { el, inputs, number, remove };
  }

  function update({ applies = true, readOnly = false } = {}) {
    el.hidden = !applies;
    const samples = page.samplesOf(group.code);
    const ids = new Set(samples.map((x) => x.sample_id));
    for (const [sampleId, r] of rows) {
      if (!ids.has(sampleId)) { r.el.remove(); rows.delete(sampleId); }
    }
    samples.forEach((sample, index) => {
      let r = rows.get(sample.sample_id);
      if (!r) { r = row(sample); rows.set(sample.sample_id, r); }
      list.append(r.el); // keeps the order
      r.number.textContent = t("samples.sample", { n: index + 1 });
      r.el.classList.toggle("unsent", page.unsentSamples.has(sample.sample_id));
      for (const field of group.fields) {
        const input = r.inputs.get(field.code);
        if (document.activeElement !== input && !input.classList.contains("invalid")) {
          input.value = shown(field.kind, sample.fields[field.code]);
        }
        input.disabled = readOnly;
      }
      r.remove.disabled = readOnly;
    });
    const n = samples.length;
    counter.textContent = t("samples.count", { n, min: group.min, max: group.max })
      + (n >= group.max ? ` · ${t("samples.full")}` : n < group.min ? ` · ${t("samples.too_few", { n: group.min - n })}` : "");
    counter.classList.toggle("out-of-bounds", n < group.min || n > group.max);
    add.disabled = readOnly || n >= group.max;
  }

  function focusSample(sampleId) {
    const r = rows.get(sampleId);
    if (r) r.inputs.values().next().value?.focus();
  }

  return { el, update, focusSample };
}
