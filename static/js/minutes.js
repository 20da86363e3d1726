// The draft minutes (biên bản) as plain data, from what the tablet holds: the twin of
// inspection/services/minutes_data.py (minutes_data_for_inspection) and the wording of
// inspection/pdf/minutes.py, so the draft read aloud at the closing meeting says what the PDF
// built later prints: same sections, numbering, figures and sentences. Always in Vietnamese,
// like the minutes. Pure (no DOM): ui/minutes.js draws it; tests/js/minutes.test.mjs checks it.

import { evaluateScore } from "./scoring.js";
import { presentMembers } from "./closing.js";

const RESULT_LABELS = { pass: "Đạt", partial: "Đạt một phần", fail: "Không đạt", na: "Không áp dụng" };
export const NOT_ASSESSED = "Chưa đánh giá";
const DEFAULT_NUMBER = "…/BB-ĐKT";
const BLANK_TIME = "… giờ …";
const DOTS = "……………………………………………………………………";
const TEAM_ROLES = { leader: "Trưởng đoàn", secretary: "Thư ký", member: "Thành viên" };
const TEAM_ORDER = { leader: 0, member: 1, secretary: 2 };
const CLOSING_ONE = "Buổi kiểm tra kết thúc vào hồi {end} cùng ngày. Biên bản đã được đọc lại cho các "
  + "thành phần tham dự cùng nghe và nhất trí thông qua. Biên bản được lập thành 02 bản "
  + "có giá trị như nhau, Đoàn kiểm tra giữ 01 bản, đơn vị được kiểm tra giữ 01 bản.";
const GUIDANCE = /\s*\((?:ví dụ|vd\.?|chẳng hạn|e\.g\.)[^()]*\)/giu;
const REPORT_ITEM = /báo cáo kết quả khắc phục/i;
const BLANK_DATE = /(?:\.{2,}|…+)\s*\/\s*(?:\.{2,}|…+)\s*\/\s*(?:\.{2,}|…+)/g;

/** NFC text without surrounding spaces (minutes_data's _nfc); null → "". */
export function nfc(text) {
  return String(text ?? "").normalize("NFC").trim();
}

/** The non-empty lines of a text. */
export function linesOf(text) {
  return String(text ?? "").normalize("NFC").replace(/\r\n|[\r\u2028\u2029]/g, "\n")
    .split("\n").map((l) => l.trim()).filter(Boolean);
}

/** 1081 → "1.081"; 8.5 → "8,5"; 12 → "12"; null → "–" (pdf/minutes.py fmt_number). */
export function fmtNumber(value, decimals = 2) {
  if (value === null || value === undefined || !Number.isFinite(Number(value))) return "–";
  const scale = 10 ** decimals;
  const rounded = Math.round(Math.abs(Number(value)) * scale + 1e-9) / scale * Math.sign(Number(value));
  let [whole, frac = ""] = Math.abs(rounded).toFixed(decimals).split(".");
  frac = frac.replace(/0+$/, "");
  whole = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ".");
  return (rounded < 0 ? "-" : "") + whole + (frac ? "," + frac : "");
}

/** 86.5 → "86,5%". */
export function fmtPercent(value) {
  return value === null || value === undefined ? "–" : `${fmtNumber(value, 1)}%`;
}

function parseDay(iso) {
  const m = String(iso || "").match(/^(\d{4})-(\d{2})-(\d{2})/);
  return m ? { year: Number(m[1]), month: m[2], day: m[3] } : null;
}

/** "ngày 01 tháng 10 năm 2021". */
export function dateLong(iso) {
  const d = parseDay(iso);
  return d ? `ngày ${d.day} tháng ${d.month} năm ${d.year}` : "ngày … tháng … năm …";
}

/** "01/10/2021", or "…/…/…" to fill in by hand. */
export function fmtDay(iso) {
  const d = parseDay(iso);
  return d ? `${d.day}/${d.month}/${d.year}` : "…/…/…";
}

/** "08:00" → "08 giờ 00"; nothing → "… giờ …". */
export function fmtMeetingTime(hhmm) {
  const m = String(hhmm || "").match(/^(\d{1,2}):(\d{2})/);
  return m ? `${m[1].padStart(2, "0")} giờ ${m[2]}` : BLANK_TIME;
}

/** An item's title without the guidance meant for the inspector ("(ví dụ …)"). */
export function answerLabel(title) {
  return nfc(title).replace(GUIDANCE, "").trim();
}

