// Service worker of the field app, served as /app/sw.js (scope /app/) by
// inspection/web/fieldapp.py, which fills in the two lines below on every request: VERSION is a
// hash of the bytes of every precached file, PRECACHE their URLs. A changed file therefore
// means a changed worker, a new cache name and, after the user agrees, the new shell.
//
// It only caches the app shell, and only GET requests. API requests go to the network and are
// never cached here: the page keeps its data in IndexedDB and owns the outbox.
const VERSION = "__VERSION__";
const PRECACHE = ["__PRECACHE__"];

const PREFIX = "cchc-shell-";
const CACHE = PREFIX + VERSION;
const SHELL_URL = "/app/";

self.addEventListener("install", (event) => {
  // `cache: "reload"` bypasses the HTTP cache, so a new version never stores stale bytes.
  event.waitUntil(caches.open(CACHE).then((cache) =>
    cache.addAll(PRECACHE.map((url) => new Request(url, { cache: "reload" })))));
  // No skipWaiting here: a page with unsaved typing must not switch code under its feet. The
  // page asks the user, then sends SKIP_WAITING.
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith(PREFIX) && name !== CACHE) await caches.delete(name);
    }
    // The very first visit is controlled at once, so it works offline without a second load.
    await self.clients.claim();
  })());
});

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "SKIP_WAITING") self.skipWaiting();
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (EVIDENCE_URL.test(url.pathname)) {
    event.respondWith(evidence(request));
    return;
  }
  if (url.pathname.startsWith("/api/")) return;
  if (request.mode === "navigate" && url.pathname.startsWith(SHELL_URL)) {
    // Every page under /app/ is the same shell (the view is in the hash); query strings such
    // as ?source=pwa must not miss the cache.
    event.respondWith(fromCache(SHELL_URL, request));
    return;
  }
  if (PRECACHE.includes(url.pathname)) event.respondWith(fromCache(url.pathname, request));
  // Anything else (office pages, media) goes to the network as if there were no worker.
});

// A unit's evidence files (issue 16), fetched by the app: from the network when there is one,
// a copy kept for offline use (images after each sync, documents once opened). Sign-out and an
// ended account delete this cache with the rest of the user's data (store.clearUserData).
const EVIDENCE_URL = /^\/api\/v1\/inspections\/\d+\/self-assessment\/evidence\/\d+$/;
const EVIDENCE_CACHE = "cchc-evidence";

async function evidence(request) {
  const cache = await caches.open(EVIDENCE_CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(request.url, response.clone());
    return response;
  } catch (error) {
    const kept = await cache.match(request.url);
    if (kept) return kept;
    throw error;
  }
}

let opened = null; // the shell cache, opened once per worker start rather than per request

/** The cached copy of `key`; the network only if the cache lost it (e.g. storage cleared). */
async function fromCache(key, request) {
  opened = opened || caches.open(CACHE);
  const cached = await (await opened).match(key);
  return cached || fetch(request);
}
