// IndexedDB for the field app: everything the device needs offline lives here, not in the
// service worker. No DOM in this module, so it can be imported and tested on its own.
//
// The schema has a version and one upgrade step per version: a device that skipped releases
// runs every missing step in order, in the single "versionchange" transaction IndexedDB gives.

export const DB_NAME = "cchc-field";
export const DB_VERSION = 3;

/** Upgrade steps: UPGRADES[n] turns schema version n into n + 1. Never edit a shipped step. */
const UPGRADES = [
  (db) => {
    // The signed-in user and their CSRF token (one record, key "current").
    db.createObjectStore("session", { keyPath: "key" });
    // Checklist template documents by checklist version id.
    db.createObjectStore("checklists", { keyPath: "version_id" });
    // Assigned inspections (key: inspection id) with unit, trip, team, previous recommendations.
    db.createObjectStore("assignments", { keyPath: "id" });
    // What is recorded per item; `bases` holds, per field, the server version the value is from.
    const observations = db.createObjectStore("observations", { keyPath: ["inspection_id", "item_code"] });
    observations.createIndex("inspection_id", "inspection_id");
    // Photos: the downscaled JPEG and a thumbnail as Blobs (as {bytes, type} where the browser
    // refuses Blobs here, see store.savePhoto), plus the upload state.
    const photos = db.createObjectStore("photos", { keyPath: "client_uuid" });
    photos.createIndex("inspection_id", "inspection_id");
    photos.createIndex("status", "status");
    // Ops waiting for the server, in the order they were made (seq), each with a client UUID.
    const outbox = db.createObjectStore("outbox", { keyPath: "seq", autoIncrement: true });
    outbox.createIndex("op_id", "op_id", { unique: true });
    outbox.createIndex("item", ["inspection_id", "item_code"]);
    outbox.createIndex("field", ["inspection_id", "item_code", "field"]);
    // Ops and photos the server refused, and conflicts to tell the user about.
    const attention = db.createObjectStore("attention", { keyPath: "id" });
    attention.createIndex("kind", "kind");
    // Small settings: device id, pull cursor, last sync, export time, language.
    db.createObjectStore("meta", { keyPath: "key" });
  },
  (db) => {
    // Unsent work of an account the server ended or deactivated, set apart from everything else
    // (key: the owner's username): only that person, signed in again, gets it back; nobody else
    // sees or sends it. Sign-out does not clear it.
    db.createObjectStore("locked", { keyPath: "username" });
  },
  (db) => {
    // Samples of repeat groups (a sampled dossier …) by their client UUID: `fields` as shown
    // (unsent edits included), `bases` per field the server version they are from, `deleted`
    // once deleted here or on the server, `order` when it was added (the list's order).
    const samples = db.createObjectStore("samples", { keyPath: "sample_id" });
    samples.createIndex("inspection_id", "inspection_id");
  },
];

/** The signed-in user's stores: sign-out and a change of user clear them. */
export const STORES = ["session", "checklists", "assignments", "observations", "photos", "outbox",
  "attention", "meta", "samples"];
/** Locked work of ended accounts, kept apart (see UPGRADES[1]). */
export const LOCKED = "locked";

let dbName = DB_NAME;
let opening = null;

/** Use another database name (tests run modules against a scratch database). */
export function useDatabase(name) {
  if (opening) opening.then((db) => db.close()).catch(() => {});
  dbName = name;
  opening = null;
}

/** Open (and create or upgrade) the database once per page; later calls share the connection. */
export function openDb() {
  if (!opening) {
    opening = new Promise((resolve, reject) => {
      const req = indexedDB.open(dbName, DB_VERSION);
      req.onupgradeneeded = (event) => {
        for (let v = event.oldVersion; v < DB_VERSION; v++) UPGRADES[v](req.result, req.transaction);
      };
      req.onsuccess = () => {
        const db = req.result;
        // Another tab loaded a newer app and must upgrade: let it, and open again next time.
        db.onversionchange = () => { db.close(); opening = null; };
        resolve(db);
      };
      req.onerror = () => { opening = null; reject(req.error); };
      req.onblocked = () => { /* an old tab holds the database; open succeeds once it closes */ };
    });
  }
  return opening;
}

/** Wrap an IDBRequest in a promise. */
export function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/**
 * Run `fn(stores, transaction)` in one transaction over `names` and resolve with its result once
 * the transaction has committed. `fn` may await IndexedDB requests only (any other await lets
 * the transaction commit early). Writes ask for strict durability: a tablet may lose power
 * right after the user typed something, and that must survive.
 */
export async function transaction(names, mode, fn) {
  const db = await openDb();
  const list = Array.isArray(names) ? names : [names];
  const tx = mode === "readwrite"
    ? db.transaction(list, mode, { durability: "strict" })
    : db.transaction(list, mode);
  const done = new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new DOMException("Transaction aborted", "AbortError"));
  });
  const stores = Object.fromEntries(list.map((name) => [name, tx.objectStore(name)]));
  let result;
  try {
    result = await fn(stores, tx);
  } catch (err) {
    try { tx.abort(); } catch { /* already finished */ }
    await done.catch(() => {});
    throw err;
  }
  await done;
  return result;
}

/** One record by key, or undefined. */
export function get(store, key) {
  return transaction(store, "readonly", (s) => request(s[store].get(key)));
}

/** All records of a store, or of an index matching `query` when `index` is given. */
export function getAll(store, query = undefined, index = undefined) {
  return transaction(store, "readonly", (s) => {
    const source = index ? s[store].index(index) : s[store];
    return request(source.getAll(query));
  });
}

/** Insert or replace one record. */
export function put(store, value) {
  return transaction(store, "readwrite", (s) => request(s[store].put(value)));
}

/** Delete one record by key. */
export function remove(store, key) {
  return transaction(store, "readwrite", (s) => request(s[store].delete(key)));
}

/** Number of records in a store, or in an index range. */
export function count(store, query = undefined, index = undefined) {
  return transaction(store, "readonly", (s) => {
    const source = index ? s[store].index(index) : s[store];
    return request(source.count(query));
  });
}

/** A value kept in the meta store, or `fallback`. */
export async function getMeta(key, fallback = undefined) {
  const record = await get("meta", key);
  return record === undefined ? fallback : record.value;
}

/** Keep a small value in the meta store. */
export function setMeta(key, value) {
  return put("meta", { key, value });
}

/** Empty the given stores (sign-out on a shared tablet: the next person sees nothing). */
export function clearStores(names) {
  return transaction(names, "readwrite", async (s) => {
    for (const name of names) await request(s[name].clear());
  });
}
