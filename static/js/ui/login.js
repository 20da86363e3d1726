// Sign-in: once, online. Also used to sign in again after the session expired, in which case
// the unsent work on the device is kept and only the same person may continue it.

import { ApiError, NetworkError, login } from "../api.js";
import { t } from "../i18n.js";
import { clearUserData, getSession, pendingCounts, saveSession } from "../store.js";
import { h } from "./dom.js";

/** Render the sign-in form into `root`; `onSignedIn(session)` runs after success. */
export async function renderLogin(root, { onSignedIn, onCancel = null }) {
  const previous = await getSession();
  const counts = await pendingCounts();
  const unsent = counts.ops + counts.photos + counts.rejected;
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
      const answer = await login(name, password.value);
      if (previous && previous.user && unsent && answer.user.id !== previous.user.id) {
        show(t("login.other_user", { name: previous.user.full_name || previous.user.username }));
        return;
      }
      if (previous && previous.user && answer.user.id !== previous.user.id) {
        // A shared tablet: the next person must not see the previous person's inspections.
        await clearUserData();
      }
      const session = { user: answer.user, csrf_token: answer.csrf_token, expired: false,
        signed_in_at: new Date().toISOString() };
      await saveSession(session);
      password.value = "";
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
  root.replaceChildren(h("section", { class: "card login" },
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
