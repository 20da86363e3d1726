// The photo viewer: a tap on a thumbnail shows the full-size picture, from the device when it
// still has it, otherwise from the server when online (photos.js FullImages). Offline, a photo
// whose full image the device let go shows its thumbnail and says where the original is. Until the
// inspection is approved, the photo's author (or the leader) captions or deletes it here.

import { ApiError, NetworkError } from "../api.js";
import { t } from "../i18n.js";
import { FullImageUnavailable } from "../photos.js";
import { fmtTime, h } from "./dom.js";

/**
 * Open `photo` in a modal dialog. `images`: a FullImages cache; `title`: the item's code and
 * title; `onApiError(err)`: resolves true when the error ended the session (the app locks).
 * `edit`: null (view only), {locked: true} (approved: says so), or {onCaption(text),
 * onDelete()} (both return promises; the page saves and queues the ops).
 */
export async function openPhotoViewer(photo, { images, title, onApiError = async () => false, edit = null }) {
  const body = h("div", { class: "viewer-body", attrs: { "aria-live": "polite" } },
    h("p", { class: "viewer-message", text: t("viewer.loading") }));
  const close = h("button", { type: "button", class: "big", text: t("banner.close") });
  const facts = [
    photo.captured_at ? t("viewer.taken", { time: fmtTime(photo.captured_at) }) : "",
    photo.width && photo.height ? `${photo.width} × ${photo.height}` : "",
    edit && !edit.locked ? "" : photo.caption || "",
  ].filter(Boolean).join(" · ");
  const dialog = h("dialog", { class: "photo-viewer", attrs: { "aria-label": title } },
    h("header", { class: "viewer-head" }, h("h2", { text: title }), close),
    body,
    facts ? h("p", { class: "meta viewer-facts", text: facts }) : null,
    editor(photo, edit, () => dialog.close()));
  let thumbUrl = null;
  const finish = () => {
    if (thumbUrl) URL.revokeObjectURL(thumbUrl);
    dialog.remove();
  };
  close.addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", finish);
  document.body.append(dialog);
  dialog.showModal();

  function unavailable(text) {
    const parts = [h("p", { class: "viewer-message", text })];
    if (photo.thumb) {
      thumbUrl = URL.createObjectURL(photo.thumb);
      parts.unshift(h("img", { class: "viewer-thumb", src: thumbUrl, alt: title }));
    }
    body.replaceChildren(...parts);
  }

  try {
    const url = await images.url(photo);
    const img = h("img", { class: "viewer-image", src: url, alt: title });
    await img.decode().catch(() => {});
    if (!dialog.isConnected) return;
    body.replaceChildren(img);
    dialog.dataset.source = photo.blob ? "device" : "server";
  } catch (err) {
    if (!dialog.isConnected) return;
    if (err instanceof FullImageUnavailable) {
      unavailable(err.reason === "offline" ? t("viewer.offline") : t("viewer.not_uploaded"));
    } else if (err instanceof NetworkError) {
      unavailable(t("viewer.unreachable"));
    } else if (err instanceof ApiError) {
      if (await onApiError(err)) { dialog.close(); return; }
      unavailable(err.status === 401 ? t("viewer.signin") : t("viewer.failed", { message: err.message }));
    } else {
      console.error(err);
      unavailable(t("viewer.failed", { message: String(err.message || err) }));
    }
  }
}

/** The caption box and the delete button (with a confirmation), or why they are not offered. */
function editor(photo, edit, closeViewer) {
  if (!edit) return null;
  if (edit.locked) return h("p", { class: "viewer-facts viewer-locked", text: t("viewer.locked") });
  const message = h("span", { class: "viewer-saved", attrs: { role: "status" } });
  const caption = h("textarea", { class: "viewer-caption", rows: 2, value: photo.caption || "",
    attrs: { placeholder: t("viewer.caption_placeholder"), maxlength: "2000" } });
  const save = h("button", { type: "button", class: "primary", text: t("viewer.save_caption"),
    on: { click: async () => {
      save.disabled = true;
      try {
        await edit.onCaption(caption.value.trim());
        photo.caption = caption.value.trim();
        message.textContent = t("viewer.caption_saved");
      } finally {
        save.disabled = false;
      }
    } } });
  const confirm = h("div", { class: "viewer-confirm", hidden: true },
    h("p", { text: t("viewer.delete_confirm") }),
    h("button", { type: "button", class: "danger", text: t("viewer.delete_yes"),
      on: { click: async () => { await edit.onDelete(); closeViewer(); } } }),
    h("button", { type: "button", text: t("viewer.delete_no"), on: { click: () => { confirm.hidden = true; } } }));
  const remove = h("button", { type: "button", class: "danger viewer-delete", text: t("viewer.delete"),
    on: { click: () => { confirm.hidden = false; } } });
  return h("div", { class: "viewer-edit" },
    h("label", { class: "block-field" }, h("span", { text: t("viewer.caption") }), caption),
    h("div", { class: "viewer-actions" }, save, message, remove),
    confirm);
}
