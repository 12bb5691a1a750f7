// Form fields with their labels and error slots; API errors shown next to what caused them.

import { h, uid } from "./dom.js";

// A labelled control. `name` is the API field it feeds (errors in `details` find it by it).
export function field(label, name, { type = "text", value, hint, options, rows, ...attrs } = {}) {
  const id = uid(name);
  const hintId = hint ? `${id}-hint` : null;
  const errorId = `${id}-error`;
  let control;
  const common = { id, name, "aria-describedby": [hintId, errorId].filter(Boolean).join(" "), ...attrs };
  if (options) {
    control = h("select", common, options.map(([v, text]) => h("option", { value: v, selected: String(v) === String(value ?? "") }, text)));
  } else if (type === "textarea") {
    control = h("textarea", { rows: rows || 3, ...common });
    if (value) control.value = value;
  } else {
    control = h("input", { type, ...common });
    if (value !== undefined && value !== null) control.value = value;
  }
  return h("div", { class: "field", "data-field": name },
    h("label", { for: id }, label),
    hint ? h("p", { class: "hint", id: hintId }, hint) : null,
    control,
    h("p", { class: "field-error", id: errorId }),
  );
}

export function formError() {
  return h("div", { class: "form-error", role: "alert", tabindex: "-1" });
}

export function clearErrors(form) {
  for (const el of form.querySelectorAll(".field-error, .form-error")) el.replaceChildren();
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
}

// Errors without field details that still belong to one field
const FIELD_OF = {
  invalid_code: "code", code_expired: "code", code_locked: "code",
  invalid_credentials: "password", weak_password: "password",
  wrong_password: ["current_password", "password"], // change password's field, else deletion's
  invalid_image: "photo", unsupported_image_type: "photo", image_too_large: "photo", payload_too_large: "photo",
  nonexistent_local_time: "start_time",
};

// Puts each `details` entry beside its field; what no field claims goes to the form's message.
// A detail that is a sentence (the request validator's "String should have at most ...") is
// shown as it is; a terse one ("<= start", "required") gives way to the error's message.
export function showError(form, err) {
  clearErrors(form);
  let details = Object.entries(err.details || {});
  const owner = [FIELD_OF[err.code] || []].flat().find((name) => form.querySelector(`[data-field="${CSS.escape(name)}"]`));
  if (!details.length && owner) details = [[owner, err.message]];
  const left = [];
  let first = null;
  for (const [key, text] of details) {
    // "windows[0].date" -> "date"; "skills.list[constrained-str][0]" -> "skills"
    const path = String(key).replace(/\[\d+\]$/, "");
    const box = [path.split(".").pop(), path.split(/[.[]/)[0]]
      .map((name) => form.querySelector(`[data-field="${CSS.escape(name)}"]`))
      .find(Boolean);
    const said = typeof text === "string" ? text : JSON.stringify(text);
    const message = /^[A-Z]/.test(said) ? said : err.message;
    if (box) {
      const slot = box.querySelector(".field-error");
      if (!slot.textContent) slot.textContent = message;
      const control = box.querySelector("input, select, textarea");
      control.setAttribute("aria-invalid", "true");
      first ||= control;
    } else {
      left.push(`${key}: ${said}`);
    }
  }
  const general = form.querySelector(".form-error");
  if (general && (left.length || !first)) {
    general.append(h("p", {}, err.message));
    if (left.length) general.append(h("ul", {}, left.map((t) => h("li", {}, t))));
  }
  (first || general)?.focus?.();
}

// Runs `work` with the button busy (disabled, marked) and shows its error in the form
export async function busy(button, form, work) {
  if (button.getAttribute("aria-disabled") === "true") return;
  button.setAttribute("aria-disabled", "true");
  button.classList.add("busy");
  if (form) clearErrors(form);
  try {
    return await work();
  } catch (err) {
    if (err.expired) return; // on the way to log in
    if (form) showError(form, err);
    else throw err;
  } finally {
    button.removeAttribute("aria-disabled");
    button.classList.remove("busy");
  }
}

export function values(form) {
  return Object.fromEntries(new FormData(form).entries());
}

// A "show more" button with its own error line: a failed load is told beside it, and the
// button stays, to try again. `load` hides the button when nothing is left.
export function moreButton(label, load) {
  const button = h("button", { type: "button", class: "secondary" }, label);
  const error = formError();
  button.addEventListener("click", () => busy(button, null, async () => {
    error.replaceChildren();
    try {
      await load();
    } catch (err) {
      if (!err.expired) error.append(h("p", {}, err.message)); // expired: on the way to log in
    }
  }));
  return { button, error };
}
