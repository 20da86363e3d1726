// The inspection page: the unit, the team, recommendations from the last visit, one section of
// the checklist at a time with progress per section, a box to jump to an item code, and the
// template's consistency rules evaluated live as counts are typed. Everything comes from
// IndexedDB and works offline; changes are saved as they are made.

import { compileRules, computeRatio, countValues, failingChecks, indexItems, isAnswered, normaliseCode, progress } from "../checks.js";
import { loc, t } from "../i18n.js";
import { FullImages, preparePhoto } from "../photos.js";
import { fitsInQuota, isQuotaError } from "../retention.js";
import { clearQuotaError, loadInspection, noteQuotaError, savePhoto } from "../store.js";
import { fmtDate, h } from "./dom.js";
import { createItemCard } from "./item.js";
import { openPhotoViewer } from "./photoview.js";

const LOCKED_STATES = new Set(["approved", "signed"]);
const SEVERITY_ORDER = { error: 0, warning: 1, finding: 2 };

/**
 * Render inspection `id` into `root`, showing `section` (and scrolling to `item`). `ctx`:
 * {drafts, engine, navigate(hash), afterSave(inspectionId), showError(text)}. Returns a controller {show(params),
 * onData(detail), destroy()} or null when the device does not have the inspection.
 */
export async function renderInspection(root, ctx, { id, section: wantedSection, item: wantedItem }) {
  const data = await loadInspection(id);
  if (!data || !data.checklist) {
    root.replaceChildren(h("section", { class: "card" },
      h("h1", { text: t("insp.missing_title") }), h("p", { text: t("insp.missing") }),
      h("a", { href: "#/", class: "button", text: t("insp.back") })));
    return null;
  }
  const { checklist } = data;
  let assignment = data.assignment;
  let observations = data.observations;
  let photos = data.photos;
  let unsentItems = data.unsentItems;
  let attention = data.attention;
  const items = indexItems(checklist);
  const compiled = compileRules(checklist);
  const sectionsByCode = new Map(checklist.sections.map((s) => [s.code, s]));
  let cards = new Map();
  let currentSection = null;
  let checks = [];
  const images = new FullImages(); // full-size pictures opened while this page is open

  function withDrafts(map) {
    // Typing not yet committed (the pause has not passed) must not flicker back to the old value.
    for (const [code] of items || []) {
      for (const field of ["result", "points", "value", "text", "note"]) {
        const draft = ctx.drafts.pending(id, code, field);
        if (draft === undefined) continue;
        const obs = { ...(map.get(code) || { item_code: code }) };
        obs[field] = draft;
        map.set(code, obs);
      }
    }
    return map;
  }
  observations = withDrafts(observations);

  const readOnly = () => LOCKED_STATES.has(assignment.inspection.state);

  // --- the frame: header, last visit's recommendations, tools, navigation -------------------
  const head = h("section", { class: "card inspection-head" });
  const recs = h("div");
  const notice = h("div");
  const jumpInput = h("input", { id: "jump", type: "search", autocomplete: "off", enterKeyHint: "go",
    attrs: { list: `codes-${id}`, placeholder: t("insp.jump_placeholder"), "aria-label": t("insp.jump_label") },
    on: { keydown: (event) => {
      // WebKit (Safari) gives Enter to the datalist's suggestions, which only close: the form is
      // never submitted. Jump on Enter here (not while an input method is composing a letter).
      if (event.key !== "Enter" || event.isComposing || event.keyCode === 229) return;
      event.preventDefault();
      jump(jumpInput.value);
    } } });
  const jumpMessage = h("span", { class: "jump-message", attrs: { role: "status" } });
  const datalist = h("datalist", { id: `codes-${id}` },
    [...items.values()].map(({ item }) => h("option", { value: item.code, label: loc(item, "title") })));
  const jumpForm = h("form", { class: "jump", on: { submit: (event) => { event.preventDefault(); jump(jumpInput.value); } } },
    jumpInput, datalist, h("button", { type: "submit", class: "primary", text: t("insp.jump") }), jumpMessage);
  const checksPanel = h("details", { class: "card checks", id: "checks" });
  const nav = h("nav", { class: "section-nav", attrs: { "aria-label": t("insp.sections") } });
  const body = h("div", { class: "section-body" });

  root.replaceChildren(
    h("nav", { class: "crumbs" }, h("a", { href: "#/", text: `← ${t("insp.back")}` })),
    head, notice, recs,
    checksPanel,
    h("div", { class: "inspection-layout" }, nav, body),
  );
  document.title = `${assignment.inspection.unit.full_name || assignment.inspection.unit.name} · ${t("app.name")}`;

  function photoCounts() {
    const counts = new Map();
    for (const photo of photos) counts.set(photo.item_code, (counts.get(photo.item_code) || 0) + 1);
    return counts;
  }

  const overallMeter = h("progress", { max: 1, value: 0, attrs: { "aria-label": t("list.progress") } });
  const overallText = h("span", { id: "overall-progress" });

  /** The header: built again only when the inspection record changes (state, team). */
  function renderHead() {
    const inspection = assignment.inspection;
    const team = (inspection.team || []).map((m) => `${m.full_name}${m.role ? ` (${t(`role.${m.role}`)})` : ""}`).join(", ");
    const trip = inspection.trip;
    head.replaceChildren(
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
        h("div", { class: "progress-row" }, overallMeter, overallText),
        jumpForm),
    );
    notice.replaceChildren(readOnly() ? h("p", { class: "notice", text: t("insp.locked") }) : "");
  }

  function renderProgress(done) {
    overallMeter.max = done.total || 1;
    overallMeter.value = done.answered;
    overallText.textContent = t("list.answered", { answered: done.answered, total: done.total,
      percent: done.total ? Math.round((done.answered / done.total) * 100) : 0 });
  }

  function renderRecommendations() {
    const list = assignment.previous_recommendations || [];
    if (!list.length) { recs.replaceChildren(); return; }
    recs.replaceChildren(h("details", { class: "card recs", open: true },
      h("summary", { text: t("insp.previous_recs", { n: list.length }) }),
      h("ul", {}, list.map((rec) => h("li", { class: "rec" },
        h("p", { text: rec.text }),
        h("p", { class: "meta" },
          rec.unit_name ? `${rec.unit_name} · ` : "",
          rec.due_on ? `${t("insp.due", { date: fmtDate(rec.due_on) })} · ` : "",
          h("span", { class: `rec-status rec-${rec.status}`, text: t(`rec.${rec.status}`, {}, rec.status) })))))));
  }

  function checkLine(check) {
    const severity = check.rule.severity;
    const message = loc(check.rule, "message");
    const why = check.status === "unknown" ? ` (${t(`reason.${check.reason}`, {}, check.reason)})` : "";
    return h("li", { class: `check severity-${severity}`, dataset: { rule: check.rule.id } },
      h("span", { class: "severity", text: t(`severity.${severity}`, {}, severity) }),
      h("span", { class: "check-message", text: message + why }),
      h("span", { class: "check-codes" }, check.codes.filter((c) => items.has(c)).map((c) =>
        h("a", { href: `#/i/${id}/${items.get(c).section.code}/${c}`, text: c }))));
  }

  function sortChecks(list) {
    return [...list].sort((a, b) => (SEVERITY_ORDER[a.rule.severity] ?? 9) - (SEVERITY_ORDER[b.rule.severity] ?? 9));
  }

  function renderChecksPanel() {
    const errors = checks.filter((c) => c.rule.severity === "error").length;
    const others = checks.length - errors;
    const summary = checks.length
      ? t("checks.summary", { errors, others })
      : t("checks.none");
    const wasOpen = checksPanel.open;
    checksPanel.replaceChildren(
      h("summary", { class: checks.length ? (errors ? "has-errors" : "has-warnings") : "all-good" },
        h("strong", { text: t("checks.title") }), ` · ${summary}`),
      checks.length ? h("ul", { class: "check-list" }, sortChecks(checks).map(checkLine)) : null);
    checksPanel.open = wasOpen;
  }

  function renderNav(done) {
    const failingBySection = new Map();
    for (const check of checks) {
      for (const code of new Set(check.codes.map((c) => items.get(c)?.section.code).filter(Boolean))) {
        failingBySection.set(code, (failingBySection.get(code) || 0) + 1);
      }
    }
    nav.replaceChildren(h("ol", {}, checklist.sections.map((section) => {
      const p = done.sections[section.code];
      const complete = p.total && p.answered === p.total;
      const failing = failingBySection.get(section.code) || 0;
      return h("li", {},
        h("a", { href: `#/i/${id}/${section.code}`, class: ["section-link", section.code === currentSection && "active", complete && "complete"],
          dataset: { section: section.code }, attrs: { "aria-current": section.code === currentSection ? "page" : null } },
          h("span", { class: "section-code", text: section.code }),
          h("span", { class: "section-title", text: loc(section, "title") }),
          h("span", { class: "section-progress", text: `${p.answered}/${p.total}` }),
          failing ? h("span", { class: "section-failing", text: t("insp.section_failing", { n: failing }),
            title: t("checks.in_section", { n: failing }) }) : null));
    })));
  }

  function cardState(code) {
    const obs = observations.get(code) || {};
    const { item } = items.get(code);
    const itemPhotos = photos.filter((p) => p.item_code === code);
    return {
      obs, photos: itemPhotos, unsent: unsentItems.has(code), readOnly: readOnly(),
      attention: attention.filter((a) => a.item_code === code),
      ratio: item.kind === "ratio" ? computeRatio(item, countValues(checklist, observations), obs) : null,
      answered: isAnswered(item, obs, itemPhotos.length),
    };
  }

  const actions = {
    change(code, field, value, { typing }) {
      const obs = { ...(observations.get(code) || { inspection_id: id, item_code: code }) };
      obs[field] = value;
      observations.set(code, obs);
      unsentItems.add(code);
      ctx.drafts.set(id, code, field, value, { delay: typing ? undefined : 0 })
        .then(() => ctx.afterSave(id))
        .catch((err) => {
          console.error(err);
          if (isQuotaError(err)) noteQuotaError();
          ctx.showError(isQuotaError(err) ? t("insp.save_no_space") : t("insp.save_failed"));
        });
      refreshComputed();
      const card = cards.get(code);
      if (card) card.update({ unsent: true, answered: cardState(code).answered });
    },
    commit() {
      ctx.drafts.flush().then(() => ctx.afterSave(id)).catch(() => {});
    },
    async addPhotos(code, files) {
      const card = cards.get(code);
      for (const file of files) {
        if (card) card.setPhotoMessage(t("item.photo_processing"));
        try {
          const record = await preparePhoto(file, { inspectionId: id, itemCode: code });
          if (!(await roomFor(record.blob.size + record.thumb.size))) {
            throw new DOMException("not enough storage for this photo", "QuotaExceededError");
          }
          await savePhoto(record);
          photos = [...photos, record];
          if (card) card.setPhotoMessage("");
          clearQuotaError().catch(() => {});
        } catch (err) {
          if (isQuotaError(err)) {
            // Refused out loud: the picture is not on the device, and the inspector must know.
            await noteQuotaError();
            if (card) card.setPhotoMessage(t("item.photo_no_space"));
            ctx.engine.measureStorage().catch(() => {});
            break;
          }
          console.error(err);
          if (card) card.setPhotoMessage(t("item.photo_failed"));
        }
      }
      if (cards.get(code)) cards.get(code).update(cardState(code));
      refreshComputed();
      ctx.afterSave(id);
    },
  };

  /** Show a photo full size (the card's record may be older: use the page's current one). */
  actions.openPhoto = (photo) => {
    const current = photos.find((p) => p.client_uuid === photo.client_uuid) || photo;
    const entry = items.get(current.item_code);
    const title = entry ? `${current.item_code} · ${loc(entry.item, "title")}` : current.item_code || "";
    openPhotoViewer(current, { images, title, onApiError: (err) => ctx.engine.handleApiError(err) });
  };

  function renderSection(code) {
    for (const card of cards.values()) card.destroy();
    cards = new Map();
    currentSection = code;
    try { localStorage.setItem(`cchc-section-${id}`, code); } catch { /* private mode */ }
    const section = sectionsByCode.get(code);
    const sectionChecks = h("ul", { class: "check-list section-checks", id: "section-checks" });
    const list = section.items.map((item) => {
      const card = createItemCard(item, actions);
      cards.set(item.code, card);
      card.update(cardState(item.code));
      return card.el;
    });
    body.replaceChildren(
      h("header", { class: "section-head" },
        h("h2", {}, h("span", { class: "section-code", text: section.code }), " ", loc(section, "title")),
        h("p", { class: "meta", id: "section-progress" }),
      ),
      sectionChecks,
      h("div", { class: "items" }, list),
      nextSectionLink(section),
    );
    refreshComputed();
  }

  function nextSectionLink(section) {
    const index = checklist.sections.indexOf(section);
    const next = checklist.sections[index + 1];
    return next ? h("a", { class: "button next-section", href: `#/i/${id}/${next.code}`,
      text: `${t("insp.next_section")}: ${next.code} · ${loc(next, "title")} →` }) : null;
  }

  /** Everything computed from the values: progress, ratios, checks. Cheap; runs per keystroke. */
  function refreshComputed() {
    const done = progress(checklist, observations, photoCounts());
    const values = countValues(checklist, observations);
    checks = failingChecks(compiled, values);
    renderProgress(done);
    renderNav(done);
    renderChecksPanel();
    const section = sectionsByCode.get(currentSection);
    if (!section) return;
    const p = done.sections[section.code];
    const sectionProgress = body.querySelector("#section-progress");
    if (sectionProgress) {
      sectionProgress.textContent = t("insp.section_progress", { answered: p.answered, total: p.total })
        + (section.max_points ? ` · ${t("item.max_points", { n: section.max_points })}` : "")
        + (section.optional ? ` · ${t("insp.optional")}` : "");
    }
    const codes = new Set(section.items.map((item) => item.code));
    const mine = sortChecks(checks.filter((check) => check.codes.some((c) => codes.has(c))));
    const sectionChecks = body.querySelector("#section-checks");
    if (sectionChecks) {
      sectionChecks.replaceChildren(...mine.map(checkLine));
      sectionChecks.hidden = !mine.length;
    }
    for (const item of section.items) {
      if (item.kind === "ratio") cards.get(item.code)?.update({ ratio: computeRatio(item, values, observations.get(item.code)) });
    }
  }

  function jump(text) {
    const code = normaliseCode(text);
    jumpMessage.textContent = "";
    if (items.has(code)) {
      ctx.navigate(`#/i/${id}/${items.get(code).section.code}/${code}`);
      jumpInput.value = "";
    } else if (sectionsByCode.has(code)) {
      ctx.navigate(`#/i/${id}/${code}`);
      jumpInput.value = "";
    } else {
      jumpMessage.textContent = t("insp.jump_unknown", { code: text.trim() });
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

  /** Show a section (and item) of this inspection: the router calls this on hash changes. */
  function show({ section, item }) {
    let code = section && sectionsByCode.has(section) ? section : null;
    if (!code && item && items.has(item)) code = items.get(item).section.code;
    if (!code) {
      let remembered = null;
      try { remembered = localStorage.getItem(`cchc-section-${id}`); } catch { /* private mode */ }
      code = sectionsByCode.has(remembered) ? remembered : checklist.sections[0].code;
    }
    if (code !== currentSection) {
      const switching = currentSection !== null;
      renderSection(code);
      // Changing section starts at its top; the first render keeps the page header in view.
      if (switching && !item) body.scrollIntoView({ block: "start" });
    }
    if (item) focusItem(item);
  }

  /** Local data changed under the page (sync, another tab): re-read it, keep what is being typed. */
  async function onData(detail) {
    if (!detail.all && !detail.inspections.has(id)) return;
    const fresh = await loadInspection(id);
    if (!fresh) { ctx.navigate("#/"); return; } // forgotten (finished, unassigned) or locked
    assignment = fresh.assignment;
    observations = withDrafts(fresh.observations);
    photos = fresh.photos;
    unsentItems = fresh.unsentItems;
    attention = fresh.attention;
    renderHead();
    renderRecommendations();
    for (const [code, card] of cards) card.update(cardState(code));
    refreshComputed();
  }

  renderHead();
  renderRecommendations();
  show({ section: wantedSection, item: wantedItem });
  performance.mark("cchc:checklist"); // scripts/bench_app.py: reload → checklist on screen
  return {
    id, show, onData,
    destroy() {
      for (const card of cards.values()) card.destroy();
      images.clear();
    },
  };
}

/** Whether `bytes` more fit in the browser's quota, as far as it says (true when it cannot tell). */
async function roomFor(bytes) {
  try {
    return fitsInQuota(await navigator.storage.estimate(), bytes);
  } catch {
    return true;
  }
}
