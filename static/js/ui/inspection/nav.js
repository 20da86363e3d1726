// Getting around: the section list and the jump box (an item or section code; "tthc25" will do).

import { normaliseCode } from "../../checks.js";
import { loc, t } from "../../i18n.js";
import { h } from "../dom.js";

/** The section list of `page`. Returns {el, render({done, checks}, current)}. */
export function createSectionNav(page) {
  const { id, items, checklist } = page;
  const el = h("nav", { class: "section-nav", attrs: { "aria-label": t("insp.sections") } });
  function render({ done, checks, notApplicable, differing = new Map() }, current) {
    const failingBySection = new Map();
    for (const check of checks) {
      for (const code of new Set(check.codes.map((c) => items.get(c)?.section.code).filter(Boolean))) {
        failingBySection.set(code, (failingBySection.get(code) || 0) + 1);
      }
    }
    el.replaceChildren(h("ol", {}, checklist.sections.map((section) => {
      const p = done.sections[section.code];
      const off = Boolean(notApplicable && notApplicable.sections.has(section.code));
      const complete = p.total && p.answered === p.total;
      const failing = failingBySection.get(section.code) || 0;
      const differ = differing.get(section.code) || 0;
      return h("li", {},
        h("a", { href: `#/i/${id}/${section.code}`, class: ["section-link", section.code === current && "active", complete && "complete", off && "not-applicable"],
          dataset: { section: section.code }, attrs: { "aria-current": section.code === current ? "page" : null } },
          h("span", { class: "section-code", text: section.code }),
          h("span", { class: "section-title", text: loc(section, "title") }),
          h("span", { class: "section-progress", text: off ? t("insp.not_applicable_short") : `${p.answered}/${p.total}`,
            title: off ? t("insp.section_not_applicable") : null }),
          failing ? h("span", { class: "section-failing", text: t("insp.section_failing", { n: failing }),
            title: t("checks.in_section", { n: failing }) }) : null,
          differ ? h("span", { class: "section-differs", text: t("claim.section_differs", { n: differ }),
            title: t("claim.differs") }) : null));
    })));
  }
  return { el, render };
}

/** The jump form of `page`; `navigate(hash)` goes to the code found. */
export function createJumpBox(page, navigate) {
  const { id, items, sectionsByCode } = page;
  const input = h("input", { id: "jump", type: "search", autocomplete: "off", enterKeyHint: "go",
    attrs: { list: `codes-${id}`, placeholder: t("insp.jump_placeholder"), "aria-label": t("insp.jump_label") },
    on: { keydown: (event) => {
      // WebKit (Safari) gives Enter to the datalist's suggestions, which only close: the form is
      // never submitted. Jump on Enter here (not while an input method is composing a letter).
      if (event.key !== "Enter" || event.isComposing || event.keyCode === 229) return;
      event.preventDefault();
      jump(input.value);
    } } });
  const message = h("span", { class: "jump-message", attrs: { role: "status" } });
  const datalist = h("datalist", { id: `codes-${id}` },
    [...items.values()].map(({ item }) => h("option", { value: item.code, label: loc(item, "title") })));

  function jump(text) {
    const code = normaliseCode(text);
    message.textContent = "";
    if (items.has(code)) {
      navigate(`#/i/${id}/${items.get(code).section.code}/${code}`);
      input.value = "";
    } else if (sectionsByCode.has(code)) {
      navigate(`#/i/${id}/${code}`);
      input.value = "";
    } else {
      message.textContent = t("insp.jump_unknown", { code: text.trim() });
    }
  }

  return h("form", { class: "jump", on: { submit: (event) => { event.preventDefault(); jump(input.value); } } },
    input, datalist, h("button", { type: "submit", class: "primary", text: t("insp.jump") }), message);
}
