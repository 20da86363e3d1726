// A password check that works offline, for one purpose: when the server has ended an account
// (deactivated, or its sessions ended), that person's unsent work stays locked on the tablet, and
// only they may export it — with no server to ask. At sign-in the app keeps a slow salted hash of
// the password (PBKDF2-SHA-256, 600,000 iterations, as OWASP advises); never the password. No DOM.

export const ITERATIONS = 600000;
const SALT_BYTES = 16;
const HASH_BITS = 256;

function toHex(bytes) {
  return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function fromHex(hex) {
  return new Uint8Array((hex.match(/../g) || []).map((pair) => parseInt(pair, 16)));
}

async function derive(password, salt, iterations) {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(password.normalize("NFC")),
    "PBKDF2", false, ["deriveBits"]);
  return crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, key, HASH_BITS);
}

/** A verifier {algorithm, iterations, salt, hash} for `password` (hex strings). */
export async function makeVerifier(password, iterations = ITERATIONS) {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  return { algorithm: "PBKDF2-SHA-256", iterations, salt: toHex(salt), hash: toHex(await derive(password, salt, iterations)) };
}

/** Whether `password` matches `verifier` (compared in full, whatever differs first). */
export async function checkVerifier(verifier, password) {
  if (!verifier || verifier.algorithm !== "PBKDF2-SHA-256" || typeof password !== "string") return false;
  const actual = toHex(await derive(password, fromHex(verifier.salt), verifier.iterations));
  let diff = actual.length ^ verifier.hash.length;
  for (let i = 0; i < actual.length; i++) diff |= actual.charCodeAt(i) ^ (verifier.hash.charCodeAt(i) || 0);
  return diff === 0;
}
