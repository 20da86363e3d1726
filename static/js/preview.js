// The office's preview of a checklist section as the tablet shows it (admin checklist editor).
// It draws the section with the field app's own item cards (ui/item.js), read from the page's
// JSON (#preview's data-preview: the draft's section); answers typed here stay on the page and are never
// stored or sent. Not part of the field app (nothing imports it; it is not precached).

import { getLanguage, loc, setLanguage, t } from "./i18n.js";
import { fmtNumber, h } from "./ui/dom.js";
import { createItemCard } from "./ui/item.js";

const root = document.getElementById("preview");
const data = JSON.parse(root.dataset.preview);

// Draw in the office page's language without changing the tablet language kept on this device.
let kept = null;
try { kept = localStorage.getItem("cchc-lang"); } catch { /* storage blocked */ }
const before = getLanguage();
setLanguage(data.language);

const section = data.section;
const cards = new Map();
const state = new Map();
const actions = {
  change(code, field, value) {
    const obs = { ...(state.get(code) || {}), [field]: value };
    state.set(code, obs);
    cards.get(code)?.update({ obs, answered: true });
  },
  commit() {},
  addPhotos() {},
  openPhoto() {},
};
const list = section.items.map((item) => {
  const card = createItemCard(item, actions);
  cards.set(item.code, card);
  card.update({ obs: {}, photos: [], readOnly: false, answered: false });
  return card.el;
});
const progress = t("insp.section_progress", { answered: 0, total: section.items.length })
  + (section.max_points ? ` · ${t("item.max_points", { n: fmtNumber(section.max_points, 2) })}` : "")
  + (section.optional ? ` · ${t("insp.optional")}` : "");
root.replaceChildren(h("div", { class: "section-body" },
  h("header", { class: "section-head" },
    h("h2", {}, h("span", { class: "section-code", text: section.code }), " ", loc(section, "title")),
    h("p", { class: "meta", id: "section-progress", text: progress })),
  h("div", { class: "items" }, list)));
root.dataset.ready = "true";

setLanguage(before);
try {
  if (kept === null) localStorage.removeItem("cchc-lang");
  else localStorage.setItem("cchc-lang", kept);
} catch { /* storage blocked */ }
