// The unit's claim on a criterion's card (issue 16): what it claimed, its evidence files, the
// explanation thread, and "Confirm", which copies the claim as the inspector's observation.
// Everything is from the assignment kept on the device: it works offline (files open online).

import { t } from "../../i18n.js";
import { fmtBytes, fmtNumber, h } from "../dom.js";

/** The claim in words: "Không đạt · 2 điểm · ghi chú". */
function claimWords(claim) {
  const parts = [];
  if (claim.result) parts.push(t(`result.${claim.result}`, {}, claim.result));
  if (claim.points !== null && claim.points !== undefined) parts.push(t("item.max_points", { n: fmtNumber(claim.points, 2) }));
  if (claim.value !== null && claim.value !== undefined) parts.push(fmtNumber(claim.value, 2));
  if (claim.text) parts.push(claim.text);
  return parts.join(" · ") || "—";
}

/**
 * Open an evidence file through the app's own fetch, so the service worker keeps a copy: what was
 * opened once online opens again offline. Not kept and no network: say so on the link.
 */
async function openFile(event, file) {
  event.preventDefault();
  const link = event.currentTarget;
  try {
    const response = await fetch(file.url, { credentials: "same-origin" });
    if (!response.ok) throw new Error(String(response.status));
    const url = URL.createObjectURL(await response.blob());
    h("a", { href: url, download: file.name }).click();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    link.classList.remove("evidence-missing");
  } catch {
    link.classList.add("evidence-missing");
    link.title = t("claim.file_offline");
  }
}

function fileLink(file) {
  const image = (file.content_type || "").startsWith("image/");
  return h("li", {}, h("a", {
    href: file.url, class: "evidence-file", title: `${file.content_type} · ${fmtBytes(file.size)}`,
    on: { click: (event) => openFile(event, file) },
  }, image ? h("img", { class: "evidence-thumb", src: file.url, alt: "", attrs: { loading: "lazy" } }) : null,
  file.name));
}

/** The claim block; `confirm()` copies the claim. Returns {el, show(state)}. */
export function claimBlock(confirm) {
  const el = h("section", { class: "claim", hidden: true });
  function show({ claim, evidence = [], threads = [], differs = false, readOnly = false, confirmable = false }) {
    el.hidden = !claim && !threads.length;
    if (el.hidden) { el.replaceChildren(); return; }
    el.classList.toggle("claim-differs", differs);
    el.replaceChildren(...[
      claim ? h("p", { class: "claim-line" },
        h("strong", { text: `${t("claim.label")}: ` }), h("span", { class: "claim-value", text: claimWords(claim) }),
        confirmable ? h("button", { type: "button", class: "claim-confirm", text: t("claim.confirm"),
          disabled: readOnly, on: { click: confirm } }) : null,
        differs ? h("span", { class: "flag flag-differs", text: t("claim.differs") }) : null) : null,
      claim && claim.note ? h("p", { class: "claim-note", text: claim.note }) : null,
      claim && claim.explanation ? h("p", { class: "claim-note", text: `${t("claim.no_evidence")}: ${claim.explanation}` }) : null,
      evidence.length ? h("ul", { class: "claim-evidence", attrs: { "aria-label": t("claim.evidence") } }, evidence.map(fileLink)) : null,
      ...threads.map((x) => h("div", { class: "claim-thread" },
        h("p", {}, h("strong", { text: `${t("claim.asked")}: ` }), x.question),
        h("p", {}, h("strong", { text: `${t("claim.answer")}: ` }), x.answer || t("claim.no_answer")),
        x.files.length ? h("ul", { class: "claim-evidence" }, x.files.map(fileLink)) : null)),
    ].filter(Boolean)); // replaceChildren would write "null"
  }
  return { el, show };
}
