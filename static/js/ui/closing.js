// The closing meeting (#/i/<id>/closing): findings, recommendations from the tablet's
// suggestions, meeting times, who attended, the unit's comments, and the leader's approval —
// offline. The leader and the secretary edit (closing.can_edit), others read. Every change is a
// closing op in the outbox (store.queueClosingOp); what is shown is the server's closing with
// the pending ops on top (closing.js), so it survives a reload and a closed tab.

import {
  APPROVE_TYPE, effectiveClosing, findingsOf, nextPosition, openSuggestions, parseTime, reorder,
} from "../closing.js";
import { compileRules, countValues, failingChecks } from "../checks.js";
import { loc, t } from "../i18n.js";
import { dismissAttention, newId } from "../outbox.js";
import { evaluateScore, suggestRecommendations } from "../scoring.js";
import { loadInspection, queueApproval, queueClosingOp } from "../store.js";
import { fmtDate, h } from "./dom.js";

const TYPING_PAUSE = 400; // ms of quiet before typed text becomes an op (merged until sent)

/** The closing screen of inspection `id`; returns a controller {id, onData, destroy} or null. */
export async function renderClosing(root, ctx, { id }) {
  let data = await loadInspection(id);
  if (!data || !data.checklist) return missing(root);
  const timers = new Map(); // input id → {timer, save}
  let approvalOpen = false;
  // Rows added but still empty: no op until something is written (the server wants a text).
  const blank = { strength: [], weakness: [], recommendation: [] };

  const inflight = new Set(); // saves under way (a field left just before a button was pressed)
  const run = (save) => {
    const done = Promise.resolve(save()).finally(() => inflight.delete(done));
    inflight.add(done);
    return done;
  };
  const flushTyping = async () => {
    const waiting = [...timers.values()];
    timers.clear();
    for (const { timer, save } of waiting) { clearTimeout(timer); await run(save); }
    await Promise.all([...inflight]);
  };
  const onHide = () => { flushTyping(); };
  globalThis.addEventListener("pagehide", onHide);
  document.addEventListener("visibilitychange", onHide);

  /** Queue an op; redraw when the shape changed (a row added, moved or removed). */
  async function send(type, fields, redraw = false) {
    try {
      await queueClosingOp(id, type, fields);
    } catch (err) {
      console.error(err);
      ctx.showError(t("insp.save_failed"));
      return;
    }
    ctx.afterSave(id);
    if (redraw) { await reload(); return; }
    const fresh = await loadInspection(id); // typing: keep the inputs, recount what is unsent
    if (fresh) { data = fresh; showUnsent(); }
  }

  function showUnsent() {
    const line = document.getElementById("closing-sync");
    if (!line) return;
    const n = data.ops.length;
    line.className = n ? "unsent-badge" : "meta";
    line.textContent = n ? t("closing.unsent", { n }) : t("closing.all_sent");
  }

  /** Typed text is sent after a pause (and at once when the field is left or the page hides). */
  function typed(key, save) {
    const old = timers.get(key);
    if (old) clearTimeout(old.timer);
    const entry = { save, timer: setTimeout(() => { timers.delete(key); run(save); }, TYPING_PAUSE) };
    timers.set(key, entry);
  }
  function committed(key) {
    const entry = timers.get(key);
    if (!entry) return;
    clearTimeout(entry.timer);
    timers.delete(key);
    run(entry.save);
  }

  /** The closing as it is now (typing since the last drawing included). */
  function now() {
    return effectiveClosing(data.assignment.inspection.closing, data.ops);
  }

  async function reload() {
    await flushTyping();
    const fresh = await loadInspection(id);
    if (!fresh) { ctx.navigate("#/"); return; }
    data = fresh;
    draw();
  }

  function draw() {
    const focused = document.activeElement && root.contains(document.activeElement) ? document.activeElement.id : null;
    const selection = focused && "selectionStart" in document.activeElement
      ? [document.activeElement.selectionStart, document.activeElement.selectionEnd] : null;
    const inspection = data.assignment.inspection;
    const closing = effectiveClosing(inspection.closing, data.ops);
    const editable = Boolean(closing.can_edit) && !["approved", "signed"].includes(inspection.state);
    const unit = inspection.unit.full_name || inspection.unit.name;
    document.title = `${t("closing.title")} · ${unit}`;
    const pendingCount = data.ops.length;
    root.replaceChildren(...[
      h("nav", { class: "crumbs" }, h("a", { href: `#/i/${id}`, text: `← ${t("closing.back")}` })),
      h("section", { class: "card closing-head" },
        h("div", { class: "head-line" },
          h("h1", { text: `${t("closing.title")}: ${unit}` }),
          h("span", { class: `state state-${inspection.state}`, text: t(`state.${inspection.state}`) })),
        h("p", { class: "meta" }, t("list.date", { date: fmtDate(inspection.scheduled_on) })),
        h("p", {}, h("span", { id: "closing-sync", class: pendingCount ? "unsent-badge" : "meta",
          text: pendingCount ? t("closing.unsent", { n: pendingCount }) : t("closing.all_sent") })),
        editable ? null : h("p", { class: "notice", id: "closing-readonly",
          text: closing.can_edit ? t("closing.locked") : t("closing.read_only") }),
        h("div", { class: "actions" },
          h("a", { class: "button primary big", id: "open-minutes", href: `#/i/${id}/minutes`, text: t("closing.show_minutes") }))),
      refusals(),
      timesCard(closing, editable),
      attendeesCard(closing, editable, inspection),
      findingsCard(closing, editable, "strength"),
      findingsCard(closing, editable, "weakness"),
      recommendationsCard(closing, editable),
      commentsCard(closing, editable),
      approvalCard(closing, inspection),
    ].filter(Boolean));
    if (focused) {
      const el = document.getElementById(focused);
      if (el) {
        el.focus();
        if (selection && "setSelectionRange" in el) { try { el.setSelectionRange(...selection); } catch { /* type without selection */ } }
      }
    }
  }

  function refusals() {
    if (!data.closingAttention.length) return null;
    const dismiss = (entry) => h("button", { type: "button", class: "small", text: t("closing.dismiss"),
      on: { click: async () => { await dismissAttention(entry.id); ctx.afterSave(id); await reload(); } } });
    return h("section", { class: "card closing-refused", id: "closing-refused", attrs: { role: "alert" } },
      h("h2", { text: t("closing.refused_title", { n: data.closingAttention.length }) }),
      h("ul", {}, data.closingAttention.map((entry) => {
        if (entry.kind === "closing_conflict") {
          const kept = Object.entries(entry.current || {}).map(([name, value]) => t("closing.kept_value",
            { field: t(`closing.${name}`, {}, name), value: shown(value) }));
          return h("li", { class: "closing-conflict" },
            h("p", { class: "flag flag-conflict", text: `${opLabel(entry)}: ${t("closing.conflict")}` }),
            kept.length ? h("ul", {}, kept.map((line) => h("li", { text: line }))) : null, dismiss(entry));
        }
        const approval = entry.op && entry.op.type === APPROVE_TYPE;
        return h("li", { class: approval ? "approval-refused" : "" },
          h("p", { class: "flag flag-rejected", text: opLabel(entry) + ": " + (approval ? t("closing.approve_refused") : (entry.message || entry.reason || "")) }),
          (entry.errors || []).length ? h("ul", { class: "closing-errors" }, entry.errors.map((e) => h("li", { text: e }))) : null,
          approval ? dismiss(entry) : null);
      })),
      data.closingAttention.some((e) => e.kind === "rejected" && !(e.op && e.op.type === APPROVE_TYPE))
        ? h("p", { class: "hint" }, t("closing.refused_hint"), " ", h("a", { href: "#/device", text: t("status.device") })) : null);
  }

  function pendingFlag(isPending) {
    return isPending ? h("span", { class: "flag flag-unsent", text: t("item.unsent") }) : null;
  }

  function timesCard(closing, editable) {
    const timeInput = (name) => {
      const input = h("input", { id: `closing-${name}`, type: "time", value: closing[name] || "", disabled: !editable,
        on: { change: () => {
          const value = input.value ? parseTime(input.value) : null;
          const other = document.getElementById(name === "meeting_start" ? "closing-meeting_end" : "closing-meeting_start");
          const [start, end] = name === "meeting_start" ? [value, other.value] : [other.value, value];
          if ((input.value && !value) || (start && end && end <= start)) { input.classList.add("invalid"); return; }
          input.classList.remove("invalid");
          send("closing.set", { [name]: value }, true);
        } } });
      return h("label", { class: "closing-field" }, h("span", { text: t(`closing.${name}`) }), input,
        pendingFlag(closing.pending.fields.has(name)));
    };
    const due = h("input", { id: "closing-report_due", type: "date", value: closing.report_due || "", disabled: !editable,
      attrs: { min: data.assignment.inspection.scheduled_on },
      on: { change: () => send("closing.set", { report_due: due.value || null }, true) } });
    return h("section", { class: "card" },
      h("h2", { text: t("closing.times") }),
      h("div", { class: "closing-grid" }, timeInput("meeting_start"), timeInput("meeting_end"),
        h("label", { class: "closing-field" }, h("span", { text: t("closing.report_due") }), due,
          pendingFlag(closing.pending.fields.has("report_due")))));
  }

  function attendeesCard(closing, editable, inspection) {
    const team = inspection.team || [];
    const present = Array.isArray(closing.team_present) ? new Set(closing.team_present.map(Number)) : null;
    const members = team.map((m) => {
      const box = h("input", { type: "checkbox", id: `present-${m.user_id}`, checked: present ? present.has(Number(m.user_id)) : true,
        disabled: !editable, on: { change: () => {
          const ids = team.filter((x) => document.getElementById(`present-${x.user_id}`).checked).map((x) => x.user_id);
          send("closing.set", { team_present: ids }, true);
        } } });
      return h("label", { class: "check-row" }, box,
        // (no template literal inside another: the minifier drops the inner one's spaces)
        h("span", { text: m.full_name + (m.role ? ` (${t("role." + m.role)})` : "") + (m.position ? ` · ${m.position}` : "") }));
    });
    const officials = (closing.unit_officials || []).map((o) => ({ name: o.name || "", position: o.position || "" }));
    const saveOfficials = (redraw = false) => {
      const rows = officials.map((_, n) => ({
        name: document.getElementById(`official-name-${n}`).value.trim(),
        position: document.getElementById(`official-position-${n}`).value.trim(),
      }));
      // A position without a name is refused by the server: wait for the name.
      const nameless = rows.findIndex((row) => row.position && !row.name);
      rows.forEach((_, n) => document.getElementById(`official-name-${n}`).classList.toggle("invalid", n === nameless));
      if (nameless >= 0) return null;
      return send("closing.set", { unit_officials: rows }, redraw);
    };
    const officialRows = officials.map((o, n) => {
      const onInput = () => typed("officials", () => saveOfficials());
      return h("div", { class: "official-row" },
        h("input", { id: `official-name-${n}`, value: o.name, placeholder: t("closing.official_name"),
          attrs: { "aria-label": t("closing.official_name") }, disabled: !editable,
          on: { input: onInput, change: () => committed("officials") } }),
        h("input", { id: `official-position-${n}`, value: o.position, placeholder: t("closing.official_position"),
          attrs: { "aria-label": t("closing.official_position") }, disabled: !editable,
          on: { input: onInput, change: () => committed("officials") } }),
        editable ? h("button", { type: "button", class: "small", text: t("closing.remove"), attrs: { "aria-label": t("closing.remove_official", { n: n + 1 }) },
          on: { click: async () => {
            await flushTyping();
            const rows = officials.filter((_, k) => k !== n);
            send("closing.set", { unit_officials: rows }, true);
          } } }) : null);
    });
    return h("section", { class: "card" },
      h("h2", { text: t("closing.attendees") }),
      h("h3", { text: t("closing.team_present") }),
      h("div", { class: "check-list-team" }, members),
      pendingFlag(closing.pending.fields.has("team_present")),
      h("h3", { text: t("closing.unit_officials") }),
      officialRows.length ? officialRows : h("p", { class: "empty", text: t("closing.no_officials") }),
      pendingFlag(closing.pending.fields.has("unit_officials")),
      editable ? h("div", { class: "actions" }, h("button", { type: "button", id: "add-official", text: t("closing.add_official"),
        on: { click: async () => {
          await flushTyping();
          const rows = [...officials, { name: "", position: "" }];
          await send("closing.set", { unit_officials: rows }, true);
          const input = document.getElementById(`official-name-${rows.length - 1}`);
          if (input) input.focus();
        } } })) : null);
  }

  function rowTools(rows, row, type, editable, fieldsOf) {
    if (!editable) return null;
    const move = (delta) => async () => {
      await flushTyping();
      const fresh = now();
      const list = type === "finding" ? findingsOf(fresh, row.kind) : fresh.recommendations;
      if (blankRow(row.id)) return;
      for (const change of reorder(list, row.id, delta)) {
        const current = list.find((r) => r.id === change.id);
        await queueClosingOp(id, `${type}.set`, { ...fieldsOf(current), position: change.position });
      }
      ctx.afterSave(id);
      await reload();
    };
    return h("div", { class: "row-tools" },
      h("button", { type: "button", class: "small", text: "↑", attrs: { "aria-label": t("closing.up") }, on: { click: move(-1) } }),
      h("button", { type: "button", class: "small", text: "↓", attrs: { "aria-label": t("closing.down") }, on: { click: move(1) } }),
      h("button", { type: "button", class: "small danger", text: t("closing.remove"), on: { click: async () => {
        await flushTyping();
        if (blankRow(row.id)) {
          for (const list of Object.values(blank)) { const at = list.indexOf(row); if (at >= 0) list.splice(at, 1); }
          draw();
          return;
        }
        send(`${type}.delete`, { id: row.id }, true);
      } } }));
  }

  function findingFields(row) {
    return { id: row.id, kind: row.kind, text: row.text || "", position: row.position };
  }

  /** Send a row's text; an empty text is not sent (delete the row instead). */
  function sendText(area, type, fields) {
    const empty = !area.value.trim();
    area.classList.toggle("invalid", empty && !blankRow(fields.id));
    if (empty) return null;
    for (const list of Object.values(blank)) {
      const at = list.findIndex((row) => row.id === fields.id);
      if (at >= 0) list.splice(at, 1); // its first words: from now on it is an op
    }
    return send(type, fields);
  }
  function blankRow(rowId) {
    return Object.values(blank).some((list) => list.some((row) => row.id === rowId));
  }

  function findingsCard(closing, editable, kind) {
    const rows = [...findingsOf(closing, kind), ...blank[kind]];
    return h("section", { class: "card", id: `findings-${kind}` },
      h("h2", { text: t(kind === "strength" ? "closing.strengths" : "closing.weaknesses") }),
      rows.length ? h("ol", { class: "closing-rows" }, rows.map((row) => {
        const key = `finding-${row.id}`;
        const area = h("textarea", { id: key, value: row.text || "", disabled: !editable, rows: 2,
          attrs: { "aria-label": t(`closing.${kind}`) },
          on: { input: () => typed(key, () => sendText(area, "finding.set", { ...findingFields(row), text: area.value })),
            change: () => committed(key) } });
        return h("li", { class: "closing-row" }, area, h("div", { class: "row-foot" },
          pendingFlag(closing.pending.findings.has(row.id)), rowTools(rows, row, "finding", editable, findingFields)));
      })) : h("p", { class: "empty", text: t("closing.none_yet") }),
      editable ? h("div", { class: "actions" }, h("button", { type: "button", id: `add-${kind}`, text: t(`closing.add_${kind}`),
        on: { click: async () => {
          await flushTyping();
          const row = { id: newId(), kind, text: "", position: nextPosition([...now().findings, ...blank.strength, ...blank.weakness]) };
          blank[kind].push(row);
          draw();
          const area = document.getElementById(`finding-${row.id}`);
          if (area) area.focus();
        } } })) : null);
  }

  function recFields(row) {
    return { id: row.id, text: row.text || "", item_codes: row.item_codes || [], library_code: row.library_code || null,
      due_on: row.due_on || null, position: row.position };
  }

  function recommendationsCard(closing, editable) {
    const rows = [...closing.recommendations, ...blank.recommendation];
    const observations = data.observations;
    const failing = failingChecks(compileRules(data.checklist), countValues(data.checklist, observations));
    const unit = data.assignment.inspection.unit;
    const suggestions = openSuggestions(suggestRecommendations(data.checklist, observations, failing,
      { unit: { kind: unit.kind, level: unit.level } }), closing);
    return h("section", { class: "card", id: "recommendations" },
      h("h2", { text: t("closing.recommendations") }),
      rows.length ? h("ol", { class: "closing-rows" }, rows.map((row) => {
        const key = `rec-${row.id}`;
        const area = h("textarea", { id: key, value: row.text || "", disabled: !editable, rows: 2,
          attrs: { "aria-label": t("closing.recommendation") },
          on: { input: () => typed(key, () => sendText(area, "recommendation.set", { ...recFields(row), text: area.value })),
            change: () => committed(key) } });
        const due = h("input", { id: `rec-due-${row.id}`, type: "date", value: row.due_on || "", disabled: !editable,
          on: { change: async () => {
            await flushTyping();
            if (!area.value.trim()) { row.due_on = due.value || null; return; } // sent with its first words
            send("recommendation.set", { ...recFields(row), text: area.value, due_on: due.value || null }, true);
          } } });
        return h("li", { class: "closing-row" }, area,
          h("div", { class: "row-foot" },
            h("label", { class: "inline-due" }, h("span", { text: t("closing.due_on") }), due),
            row.item_codes && row.item_codes.length ? h("span", { class: "meta", text: row.item_codes.join(", ") }) : null,
            pendingFlag(closing.pending.recommendations.has(row.id)), rowTools(rows, row, "recommendation", editable, recFields)));
      })) : h("p", { class: "empty", text: t("closing.none_yet") }),
      editable && suggestions.length ? h("details", { class: "suggestions", open: !rows.length },
        h("summary", { text: t("closing.suggestions", { n: suggestions.length }) }),
        h("ul", {}, suggestions.map((s) => h("li", { class: "suggestion" },
          h("p", { text: loc(s, "text") }),
          h("p", { class: "meta", text: t("closing.because", { codes: s.because.join(", ") }) }),
          h("button", { type: "button", class: "small", text: t("closing.take"), dataset: { code: s.code },
            on: { click: async () => {
              await flushTyping();
              await send("recommendation.set", { id: newId(), text: s.text_vi, item_codes: s.because, library_code: s.code,
                due_on: null, position: nextPosition([...now().recommendations, ...blank.recommendation]) }, true);
            } } }))))) : null,
      editable ? h("div", { class: "actions" }, h("button", { type: "button", id: "add-recommendation", text: t("closing.add_recommendation"),
        on: { click: async () => {
          await flushTyping();
          const row = { id: newId(), text: "", item_codes: [], library_code: null, due_on: null,
            position: nextPosition([...now().recommendations, ...blank.recommendation]) };
          blank.recommendation.push(row);
          draw();
          const area = document.getElementById(`rec-${row.id}`);
          if (area) area.focus();
        } } })) : null);
  }

  function commentsCard(closing, editable) {
    const area = h("textarea", { id: "closing-unit_comments", value: closing.unit_comments || "", disabled: !editable, rows: 4,
      attrs: { "aria-label": t("closing.unit_comments") },
      on: { input: () => typed("comments", () => send("closing.set", { unit_comments: area.value })),
        change: () => committed("comments") } });
    return h("section", { class: "card" },
      h("h2", { text: t("closing.unit_comments") }),
      h("p", { class: "hint", text: t("closing.comments_hint") }),
      area, pendingFlag(closing.pending.fields.has("unit_comments")));
  }

  function approvalCard(closing, inspection) {
    if (!closing.can_approve) return null;
    const waiting = data.ops.find((op) => op.type === APPROVE_TYPE);
    if (["approved", "signed"].includes(inspection.state)) {
      return h("section", { class: "card", id: "approval" }, h("p", { class: "flag flag-ok", text: t("closing.approved") }));
    }
    if (waiting) {
      return h("section", { class: "card", id: "approval" },
        h("h2", { text: t("closing.approve_title") }),
        h("p", { class: "notice", id: "approval-waiting", text: t("closing.approve_waiting") }));
    }
    const unit = inspection.unit;
    const score = evaluateScore(data.checklist, data.observations, { unit: { kind: unit.kind, level: unit.level } }).score;
    const missingCodes = score.not_assessed;
    const confirm = h("input", { type: "checkbox", id: "approve-confirm" });
    const reason = h("textarea", { id: "approve-reason", rows: 2, attrs: { "aria-label": t("closing.approve_reason") } });
    const error = h("p", { class: "form-error", hidden: true, attrs: { role: "alert" } });
    const form = h("div", { class: "approve-form", hidden: !approvalOpen },
      missingCodes.length ? [
        h("p", { class: "notice", text: t("closing.approve_unanswered", { n: missingCodes.length, total: score.items, codes: missingCodes.join(", ") }) }),
        h("label", { class: "check-row" }, confirm, h("span", { text: t("closing.approve_confirm") })),
        h("label", {}, h("span", { text: t("closing.approve_reason") }), reason),
      ] : h("p", { text: t("closing.approve_all_assessed") }),
      error,
      h("div", { class: "actions" },
        h("button", { type: "button", class: "primary", id: "approve-send", text: t("closing.approve_send"), on: { click: async () => {
          if (missingCodes.length && (!confirm.checked || !reason.value.trim())) {
            error.textContent = t("closing.approve_need_reason");
            error.hidden = false;
            return;
          }
          await flushTyping();
          await queueApproval(id, { confirmUnanswered: missingCodes.length > 0, reason: reason.value.trim() });
          approvalOpen = false;
          ctx.afterSave(id);
          await reload();
        } } }),
        h("button", { type: "button", text: t("closing.cancel"), on: { click: () => { approvalOpen = false; draw(); } } })));
    return h("section", { class: "card", id: "approval" },
      h("h2", { text: t("closing.approve_title") }),
      h("p", { class: "hint", text: t("closing.approve_hint") }),
      h("button", { type: "button", class: "big", id: "approve-open", hidden: approvalOpen, text: t("closing.approve"),
        on: { click: () => { approvalOpen = true; draw(); } } }),
      form);
  }

  draw();
  return {
    id, view: "closing",
    async onData(detail) {
      if (!detail.all && !detail.inspections.has(id)) return;
      await reload();
    },
    destroy() {
      flushTyping();
      globalThis.removeEventListener("pagehide", onHide);
      document.removeEventListener("visibilitychange", onHide);
    },
  };
}

/** What a refused op was about, in words. */
function opLabel(entry) {
  const type = entry.op ? entry.op.type : "";
  return t("closing.op." + type, {}, type);
}

/** A kept closing value in words. */
function shown(value) {
  if (value === null || value === undefined || value === "") return "—";
  if (Array.isArray(value)) return value.map((v) => (v && typeof v === "object" ? [v.name, v.position].filter(Boolean).join(", ") : String(v))).join("; ");
  if (typeof value === "object") return value.text || JSON.stringify(value);
  return String(value);
}

function missing(root) {
  root.replaceChildren(h("section", { class: "card" },
    h("h1", { text: t("insp.missing_title") }), h("p", { text: t("insp.missing") }),
    h("a", { href: "#/", class: "button", text: t("insp.back") })));
  return null;
}
