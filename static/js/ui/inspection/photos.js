// Photos on the page: added (refused out loud when the device is full) and opened full size.

import { loc, t } from "../../i18n.js";
import { preparePhoto } from "../../photos.js";
import { fitsInQuota, isQuotaError } from "../../retention.js";
import { clearQuotaError, noteQuotaError, savePhoto } from "../../store.js";
import { openPhotoViewer } from "../photoview.js";

/** The addPhotos and openPhoto actions of the cards of `page` (see editActions). */
export function photoActions(page, ctx, { card, refresh, images }) {
  const id = page.id;
  return {
    async addPhotos(code, files) {
      const shown = card(code);
      for (const file of files) {
        if (shown) shown.setPhotoMessage(t("item.photo_processing"));
        try {
          const record = await preparePhoto(file, { inspectionId: id, itemCode: code });
          if (!(await roomFor(record.blob.size + record.thumb.size))) {
            throw new DOMException("not enough storage for this photo", "QuotaExceededError");
          }
          await savePhoto(record);
          page.photos = [...page.photos, record];
          if (shown) shown.setPhotoMessage("");
          clearQuotaError().catch(() => {});
        } catch (err) {
          if (isQuotaError(err)) {
            // Refused out loud: the picture is not on the device, and the inspector must know.
            await noteQuotaError();
            if (shown) shown.setPhotoMessage(t("item.photo_no_space"));
            ctx.engine.measureStorage().catch(() => {});
            break;
          }
          console.error(err);
          if (shown) shown.setPhotoMessage(t("item.photo_failed"));
        }
      }
      card(code)?.update(page.cardState(code));
      refresh();
      ctx.afterSave(id);
    },

    /** Show a photo full size (the card's record may be older: use the page's current one). */
    openPhoto(photo) {
      const current = page.photos.find((p) => p.client_uuid === photo.client_uuid) || photo;
      const entry = page.items.get(current.item_code);
      const title = entry ? `${current.item_code} · ${loc(entry.item, "title")}` : current.item_code || "";
      openPhotoViewer(current, { images, title, onApiError: (err) => ctx.engine.handleApiError(err) });
    },
  };
}

/** Whether `bytes` more fit in the browser's quota, as far as it says (true when it cannot tell). */
async function roomFor(bytes) {
  try {
    return fitsInQuota(await navigator.storage.estimate(), bytes);
  } catch {
    return true;
  }
}
