// Photos as evidence, prepared on the device before they are stored: a 12-megapixel camera
// picture (4–8 MB) becomes a JPEG of at most 2048 px on its long side (a few hundred KB), turned
// the right way up, with its SHA-256, capture time and — when the user allows it — position.
// Uploading a quarter of the bytes matters on a 2G link in the mountains.

import { ApiError, apiFetch, errorBody } from "./api.js";
import { newId } from "./outbox.js";

export const MAX_SIDE = 2048;
export const THUMB_SIDE = 320;
export const JPEG_QUALITY = 0.8;
const GPS_TIMEOUT_MS = 4000; // a fix that takes longer is not worth keeping the inspector waiting

/** Width and height scaled down so the long side is at most `max` (never scaled up). */
export function fitWithin(width, height, max) {
  const scale = Math.min(1, max / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** Draw `bitmap` at the given size and encode it as JPEG. */
async function encode(bitmap, width, height, quality) {
  if (typeof OffscreenCanvas !== "undefined") {
    const canvas = new OffscreenCanvas(width, height);
    const ctx = canvas.getContext("2d");
    ctx.imageSmoothingQuality = "high";
    ctx.drawImage(bitmap, 0, 0, width, height);
    return canvas.convertToBlob({ type: "image/jpeg", quality });
  }
  const canvas = document.createElement("canvas"); // older Safari: no OffscreenCanvas
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingQuality = "high";
  ctx.drawImage(bitmap, 0, 0, width, height);
  return new Promise((resolve, reject) => canvas.toBlob(
    (blob) => (blob ? resolve(blob) : reject(new Error("JPEG encoding failed"))), "image/jpeg", quality));
}

/** Hex SHA-256 of a Blob, as the server checks it after the upload. */
export async function sha256Hex(blob) {
  const digest = await crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The device's position, or null: only asked when the permission is not already refused, and
 * given up after a short timeout (the photo matters more than the coordinates).
 */
export async function currentPosition(timeoutMs = GPS_TIMEOUT_MS) {
  if (!("geolocation" in navigator)) return null;
  try {
    if (navigator.permissions) {
      const state = await navigator.permissions.query({ name: "geolocation" });
      if (state.state === "denied") return null;
    }
  } catch { /* permissions API missing: just ask */ }
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), timeoutMs + 500);
    navigator.geolocation.getCurrentPosition(
      (pos) => { clearTimeout(timer); resolve({ latitude: pos.coords.latitude, longitude: pos.coords.longitude }); },
      () => { clearTimeout(timer); resolve(null); },
      { enableHighAccuracy: true, timeout: timeoutMs, maximumAge: 120000 },
    );
  });
}

/**
 * Turn a picked or captured image File into the record the photos store keeps: downscaled JPEG
 * `blob`, `thumb` for lists, `sha256`, size, dimensions, capture time and position. Rejects when
 * the file is not an image the browser can decode.
 */
export async function preparePhoto(file, { inspectionId, itemCode, caption = "", askPosition = true } = {}) {
  const position = askPosition ? currentPosition() : Promise.resolve(null);
  // imageOrientation "from-image" applies the EXIF rotation, so portrait shots stay upright.
  const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  try {
    const size = fitWithin(bitmap.width, bitmap.height, MAX_SIDE);
    const blob = await encode(bitmap, size.width, size.height, JPEG_QUALITY);
    const thumbSize = fitWithin(bitmap.width, bitmap.height, THUMB_SIDE);
    const thumb = await encode(bitmap, thumbSize.width, thumbSize.height, 0.7);
    const [sha256, coords] = await Promise.all([sha256Hex(blob), position]);
    // For a camera capture the file's time is the moment the picture was taken.
    const taken = file.lastModified ? new Date(file.lastModified) : new Date();
    const base = (file.name || "anh").replace(/\.[^.]*$/, "") || "anh";
    return {
      client_uuid: newId(), inspection_id: inspectionId, item_code: itemCode, blob, thumb, sha256,
      size: blob.size, width: size.width, height: size.height, content_type: "image/jpeg",
      filename: `${base}.jpg`, captured_at: taken.toISOString(),
      latitude: coords ? coords.latitude : null, longitude: coords ? coords.longitude : null,
      caption, status: "pending", upload_url: null, offset: 0, created_at: new Date().toISOString(),
    };
  } finally {
    bitmap.close();
  }
}

/** The full-size image is neither on this device nor reachable now (offline, not uploaded). */
export class FullImageUnavailable extends Error {
  constructor(reason) {
    super(`full-size image unavailable (${reason})`);
    this.name = "FullImageUnavailable";
    this.reason = reason; // "offline" | "not_uploaded"
  }
}

/** A photo's original bytes from the server (GET /api/v1/photos/{id}: private, never cached). */
export async function fetchFullImage(photoId) {
  const response = await apiFetch(`photos/${photoId}`, { headers: { Accept: "image/*" }, timeoutMs: 60000 });
  if (!response.ok) throw new ApiError(response.status, await errorBody(response));
  return response.blob();
}

/**
 * Full-size images for the inspection page: the device's own Blob while it has it, otherwise
 * fetched from the server on demand (online) and kept in memory while the page is open — never
 * written back to IndexedDB, so freeing storage is not undone by looking at a photo.
 */
export class FullImages {
  constructor({ fetchBlob = fetchFullImage } = {}) {
    this.fetchBlob = fetchBlob;
    this.urls = new Map(); // client_uuid → object URL
  }

  /** An object URL of the full image of `photo`; FullImageUnavailable, NetworkError or ApiError otherwise. */
  async url(photo) {
    const known = this.urls.get(photo.client_uuid);
    if (known) return known;
    let blob = photo.blob;
    if (!blob) {
      if (!photo.photo_id) throw new FullImageUnavailable("not_uploaded");
      if (globalThis.navigator && navigator.onLine === false) throw new FullImageUnavailable("offline");
      blob = await this.fetchBlob(photo.photo_id);
    }
    const url = URL.createObjectURL(blob);
    this.urls.set(photo.client_uuid, url);
    return url;
  }

  /** Let go of every image (the page is closed). */
  clear() {
    for (const url of this.urls.values()) URL.revokeObjectURL(url);
    this.urls.clear();
  }
}
