// The device page: who is signed in, what is still unsent, storage (per inspection, the
// browser's quota, a warning before it is full, clearing finished inspections), the "needs
// attention" list (ops and photos the server refused, conflicts the leader will resolve), the
// export of unsent work as a last resort, and sign-out — refused while anything is unsent.

import { getMeta, setMeta } from "../db.js";
import { loc, t } from "../i18n.js";
import { attentionKind, dismissAttention, listAttention } from "../outbox.js";
import { DEFAULT_RETENTION_DAYS, PERSISTENCE_EVENT, evictionRisk, storageLevel } from "../retention.js";
import {
  clearQuotaError, exportUnsent, getSession, listAssignments, pendingCounts, storageUse,
} from "../store.js";
import { download, fmtBytes, fmtNumber, fmtTime, h } from "./dom.js";

/** Render the device page into `root`. `ctx`: {engine, drafts, signOut()}. */
export async function renderDevice(root, ctx) {
  await ctx.drafts.flush().catch(() => {});
  const session = await getSession();
  const counts = await pendingCounts();
  const attention = await listAttention();
  const exportedAt = await getMeta("exported_at", null);
  const retentionDays = await getMeta("retention_days", DEFAULT_RETENTION_DAYS);
  const units = new Map((await listAssignments()).map(({ assignment, checklist }) =>
    [assignment.id, { name: assignment.inspection.unit.full_name, checklist }]));

  const logoutMessage = h("p", { class: "form-error", id: "logout-message", attrs: { role: "alert" }, hidden: true });
  const storage = h("dl", { class: "facts", id: "storage" });
  const storageWarning = h("div", { id: "storage-warning", class: "banner banner-warning", attrs: { role: "alert" }, hidden: true });
  const storageTable = h("div", { id: "storage-use" });
  const clearMessage = h("p", { class: "meta", id: "clear-message", attrs: { role: "status" } });
  const clearButton = h("button", { type: "button", class: "big", id: "clear-finished", text: t("device.clear_finished", { n: 0 }),
    on: { click: onClearFinished } });
  const riskWarning = h("div", { id: "storage-risk", class: "banner banner-warning", attrs: { role: "alert" }, hidden: true });
  const persistButton = h("button", { type: "button", class: "big", text: t("device.persist"), hidden: true,
    on: { click: async () => { await requestPersistence(); await showStorage(); } } });

  async function showStorage() {
    const use = await storageUse();
    let estimate = null;
    try {
      if (navigator.storage && navigator.storage.estimate) estimate = await navigator.storage.estimate();
    } catch { /* no figures from this browser */ }
    const quotaErrorAt = await getMeta("quota_error_at", null);
    const level = storageLevel(estimate, { quotaErrorSeen: Boolean(quotaErrorAt) });
    const rows = [h("dt", { text: t("device.storage_data") }), h("dd", { id: "storage-total", text: fmtBytes(use.total) })];
    if (level.quota !== null) {
      rows.push(h("dt", { text: t("device.storage_used") }), h("dd", { id: "storage-browser",
        text: t("device.storage_of", { used: fmtBytes(level.usage), quota: fmtBytes(level.quota), percent: fmtNumber(level.ratio * 100, 1) }) }));
    }
    const persisted = navigator.storage && navigator.storage.persisted ? await navigator.storage.persisted() : false;
    rows.push(h("dt", { text: t("device.persistent") }), h("dd", { text: persisted ? t("device.persistent_yes") : t("device.persistent_no") }));
    storage.replaceChildren(...rows);
    persistButton.hidden = persisted || !(navigator.storage && navigator.storage.persist);
    // Said plainly, with what would be lost and the export one tap away.
    const risk = evictionRisk({
      persisted: navigator.storage && navigator.storage.persisted ? persisted : null,
      lastSyncAt: await getMeta("last_sync", null), unsent: counts.ops + counts.photos + counts.rejected,
    });
    riskWarning.hidden = !risk.warn;
    riskWarning.dataset.refused = String(risk.refused);
    riskWarning.dataset.stale = String(risk.stale);
    riskWarning.replaceChildren(...riskWords(risk).map((text) => h("p", { text })),
      h("button", { type: "button", class: "big", id: "risk-export", text: t("device.export"), on: { click: onExport } }));

    const clearable = use.inspections.filter((i) => i.clearable).length;
    clearButton.textContent = t("device.clear_finished", { n: clearable });
    clearButton.disabled = !clearable;
    storageWarning.hidden = !level.warn;
    storageWarning.replaceChildren(
      h("p", { text: level.full ? t("device.storage_full") : t("device.storage_near", { percent: fmtNumber(level.ratio * 100, 0) }) }),
      h("p", { text: clearable ? t("device.storage_offer", { n: clearable }) : t("device.storage_nothing_to_clear") }));
    storageTable.replaceChildren(use.inspections.length ? h("table", { class: "storage-table" },
      h("thead", {}, h("tr", {},
        h("th", { text: t("device.col_inspection") }), h("th", { text: t("device.col_photos") }),
        h("th", { class: "num", text: t("device.col_size") }))),
      h("tbody", {}, use.inspections.map((row) => h("tr", { dataset: { inspection: row.id } },
        h("td", {}, row.name, " ", h("span", { class: `state state-${row.state}`, text: t(`state.${row.state}`) }),
          row.unassigned ? h("span", { class: "meta", text: ` · ${t("device.unassigned")}` }) : null,
          row.unsent ? h("span", { class: "meta", text: ` · ${t("device.has_unsent")}` }) : null),
        h("td", { text: t("device.photo_counts", { n: row.photos, full: row.fullImages }) }),
        h("td", { class: "num", text: fmtBytes(row.bytes) })))),
      h("tfoot", {}, h("tr", {},
        h("td", { text: t("device.other_data") }), h("td"), h("td", { class: "num", text: fmtBytes(use.other) })))) : null);
  }

  async function onClearFinished() {
    clearButton.disabled = true;
    const result = await ctx.engine.tidy({ clearFinished: true });
    const finished = result.forgotten.filter((f) => f.reason === "finished").length;
    if (finished) await clearQuotaError();
    clearMessage.textContent = t("device.cleared_now", { n: finished });
    await showStorage();
  }

  async function onLogout() {
    await ctx.drafts.flush().catch(() => {});
    const now = await pendingCounts();
    if (now.ops || now.photos || now.rejected) {
      const what = [["ops", now.ops], ["photos", now.photos], ["rejected", now.rejected]]
        .filter(([, n]) => n).map(([kind, n]) => t(`device.left_${kind}`, { n })).join(", ");
      logoutMessage.textContent = t("device.logout_refused", { what });
      logoutMessage.hidden = false;
      return;
    }
    if (!navigator.onLine) {
      logoutMessage.textContent = t("device.logout_offline");
      logoutMessage.hidden = false;
      return;
    }
    await ctx.signOut();
  }

  async function onExport() {
    const data = await exportUnsent();
    const stamp = data.exported_at.replace(/[:.]/g, "-");
    download(`cchc-chua-gui-${stamp}.json`, JSON.stringify(data, null, 2));
    await setMeta("exported_at", data.exported_at);
    await renderDevice(root, ctx);
  }

  function describe(entry) {
    const kind = attentionKind(entry);
    const unit = units.get(entry.inspection_id);
    const item = unit && unit.checklist
      ? unit.checklist.sections.flatMap((s) => s.items).find((i) => i.code === entry.item_code) : null;
    const photoOp = entry.op && String(entry.op.type || "").startsWith("photo.");
    const sampleOp = entry.op && String(entry.op.type || "").startsWith("sample.");
    const sampleField = sampleOp ? Object.keys(entry.op.fields || {})[0] : null;
    const what = entry.kind === "photo"
      ? t("device.att_photo", { file: entry.photo ? entry.photo.filename : "" })
      : photoOp ? t(entry.op.type === "photo.delete" ? "device.att_photo_delete" : "device.att_photo_caption",
        { caption: entry.op.fields.caption || "" })
        : sampleOp ? (entry.op.type === "sample.delete" ? t("device.att_sample_delete")
          : sampleField ? t("device.att_value", { field: sampleField, value: formatValue(entry.op) }) : t("device.att_sample_add"))
        : t("device.att_value", { field: t(`field.${entry.field}`, {}, entry.field || ""), value: formatValue(entry.op) });
    const exported = exportedAt && exportedAt >= entry.at;
    // Conflicts and late changes are on the server (the leader decides): nothing to export.
    const canDismiss = kind === "conflict" || kind === "late" || exported;
    const note = {
      conflict: t("device.conflict_note"),
      late: t("device.late_note"),
    }[kind];
    return h("li", { class: `attention attention-${kind}`, dataset: { id: entry.id } },
      h("p", {}, h("strong", { text: t(`device.kind_${kind}`) }), ` · ${unit ? unit.name : `#${entry.inspection_id}`} · ${entry.item_code || ""}`,
        item ? ` · ${loc(item, "title")}` : ""),
      h("p", { text: what }),
      entry.held && entry.held.length
        ? h("p", { class: "meta held", text: t("device.held_note", { fields: entry.held.map((f) => t(`field.${f}`, {}, f)).join(", ") }) }) : null,
      note
        ? h("p", { class: "meta", text: note })
        : h("p", { class: "server-message", text: t("device.server_said", { message: entry.message || entry.reason || "" }) }),
      entry.kind === "conflict" && entry.folded > 0
        ? h("p", { class: "meta folded", text: t("conflict.folded", { n: entry.folded }) }) : null,
      h("p", { class: "meta", text: fmtTime(entry.at) }),
      h("button", { type: "button", class: "small", disabled: !canDismiss, text: t("device.dismiss"),
        title: canDismiss ? "" : t("device.dismiss_after_export"),
        on: { click: async () => { await dismissAttention(entry.id); await ctx.engine.refreshCounts(); await renderDevice(root, ctx); } } }),
    );
  }

  const refused = attention.filter((a) => ["rejected", "photo"].includes(attentionKind(a)));
  const late = attention.filter((a) => attentionKind(a) === "late");
  const conflicts = attention.filter((a) => attentionKind(a) === "conflict");
  root.replaceChildren(h("section", { class: "device" },
    h("nav", { class: "crumbs" }, h("a", { href: "#/", text: `← ${t("insp.back")}` })),
    h("h1", { text: t("device.title") }),
    riskWarning,
    h("section", { class: "card" },
      h("h2", { text: t("device.account") }),
      session && session.user ? h("p", { text: `${session.user.full_name} (${session.user.username})${session.expired ? ` · ${t("device.expired")}` : ""}` }) : null,
      h("p", { id: "device-unsent", text: counts.ops || counts.photos
        ? t("status.unsent", { ops: counts.ops, photos: counts.photos }) : t("status.all_sent") }),
      h("div", { class: "actions" },
        h("button", { type: "button", class: "big", text: t("status.sync_now"), on: { click: () => ctx.engine.syncNow({ refresh: true }) } }),
        h("button", { type: "button", class: "big", id: "logout", text: t("device.logout"), on: { click: onLogout } })),
      logoutMessage,
    ),
    h("section", { class: "card", id: "attention" },
      // The same count as the header's badge: refused, kept for the leader, in conflict.
      h("h2", { text: t("device.attention_title", { n: attention.length }) }),
      refused.length ? h("p", { class: "lead", text: t("device.attention_lead") }) : null,
      attention.length ? null : h("p", { text: t("device.attention_none") }),
      refused.length ? h("ul", { class: "attention-list" }, refused.map(describe)) : null,
      late.length ? h("h3", { text: t("device.late_title", { n: late.length }) }) : null,
      late.length ? h("ul", { class: "attention-list", id: "late-list" }, late.map(describe)) : null,
      conflicts.length ? h("h3", { text: t("device.conflicts_title", { n: conflicts.length }) }) : null,
      conflicts.length ? h("ul", { class: "attention-list" }, conflicts.map(describe)) : null,
    ),
    h("section", { class: "card" },
      h("h2", { text: t("device.export_title") }),
      h("p", { text: t("device.export_lead") }),
      exportedAt ? h("p", { class: "meta", text: t("device.exported_at", { time: fmtTime(exportedAt) }) }) : null,
      h("button", { type: "button", class: "big", id: "export", text: t("device.export"), on: { click: onExport } }),
    ),
    h("section", { class: "card", id: "storage-card" },
      h("h2", { text: t("device.storage_title") }), storageWarning, storage, persistButton,
      h("h3", { text: t("device.storage_per_inspection") }), storageTable,
      h("p", { class: "hint", text: t("device.storage_rules", { days: retentionDays }) }),
      h("div", { class: "actions" }, clearButton), clearMessage,
    ),
  ));
  await showStorage();
}

function formatValue(op) {
  if (!op || !op.fields) return "";
  const value = Object.values(op.fields)[0];
  if (value === null || value === undefined) return t("device.cleared");
  if (typeof value === "string" && ["pass", "partial", "fail", "na"].includes(value)) return t(`result.${value}`);
  return String(value);
}

/** Ask the browser to keep this site's data under storage pressure (installed apps get it). */
export async function requestPersistence() {
  let granted = false;
  try {
    if (navigator.storage && navigator.storage.persist && !(await navigator.storage.persisted())) {
      granted = await navigator.storage.persist();
    } else {
      granted = true;
    }
  } catch {
    granted = false;
  }
  globalThis.dispatchEvent(new CustomEvent(PERSISTENCE_EVENT, { detail: { granted } }));
  return granted;
}

/** What the device page and the status bar say when the browser may delete the data. */
export function riskWords(risk) {
  const why = [];
  if (risk.refused) why.push(t("device.risk_refused"));
  if (risk.stale) why.push(t("device.risk_stale", { days: risk.days }));
  why.push(risk.unsent ? t("device.risk_unsent", { n: risk.unsent }) : t("device.risk_nothing"));
  return why;
}
