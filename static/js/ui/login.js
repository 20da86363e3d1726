// Sign-in: once, online. Also used to sign in again after the session expired, in which case
// the unsent work on the device is kept and only the same person may continue it; and after the
// server ended or deactivated an account, in which case that person's unsent work is locked on
// the device: only they get it back (by signing in again, or by exporting it with their password).

import { ApiError, NetworkError, login } from "../api.js";
import { t } from "../i18n.js";
import {
  clearUserData, dismissLockNotice, exportLocked, getSession, lockNotice, lockedVerifier, lockedWork,
  pendingCounts, removeLocked, saveSession, unlockWork, updateSession,
} from "../store.js";
import { checkVerifier, makeVerifier } from "../verifier.js";
import { download, fmtTime, h } from "./dom.js";

/** Render the sign-in form into `root`; `onSignedIn(session)` runs after success. */
export async function renderLogin(root, { onSignedIn, onCancel = null }) {
  const previous = await getSession();
  const counts = await pendingCounts();
  const unsent = counts.ops + counts.photos + counts.rejected;
  const locked = await lockedWork();
  const notice = await lockNotice();
  const message = h("p", { class: "form-error", attrs: { role: "alert" }, hidden: true });
  const username = h("input", {
    name: "username", autocomplete: "username", required: true, autocapitalize: "none",
    spellcheck: false, value: previous && previous.user ? previous.user.username : "",
  });
  const password = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const submit = h("button", { type: "submit", class: "primary big", text: t("login.submit") });

  async function onSubmit(event) {
    event.preventDefault();
    message.hidden = true;
    const name = username.value.trim();
    if (previous && previous.user && unsent && name.toLowerCase() !== previous.user.username.toLowerCase()) {
      // Unsent work belongs to the person who did it; it must not go out under another name.
      show(t("login.other_user", { name: previous.user.full_name || previous.user.username }));
      return;
    }
    submit.disabled = true;
    try {
      const typed = password.value;
      const answer = await login(name, typed);
      if (previous && previous.user && unsent && answer.user.id !== previous.user.id) {
        show(t("login.other_user", { name: previous.user.full_name || previous.user.username }));
        return;
      }
      if (previous && previous.user && answer.user.id !== previous.user.id) {
        // A shared tablet: the next person must not see the previous person's inspections.
        await clearUserData();
      }
      // Work locked when the server ended this person's account comes back to them only.
      await unlockWork(answer.user.username);
      await dismissLockNotice();
      const session = { user: answer.user, csrf_token: answer.csrf_token, expired: false,
        signed_in_at: new Date().toISOString() };
      await saveSession(session);
      password.value = "";
      // The offline password check for locked work (verifier.js) is slow on purpose: not awaited.
      makeVerifier(typed).then((verifier) => updateSession(answer.user.username, { verifier }))
        .catch((err) => console.error(err));
      await onSignedIn(session);
    } catch (err) {
      if (err instanceof NetworkError) show(t("login.offline"));
      else if (err instanceof ApiError && err.status === 401) show(err.message || t("login.wrong"));
      else if (err instanceof ApiError) show(err.message || t("login.failed"));
      else { show(t("login.failed")); console.error(err); }
    } finally {
      submit.disabled = false;
    }
  }

  function show(text) {
    message.textContent = text;
    message.hidden = false;
  }

  const expired = previous && previous.expired;
  root.replaceChildren(
    notice || locked.length ? renderLocked(notice, locked, () => renderLogin(root, { onSignedIn, onCancel })) : "",
    h("section", { class: "card login" },
      h("h1", { text: expired ? t("login.again_title") : t("login.title") }),
      h("p", { class: "lead", text: expired ? t("login.again_lead") : t("login.lead") }),
      !navigator.onLine && h("p", { class: "notice", text: t("login.need_network") }),
      h("form", { on: { submit: onSubmit } },
        h("label", {}, t("login.username"), username),
        h("label", {}, t("login.password"), password),
        message,
        h("div", { class: "actions" }, submit,
          onCancel && h("button", { type: "button", class: "big", text: t("login.later"), on: { click: onCancel } })),
      ),
    ));
  (username.value ? password : username).focus();
}

/**
 * What the server's ending of an account left on this device: why the data was wiped, and each
 * person's locked unsent work (counts and units, never the content) with an export that needs
 * that person's password, checked on the device.
 */
function renderLocked(notice, locked, rerender) {
  const who = (user) => (user ? `${user.full_name || user.username} (${user.username})` : "");
  const lines = [];
  if (notice) {
    lines.push(h("p", { class: "lead", id: "lock-reason",
      text: t(notice.reason === "account_deactivated" ? "locked.deactivated" : "locked.session_ended", { name: who(notice.user) }) }));
    lines.push(h("p", { text: notice.kept.ops || notice.kept.photos || notice.kept.rejected
      ? t("locked.wiped_but_kept") : t("locked.wiped_all") }));
  }
  for (const work of locked) {
    const status = h("p", { class: "form-error", attrs: { role: "alert" }, hidden: true });
    const secret = h("input", { type: "password", name: `unlock-${work.username}`, autocomplete: "current-password",
      attrs: { "aria-label": t("locked.password_of", { name: who(work.user) }) } });
    const remove = h("button", { type: "button", class: "big", text: t("locked.remove"), hidden: !work.exported_at,
      on: { click: async () => { if (await removeLocked(work.username)) await rerender(); } } });
    const exported = h("p", { class: "meta", text: work.exported_at ? t("locked.exported_at", { time: fmtTime(work.exported_at) }) : "" });
    async function onExport(event) {
      event.preventDefault();
      status.hidden = true;
      if (!(await checkVerifier(await lockedVerifier(work.username), secret.value))) {
        status.textContent = t("locked.wrong_password");
        status.hidden = false;
        return;
      }
      secret.value = "";
      const data = await exportLocked(work.username);
      download(`cchc-chua-gui-${work.username}-${data.exported_at.replace(/[:.]/g, "-")}.json`, JSON.stringify(data, null, 2));
      exported.textContent = t("locked.exported_at", { time: fmtTime(data.exported_at) });
      remove.hidden = false;
    }
    lines.push(h("div", { class: "locked-work", dataset: { owner: work.username } },
      h("p", {}, h("strong", { text: t("locked.kept", { name: who(work.user), ops: work.kept.ops, photos: work.kept.photos, rejected: work.kept.rejected }) })),
      work.units.length ? h("p", { class: "meta", text: t("locked.units", { units: work.units.join(", ") }) }) : null,
      h("p", { text: t("locked.how", { name: work.user.full_name || work.user.username }) }),
      work.can_export
        ? h("form", { class: "unlock-export", on: { submit: onExport } },
          h("label", {}, t("locked.password_of", { name: who(work.user) }), secret), status,
          h("div", { class: "actions" }, h("button", { type: "submit", class: "big", text: t("locked.export") }), remove))
        : h("p", { class: "meta", text: t("locked.no_verifier") }),
      exported));
  }
  return h("section", { class: "card locked", id: "locked" }, h("h1", { text: t("locked.title") }), lines);
}
