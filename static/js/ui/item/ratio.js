// The computed value of a ratio item, with its target and formula.

import { t } from "../../i18n.js";
import { fmtNumber, h } from "../dom.js";

/** Show `ratio` of `item` in `root`: "98,8 % (1.068 / 1.081) · mục tiêu ≥ 98 %: đạt". */
export function renderRatio(root, item, ratio) {
  const parts = [];
  if (ratio.status === "computed") {
    parts.push(h("strong", { class: "ratio-value", text: `${fmtNumber(ratio.value, 1)} %` }));
    parts.push(h("span", { class: "ratio-parts", text: ` (${fmtNumber(ratio.numerator, 0)} / ${fmtNumber(ratio.denominator, 0)})` }));
  } else if (ratio.status === "no_cases") {
    parts.push(h("strong", { text: t("ratio.no_cases") }));
  } else if (ratio.status === "na") {
    parts.push(h("strong", { text: t("result.na") }));
  } else {
    parts.push(h("span", { class: "ratio-missing", text: t("ratio.missing", { codes: ratio.missing.join(", ") }) }));
  }
  if (ratio.target) {
    const op = { ">=": "≥", "<=": "≤", "==": "=" }[ratio.target.op] || ratio.target.op;
    parts.push(h("span", { class: "ratio-target", text: ` · ${t("ratio.target", { op, value: fmtNumber(ratio.target.value, 1) })}` }));
    if (ratio.met !== null) {
      parts.push(h("span", { class: `met ${ratio.met ? "met-yes" : "met-no"}`, text: ratio.met ? t("ratio.met") : t("ratio.not_met") }));
    }
  } else {
    parts.push(h("span", { class: "ratio-target", text: ` · ${t("ratio.no_target")}` }));
  }
  const formula = `${item.ratio.numerator.join(" + ")} / ${item.ratio.denominator.join(" + ")}`;
  root.replaceChildren(h("p", { class: "ratio-line" }, ...parts), h("p", { class: "formula", text: t("ratio.formula", { formula }) }));
}
