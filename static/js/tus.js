// A minimal tus 1.0.0 client (core + creation) on fetch: create an upload, ask the server how
// much it has (HEAD), and send the rest in chunks (PATCH). A cut connection costs at most the
// chunk in flight: the next attempt resumes from the server's offset. No DOM.

export const TUS_VERSION = "1.0.0";
export const DEFAULT_CHUNK = 256 * 1024;

/** The server refused the upload (e.g. 422/460: not an image, too large, checksum mismatch). */
export class TusRefused extends Error {
  constructor(status, body = {}) {
    super(body.message || `upload refused (HTTP ${status})`);
    this.name = "TusRefused";
    this.status = status;
    this.code = body.code || null;
  }
}

/** Any other unexpected answer (401, 5xx…): the caller decides whether to retry. */
export class TusHttpError extends Error {
  constructor(status, body = {}) {
    super(body.message || `HTTP ${status}`);
    this.name = "TusHttpError";
    this.status = status;
    this.code = body.code || null;
  }
}

const REFUSED = new Set([400, 413, 415, 422, 460]);

function base64(text) {
  const bytes = new TextEncoder().encode(String(text));
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** The Upload-Metadata header: `key base64(value)` pairs; empty values are left out. */
export function encodeMetadata(metadata) {
  return Object.entries(metadata)
    .filter(([, v]) => v !== null && v !== undefined && v !== "")
    .map(([k, v]) => `${k} ${base64(v)}`)
    .join(",");
}

/** The Location header as a path on this origin (as given, if it points elsewhere). */
function resolve(location, endpoint) {
  const here = globalThis.location ? globalThis.location.href : "http://localhost/";
  const url = new URL(location, new URL(endpoint, here));
  return url.origin === new URL(here).origin ? url.pathname + url.search : url.href;
}

async function body(response) {
  try { return await response.json(); } catch { return {}; }
}

function fail(response, data) {
  return REFUSED.has(response.status) ? new TusRefused(response.status, data) : new TusHttpError(response.status, data);
}

/**
 * Upload `blob` to the tus `endpoint`, resuming `uploadUrl` when one is known.
 *
 * `send(url, init)` performs the request (the app's fetch wrapper adds cookie and CSRF token);
 * `onCreated(url)` is called as soon as the server hands out the upload URL and `onProgress
 * (offset)` after every acknowledged chunk, so the caller can persist both and resume after a
 * reload. Resolves with {photoId, uploadUrl, sent} where `sent` counts the body bytes this call
 * transmitted. Rejects with TusRefused, TusHttpError, or whatever `send` throws when offline.
 */
export async function upload({ endpoint, blob, metadata, uploadUrl = null, chunkSize = DEFAULT_CHUNK,
  send, onCreated = () => {}, onProgress = () => {} }) {
  const tusHeaders = { "Tus-Resumable": TUS_VERSION };
  let sent = 0;
  let offset = null;
  let photoId = null;
  let restarted = false;

  if (uploadUrl) {
    const head = await send(uploadUrl, { method: "HEAD", headers: tusHeaders });
    if (head.ok) {
      offset = Number(head.headers.get("Upload-Offset"));
      photoId = head.headers.get("Photo-Id");
    } else if ([404, 410, 403].includes(head.status)) {
      uploadUrl = null; // expired or gone on the server: start over
    } else {
      throw fail(head, await body(head));
    }
  }
  if (!uploadUrl) {
    const created = await send(endpoint, {
      method: "POST",
      headers: { ...tusHeaders, "Upload-Length": String(blob.size), "Upload-Metadata": encodeMetadata(metadata) },
    });
    // At creation these are final: no such inspection (404), not on its team (403), or the
    // client_uuid belongs to another photo (409). Retrying would never help.
    if ([403, 404, 409].includes(created.status)) throw new TusRefused(created.status, await body(created));
    if (!created.ok) throw fail(created, await body(created));
    photoId = created.headers.get("Photo-Id");
    const location = created.headers.get("Location");
    if (!location && !photoId) throw new TusHttpError(created.status, { message: "no Location header" });
    uploadUrl = location ? resolve(location, endpoint) : null;
    if (uploadUrl) await onCreated(uploadUrl);
    offset = Number(created.headers.get("Upload-Offset") || 0);
  }
  if (photoId) return { photoId, uploadUrl, sent };
  if (!Number.isFinite(offset)) offset = 0;

  let finishing = false;
  while (true) {
    if (offset >= blob.size && (finishing || photoId)) {
      // Everything is there but the answer naming the photo was lost: the server linked it
      // anyway, and the photo's metadata will come back through pull.
      return { photoId, uploadUrl, sent };
    }
    // Every byte arrived but no photo yet (the server was busy when the last chunk came): an
    // empty chunk at the end asks it to check and store the photo now.
    if (offset >= blob.size) finishing = true;
    const chunk = blob.slice(offset, Math.min(offset + chunkSize, blob.size));
    const response = await send(uploadUrl, {
      method: "PATCH",
      headers: { ...tusHeaders, "Content-Type": "application/offset+octet-stream", "Upload-Offset": String(offset) },
      body: chunk,
    });
    sent += chunk.size;
    if (response.status === 409) {
      // Our idea of the offset is wrong (an earlier chunk did arrive after all): ask the server.
      const head = await send(uploadUrl, { method: "HEAD", headers: tusHeaders });
      if (!head.ok) throw fail(head, await body(head));
      offset = Number(head.headers.get("Upload-Offset"));
      photoId = head.headers.get("Photo-Id");
      if (photoId) return { photoId, uploadUrl, sent };
      continue;
    }
    if ((response.status === 404 || response.status === 410) && !restarted) {
      // The server dropped the upload (expired, or reset after a bad checksum): start once more.
      restarted = true;
      return upload({ endpoint, blob, metadata, uploadUrl: null, chunkSize, send, onCreated, onProgress })
        .then((result) => ({ ...result, sent: result.sent + sent }));
    }
    if (!response.ok) throw fail(response, await body(response));
    offset = Number(response.headers.get("Upload-Offset"));
    photoId = response.headers.get("Photo-Id");
    await onProgress(offset);
    if (photoId) return { photoId, uploadUrl, sent };
  }
}
