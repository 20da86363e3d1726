// The draft minutes (#/i/<id>/minutes), from IndexedDB alone: the Decree 30 layout of the PDF
// (minutes.js builds the words), marked "DỰ THẢO" until approved, read aloud at the closing
// meeting and printed on A4 from the browser (app.css @media print hides the app around it).

import { effectiveClosing } from "../closing.js";
import { t } from "../i18n.js";
import {
  countCell, draftMinutes, fmtNumber, pointsCell, rateCells, sectionHeading, unassessedLine,
} from "../minutes.js";
import { loadInspection } from "../store.js";
import { h } from "./dom.js";

/** Render the draft of inspection `id` into `root`; a controller {id, onData} or null. */
export async function renderMinutes(root, ctx, { id }) {
  const started = performance.now();
  const data = await loadInspection(id);
  if (!data || !data.checklist) {
    root.replaceChildren(h("section", { class: "card" },
      h("h1", { text: t("insp.missing_title") }), h("p", { text: t("insp.missing") }),
      h("a", { href: "#/", class: "button", text: t("insp.back") })));
    return null;
  }
  draw(root, data);
  performance.mark("cchc:minutes"); // scripts/bench_app.py: the draft's render time
  root.dataset.renderMs = String(Math.round(performance.now() - started));
  return {
    id, view: "minutes",
    async onData(detail) {
      if (!detail.all && !detail.inspections.has(id)) return;
      const fresh = await loadInspection(id);
      if (fresh && fresh.checklist) draw(root, fresh);
    },
    destroy() {},
  };
}

function p(text, cls = "m-body") {
  return h("p", { class: cls, text });
}

function table(head, rows, cls) {
  return h("table", { class: `m-table ${cls}` },
    h("thead", {}, h("tr", {}, head.map((cell) => h("th", { text: cell })))),
    h("tbody", {}, rows.map((row) => h("tr", {}, row.map((cell) => (cell instanceof Node ? h("td", {}, cell) : h("td", { text: cell })))))));
}

function titleCell(title, note) {
  return h("div", {}, h("span", { text: title }), note ? h("span", { class: "m-note", text: `Ghi chú: ${note}` }) : null);
}