function unitTitle(unit) {
  const kind = nfc(unit.kind);
  return `UBND ${kind.slice(0, 1).toLowerCase()}${kind.slice(1)} ${nfc(unit.name)}`.replace("  ", " ");
}

function criterionRow(item, obs, partialFactor) {
  const result = obs.result ?? null;
  const full = item.max_points ?? null;
  let points = null;
  if (full !== null && result !== "na") {
    if (item.kind === "score" && obs.points !== null && obs.points !== undefined) points = Math.min(Math.max(Number(obs.points), 0), full);
    else if (result === "pass") points = full;
    else if (result === "partial") points = full * partialFactor;
    else if (result === "fail") points = 0;
  }
  let label = RESULT_LABELS[result] || NOT_ASSESSED;
  if (result === null && item.kind === "score" && obs.points !== null && obs.points !== undefined) label = "Chấm điểm";
  return { code: item.code, title: nfc(item.title_vi || item.code), result: label, points, max_points: full, note: nfc(obs.note) };
}

/** Part II's sections, as minutes_data.sections_from_evaluation. */
export function minutesSections(checklist, observations, evaluation, listUnassessed = false) {
  const indicators = new Map(evaluation.indicators.map((i) => [i.code, i]));
  const scored = new Map(evaluation.score.sections.map((s) => [s.code, s]));
  const notAssessed = new Set(evaluation.score.not_assessed);
  const partial = (checklist.scoring || {}).partial_factor ?? 0.5;
  return checklist.sections.map((section) => {
    const summary = scored.get(section.code) || {};
    const skipped = Boolean(summary.skipped);
    const out = { code: section.code, title: nfc(section.title_vi || section.code), points: summary.points ?? null,
      max_points: summary.max ?? null, skipped, criteria: [], counts: [], rates: [], notes: [], unassessed: [] };
    for (const item of section.items) {
      const obs = observations.get(item.code) || {};
      const title = answerLabel(item.title_vi || item.code);
      if (item.kind === "yesno" || item.kind === "score") {
        const row = criterionRow(item, obs, partial);
        if (row.result === NOT_ASSESSED && (skipped || !listUnassessed)) out.unassessed.push(row.code);
        else out.criteria.push(row);
      } else if (item.kind === "count") {
        const hasValue = obs.value !== null && obs.value !== undefined;
        if (!hasValue && obs.result !== "na") continue;
        let note = nfc(obs.note);
        if (obs.result === "na") note = ["không áp dụng", note].filter(Boolean).join("; ");
        out.counts.push({ code: item.code, title, value: obs.result === "na" ? null : obs.value, unit: item.unit_vi || "", note });
      } else if (item.kind === "ratio") {
        const indicator = indicators.get(item.code);
        if (!indicator || indicator.status === "missing") {
          if (notAssessed.has(item.code) && (skipped || !listUnassessed)) out.unassessed.push(item.code);
          else if (notAssessed.has(item.code)) out.rates.push({ code: item.code, title, value: null, status: "missing", target: indicator ? indicator.target : null, met: null });
          continue;
        }
        out.rates.push({ code: item.code, title, value: indicator.value, numerator: indicator.numerator,
          denominator: indicator.denominator, target: indicator.target, met: indicator.met, status: indicator.status });
      } else if (item.kind === "text") {
        const text = nfc(obs.text);
        if (text) out.notes.push(`${title}: ${text}`);
      }
      if ((item.kind === "text" || item.kind === "photo") && nfc(obs.note)) out.notes.push(`${title}: ${nfc(obs.note)}`);
    }
    return out;
  });
}

/** The heading of section n of part II: "1. Công tác chỉ đạo…: đạt 8/10 điểm". */
export function sectionHeading(n, section) {
  let heading = `${n}. ${section.title}`;
  if (section.skipped) heading += " (không đánh giá)";
  else if (section.max_points) heading += `: đạt ${fmtNumber(section.points)}/${fmtNumber(section.max_points)} điểm`;
  return heading;
}

/** "Ghi chú: …" under the overall result when criteria were left unassessed. */
export function assessmentRemark(score, reason) {
  if (!score.partial) return "";
  const missing = score.not_assessed || [];
  let text = `Ghi chú: đã đánh giá ${score.assessed}/${score.items} tiêu chí; ${missing.length} tiêu chí chưa được `
    + `đánh giá (${missing.join(", ")}) không được tính điểm.`;
  if (reason) text += ` Trưởng đoàn duyệt kết quả khi chưa đánh giá đủ, lý do: ${nfc(reason).replace(/\.+$/, "")}.`;
  return text;
}

