// Your data, on the profile page: download everything the service holds about you, or delete
// the account (with the password).

import { call, get } from "../api.js";
import { h } from "../dom.js";
import { busy, field, formError } from "../forms.js";
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

  const remove = h("button", { type: "submit", class: "danger" }, "Delete account");
  const form = h("form", { novalidate: true, class: "delete-account", "aria-labelledby": "delete-title" },
    h("h3", { id: "delete-title" }, "Delete your account"),
    h("p", {}, "Your profile, photo, hours and e-mail subscription are deleted. Pending requests "
      + "are withdrawn and booked sessions cancelled; the other person is told. Past sessions "
      + "stay in the other person's list, under \"Deleted user\". This cannot be undone."),
    field("Your password", "password", { type: "password", autocomplete: "current-password", required: true }),
    formError(),
    h("div", { class: "actions" }, remove),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const password = new FormData(form).get("password");
    busy(remove, form, async () => {
      await call("DELETE", "/account", { body: { password } });
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
