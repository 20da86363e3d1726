// The photos of an item: camera and gallery buttons, thumbnails, a status message.

import { t } from "../../i18n.js";
import { h } from "../dom.js";

/** Photo controls of item `code`; `actions`: addPhotos(code, files), openPhoto(photo). */
export function photoControls(code, actions) {
  const camera = h("input", { type: "file", class: "file-input", attrs: { accept: "image/*", capture: "environment" }, dataset: { photo: "camera" } });
  const gallery = h("input", { type: "file", class: "file-input", multiple: true, attrs: { accept: "image/*" }, dataset: { photo: "gallery" } });
  for (const input of [camera, gallery]) {
    input.addEventListener("change", () => {
      const files = [...input.files];
      input.value = "";
      if (files.length) actions.addPhotos(code, files);
    });
  }
  const cameraLabel = h("label", { class: "button photo-button" }, t("item.take_photo"), camera);
  const galleryLabel = h("label", { class: "button photo-button" }, t("item.pick_photo"), gallery);
  const thumbs = h("ul", { class: "thumbs" });
  const message = h("span", { class: "photo-message", attrs: { role: "status" } });
  let urls = [];
  let shown = null;

  function thumb(photo) {
    let picture;
    if (photo.thumb) {
      const url = URL.createObjectURL(photo.thumb);
      urls.push(url);
      picture = h("img", { src: url, alt: t("item.photo_alt", { code }), width: 96, height: 96 });
    } else if (photo.thumb_url && navigator.onLine) {
      // A teammate's photo: its thumbnail comes from the server (not cached: online only).
      picture = h("img", { src: photo.thumb_url, alt: t("item.photo_alt", { code }), width: 96, height: 96,
        on: { error: (event) => event.target.replaceWith(h("span", { class: "thumb-remote", text: t("item.photo_remote") })) } });
    } else {
      picture = h("span", { class: "thumb-remote", text: t("item.photo_remote") });
    }
    // A photo the server holds whose full image this device let go: the thumbnail stays.
    const light = photo.status === "done" && !photo.blob;
    return h("li", { class: ["thumb", `thumb-${photo.status}`, light && "thumb-light"],
      dataset: { uuid: photo.client_uuid, sha256: photo.sha256 || "" } },
      h("button", { type: "button", class: "thumb-open", attrs: { "aria-label": t("item.photo_open", { code }) },
        on: { click: () => actions.openPhoto && actions.openPhoto(photo) } }, picture),
      h("span", { class: "thumb-status", text: light ? t("photo.done_light") : t(`photo.${photo.status}`) }),
      photo.caption ? h("span", { class: "thumb-caption", text: photo.caption }) : null);
  }

  function destroy() {
    for (const url of urls) URL.revokeObjectURL(url);
    urls = [];
  }

  return {
    buttons: h("div", { class: "photo-buttons" }, cameraLabel, galleryLabel),
    el: h("div", { class: "photos" }, message, thumbs),
    /** Show `photos` (only when the list changed, not per keystroke). */
    show(photos) {
      if (photos === shown) return;
      shown = photos;
      destroy();
      thumbs.replaceChildren(...(photos || []).map(thumb));
    },
    setDisabled(disabled) {
      camera.disabled = disabled;
      gallery.disabled = disabled;
      cameraLabel.classList.toggle("disabled", disabled);
      galleryLabel.classList.toggle("disabled", disabled);
    },
    setMessage(text) { message.textContent = text || ""; },
    destroy,
  };
}
