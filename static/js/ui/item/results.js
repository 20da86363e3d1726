// The result buttons of a yes/no or scored item.

import { t } from "../../i18n.js";
import { h } from "../dom.js";

export const RESULTS = ["pass", "partial", "fail", "na"];

/** One button per result; a second tap clears. `current()`: the result now; `change(next)`. */
export function resultButtons(current, change) {
  const buttons = RESULTS.map((result) => h("button", {
    type: "button", class: `result result-${result}`, text: t(`result.${result}`),
    dataset: { result }, attrs: { "aria-pressed": "false" },
    on: { click: () => {
      const next = current() === result ? null : result; // tap again to clear
      show(next);
      change(next);
    } },
  }));
  function show(result) {
    for (const button of buttons) button.setAttribute("aria-pressed", String(button.dataset.result === result));
  }
  const el = h("div", { class: "results", attrs: { role: "group", "aria-label": t("item.result") } }, buttons);
  return { el, buttons, show };
}
