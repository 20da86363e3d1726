// The fetch wrapper for /api/v1: same-origin cookie, X-CSRF-Token on every request, JSON in
// and out, and two kinds of failure the rest of the app tells apart: NetworkError (no signal:
// retry later, nothing is wrong) and ApiError (the server answered with an error). No DOM.

import { getLanguage } from "./i18n.js";

export const API_ROOT = "/api/v1";
const DEFAULT_TIMEOUT_MS = 30000; // a stalled mobile connection must not hang a sync for ever

let csrfToken = null;

/** Use this CSRF token on every request from now on (it comes from login or /auth/me). */
export function setCsrfToken(token) {
  csrfToken = token || null;
}

/** The request could not reach the server (offline, DNS, timeout): try again later. */
export class NetworkError extends Error {
  constructor(message = "network unavailable", cause = undefined) {
    super(message);
    this.name = "NetworkError";
    this.cause = cause;
  }
}

/** The server answered with an error status; `code` and `message` come from its JSON body. */
export class ApiError extends Error {
  constructor(status, body = {}) {
    super(body.message || `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.code = body.code || null;
    this.body = body;
  }
}

/**
 * fetch() a path (relative to /api/v1 unless it starts with "/") with the session cookie and
 * the CSRF token. Resolves with the Response whatever its status; rejects with NetworkError when
 * no answer came back.
 */
export async function apiFetch(path, { method = "GET", headers = {}, body, json, timeoutMs = DEFAULT_TIMEOUT_MS } = {}) {
  const url = path.startsWith("/") ? path : `${API_ROOT}/${path}`;
  // The server answers in the app's language (its messages are shown as they come), not the browser's.
  const allHeaders = { Accept: "application/json", "Accept-Language": getLanguage(), ...headers };
  if (csrfToken) allHeaders["X-CSRF-Token"] = csrfToken;
  if (json !== undefined) {
    allHeaders["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  }
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    return await fetch(url, {
      method, headers: allHeaders, body, credentials: "same-origin", cache: "no-store",
      signal: controller.signal,
    });
  } catch (err) {
    throw new NetworkError(err && err.name === "AbortError" ? "timeout" : "network unavailable", err);
  } finally {
    clearTimeout(timer);
  }
}

/** The error body of a failed response as {code, message}, whatever the server sent. */
export async function errorBody(response) {
  try {
    const data = await response.json();
    if (data && typeof data === "object") return data;
  } catch { /* not JSON: a proxy's HTML error page, for instance */ }
  return { code: null, message: null };
}

/** Call the API and return the parsed JSON body (null for 204); throw ApiError on a 4xx/5xx. */
export async function apiJson(path, options = {}) {
  const response = await apiFetch(path, options);
  if (!response.ok) throw new ApiError(response.status, await errorBody(response));
  if (response.status === 204) return null;
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

/** Sign in; returns {user, csrf_token} and starts using the token. */
export async function login(username, password) {
  const data = await apiJson("auth/login", { method: "POST", json: { username, password } });
  setCsrfToken(data.csrf_token);
  return data;
}

/** The signed-in user and a fresh CSRF token; ApiError 401 when the session has ended. */
export async function me() {
  const data = await apiJson("auth/me");
  setCsrfToken(data.csrf_token);
  return data;
}

/** End the session on the server. */
export function logout() {
  return apiJson("auth/logout", { method: "POST" });
}