function personLine(person) {
  let text = nfc(person.name);
  if (nfc(person.position)) text += `, ${nfc(person.position)}`;
  if (nfc(person.role)) text += ` – ${nfc(person.role)}`;
  return `${text};`;
}

/** Part IV's numbered items, the one reporting deadline included (pdf/minutes.py). */
export function recommendationLines(recommendations, reportDue, reportTo) {
  const items = [];
  let reported = false;
  for (const rec of recommendations) {
    let text = linesOf(rec.text).join(" ");
    if (!text) continue;
    if (REPORT_ITEM.test(text)) {
      reported = true;
      text = text.replace(BLANK_DATE, fmtDay(reportDue));
    }
    if (rec.due_on) text = `${text.replace(/[ .;]+$/, "")} (thời hạn: ${fmtDay(rec.due_on)})`;
    items.push(text.replace(/[ .;]+$/, ""));
  }
  if (!reported) items.push(`Báo cáo kết quả khắc phục về ${reportTo} trước ngày ${fmtDay(reportDue)}`);
  return items.map((text, n) => `${n + 1}. ${text}${n + 1 === items.length ? "." : ";"}`);
}

/**
 * The whole draft of one inspection's minutes. `data`: {assignment (inspection, minutes_head),
 * checklist, observations (Map)}; `closing`: closing.js effectiveClosing. Returns plain data:
 * {header, title, summary, basis, timePlace, team, representatives, sections, score, remark,
 * chart, strengths, weaknesses, recommendations, comments, closingText, signatures, recipients,
 * approved, revision}.
 */
export function draftMinutes(data, closing) {
  const inspection = data.assignment.inspection;
  const head = data.assignment.minutes_head || {};
  const checklist = data.checklist;
  const unitName = head.unit_name || unitTitle(inspection.unit);
  const year = head.year || Number(String(inspection.scheduled_on).slice(0, 4));
  const evaluation = evaluateScore(checklist, data.observations, {
    unit: { kind: inspection.unit.kind, level: inspection.unit.level },
    confirmedUnanswered: Boolean(head.confirmed_unanswered),
  });
  const score = evaluation.score;
  const teamName = head.team_name || "Đoàn kiểm tra công tác cải cách hành chính";
  const allTeam = head.team || (inspection.team || []).slice()
    .sort((a, b) => (TEAM_ORDER[a.role] ?? 9) - (TEAM_ORDER[b.role] ?? 9))
    .map((m) => ({ user_id: m.user_id, name: m.full_name, position: m.position, role: TEAM_ROLES[m.role] || "" }));
  const team = presentMembers(allTeam, closing);
  const officials = (closing.unit_officials || []).filter((o) => nfc(o && o.name)).map((o) => ({ name: nfc(o.name), position: nfc(o.position) }));
  const reps = (head.representatives || []).map((r) => ({ name: nfc(r.name), position: nfc(r.position) }));
  const representatives = officials.length ? officials : reps;
  const first = reps[0] || officials[0] || null;
  const position = first ? first.position : "";
  const dueDates = closing.recommendations.map((r) => r.due_on).filter(Boolean).sort();
  const reportDue = closing.report_due || head.report_due || dueDates[dueDates.length - 1] || null;
  const classLabel = score.class ? `${score.class.code} – ${score.class.vi}` : "";
  let scoreLine = null;
  if (score.max) {
    scoreLine = `Kết quả chung: đạt ${fmtNumber(score.total)}/${fmtNumber(score.max)} điểm (${fmtPercent(score.percent)})`;
    if (classLabel) scoreLine += `, xếp loại ${classLabel}`;
    scoreLine += ".";
  }
  const leaderName = head.leader_name || (allTeam.find((m) => m.role === TEAM_ROLES.leader) || {}).name || "";
  return {
    header: {
      issuingBody: head.issuing_body || ["UBND TỈNH", "ĐOÀN KIỂM TRA CCHC"],
      number: `Số: ${head.document_number || DEFAULT_NUMBER}`,
      motto: ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"],
      placeDate: `${head.place || nfc(inspection.unit.name)}, ${dateLong(inspection.scheduled_on)}`,
    },
    title: "BIÊN BẢN",
    summary: `Kiểm tra công tác cải cách hành chính năm ${year} tại ${unitName}`,
    basis: head.legal_basis || (inspection.trip && inspection.trip.plan_number ? [`Căn cứ Kế hoạch số ${inspection.trip.plan_number};`] : []),
    timePlace: `Hôm nay, vào hồi ${fmtMeetingTime(closing.meeting_start)} ${dateLong(inspection.scheduled_on)}, tại trụ sở ${unitName}, `
      + `${teamName} tiến hành kiểm tra công tác cải cách hành chính năm ${year} tại ${unitName} như sau:`,
    unitName,
    team: team.map((m) => `- ${personLine(m)}`),
    representativesHeading: `2. Đại diện đơn vị được kiểm tra (${unitName}):`,
    representatives: representatives.length ? representatives.map((p) => `- ${personLine(p)}`) : [`- ${DOTS}`],
    sections: minutesSections(checklist, data.observations, evaluation, Boolean(head.list_unassessed)),
    score: scoreLine,
    figures: { total: score.total, max: score.max, percent: score.percent, class: classLabel },
    remark: assessmentRemark(score, head.approval_reason),
    chart: score.sections.filter((s) => !s.skipped && s.max).map((s) => ({ label: s.code, points: s.points || 0, max: s.max })),
    strengths: bullets(closing.findings.filter((f) => f.kind === "strength")),
    weaknesses: bullets(closing.findings.filter((f) => f.kind === "weakness")),
    recommendationsLead: `Đoàn kiểm tra đề nghị ${unitName}:`,
    recommendations: recommendationLines(closing.recommendations, reportDue, head.report_to || "Sở Nội vụ"),
    comments: linesOf(closing.unit_comments),
    closingText: CLOSING_ONE.replace("{end}", fmtMeetingTime(closing.meeting_end)),
    signatures: {
      unit: { heading: ["ĐẠI DIỆN ĐƠN VỊ ĐƯỢC KIỂM TRA", ...(position ? [position.toUpperCase()] : [])], name: first ? first.name : "" },
      leader: { heading: ["TRƯỞNG ĐOÀN KIỂM TRA"], name: leaderName },
    },
    recipients: (head.recipients || []).map((line, n, all) => `- ${line.replace(/[ ;.]+$/, "")}${n + 1 < all.length ? ";" : "."}`),
    approved: ["approved", "signed"].includes(inspection.state),
    revision: closing.minutes_revision ?? null,
  };
}

