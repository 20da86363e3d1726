// The inspection page: the unit, the team, recommendations from the last visit, one section of
// the checklist at a time with progress per section, a box to jump to an item code, and the
// template's consistency rules evaluated live as counts are typed. Everything comes from
// IndexedDB and works offline; changes are saved as they are made. Parts: ui/inspection/.

import { t } from "../i18n.js";
import { FullImages } from "../photos.js";
import { loadInspection } from "../store.js";
import { h } from "./dom.js";
import { createChecksPanel } from "./inspection/checks.js";
import { editActions } from "./inspection/edits.js";
import { createHead, createRecommendations } from "./inspection/head.js";
import { createJumpBox, createSectionNav } from "./inspection/nav.js";
import { inspectionPage } from "./inspection/page.js";
import { photoActions } from "./inspection/photos.js";
import { sampleActions } from "./inspection/samples.js";
import { createSectionView } from "./inspection/section.js";

/**
 * Render inspection `id` into `root`, showing `section` (and scrolling to `item`). `ctx`:
 * {drafts, engine, navigate(hash), afterSave(inspectionId), showError(text)}. Returns a controller {show(params),
 * onData(detail), destroy()} or null when the device does not have the inspection.
 */
export async function renderInspection(root, ctx, { id, section, item }) {
  const data = await loadInspection(id);
  if (!data || !data.checklist) {
    root.replaceChildren(h("section", { class: "card" },
      h("h1", { text: t("insp.missing_title") }), h("p", { text: t("insp.missing") }),
      h("a", { href: "#/", class: "button", text: t("insp.back") })));
    return null;
  }
  const page = inspectionPage(id, data, ctx.drafts);
  const images = new FullImages(); // full-size pictures opened while this page is open
  const head = createHead(page, createJumpBox(page, ctx.navigate));
  const recs = createRecommendations(page);
  const panel = createChecksPanel(page);
  const nav = createSectionNav(page);
  const card = (code) => view.card(code);
  const actions = { ...editActions(page, ctx, { card, refresh }), ...photoActions(page, ctx, { card, refresh, images }),
    samples: sampleActions(page, ctx, { refresh, redraw: (group, focus) => view.updateGroup(group, focus) }) };
  const view = createSectionView(page, actions, refresh);

  /** Everything computed from the values: progress, ratios, checks. Cheap; runs per keystroke. */
  function refresh() {
    const computed = page.computed();
    head.showProgress(computed.done);
    nav.render({ ...computed, differing: page.differing() }, view.current());
    panel.render(computed.checks);
    view.refresh(computed);
  }

  root.replaceChildren(
    h("nav", { class: "crumbs" }, h("a", { href: "#/", text: `← ${t("insp.back")}` })),
    head.el, head.notice, recs.el,
    panel.el,
    h("div", { class: "inspection-layout" }, nav.el, view.el),
  );
  const unit = page.assignment.inspection.unit;
  document.title = `${unit.full_name || unit.name} · ${t("app.name")}`;
  head.render();
  recs.render();
  view.show({ section, item });
  performance.mark("cchc:checklist"); // scripts/bench_app.py: reload → checklist on screen
  return {
    id,
    show: view.show,
    /** Local data changed (sync, another tab): re-read it, keep what is being typed. */
    async onData(detail) {
      if (!detail.all && !detail.inspections.has(id)) return;
      const fresh = await loadInspection(id);
      if (!fresh) { ctx.navigate("#/"); return; } // forgotten (finished, unassigned) or locked
      page.load(fresh);
      head.render();
      recs.render();
      view.updateCards();
      refresh();
    },
    destroy() {
      view.destroy();
      images.clear();
    },
  };
}
