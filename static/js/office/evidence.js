// The self-assessment page (office): evidence files are sent resumably with tus, like the
// tablet's photos (`kind=evidence`, DESIGN §4), before the criterion's form is posted. A cut
// connection resumes from the server's offset (up to RETRIES times, then the page says so and
// nothing is lost: the form stays filled). Each stored file comes back as an `Evidence-Id`,
// posted with the form as a ticked `evidence` box; the file input is then left out of the post.
// Without JavaScript the form posts the files itself (same checks, not resumable).

import { TusRefused, upload } from "../tus.js";

const ENDPOINT = "/api/v1/uploads";
const RETRIES = 5;

async function sha256Hex(blob) {
  const digest = await crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** fetch with the session cookie and CSRF token, remembering the Evidence-Id it is told. */
function sender(csrf, seen) {
  return async (url, init) => {
    const response = await fetch(url, {
      ...init, credentials: "same-origin", headers: { ...init.headers, "X-CSRF-Token": csrf },
    });
    const id = response.headers.get("Evidence-Id");
    if (id) seen.id = id;
    return response;
  };
}

function words(form, key, values = {}) {
  let text = form.dataset[key] || "";
  for (const [name, value] of Object.entries(values)) text = text.replace(`{${name}}`, value);
  return text;
}

/** Send one file; resolves with its evidence id. */
async function sendFile(form, file, status, csrf) {
  const metadata = {
    kind: "evidence", inspection_id: form.dataset.inspection, sha256: await sha256Hex(file),
    filename: file.name, content_type: file.type,
  };
  const seen = {};
  let uploadUrl = null;
  for (let attempt = 0; ; attempt += 1) {
    try {
      await upload({
        endpoint: ENDPOINT, blob: file, metadata, uploadUrl, send: sender(csrf, seen),
        onCreated: (url) => { uploadUrl = url; },
        onProgress: (offset) => {
          status.textContent = words(form, "sending", {
            name: file.name, percent: Math.floor((100 * offset) / (file.size || 1)) });
        },
      });
      if (!seen.id) throw new TusRefused(500, { message: words(form, "failed", { name: file.name }) });
      return seen.id;
    } catch (error) {
      if (error instanceof TusRefused || attempt >= RETRIES) throw error;
      status.textContent = words(form, "resuming", { name: file.name });
      await new Promise((resolve) => setTimeout(resolve, 1000 * (attempt + 1)));
    }
  }
}

for (const form of document.querySelectorAll("form[data-evidence-upload]")) {
  form.addEventListener("submit", async (event) => {
    const input = form.querySelector('input[type="file"]');
    if (!input || !input.files.length || form.dataset.sent) return;
    event.preventDefault();
    const status = form.querySelector(".upload-status");
    const button = form.querySelector('button[type="submit"]');
    const csrf = form.querySelector('input[name="csrf_token"]').value;
    button.disabled = true;
    try {
      for (const file of input.files) {
        const id = await sendFile(form, file, status, csrf);
        const kept = document.createElement("input");
        Object.assign(kept, { type: "hidden", name: "evidence", value: id });
        form.append(kept);
      }
      input.disabled = true; // the files are on the server: only their ids are posted
      form.dataset.sent = "1";
      status.textContent = words(form, "saving");
      form.submit();
    } catch (error) {
      status.textContent = error.message || String(error);
      status.classList.add("flash-error");
      button.disabled = false;
    }
  });
}
