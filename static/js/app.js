// Entry point of the field app (/app/): registers the service worker, opens IndexedDB, commits
// drafts a closed tab left behind, starts the sync engine when someone is signed in, and routes
// between the views by the URL hash (#/, #/i/<id>/<section>/<item>, #/device, #/login).

import { NetworkError, ApiError, logout as apiLogout, setCsrfToken } from "./api.js";
import { openDb } from "./db.js";
import { Drafts } from "./drafts.js";
import { getLanguage, setLanguage, t } from "./i18n.js";
import { saveField } from "./outbox.js";
import { clearUserData, getSession } from "./store.js";
import { SyncEngine } from "./sync.js";
import { renderAssignments } from "./ui/assignments.js";
import { renderDevice, requestPersistence } from "./ui/device.js";
import { h } from "./ui/dom.js";
import { renderInspection } from "./ui/inspection.js";
import { renderLogin } from "./ui/login.js";
import { createStatusBar } from "./ui/statusbar.js";

const view = document.getElementById("view");
const banners = document.getElementById("banner");
const drafts = new Drafts({ save: (inspectionId, itemCode, field, value) => saveField(inspectionId, itemCode, field, value) });
const engine = new SyncEngine({ pendingDrafts: () => drafts.inspections(), beforeLock: () => drafts.flush() });
// Other tabs of the app hear about saves and syncs, so their counts and pages stay true.
const channel = "BroadcastChannel" in globalThis ? new BroadcastChannel("cchc-field") : null;
const statusBar = createStatusBar(document.getElementById("status"), {
  onSync: () => engine.syncNow({ refresh: true }),
  onToggleLanguage: () => switchLanguage(getLanguage() === "vi" ? "en" : "vi"),
});

let session = null;
let current = { name: null, controller: null };
let renderSerial = 0;
let waitingWorker = null;
let updateRequested = false;
let errorMessage = "";

const ctx = {
  engine, drafts,
  navigate,
  afterSave(inspectionId) {
    engine.nudge();
    if (channel) channel.postMessage({ type: "data", all: false, inspections: [inspectionId] });
  },
  showError(text) {
    errorMessage = text;
    renderBanners();
  },
  signOut,
};

engine.addEventListener("status", (event) => {
  statusBar.update(event.detail);
  renderBanners();
});
engine.addEventListener("locked", () => {
  // The server ended this account: nothing of its data stays on screen, from this moment.
  if (current.controller && current.controller.destroy) current.controller.destroy();
  current = { name: null, controller: null };
  view.replaceChildren();
  session = null;
  setCsrfToken(null);
  errorMessage = "";
  forgetSections();
  if (channel) channel.postMessage({ type: "session" });
  navigate("#/");
  renderBanners();
});
engine.addEventListener("data", (event) => {
  dataChanged(event.detail);
  if (channel) channel.postMessage({ type: "data", all: event.detail.all, inspections: [...event.detail.inspections] });
});
if (channel) {
  channel.onmessage = (event) => {
    const message = event.data || {};
    if (message.type === "data") {
      engine.refreshCounts();
      dataChanged({ all: message.all, inspections: new Set(message.inspections) });
    } else if (message.type === "session") {
      location.reload(); // signed in or out in another tab: start from the stored truth
    }
  };
}

/** Views learn that local data changed (sync, another tab) and redraw what they show. */
async function dataChanged(detail) {
  if (current.controller && current.controller.onData) await current.controller.onData(detail);
  else if (current.name === "list") await route();
}

/** Go to a hash route (re-render when it is already the current one). */
function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

/** Render the view the hash names (and the banners that depend on it). */
async function route() {
  await renderRoute();
  renderBanners();
}

