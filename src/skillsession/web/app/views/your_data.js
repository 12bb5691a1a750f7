// Your data, on the profile page: download everything the service holds about you, or delete
// the account (with the password, or a tick where Cognito keeps the accounts).

import { call, get } from "../api.js";
import { h } from "../dom.js";
import { busy, field, formError, showError } from "../forms.js";
import { app, endSession } from "../shell.js";

export function yourData() {
  const download = h("button", { type: "button", class: "secondary" }, "Download my data");
  const downloadError = formError();
  download.addEventListener("click", () => busy(download, null, async () => {
    downloadError.replaceChildren();
    try {
      const data = await get("/account/export");
      const blob = new Blob([JSON.stringify(data, null, 2)], { type: "application/json" });
      const url = URL.createObjectURL(blob);
      const link = h("a", { href: url, download: "skillsession-data.json", hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (err) {
      if (!err.expired) downloadError.append(h("p", {}, err.message));
    }
  }));

  // Embedded accounts: the password proves it is you. Where Cognito keeps the accounts the API
  // takes the token alone (it checks no password), so the person ticks a box instead of typing
  // a password nothing would check. Which one: /health names the accounts backend.
  const remove = h("button", { type: "submit", class: "danger", disabled: true }, "Delete account");
  const password = field("Your password", "password", { type: "password", autocomplete: "current-password", required: true });
  const tick = h("input", { type: "checkbox", id: "delete-confirm", name: "confirm", "aria-describedby": "delete-confirm-error" });
  const confirm = h("div", { class: "field", "data-field": "confirm", hidden: true },
    h("label", { class: "choice", for: "delete-confirm" }, tick, "Yes, delete my account"),
    h("p", { class: "field-error", id: "delete-confirm-error" }));
  const form = h("form", { novalidate: true, class: "delete-account", "aria-labelledby": "delete-title" },
    h("h3", { id: "delete-title" }, "Delete your account"),
    h("p", {}, "Your profile, photo, hours and e-mail subscription are deleted. Pending requests "
      + "are withdrawn and booked sessions cancelled; the other person is told. Past sessions "
      + "stay in the other person's list, under \"Deleted user\". This cannot be undone."),
    password,
    confirm,
    formError(),
    h("div", { class: "actions" }, remove),
  );
  let tokenOnly = false;
  call("GET", "/health", { auth: false }).then((health) => {
    tokenOnly = health?.backends?.auth === "cognito";
  }, () => {}).finally(() => {
    if (tokenOnly) {
      password.remove();
      confirm.hidden = false;
    }
    remove.disabled = false;
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (tokenOnly && !tick.checked) {
      return showError(form, { code: "confirm_needed", message: "Tick the box to confirm.", details: { confirm: "Tick the box to confirm." } });
    }
    const body = tokenOnly ? {} : { password: new FormData(form).get("password") };
    busy(remove, form, async () => {
      await call("DELETE", "/account", { body });
      endSession("Your account is deleted.");
      app.navigate("#/login");
    });
  });

  return h("section", { "aria-labelledby": "data-title" },
    h("h2", { id: "data-title" }, "Your data"),
    h("p", {}, "Everything SkillSession holds about you, as a JSON file."),
    downloadError,
    h("div", { class: "actions" }, download),
    form,
  );
}
