// The marks under a card: not yet sent, refused by the server, kept for the leader after
// approval, and in conflict — with who disagrees, for the proposer and for the inspector whose
// value was kept alike.

import { attentionKind } from "../../outbox.js";
import { t } from "../../i18n.js";
import { h } from "../dom.js";

/** A field's value in words ("Không đạt", "12"); "—" for none. */
function valueWords(field, value) {
  if (value === null || value === undefined || value === "") return "—";
  if (field === "result") return t(`result.${value}`, {}, String(value));
  return String(value);
}

/** Who a user id is on the team (a name), or "#id". */
function nameOf(team, id) {
  const member = (team || []).find((m) => m.user_id === id);
  return member ? member.full_name : `#${id}`;
}

/** One open conflict in words, from the point of view of `me`. */
function disagreement(conflict, { me, team }) {
  const field = t(`field.${conflict.field}`, {}, conflict.field);
  const current = valueWords(conflict.field, conflict.current.value);
  const incoming = valueWords(conflict.field, conflict.incoming.value);
  const words = conflict.incoming.by === me
    ? t("item.conflict_mine", { field, value: incoming, name: nameOf(team, conflict.current.by), current })
    : conflict.current.by === me
      ? t("item.conflict_kept", { field, value: incoming, name: nameOf(team, conflict.incoming.by), current })
      : t("item.conflict_team", { field, current, incoming, kept: nameOf(team, conflict.current.by),
        proposer: nameOf(team, conflict.incoming.by) });
  const note = (conflict.incoming.with || {}).note;
  return h("p", { class: "flag flag-conflict", dataset: { field: conflict.field } }, words,
    note ? h("span", { class: "flag-held", text: ` ${t("item.conflict_note", { note })}` }) : null);
}

/** The flag elements for a card state {unsent, attention, disagreements, me, team}. */
export function flagList({ unsent, attention, disagreements = [], me = null, team = [] }) {
  const flags = [];
  if (unsent) flags.push(h("span", { class: "flag flag-unsent", text: t("item.unsent") }));
  for (const conflict of disagreements) flags.push(disagreement(conflict, { me, team }));
  for (const entry of attention || []) {
    const kind = attentionKind(entry);
    if (kind === "conflict") {
      // What the server said about the item says it better, once it is known.
      if (!disagreements.length) flags.push(h("p", { class: "flag flag-conflict", text: t("item.conflict") }));
      if (entry.folded > 0) flags.push(h("p", { class: "flag flag-folded", text: t("conflict.folded", { n: entry.folded }) }));
    } else if (kind === "late") {
      flags.push(h("p", { class: "flag flag-late", text: t("item.late") }));
    } else {
      flags.push(h("p", { class: `flag flag-${entry.kind}`, text: t("item.rejected", { message: entry.message || entry.reason || "" }) }));
    }
  }
  return flags;
}
