// Photos on the page: added (refused out loud when the device is full) and opened full size.

import { loc, t } from "../../i18n.js";
import { preparePhoto } from "../../photos.js";
import { fitsInQuota, isQuotaError } from "../../retention.js";
import { captionPhoto, clearQuotaError, deletePhoto, noteQuotaError, savePhoto } from "../../store.js";
import { openPhotoViewer } from "../photoview.js";

/** The addPhotos and openPhoto actions of the cards of `page` (see editActions). */
export function photoActions(page, ctx, { card, refresh, images }) {
  const id = page.id;
  const actions = {
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
      openPhotoViewer(current, { images, title, onApiError: (err) => ctx.engine.handleApiError(err),
        edit: photoEdit(current) });
    },
  };

  /** Whether and how the viewer offers caption and delete: the photo's author (a photo taken
   * on this device, or one the server says is theirs) or the leader, until approval. */
  function photoEdit(photo) {
    if (page.readOnly()) return { locked: true };
    const mine = photo.author === undefined || photo.author === null || photo.author === page.me;
    if (!mine && page.assignment.inspection.my_role !== "leader") return null;
    const changed = () => {
      card(photo.item_code)?.update(page.cardState(photo.item_code));
      refresh();
      ctx.afterSave(id);
    };
    return {
      async onCaption(caption) {
        await captionPhoto(photo.client_uuid, caption);
        page.photos = page.photos.map((p) => (p.client_uuid === photo.client_uuid ? { ...p, caption } : p));
        changed();
      },
      async onDelete() {
        await deletePhoto(photo.client_uuid);
        page.photos = page.photos.filter((p) => p.client_uuid !== photo.client_uuid);
        changed();
      },
    };
  }

  return actions;
}

/** Whether `bytes` more fit in the browser's quota, as far as it says (true when it cannot tell). */
async function roomFor(bytes) {
  try {
    return fitsInQuota(await navigator.storage.estimate(), bytes);
  } catch {
    return true;
  }
}
