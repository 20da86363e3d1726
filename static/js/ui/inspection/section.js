// One section: heading, progress, failing checks, item cards, the next section's link.

import { computeRatio } from "../../checks.js";
import { loc, t } from "../../i18n.js";
import { h } from "../dom.js";
import { createItemCard } from "../item.js";
import { checkLine, sortChecks } from "./checks.js";
import { createGroupCard } from "./samples.js";

/**
 * The section view of `page`; `actions` go to every card (`actions.samples` to the repeat
 * groups' cards), `refresh()` recomputes the page.
 */
export function createSectionView(page, actions, refresh) {
  const { id, checklist, items, sectionsByCode } = page;
  const el = h("div", { class: "section-body" });
  let cards = new Map();
  let groupCards = new Map();
  let current = null;
  let notApplicable = { sections: new Set(), items: new Set(), groups: new Set() };

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
    groupCards = new Map();
    for (const group of page.groups.filter((g) => g.section === code)) {
      const card = createGroupCard(group, page, actions.samples);
      groupCards.set(group.code, card);
      card.update({ readOnly: page.readOnly() });
    }
    el.replaceChildren(
      h("header", { class: "section-head" },
        h("h2", {}, h("span", { class: "section-code", text: section.code }), " ", loc(section, "title")),
        h("p", { class: "meta", id: "section-progress" }),
        h("p", { class: "notice section-not-applicable", id: "section-not-applicable", hidden: true,
          text: t("insp.section_not_applicable") }),
      ),
      sectionChecks,
      h("div", { class: "items" }, list),
      h("div", { class: "repeat-groups" }, [...groupCards.values()].map((card) => card.el)),
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
  function refreshSection({ done, values, checks, notApplicable: off }) {
    const section = sectionsByCode.get(current);
    if (!section) return;
    if (off) notApplicable = off;
    // Conditions, live: what does not apply is hidden; it comes back as soon as it applies.
    const sectionOff = notApplicable.sections.has(section.code);
    const notice = el.querySelector("#section-not-applicable");
    if (notice) notice.hidden = !sectionOff;
    for (const [code, card] of cards) card.setApplicable(!notApplicable.items.has(code));
    for (const [code, card] of groupCards) card.update({ applies: !notApplicable.groups.has(code), readOnly: page.readOnly() });
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
      if (item.compute !== undefined) cards.get(item.code)?.update({ computed: values[item.code] ?? null });
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

  /** A group's samples changed on this device: redraw its card (and focus a new sample). */
  function updateGroup(code, focusSample) {
    const card = groupCards.get(code);
    if (!card) return;
    card.update({ applies: !notApplicable.groups.has(code), readOnly: page.readOnly() });
    if (focusSample) card.focusSample(focusSample);
  }

  return {
    el, show, destroy, updateGroup,
    refresh: refreshSection,
    card: (code) => cards.get(code),
    current: () => current,
    updateCards() {
      for (const [code, card] of cards) card.update(page.cardState(code));
      for (const code of groupCards.keys()) updateGroup(code);
    },
  };
}