function draw(root, data) {
  const inspection = data.assignment.inspection;
  const closing = effectiveClosing(inspection.closing, data.ops);
  const m = draftMinutes(data, closing);
  const unit = inspection.unit.full_name || inspection.unit.name;
  document.title = `${t("minutes.title")} · ${unit}`;
  const now = new Date();
  const stamp = `${String(now.getHours()).padStart(2, "0")}:${String(now.getMinutes()).padStart(2, "0")} `
    + `${String(now.getDate()).padStart(2, "0")}/${String(now.getMonth() + 1).padStart(2, "0")}/${now.getFullYear()}`;

  const sections = m.sections.flatMap((section, n) => [
    p(sectionHeading(n + 1, section), "m-subheading"),
    section.criteria.length ? table(["Mã", "Tiêu chí", "Kết quả", "Điểm"],
      section.criteria.map((r) => [r.code, titleCell(r.title, r.note), r.result, pointsCell(r)]), "m-criteria") : null,
    section.counts.length ? table(["Mã", "Số liệu", "Số lượng"],
      section.counts.map((r) => [r.code, titleCell(r.title, r.note), countCell(r)]), "m-counts") : null,
    section.rates.length ? table(["Mã", "Tỷ lệ", "Kết quả", "Mục tiêu", "Đánh giá"],
      section.rates.map((r) => [r.code, r.title, ...rateCells(r)]), "m-rates") : null,
    ...section.notes.flatMap((note) => note.split("\n").filter((l) => l.trim()).map((line) => p(`- ${line.trim()}`, "m-item"))),
    unassessedLine(section) ? p(unassessedLine(section), "m-item m-italic") : null,
  ]);
  const top = Math.max(1, ...m.chart.map((b) => b.max));
  const chart = m.chart.length ? h("figure", { class: "m-chart" },
    h("figcaption", { text: "Biểu đồ điểm theo lĩnh vực" }),
    m.chart.map((bar) => h("div", { class: "m-bar" },
      h("span", { class: "m-bar-label", text: bar.label }),
      h("progress", { max: top, value: bar.points, attrs: { "aria-label": bar.label } }),
      h("span", { class: "m-bar-value", text: `${fmtNumber(bar.points, 1)}/${fmtNumber(bar.max, 1)}` })))) : null;
  const signature = (block) => h("div", { class: "m-sign" },
    block.heading.map((line) => h("p", { class: "m-sign-head", text: line })),
    h("div", { class: "m-sign-space" }),
    h("p", { class: "m-sign-name", text: block.name || "……………………" }));

  const doc = h("article", { class: `minutes ${m.approved ? "" : "is-draft"}`, id: "minutes", attrs: { lang: "vi" } },
    m.approved ? null : h("p", { class: "m-draft-mark", id: "draft-mark", text: "DỰ THẢO" }),
    h("div", { class: "m-header" },
      h("div", { class: "m-header-left" },
        m.header.issuingBody.map((line, n) => h("p", { class: n ? "m-bold" : "", text: line.toUpperCase() })),
        h("hr"), h("p", { text: m.header.number })),
      h("div", { class: "m-header-right" },
        h("p", { class: "m-bold m-motto", text: m.header.motto[0] }),
        h("p", { class: "m-bold", text: m.header.motto[1] }), h("hr"),
        h("p", { class: "m-italic", text: m.header.placeDate }))),
    p(m.title, "m-title"), p(m.summary, "m-summary"),
    m.basis.map((line) => p(line, "m-item")),
    p(m.timePlace),
    p("I. THÀNH PHẦN", "m-heading"),
    p("1. Đoàn kiểm tra:", "m-subheading"), m.team.map((line) => p(line, "m-item")),
    p(m.representativesHeading, "m-subheading"), m.representatives.map((line) => p(line, "m-item")),
    p("II. NỘI DUNG, KẾT QUẢ KIỂM TRA", "m-heading"),
    sections,
    m.score ? p(m.score, "m-body m-bold") : null,
    m.remark ? p(m.remark, "m-body m-italic") : null,
    chart,
    p("III. NHẬN XÉT, ĐÁNH GIÁ", "m-heading"),
    p("1. Ưu điểm", "m-subheading"), m.strengths.map((line) => p(line, "m-item")),
    p("2. Tồn tại, hạn chế", "m-subheading"), m.weaknesses.map((line) => p(line, "m-item")),
    p("IV. KIẾN NGHỊ", "m-heading"),
    p(m.recommendationsLead), m.recommendations.map((line) => p(line, "m-item")),
    p("V. Ý KIẾN CỦA ĐƠN VỊ ĐƯỢC KIỂM TRA", "m-heading"),
    m.comments.length ? m.comments.map((line) => p(line)) : [1, 2, 3].map(() => p("……………………………………………………………………………………………", "m-plain")),
    p(m.closingText),
    h("div", { class: "m-signatures" }, signature(m.signatures.unit), signature(m.signatures.leader)),
    m.recipients.length ? h("div", { class: "m-recipients" }, h("p", { class: "m-bold m-italic", text: "Nơi nhận:" }),
      m.recipients.map((line) => p(line, "m-plain"))) : null,
    h("footer", { class: "m-footer", id: "minutes-footer" },
      // In Vietnamese whatever the app's language, like the rest of the document.
      h("span", { text: m.approved ? "Kết quả đã được duyệt" : "DỰ THẢO" }),
      h("span", { id: "minutes-revision", text: m.revision ? `Phiên bản biên bản mới nhất trên máy chủ: ${m.revision}`
        : "Máy chủ chưa lập biên bản (phiên bản: chưa có)" }),
      h("span", { id: "minutes-made-at", text: `Bản in từ máy tính bảng lúc ${stamp}` })));

  const toolbar = h("div", { class: "minutes-tools no-print" },
    h("nav", { class: "crumbs" }, h("a", { href: `#/i/${inspection.id}/closing`, text: `← ${t("minutes.back")}` })),
    h("p", { class: "hint", text: m.approved ? t("minutes.approved_hint") : t("minutes.draft_hint") }),
    data.ops.length ? h("p", {}, h("span", { class: "unsent-badge", text: t("closing.unsent", { n: data.ops.length }) })) : null,
    h("div", { class: "actions" }, h("button", { type: "button", class: "primary big", id: "print-minutes", text: t("minutes.print"),
      on: { click: () => globalThis.print() } })));
  root.replaceChildren(toolbar, doc);
}