function bullets(findings) {
  const lines = findings.flatMap((f) => linesOf(f.text));
  return lines.length ? lines.map((line) => `- ${line}`) : [`- ${DOTS}`];
}

/** A criterion's points cell: "2/2", "–/2", "" without points. */
export function pointsCell(row) {
  if (!row.max_points) return "";
  return `${row.points !== null ? fmtNumber(row.points) : "–"}/${fmtNumber(row.max_points)}`;
}

/** A count's value cell: "1.081 hồ sơ", "chưa nhập". */
export function countCell(row) {
  return row.value === null || row.value === undefined ? "chưa nhập" : `${fmtNumber(row.value)} ${nfc(row.unit)}`.trim();
}

/** A rate's cells: [value, target, verdict]. */
export function rateCells(rate) {
  let value;
  if (rate.value !== null && rate.value !== undefined) {
    value = fmtPercent(rate.value);
    if (rate.numerator !== null && rate.numerator !== undefined && rate.denominator !== null && rate.denominator !== undefined) {
      value += ` (${fmtNumber(rate.numerator)}/${fmtNumber(rate.denominator)})`;
    }
  } else {
    value = { no_cases: "không phát sinh", na: "không áp dụng" }[rate.status] || "chưa đủ số liệu";
  }
  const target = rate.target === null || rate.target === undefined ? "" : `≥ ${fmtPercent(rate.target)}`;
  const verdict = rate.met === true ? "Đạt" : rate.met === false ? "Chưa đạt" : (rate.target !== null && rate.target !== undefined ? "–" : "theo dõi");
  return [value, target, verdict];
}

/** The line of the criteria left without a result in a section ("" when none). */
export function unassessedLine(section) {
  const codes = section.unassessed;
  if (!codes.length) return "";
  return section.skipped ? `- Lĩnh vực không đánh giá trong đợt kiểm tra (${codes.length} tiêu chí).`
    : `- Chưa đánh giá ${codes.length} tiêu chí: ${codes.join(", ")}.`;
}
