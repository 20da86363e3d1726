// Typed fields: points, count, text, note; each {el, input, show(obs)}. `change(value)` gets
// every valid keystroke; invalid input is marked, not reported.

import { loc, t } from "../../i18n.js";
import { fmtNumber, h } from "../dom.js";

/** Parse a typed count: a whole number ≥ 0 ("1081", "1.081", "1 081"); null when empty; NaN when invalid. */
export function parseCount(text) {
  const s = String(text).trim();
  if (s === "") return null;
  if (/^\d+$/.test(s)) return Number(s);
  if (/^\d{1,3}([. ]\d{3})+$/.test(s)) return Number(s.replace(/[. ]/g, "")); // thousands separators
  return Number.NaN;
}

/** Parse typed points (comma or dot decimals); null when empty; NaN when invalid. */
export function parsePoints(text) {
  const s = String(text).trim().replace(",", ".");
  if (s === "") return null;
  return /^\d+(\.\d+)?$/.test(s) ? Number(s) : Number.NaN;
}

function showNumber(value, decimals = 2) {
  return value === null || value === undefined ? "" : fmtNumber(value, decimals).replace(/\u00a0/g, "");
}

/** Never overwrite what the user is typing in right now. */
function setValue(input, value) {
  if (document.activeElement !== input && input.value !== value) input.value = value;
}

/** Points between 0 and the item's maximum. */
export function pointsField(item, change) {
  const code = item.code;
  const input = h("input", { class: "points", attrs: { inputmode: "decimal", autocomplete: "off", "aria-describedby": `${code}-points-error` } });
  const error = h("span", { class: "field-error", id: `${code}-points-error` });
  input.addEventListener("input", () => {
    const value = parsePoints(input.value);
    const bad = Number.isNaN(value) || (value !== null && (value < 0 || value > item.max_points));
    error.textContent = bad ? t("item.points_range", { max: fmtNumber(item.max_points, 2) }) : "";
    input.classList.toggle("invalid", bad);
    if (!bad) change(value);
  });
  const el = h("label", { class: "inline-field" },
    h("span", { text: t("item.points", { max: fmtNumber(item.max_points, 2) }) }), input, error);
  return { el, input, show: (obs) => setValue(input, showNumber(obs.points)) };
}

/** A count (a whole number, thousands separators allowed) with the item's unit. */
export function countField(item, change) {
  const code = item.code;
  const input = h("input", { class: "count", name: `count-${code}`,
    attrs: { inputmode: "numeric", pattern: "[0-9]*", autocomplete: "off", "aria-describedby": `${code}-count-error` } });
  const error = h("span", { class: "field-error", id: `${code}-count-error` });
  input.addEventListener("input", () => {
    const value = parseCount(input.value);
    const bad = Number.isNaN(value);
    error.textContent = bad ? t("item.count_invalid") : "";
    input.classList.toggle("invalid", bad);
    if (!bad) change(value);
  });
  const unit = loc(item, "unit");
  const el = h("label", { class: "inline-field" },
    h("span", { text: t("item.count") }), input, unit ? h("span", { class: "unit", text: unit }) : null, error);
  return { el, input, show: (obs) => setValue(input, obs.value === null || obs.value === undefined ? "" : String(obs.value)) };
}

/** The text of a text item, or the description of a photo item. */
export function textField(item, change) {
  const input = h("textarea", { class: "text", rows: 3 });
  input.addEventListener("input", () => change(input.value));
  const el = h("label", { class: "block-field" },
    h("span", { text: item.kind === "photo" ? t("item.description") : t("item.text") }), input);
  return { el, input, show: (obs) => setValue(input, obs.text || "") };
}

/** The note every item has. */
export function noteField(change) {
  const input = h("textarea", { class: "note", rows: 1, attrs: { placeholder: t("item.note_placeholder") } });
  input.addEventListener("input", () => change(input.value));
  const el = h("label", { class: "block-field note-field" }, h("span", { text: t("item.note") }), input);
  return { el, input, show: (obs) => setValue(input, obs.note || "") };
}
