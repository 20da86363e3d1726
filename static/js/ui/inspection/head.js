// The top of the page: unit, state, trip, team, overall progress and the jump box; the notice
// that a locked inspection can no longer be changed; the last visit's recommendations.

import { t } from "../../i18n.js";
import { fmtDate, h } from "../dom.js";

/** The header of `page` around `jumpBox`. Returns {el, notice, render(), showProgress(done)}. */
export function createHead(page, jumpBox) {
  const el = h("section", { class: "card inspection-head" });
  const notice = h("div");
  const meter = h("progress", { max: 1, value: 0, attrs: { "aria-label": t("list.progress") } });
  const text = h("span", { id: "overall-progress" });

  /** Built again only when the inspection record changes (state, team). */
  function render() {
    const inspection = page.assignment.inspection;
    // No template literal inside another: the minifier (rjsmin) drops the spaces of the inner one.
    const team = (inspection.team || []).map((m) => m.full_name + (m.role ? ` (${t("role." + m.role)})` : "")).join(", ");
    const trip = inspection.trip;
    el.replaceChildren(
      h("div", { class: "head-line" },
        h("h1", { text: inspection.unit.full_name || inspection.unit.name }),
        h("span", { class: `state state-${inspection.state}`, text: t(`state.${inspection.state}`) })),
      h("p", { class: "meta" }, [
        trip ? trip.name : "",
        trip && trip.plan_number ? `${t("list.plan")} ${trip.plan_number}` : "",
        t("list.date", { date: fmtDate(inspection.scheduled_on) }),
      ].filter(Boolean).join(" · ")),
      team ? h("p", { class: "meta" }, `${t("insp.team")}: ${team}`) : null,
      h("div", { class: "head-tools" },
        h("div", { class: "progress-row" }, meter, text),
        jumpBox),
      // The meeting that ends the visit: findings, recommendations, attendees, draft minutes.
      h("div", { class: "actions" },
        h("a", { class: "button primary big closing-button", id: "open-closing", href: `#/i/${inspection.id}/closing`,
          text: t("insp.closing") })),
    );
    notice.replaceChildren(page.readOnly() ? h("p", { class: "notice", text: t("insp.locked") }) : "");
  }

  function showProgress(done) {
    meter.max = done.total || 1;
    meter.value = done.answered;
    text.textContent = t("list.answered", { answered: done.answered, total: done.total,
      percent: done.total ? Math.round((done.answered / done.total) * 100) : 0 });
  }

  return { el, notice, render, showProgress };
}

/** The last visit's recommendations, to check on this one. Returns {el, render()}. */
export function createRecommendations(page) {
  const el = h("div");
  function render() {
    const list = page.assignment.previous_recommendations || [];
    if (!list.length) { el.replaceChildren(); return; }
    el.replaceChildren(h("details", { class: "card recs", open: true },
      h("summary", { text: t("insp.previous_recs", { n: list.length }) }),
      h("ul", {}, list.map((rec) => h("li", { class: "rec" },
        h("p", { text: rec.text }),
        h("p", { class: "meta" },
          rec.unit_name ? `${rec.unit_name} · ` : "",
          rec.due_on ? `${t("insp.due", { date: fmtDate(rec.due_on) })} · ` : "",
          h("span", { class: `rec-status rec-${rec.status}`, text: t(`rec.${rec.status}`, {}, rec.status) })))))));
  }
  return { el, render };
}
