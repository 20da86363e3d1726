// One checklist item on the inspection page: the controls its kind needs, a note, photos and
// the evidence hint. Every change is reported at once (the page saves it: immediately for
// buttons, after a short pause for typing); nothing here waits for a save button.

import { loc, t } from "../i18n.js";
import { fmtNumber, h } from "./dom.js";

export const RESULTS = ["pass", "partial", "fail", "na"];

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

/**
 * Build the card of `item`. `actions`: change(code, field, value, {typing}), addPhotos(code,
 * files) and openPhoto(photo) (a tap on a thumbnail). Returns {el, update(state)} where state is
 * {obs, photos, unsent, attention, ratio, readOnly}.
 */
export function createItemCard(item, actions) {
  const code = item.code;
  const controls = [];
  const refs = {};
  let state = { obs: {}, photos: [], readOnly: false };

  const maxPoints = item.max_points !== null && item.max_points !== undefined
    ? h("span", { class: "max", text: t("item.max_points", { n: fmtNumber(item.max_points, 2) }) }) : null;

  if (item.kind === "yesno" || item.kind === "score") {
    refs.results = RESULTS.map((result) => h("button", {
      type: "button", class: `result result-${result}`, text: t(`result.${result}`),
      dataset: { result }, attrs: { "aria-pressed": "false" },
      on: { click: () => {
        const next = state.obs.result === result ? null : result; // tap again to clear
        setPressed(next);
        actions.change(code, "result", next, { typing: false });
      } },
    }));
    controls.push(h("div", { class: "results", attrs: { role: "group", "aria-label": t("item.result") } }, refs.results));
  }
  if (item.kind === "score") {
    refs.points = h("input", { class: "points", attrs: { inputmode: "decimal", autocomplete: "off", "aria-describedby": `${code}-points-error` } });
    refs.pointsError = h("span", { class: "field-error", id: `${code}-points-error` });
    refs.points.addEventListener("input", () => {
      const value = parsePoints(refs.points.value);
      const bad = Number.isNaN(value) || (value !== null && (value < 0 || value > item.max_points));
      refs.pointsError.textContent = bad ? t("item.points_range", { max: fmtNumber(item.max_points, 2) }) : "";
      refs.points.classList.toggle("invalid", bad);
      if (!bad) actions.change(code, "points", value, { typing: true });
    });
    controls.push(h("label", { class: "inline-field" },
      h("span", { text: t("item.points", { max: fmtNumber(item.max_points, 2) }) }), refs.points, refs.pointsError));
  }
  if (item.kind === "count") {
    refs.count = h("input", { class: "count", name: `count-${code}`,
      attrs: { inputmode: "numeric", pattern: "[0-9]*", autocomplete: "off", "aria-describedby": `${code}-count-error` } });
    refs.countError = h("span", { class: "field-error", id: `${code}-count-error` });
    refs.count.addEventListener("input", () => {
      const value = parseCount(refs.count.value);
      const bad = Number.isNaN(value);
      refs.countError.textContent = bad ? t("item.count_invalid") : "";
      refs.count.classList.toggle("invalid", bad);
      if (!bad) actions.change(code, "value", value, { typing: true });
    });
    const unit = loc(item, "unit");
    controls.push(h("label", { class: "inline-field" },
      h("span", { text: t("item.count") }), refs.count, unit ? h("span", { class: "unit", text: unit }) : null, refs.countError));
  }
  if (item.kind === "ratio") {
    refs.ratio = h("div", { class: "ratio", attrs: { "aria-live": "polite" } });
    controls.push(refs.ratio);
  }
  if (item.kind === "text" || item.kind === "photo") {
    refs.text = h("textarea", { class: "text", rows: 3 });
    refs.text.addEventListener("input", () => actions.change(code, "text", refs.text.value, { typing: true }));
    controls.push(h("label", { class: "block-field" },
      h("span", { text: item.kind === "photo" ? t("item.description") : t("item.text") }), refs.text));
  }
  refs.note = h("textarea", { class: "note", rows: 1, attrs: { placeholder: t("item.note_placeholder") } });
  refs.note.addEventListener("input", () => actions.change(code, "note", refs.note.value, { typing: true }));
  // Leaving a field commits at once (no waiting for the pause).
  for (const input of [refs.points, refs.count, refs.text, refs.note].filter(Boolean)) {
    input.addEventListener("change", () => actions.commit && actions.commit());
  }

  const camera = h("input", { type: "file", class: "file-input", attrs: { accept: "image/*", capture: "environment" }, dataset: { photo: "camera" } });
  const gallery = h("input", { type: "file", class: "file-input", multiple: true, attrs: { accept: "image/*" }, dataset: { photo: "gallery" } });
  for (const input of [camera, gallery]) {
    input.addEventListener("change", () => {
      const files = [...input.files];
      input.value = "";
      if (files.length) actions.addPhotos(code, files);
    });
  }
  refs.cameraLabel = h("label", { class: "button photo-button" }, t("item.take_photo"), camera);
  refs.galleryLabel = h("label", { class: "button photo-button" }, t("item.pick_photo"), gallery);
  refs.thumbs = h("ul", { class: "thumbs" });
  refs.photoMessage = h("span", { class: "photo-message", attrs: { role: "status" } });
  refs.flags = h("div", { class: "flags" });

  const hint = loc(item, "evidence_hint");
  const el = h("article", { class: `item kind-${item.kind}`, id: `item-${code}`, dataset: { code } },
    h("header", { class: "item-head" },
      h("span", { class: "code", text: code }),
      h("h3", { class: "item-title", text: loc(item, "title") }),
      maxPoints),
    hint ? h("p", { class: "hint", text: hint }) : null,
    controls,
    h("div", { class: "item-foot" },
      h("label", { class: "block-field note-field" }, h("span", { text: t("item.note") }), refs.note),
      h("div", { class: "photo-buttons" }, refs.cameraLabel, refs.galleryLabel)),
    h("div", { class: "photos" }, refs.photoMessage, refs.thumbs),
    refs.flags,
  );

  function setPressed(result) {
    for (const button of refs.results || []) button.setAttribute("aria-pressed", String(button.dataset.result === result));
  }

  function setValue(input, value) {
    // Never overwrite what the user is typing in right now.
    if (input && document.activeElement !== input && input.value !== value) input.value = value;
  }

  let urls = [];
  let shownPhotos = null;
  function renderThumbs(photos) {
    for (const url of urls) URL.revokeObjectURL(url);
    urls = [];
    refs.thumbs.replaceChildren(...photos.map((photo) => {
      let picture;
      if (photo.thumb) {
        const url = URL.createObjectURL(photo.thumb);
        urls.push(url);
        picture = h("img", { src: url, alt: t("item.photo_alt", { code }), width: 96, height: 96 });
      } else if (photo.thumb_url && navigator.onLine) {
        // A teammate's photo: its thumbnail comes from the server (not cached: online only).
        picture = h("img", { src: photo.thumb_url, alt: t("item.photo_alt", { code }), width: 96, height: 96,
          on: { error: (event) => event.target.replaceWith(h("span", { class: "thumb-remote", text: t("item.photo_remote") })) } });
      } else {
        picture = h("span", { class: "thumb-remote", text: t("item.photo_remote") });
      }
      // A photo the server holds whose full image this device let go: the thumbnail stays.
      const light = photo.status === "done" && !photo.blob;
      return h("li", { class: ["thumb", `thumb-${photo.status}`, light && "thumb-light"],
        dataset: { uuid: photo.client_uuid, sha256: photo.sha256 || "" } },
        h("button", { type: "button", class: "thumb-open", attrs: { "aria-label": t("item.photo_open", { code }) },
          on: { click: () => actions.openPhoto && actions.openPhoto(photo) } }, picture),
        h("span", { class: "thumb-status", text: light ? t("photo.done_light") : t(`photo.${photo.status}`) }));
    }));
  }

  /** Show the current state; inputs being edited keep their text. */
  function update(next) {
    state = { ...state, ...next };
    const obs = state.obs || {};
    setPressed(obs.result ?? null);
    if (refs.points) setValue(refs.points, showNumber(obs.points));
    if (refs.count) setValue(refs.count, obs.value === null || obs.value === undefined ? "" : String(obs.value));
    if (refs.text) setValue(refs.text, obs.text || "");
    setValue(refs.note, obs.note || "");
    if (refs.ratio && state.ratio) renderRatio(refs.ratio, item, state.ratio);
    const disabled = Boolean(state.readOnly);
    for (const input of [refs.points, refs.count, refs.text, refs.note, camera, gallery, ...(refs.results || [])]) {
      if (input) input.disabled = disabled;
    }
    refs.cameraLabel.classList.toggle("disabled", disabled);
    refs.galleryLabel.classList.toggle("disabled", disabled);
    if (state.photos !== shownPhotos) { // not on every keystroke: only when the photos changed
      shownPhotos = state.photos;
      renderThumbs(state.photos || []);
    }
    const flags = [];
    if (state.unsent) flags.push(h("span", { class: "flag flag-unsent", text: t("item.unsent") }));
    for (const entry of state.attention || []) {
      flags.push(h("p", { class: `flag flag-${entry.kind}` },
        entry.kind === "conflict" ? t("item.conflict") : t("item.rejected", { message: entry.message || entry.reason || "" })));
      if (entry.kind === "conflict" && entry.folded > 0) {
        flags.push(h("p", { class: "flag flag-folded", text: t("conflict.folded", { n: entry.folded }) }));
      }
    }
    refs.flags.replaceChildren(...flags);
    el.classList.toggle("answered", Boolean(state.answered));
  }

  return {
    el, update,
    setPhotoMessage(text) { refs.photoMessage.textContent = text || ""; },
    focus() { (refs.count || refs.points || refs.text || (refs.results && refs.results[0]) || refs.note).focus({ preventScroll: true }); },
    destroy() { for (const url of urls) URL.revokeObjectURL(url); },
  };
}

