// The list of assigned inspections: unit, trip, date, state and progress, from IndexedDB only
// (so it opens the same way in the office and on a mountain road).

import { applicability, progress } from "../checks.js";
import { getMeta } from "../db.js";
import { t } from "../i18n.js";
import { forgottenCounts, listAssignments } from "../store.js";
import { fmtDate, fmtTime, h } from "./dom.js";

/** Render the assignment list into `root`, unless `isCurrent()` says a newer render began. */
export async function renderAssignments(root, { session, isCurrent = () => true }) {
  const entries = await listAssignments();
  const fetchedAt = await getMeta("assignments_at", null);
  const forgotten = await forgottenCounts();
  if (!isCurrent()) return; // data changed meanwhile and a newer render shows it
  const cards = entries.map(({ assignment, checklist, observations, photos, samples = [], unsent }) => {
    const inspection = assignment.inspection;
    const photoCounts = new Map();
    for (const photo of photos) photoCounts.set(photo.item_code, (photoCounts.get(photo.item_code) || 0) + 1);
    let done = { answered: 0, total: 0 };
    if (checklist) {
      // What does not apply (conditions) is not counted, as on the inspection page.
      const byCode = new Map(observations.map((o) => [o.item_code, o]));
      const grouped = {};
      for (const group of checklist.repeats || []) {
        grouped[group.code] = samples.filter((x) => x.group === group.code).map((x) => ({ ...x.fields }));
      }
      const unit = inspection.unit || {};
      const off = applicability(checklist, byCode, { unit: { kind: unit.kind, level: unit.level }, samples: grouped });
      done = progress(checklist, byCode, photoCounts, new Set(off.notApplicable.items));
    }
    const percent = done.total ? Math.round((done.answered / done.total) * 100) : 0;
    const meter = h("progress", { max: done.total || 1, value: done.answered, attrs: { "aria-label": t("list.progress") } });
    return h("li", {},
      h("a", { class: "assignment", href: `#/i/${inspection.id}`, dataset: { inspection: inspection.id } },
        h("div", { class: "assignment-head" },
          h("h2", { text: inspection.unit.full_name || inspection.unit.name }),
          h("span", { class: `state state-${inspection.state}`, text: t(`state.${inspection.state}`) }),
        ),
        h("p", { class: "meta" },
          inspection.trip ? inspection.trip.name : "",
          inspection.trip && inspection.trip.plan_number ? ` · ${t("list.plan")} ${inspection.trip.plan_number}` : "",
        ),
        h("p", { class: "meta" },
          t("list.date", { date: fmtDate(inspection.scheduled_on) }),
          inspection.my_role ? ` · ${t(`role.${inspection.my_role}`)}` : "",
        ),
        assignment.unassigned ? h("p", { class: "notice unassigned", text: t("list.unassigned") }) : null,
        h("div", { class: "progress-row" }, meter,
          h("span", { text: t("list.answered", { answered: done.answered, total: done.total, percent }) }),
          unsent ? h("span", { class: "unsent-badge", text: t("list.unsent", { n: unsent }) }) : null,
        ),
      ));
  });
  root.replaceChildren(h("section", { class: "list" },
    h("h1", { text: t("list.title") }),
    session && session.user ? h("p", { class: "lead", text: t("list.hello", { name: session.user.full_name }) }) : null,
    cards.length ? h("ul", { class: "assignments" }, cards)
      : h("p", { class: "card empty", text: navigator.onLine ? t("list.empty") : t("list.empty_offline") }),
    fetchedAt ? h("p", { class: "hint", text: t("list.fetched", { time: fmtTime(fetchedAt) }) }) : null,
    forgotten.finished ? h("p", { class: "hint", id: "cleared-finished", text: t("list.cleared_finished", { n: forgotten.finished }) }) : null,
    forgotten.unassigned ? h("p", { class: "hint", id: "cleared-unassigned", text: t("list.cleared_unassigned", { n: forgotten.unassigned }) }) : null,
  ));
  performance.mark("cchc:list");
}
