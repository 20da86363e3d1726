// One section: heading, progress, failing checks, item cards, the next section's link.

import { computeRatio } from "../../checks.js";
import { loc, t } from "../../i18n.js";
import { h } from "../dom.js";
import { createItemCard } from "../item.js";
import { checkLine, sortChecks } from "./checks.js";

/** The section view of `page`; `actions` go to every card, `refresh()` recomputes the page. */
export function createSectionView(page, actions, refresh) {
  const { id, checklist, items, sectionsByCode } = page;
  const el = h("div", { class: "section-body" });
  let cards = new Map();
  let current = null;

  function destroy() {
    for (const card of cards.values()) card.destroy();
  }

  function render(code) {
    destroy();
    cards = new Map();
    current = code;
    try { localStorage.setItem(`cchc-section-${id}`, code); } catch { /* private mode */ }
    const section = sectionsByCode.get(code);
    const sectionChecks = h("ul", { class: "check-list section-checks", id: "section-checks" });
    const list = section.items.map((item) => {
      const card = createItemCard(item, actions);
      cards.set(item.code, card);
      card.update(page.cardState(item.code));
      return card.el;
    });
    el.replaceChildren(
      h("header", { class: "section-head" },
        h("h2", {}, h("span", { class: "section-code", text: section.code }), " ", loc(section, "title")),
        h("p", { class: "meta", id: "section-progress" }),
      ),
      sectionChecks,
      h("div", { class: "items" }, list),
      nextSectionLink(section),
    );
    refresh();
  }

  function nextSectionLink(section) {
    const index = checklist.sections.indexOf(section);
    const next = checklist.sections[index + 1];
    return next ? h("a", { class: "button next-section", href: `#/i/${id}/${next.code}`,
      text: `${t("insp.next_section")}: ${next.code} · ${loc(next, "title")} →` }) : null;
  }

  /** Show what changed in the values: section progress, its checks, its ratios. */
  function refreshSection({ done, values, checks }) {
    const section = sectionsByCode.get(current);
    if (!section) return;
    const p = done.sections[section.code];
    const sectionProgress = el.querySelector("#section-progress");
    if (sectionProgress) {
      sectionProgress.textContent = t("insp.section_progress", { answered: p.answered, total: p.total })
        + (section.max_points ? ` · ${t("item.max_points", { n: section.max_points })}` : "")
        + (section.optional ? ` · ${t("insp.optional")}` : "");
    }
    const codes = new Set(section.items.map((item) => item.code));
    const mine = sortChecks(checks.filter((check) => check.codes.some((c) => codes.has(c))));
    const sectionChecks = el.querySelector("#section-checks");
    if (sectionChecks) {
      sectionChecks.replaceChildren(...mine.map((check) => checkLine(page, check)));
      sectionChecks.hidden = !mine.length;
    }
    for (const item of section.items) {
      if (item.kind === "ratio") cards.get(item.code)?.update({ ratio: computeRatio(item, values, page.observations.get(item.code)) });
    }
  }

  function focusItem(code) {
    const card = cards.get(code);
    if (!card) return;
    card.el.scrollIntoView({ block: "start" });
    card.el.classList.add("highlight");
    setTimeout(() => card.el.classList.remove("highlight"), 2000);
    card.focus();
  }

  /** Show a section (and item): the one asked for, the item's, the last one shown, or the first. */
  function show({ section, item }) {
    let code = section && sectionsByCode.has(section) ? section : null;
    if (!code && item && items.has(item)) code = items.get(item).section.code;
    if (!code) {
      let remembered = null;
      try { remembered = localStorage.getItem(`cchc-section-${id}`); } catch { /* private mode */ }
      code = sectionsByCode.has(remembered) ? remembered : checklist.sections[0].code;
    }
    if (code !== current) {
      const switching = current !== null;
      render(code);
      // Changing section starts at its top; the first render keeps the page header in view.
      if (switching && !item) el.scrollIntoView({ block: "start" });
    }
    if (item) focusItem(item);
  }

  return {
    el, show, destroy,
    refresh: refreshSection,
    card: (code) => cards.get(code),
    current: () => current,
    updateCards() { for (const [code, card] of cards) card.update(page.cardState(code)); },
  };
}
