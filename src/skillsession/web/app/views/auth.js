// Log in, sign up (with the mailed code).

import { post, session } from "../api.js";
import { h, replace } from "../dom.js";
import { busy, field, formError, values } from "../forms.js";
import { afterLogin, app } from "../shell.js";

let pending = null; // a sign-up waiting for its code: { email, password }

async function logIn(email, password) {
  const token = await post("/auth/login", { email, password }, { auth: false });
  session.save(token.access_token, token.expires_in, email);
  await app.reloadProfile();
  afterLogin();
}

export function login(page, { notice, query }) {
  const error = formError();
  const submit = h("button", { type: "submit", class: "primary" }, "Log in");
  const form = h("form", { novalidate: true, "aria-labelledby": "login-title" },
    field("Email", "email", { type: "email", autocomplete: "username", required: true, value: query.get("email") || pending?.email || "" }),
    field("Password", "password", { type: "password", autocomplete: "current-password", required: true }),
    error,
    h("div", { class: "actions" }, submit),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const { email, password } = values(form);
    busy(submit, form, async () => {
      try {
        await logIn(email.trim(), password);
      } catch (err) {
        if (err.code === "account_unconfirmed" || (err.status === 403 && /confirm/i.test(err.message))) {
          pending = { email: email.trim(), password };
          err.message += " Enter the code we mailed you on the sign-up page.";
          error.append(h("p", {}, h("a", { href: "#/signup?step=code" }, "Enter your code")));
        }
        throw err;
      }
    });
  });
  replace(page,
    h("div", { class: "narrow" },
      h("h1", { id: "login-title" }, "Log in"),
      notice ? h("p", { class: "notice", role: "status" }, notice) : null,
      form,
      h("p", {}, "New to SkillSession? ", h("a", { href: "#/signup" }, "Create an account")),
    ),
  );
}

export function signup(page, { query }) {
  const box = h("div", { class: "narrow" });
  replace(page, box);
  if (query.get("step") === "code" && pending) codeStep(box);
  else accountStep(box);
}

function accountStep(box) {
  const submit = h("button", { type: "submit", class: "primary" }, "Sign up");
  const form = h("form", { novalidate: true, "aria-labelledby": "signup-title" },
    field("Email", "email", { type: "email", autocomplete: "email", required: true, value: pending?.email || "" }),
    field("Password", "password", { type: "password", autocomplete: "new-password", required: true, minlength: 10, hint: "At least 10 characters." }),
    formError(),
    h("div", { class: "actions" }, submit),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const { email, password } = values(form);
    busy(submit, form, async () => {
      await post("/auth/signup", { email: email.trim(), password }, { auth: false });
      pending = { email: email.trim(), password };
      codeStep(box);
    });
  });
  replace(box,
    h("h1", { id: "signup-title" }, "Sign up"),
    h("p", {}, "Students find tutors and book sessions; tutors publish the hours they teach."),
    form,
    h("p", {}, "Already have an account? ", h("a", { href: "#/login" }, "Log in instead")),
  );
}

function codeStep(box) {
  const submit = h("button", { type: "submit", class: "primary" }, "Confirm");
  const status = h("p", { role: "status" });
  const resend = h("button", { type: "button", class: "secondary" }, "Send a new code");
  const form = h("form", { novalidate: true, "aria-labelledby": "code-title" },
    field("Code", "code", { inputmode: "numeric", autocomplete: "one-time-code", pattern: "[0-9]{6}", maxlength: 6, required: true, hint: "The 6 digits from the e-mail." }),
    formError(),
    h("div", { class: "actions" }, submit, resend),
    status,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, form, async () => {
      await post("/auth/confirm", { email: pending.email, code: values(form).code.trim() }, { auth: false });
      const { email, password } = pending;
      pending = null;
      await logIn(email, password);
    });
  });
  resend.addEventListener("click", () => busy(resend, form, async () => {
    await post("/auth/resend-code", { email: pending.email }, { auth: false });
    status.textContent = `A new code is on its way to ${pending.email}.`;
  }));
  replace(box,
    h("h1", { id: "code-title" }, "Confirm your e-mail"),
    h("p", {}, "We sent a 6-digit code to ", h("strong", {}, pending.email), ". It is valid for 24 hours."),
    form,
  );
  form.querySelector("input").focus();
}
