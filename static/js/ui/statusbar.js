// The header bar: always shows whether the device is online, what is still unsent, when the
// last sync succeeded and, in plain words, what went wrong. Built once, then updated in place
// on every status event (so a button the user is pressing is never replaced under them).

import { getLanguage, t } from "../i18n.js";
import { evictionRisk } from "../retention.js";
import { fmtTime, h } from "./dom.js";

/** Build the status bar into `root`; returns {update(status)}. */
export function createStatusBar(root, { onSync, onToggleLanguage }) {
  const online = h("span", { id: "sync-online", class: "pill" });
  const unsent = h("span", { id: "sync-unsent", class: "unsent", attrs: { "aria-live": "polite" } });
  const last = h("span", { id: "sync-last", class: "last" });
  const error = h("span", { id: "sync-error", class: "sync-error", attrs: { role: "status" } });
  // The browser may delete the data (persistent storage refused, or no sync for days).
  const risk = h("a", { id: "sync-storage", class: "sync-storage", href: "#/device", hidden: true });
  const syncButton = h("button", { id: "sync-now", type: "button", class: "bar-button", on: { click: onSync } });
  const language = h("button", { id: "language", type: "button", class: "bar-button", on: { click: onToggleLanguage } });
  const device = h("a", { id: "device-link", href: "#/device", class: "button bar-button" });
  const badge = h("span", { class: "badge", attrs: { "aria-hidden": "true" } });
  root.replaceChildren(
    h("a", { href: "#/", class: "brand", id: "brand" }),
    h("div", { class: "sync" }, online, unsent, last, error, risk),
    h("div", { class: "bar-actions" }, syncButton, language, device),
  );

  let current = null;
  function update(status = current) {
    if (!status) return;
    current = status;
    root.querySelector("#brand").textContent = t("app.name");
    online.textContent = status.online ? t("status.online") : t("status.offline");
    online.className = `pill ${status.online ? "pill-online" : "pill-offline"}`;
    const { ops, photos } = status.counts;
    const notes = attentionNotes(status.counts);
    unsent.className = `unsent ${ops || photos ? "has-unsent" : ""}`;
    // The words say what the badge counts: "Đã gửi hết · 3 chờ trưởng đoàn duyệt", never a bare
    // "Đã gửi hết" next to a number.
    unsent.textContent = [unsentWords(ops, photos), ...notes].join(" · ");
    unsent.dataset.ops = String(ops);
    unsent.dataset.photos = String(photos);
    last.textContent = status.lastSuccessAt ? t("status.last_sync", { time: fmtTime(status.lastSuccessAt) }) : t("status.never_synced");
    last.title = last.textContent;
    error.textContent = errorText(status);
    // The bar keeps one line: its words are short, the whole sentence is in the titles.
    error.title = error.textContent === t("status.err_offline_short") ? t("status.err_offline") : error.textContent;
    online.title = error.title;
    // Words to show (an error, what waits for the leader) take the place of the last sync time.
    root.classList.toggle("has-error", Boolean(error.textContent) || notes.length > 0);
    unsent.title = `${unsent.textContent} · ${last.textContent}`;
    error.hidden = !error.textContent;
    const danger = evictionRisk({ persisted: status.storage ? status.storage.persisted : null,
      lastSyncAt: status.lastSuccessAt, unsent: ops + photos + (status.counts.rejected || 0) });
    risk.hidden = !danger.warn;
    risk.textContent = danger.warn ? t(danger.stale ? "status.risk_stale" : "status.risk_refused",
      { days: danger.days, n: danger.unsent }) : "";
    risk.title = danger.warn ? t("status.risk_title") : "";
    syncButton.textContent = status.running ? t("status.syncing") : t("status.sync_now");
    syncButton.dataset.short = status.running ? t("status.syncing") : t("status.sync_short");
    syncButton.disabled = status.running;
    language.textContent = getLanguage() === "vi" ? "English" : "Tiếng Việt";
    language.dataset.short = getLanguage() === "vi" ? "EN" : "VI";
    language.setAttribute("lang", getLanguage() === "vi" ? "en" : "vi");
    device.replaceChildren(t("status.device"));
    const waiting = attentionTotal(status.counts);
    if (waiting) {
      badge.textContent = String(waiting);
      device.title = `${t("status.attention", { n: waiting })}: ${notes.join(", ")}`;
      device.append(badge);
    } else {
      device.title = "";
    }
  }
  return { update };
}

/** What is still unsent, naming only what there is ("Chưa gửi: 2 thay đổi"), or "all sent". */
function unsentWords(ops, photos) {
  if (ops && photos) return t("status.unsent", { ops, photos });
  if (ops) return t("status.unsent_ops", { ops });
  if (photos) return t("status.unsent_photos", { photos });
  return t("status.all_sent");
}

/** How many entries the device page lists for the user: refused, late (for the leader), conflicts. */
export function attentionTotal(counts) {
  return (counts.rejected || 0) + (counts.late || 0) + (counts.conflicts || 0);
}

/** The attention counts in words, one phrase per kind that is not zero. */
function attentionNotes(counts) {
  return [
    counts.rejected ? t("status.n_rejected", { n: counts.rejected }) : "",
    counts.late ? t("status.n_late", { n: counts.late }) : "",
    counts.conflicts ? t("status.n_conflicts", { n: counts.conflicts }) : "",
  ].filter(Boolean);
}

/** The status's error in plain words, or "" when all is well. */
function errorText(status) {
  if (status.upload && status.running) {
    const percent = status.upload.size ? Math.floor((status.upload.offset / status.upload.size) * 100) : 0;
    return t("status.uploading", { percent });
  }
  const unsent = status.counts.ops || status.counts.photos;
  if (!status.online && unsent && !status.authRequired) return t("status.err_offline_short");
  const error = status.error;
  if (!error) return "";
  if (error.kind === "auth") return t("status.err_auth");
  if (error.kind === "locked") return "";
  if (error.kind === "storage") return t("status.err_storage");
  if (error.kind === "offline") return unsent ? t("status.err_offline_short") : "";
  if (error.kind === "unreachable") return t("status.err_unreachable");
  if (error.status >= 500) return t("status.err_server");
  return t("status.err_other", { message: error.message || "" });
}
