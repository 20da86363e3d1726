// The marks under a card: not yet sent, refused by the server, in conflict.

import { t } from "../../i18n.js";
import { h } from "../dom.js";

/** The flag elements for a card state {unsent, attention}. */
export function flagList({ unsent, attention }) {
  const flags = [];
  if (unsent) flags.push(h("span", { class: "flag flag-unsent", text: t("item.unsent") }));
  for (const entry of attention || []) {
    flags.push(h("p", { class: `flag flag-${entry.kind}` },
      entry.kind === "conflict" ? t("item.conflict") : t("item.rejected", { message: entry.message || entry.reason || "" })));
    if (entry.kind === "conflict" && entry.folded > 0) {
      flags.push(h("p", { class: "flag flag-folded", text: t("conflict.folded", { n: entry.folded }) }));
    }
  }
  return flags;
}
