// Small DOM helpers for the views: build elements without innerHTML (nothing from the server
// or the user is ever parsed as HTML), and format numbers and dates in the UI language.

import { getLanguage } from "../i18n.js";

/**
 * Create an element. `props`: class, text, attrs {name: value}, dataset, on {event: handler},
 * and any other key is set as a property (value, disabled, type, href…). Children may be
 * nodes, strings, arrays, or null/false (skipped).
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = Array.isArray(value) ? value.filter(Boolean).join(" ") : value;
    else if (key === "text") el.textContent = value;
    else if (key === "attrs") for (const [name, v] of Object.entries(value)) { if (v !== null && v !== undefined && v !== false) el.setAttribute(name, v === true ? "" : String(v)); }
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "on") for (const [event, handler] of Object.entries(value)) el.addEventListener(event, handler);
    else el[key] = value;
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

/** Remove every child of `el`. */
export function clear(el) {
  el.replaceChildren();
  return el;
}

function locale() {
  return getLanguage() === "en" ? "en-GB" : "vi-VN";
}

/** A number in the UI language (1.081 and 86,5 in Vietnamese; 1,081 and 86.5 in English). */
export function fmtNumber(value, decimals = 1) {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: decimals }).format(value);
}

/** A date (ISO "2021-10-01" or full timestamp) as dd/mm/yyyy. */
export function fmtDate(iso) {
  if (!iso) return "";
  const m = String(iso).match(/^(\d{4})-(\d{2})-(\d{2})/);
  return m ? `${m[3]}/${m[2]}/${m[1]}` : String(iso);
}

/** A timestamp as "14:32 01/10" (today: just the time). */
export function fmtTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const time = d.toLocaleTimeString(locale(), { hour: "2-digit", minute: "2-digit" });
  const today = new Date();
  if (d.toDateString() === today.toDateString()) return time;
  return `${time} ${String(d.getDate()).padStart(2, "0")}/${String(d.getMonth() + 1).padStart(2, "0")}`;
}

/** A byte count as "2,3 MB". */
export function fmtBytes(bytes) {
  if (!Number.isFinite(bytes)) return "—";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return `${fmtNumber(value, unit ? 1 : 0)} ${units[unit]}`;
}

/** Download `text` as a file (export of unsent work). */
export function download(filename, text, type = "application/json") {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h("a", { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