async function renderRoute() {
  const serial = ++renderSerial;
  const hash = location.hash.replace(/^#\/?/, "");
  const parts = hash.split("/").filter(Boolean).map(decodeURIComponent);
  const closingView = parts[0] === "i" && ["closing", "minutes"].includes(parts[2]) ? parts[2] : null;
  if (!closingView && parts[0] === "i" && current.name === "inspection" && current.controller && current.controller.id === Number(parts[1])) {
    current.controller.show({ section: parts[2], item: parts[3] });
    return;
  }
  if (current.controller && current.controller.destroy) current.controller.destroy();
  current = { name: null, controller: null };
  document.title = t("app.name");
  if (!session || parts[0] === "login") {
    current.name = "login";
    await renderLogin(view, { onSignedIn, onCancel: session ? () => navigate("#/") : null });
    return;
  }
  if (parts[0] === "device") {
    current.name = "device";
    await renderDevice(view, ctx);
    return;
  }
  if (closingView && Number.isInteger(Number(parts[1]))) {
    // Loaded when first opened (precached all the same): the checklist starts without them.
    const render = closingView === "closing" ? (await import("./ui/closing.js")).renderClosing
      : (await import("./ui/minutes.js")).renderMinutes;
    const controller = await render(view, ctx, { id: Number(parts[1]) });
    if (serial !== renderSerial) { if (controller) controller.destroy(); return; }
    current = { name: closingView, controller };
    return;
  }
  if (parts[0] === "i" && Number.isInteger(Number(parts[1]))) {
    const controller = await renderInspection(view, ctx, { id: Number(parts[1]), section: parts[2], item: parts[3] });
    if (serial !== renderSerial) { if (controller) controller.destroy(); return; }
    current = { name: "inspection", controller };
    return;
  }
  current.name = "list";
  await renderAssignments(view, { session, isCurrent: () => serial === renderSerial });
}

async function onSignedIn(newSession) {
  session = newSession;
  setCsrfToken(session.csrf_token);
  errorMessage = "";
  requestPersistence(); // an installed app is usually granted; the device page shows the result
  if (engine.stopped) engine.start(); else engine.resume();
  if (channel) channel.postMessage({ type: "session" });
  navigate("#/");
}

/** Sign out: end the session on the server, then clear this user's data from the device. */
async function signOut() {
  try {
    await apiLogout();
  } catch (err) {
    if (err instanceof NetworkError) {
      ctx.showError(t("device.logout_offline"));
      return;
    }
    if (!(err instanceof ApiError && err.status === 401)) throw err; // already signed out is fine
  }
  engine.stop();
  await engine.idle(); // a sync still running would put this user's data back after the clear
  await clearUserData();
  try { localStorage.removeItem("cchc-drafts"); } catch { /* nothing to remove */ }
  forgetSections();
  session = null;
  setCsrfToken(null);
  if (channel) channel.postMessage({ type: "session" });
  navigate("#/");
}

/** Forget which section of each inspection was open (kept in localStorage per inspection). */
function forgetSections() {
  try {
    for (const key of Object.keys(localStorage)) if (key.startsWith("cchc-section-")) localStorage.removeItem(key);
  } catch { /* storage blocked */ }
}

function switchLanguage(lang) {
  setLanguage(lang);
  document.documentElement.lang = lang;
  statusBar.update(engine.status);
  renderBanners();
  const controller = current.controller;
  drafts.flush().finally(() => {
    if (controller && controller.destroy) controller.destroy();
    current = { name: null, controller: null };
    route();
  });
}

function renderBanners() {
  const list = [];
  const expired = engine.status.authRequired || (session && session.expired);
  if (session && expired && current.name !== "login") {
    list.push(h("div", { class: "banner banner-warning", id: "banner-auth" },
      h("span", { text: t("banner.expired") }),
      h("a", { class: "button", href: "#/login", text: t("banner.sign_in_again") })));
  }
  const storage = engine.status.storage;
  if (session && storage && storage.warn && current.name !== "device") {
    list.push(h("div", { class: "banner banner-warning", id: "banner-storage" },
      h("span", { text: storage.full ? t("banner.storage_full")
        : t("banner.storage_near", { percent: Math.round((storage.ratio || 0) * 100) }) }),
      h("a", { class: "button", href: "#/device", text: t("banner.storage_open") })));
  }
  if (waitingWorker) {
    list.push(h("div", { class: "banner banner-info", id: "banner-update" },
      h("span", { text: t("banner.update") }),
      h("button", { type: "button", class: "primary", text: t("banner.reload"), on: { click: applyUpdate } })));
  }
  if (errorMessage) {
    list.push(h("div", { class: "banner banner-error", attrs: { role: "alert" } },
      h("span", { text: errorMessage }),
      h("button", { type: "button", text: t("banner.close"), on: { click: () => { errorMessage = ""; renderBanners(); } } })));
  }
  banners.replaceChildren(...list);
}

async function applyUpdate() {
  if (!waitingWorker) return;
  await drafts.flush().catch(() => {});
  updateRequested = true;
  waitingWorker.postMessage({ type: "SKIP_WAITING" });
}

/** Register the worker; offer a reload when a new version is installed and waiting. */
async function registerServiceWorker() {
  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    if (updateRequested) location.reload();
  });
  try {
    const registration = await navigator.serviceWorker.register("/app/sw.js", { scope: "/app/" });
    const offer = (worker) => {
      if (!worker || !navigator.serviceWorker.controller) return; // first install: nothing to replace
      waitingWorker = worker;
      renderBanners();
    };
    if (registration.waiting) offer(registration.waiting);
    registration.addEventListener("updatefound", () => {
      const worker = registration.installing;
      if (!worker) return;
      worker.addEventListener("statechange", () => { if (worker.state === "installed") offer(worker); });
    });
    globalThis.addEventListener("online", () => registration.update().catch(() => {}));
  } catch (err) {
    console.error("service worker registration failed", err);
  }
}

/** Keep --bar-height equal to the header bar's height: sticky parts and jumps sit below it. */
function trackBarHeight() {
  const bar = document.getElementById("status");
  const set = () => document.documentElement.style.setProperty("--bar-height", `${bar.offsetHeight}px`);
  if ("ResizeObserver" in globalThis) new ResizeObserver(set).observe(bar);
  set();
}

async function start() {
  document.documentElement.lang = getLanguage();
  trackBarHeight();
  statusBar.update(engine.status);
  registerServiceWorker();
  await openDb();
  // A tab closed mid-typing left drafts in localStorage: commit them before anything else.
  await drafts.flush().catch((err) => console.error(err));
  session = await getSession();
  if (session) setCsrfToken(session.csrf_token);
  globalThis.addEventListener("hashchange", route);
  // Leaving or hiding the page commits typing at once (localStorage keeps it if that fails).
  globalThis.addEventListener("pagehide", () => { drafts.flush(); });
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "hidden") drafts.flush(); });
  try {
    await route();
    renderBanners();
  } finally {
    // Sync starts once the page is on screen: on a slow tablet the checklist comes first.
    if (session) {
      engine.start();
      requestPersistence(); // asked on each start: browsers may grant it later (installed app)
    }
  }
}

start().catch((err) => {
  console.error(err);
  view.replaceChildren(h("p", { class: "notice", text: t("app.failed") }));
});