/** The computed value of a ratio item with its target: "98,8 % (1.068 / 1.081) · mục tiêu ≥ 98 %: đạt". */
function renderRatio(root, item, ratio) {
  const parts = [];
  if (ratio.status === "computed") {
    parts.push(h("strong", { class: "ratio-value", text: `${fmtNumber(ratio.value, 1)} %` }));
    parts.push(h("span", { class: "ratio-parts", text: ` (${fmtNumber(ratio.numerator, 0)} / ${fmtNumber(ratio.denominator, 0)})` }));
  } else if (ratio.status === "no_cases") {
    parts.push(h("strong", { text: t("ratio.no_cases") }));
  } else if (ratio.status === "na") {
    parts.push(h("strong", { text: t("result.na") }));
  } else {
    parts.push(h("span", { class: "ratio-missing", text: t("ratio.missing", { codes: ratio.missing.join(", ") }) }));
  }
  if (ratio.target) {
    const op = { ">=": "≥", "<=": "≤", "==": "=" }[ratio.target.op] || ratio.target.op;
    parts.push(h("span", { class: "ratio-target", text: ` · ${t("ratio.target", { op, value: fmtNumber(ratio.target.value, 1) })}` }));
    if (ratio.met !== null) {
      parts.push(h("span", { class: `met ${ratio.met ? "met-yes" : "met-no"}`, text: ratio.met ? t("ratio.met") : t("ratio.not_met") }));
    }
  } else {
    parts.push(h("span", { class: "ratio-target", text: ` · ${t("ratio.no_target")}` }));
  }
  const formula = `${item.ratio.numerator.join(" + ")} / ${item.ratio.denominator.join(" + ")}`;
  root.replaceChildren(h("p", { class: "ratio-line" }, ...parts), h("p", { class: "formula", text: t("ratio.formula", { formula }) }));
}
