// The consistency panel: the rules failing on the values so far, errors first, linked to items.

import { loc, t } from "../../i18n.js";
import { h } from "../dom.js";

const SEVERITY_ORDER = { error: 0, warning: 1, finding: 2 };

/** `checks` with errors first, then warnings, then findings. */
export function sortChecks(checks) {
  return [...checks].sort((a, b) => (SEVERITY_ORDER[a.rule.severity] ?? 9) - (SEVERITY_ORDER[b.rule.severity] ?? 9));
}

/** One failing (or undecidable) check of `page` as a list item. */
export function checkLine(page, check) {
  const { id, items } = page;
  const severity = check.rule.severity;
  const message = loc(check.rule, "message");
  const why = check.status === "unknown" ? ` (${t(`reason.${check.reason}`, {}, check.reason)})` : "";
  return h("li", { class: `check severity-${severity}`, dataset: { rule: check.rule.id } },
    h("span", { class: "severity", text: t(`severity.${severity}`, {}, severity) }),
    h("span", { class: "check-message", text: message + why }),
    h("span", { class: "check-codes" }, check.codes.filter((c) => items.has(c)).map((c) =>
      h("a", { href: `#/i/${id}/${items.get(c).section.code}/${c}`, text: c }))));
}

/** The panel of `page`. Returns {el, render(checks)}; an open panel stays open. */
export function createChecksPanel(page) {
  const el = h("details", { class: "card checks", id: "checks" });
  function render(checks) {
    const errors = checks.filter((c) => c.rule.severity === "error").length;
    const others = checks.length - errors;
    const summary = checks.length
      ? t("checks.summary", { errors, others })
      : t("checks.none");
    const wasOpen = el.open;
    el.replaceChildren(
      h("summary", { class: checks.length ? (errors ? "has-errors" : "has-warnings") : "all-good" },
        h("strong", { text: t("checks.title") }), ` · ${summary}`),
      ...(checks.length ? [h("ul", { class: "check-list" }, sortChecks(checks).map((check) => checkLine(page, check)))] : []));
    el.open = wasOpen;
  }
  return { el, render };
}
