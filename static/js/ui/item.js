// One checklist item on the inspection page: the controls its kind needs, a note, photos and
// the evidence hint. Every change is reported at once (the page saves it: immediately for
// buttons, after a short pause for typing); nothing here waits for a save button.

import { loc, t } from "../i18n.js";
import { fmtNumber, h } from "./dom.js";
import { claimBlock } from "./item/claim.js";
import { flagList } from "./item/flags.js";
import { photoControls } from "./item/photos.js";
import { renderRatio } from "./item/ratio.js";
import { resultButtons } from "./item/results.js";
import { countField, noteField, pointsField, textField } from "./item/values.js";

/**
 * Build the card of `item`. `actions`: change(code, field, value, {typing}), commit(),
 * addPhotos(code, files), openPhoto(photo). Returns {el, update(state), setPhotoMessage,
 * focus, destroy}; state: {obs, photos, unsent, attention, ratio, readOnly, answered, claim}
 * (claim: the unit's self-assessment of the item, see ui/item/claim.js; actions.confirm(code)).
 */
export function createItemCard(item, actions) {
  const { code, kind } = item;
  let state = { obs: {}, photos: [], readOnly: false };
  const typed = (field) => (value) => actions.change(code, field, value, { typing: true });

  const results = kind === "yesno" || kind === "score"
    ? resultButtons(() => state.obs.result, (next) => actions.change(code, "result", next, { typing: false }))
    : null;
  const points = kind === "score" ? pointsField(item, typed("points")) : null;
  const count = kind === "count" ? countField(item, typed("value")) : null;
  const ratio = kind === "ratio" ? h("div", { class: "ratio", attrs: { "aria-live": "polite" } }) : null;
  const text = kind === "text" || kind === "photo" ? textField(item, typed("text")) : null;
  const note = noteField(typed("note"));
  const fields = [points, count, text, note].filter(Boolean);
  // Leaving a field commits at once (no waiting for the pause).
  for (const field of fields) field.input.addEventListener("change", () => actions.commit && actions.commit());
  const photos = photoControls(code, actions);
  const flags = h("div", { class: "flags" });
  const claim = claimBlock(() => actions.confirm && actions.confirm(code));

  const maxPoints = item.max_points !== null && item.max_points !== undefined
    ? h("span", { class: "max", text: t("item.max_points", { n: fmtNumber(item.max_points, 2) }) }) : null;
  const hint = loc(item, "evidence_hint");
  const el = h("article", { class: `item kind-${kind}`, id: `item-${code}`, dataset: { code } },
    h("header", { class: "item-head" },
      h("span", { class: "code", text: code }),
      h("h3", { class: "item-title", text: loc(item, "title") }),
      maxPoints),
    hint ? h("p", { class: "hint", text: hint }) : null,
    claim.el,
    results?.el, points?.el, count?.el, ratio, text?.el,
    h("div", { class: "item-foot" }, note.el, photos.buttons),
    photos.el,
    flags,
  );

  /** A criterion whose condition is false is hidden (not applicable); shown again once true. */
  function setApplicable(applies) {
    el.hidden = !applies;
    el.classList.toggle("not-applicable", !applies);
  }

  /** Show the current state; inputs being edited keep their text. */
  function update(next) {
    state = { ...state, ...next };
    const obs = state.obs || {};
    results?.show(obs.result ?? null);
    for (const field of fields) field.show(obs);
    if (ratio && state.ratio) renderRatio(ratio, item, state.ratio);
    const disabled = Boolean(state.readOnly);
    for (const input of [...fields.map((f) => f.input), ...(results?.buttons || [])]) input.disabled = disabled;
    if (count && item.compute !== undefined) {
      // A count with a formula (e.g. over the samples) shows its value; nobody types it.
      count.input.readOnly = true;
      count.input.value = state.computed === null || state.computed === undefined ? "" : String(state.computed);
      count.input.title = t("item.computed");
    }
    photos.setDisabled(disabled);
    photos.show(state.photos);
    flags.replaceChildren(...flagList(state));
    if (state.claim !== undefined) claim.show({ ...state.claim, readOnly: disabled });
    el.classList.toggle("answered", Boolean(state.answered));
  }

  return {
    el, update, setApplicable,
    setPhotoMessage: photos.setMessage,
    focus() {
      const target = (count || points || text)?.input || results?.buttons[0] || note.input;
      target.focus({ preventScroll: true });
    },
    destroy: photos.destroy,
  };
}
