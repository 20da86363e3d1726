// A card's edits: shown at once, saved through the drafts, the page recomputed.

import { claimOf, confirmFields } from "../../claims.js";
import { t } from "../../i18n.js";
import { isQuotaError } from "../../retention.js";
import { noteQuotaError } from "../../store.js";

/** The change and commit actions of the cards of `page`; `card(code)` is the card shown, if any. */
export function editActions(page, ctx, { card, refresh }) {
  const id = page.id;
  const actions = {
    /** "Confirm": the unit's claim becomes the observation, field by field, as if tapped. */
    confirm(code) {
      const claim = claimOf(page.assignment.self_assessment, code);
      const { item } = page.items.get(code);
      for (const [field, value] of Object.entries(confirmFields(item, claim))) {
        actions.change(code, field, value, { typing: false });
      }
    },
    change(code, field, value, { typing }) {
      page.edit(code, field, value);
      ctx.drafts.set(id, code, field, value, { delay: typing ? undefined : 0 })
        .then(() => ctx.afterSave(id))
        .catch((err) => {
          console.error(err);
          if (isQuotaError(err)) noteQuotaError();
          ctx.showError(isQuotaError(err) ? t("insp.save_no_space") : t("insp.save_failed"));
        });
      refresh();
      // The card shows the new value at once (a tapped result stays pressed), online or not.
      const state = page.cardState(code);
      card(code)?.update({ obs: state.obs, unsent: true, answered: state.answered, claim: state.claim });
    },
    commit() {
      ctx.drafts.flush().then(() => ctx.afterSave(id)).catch(() => {});
    },
  };
  return actions;
}
