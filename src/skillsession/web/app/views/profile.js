// The caller's profile: role, fields, time zone, photo; e-mail notifications; the password.

import { call, get, mediaUrl, photoUrl, post, session } from "../api.js";
import { h, replace } from "../dom.js";
import { busy, clearErrors, field, formError, showError } from "../forms.js";
import { app } from "../shell.js";
import { viewerZone, zones } from "../time.js";
import { yourData } from "./your_data.js";

const list = (text) => text.split(",").map((s) => s.trim()).filter(Boolean);

export async function profile(page) {
  const mine = app.profile;
  const role = mine?.role || null; // a new profile: the person chooses
  const v = (name) => mine?.[name] ?? "";
  const zone = mine?.time_zone || viewerZone;

  const roleField = h("fieldset", { class: "field roles", "data-field": "role" },
    h("legend", {}, "I am a"),
    ...["student", "tutor"].map((r) => h("label", { class: "choice" },
      h("input", { type: "radio", name: "role", value: r, checked: r === role, disabled: Boolean(mine) }),
      r === "student" ? "Student" : "Tutor")),
    mine ? h("p", { class: "hint" }, "The role is fixed once the profile exists.") : null,
    h("p", { class: "field-error" }),
  );
  const student = h("fieldset", { class: "group" }, h("legend", {}, "Studies"),
    field("University", "university_name", { value: v("university_name"), autocomplete: "organization" }),
    field("Program", "program_name", { value: v("program_name") }),
    field("Enrolled courses", "enrolled_courses", { value: (mine?.enrolled_courses || []).join(", "), hint: "Separate courses with commas." }),
    h("div", { class: "row" },
      field("Start year", "start_year", { type: "number", inputmode: "numeric", min: 1900, max: 2200, value: v("start_year") }),
      field("End year", "end_year", { type: "number", inputmode: "numeric", min: 1900, max: 2200, value: v("end_year") })),
  );
  const tutor = h("fieldset", { class: "group" }, h("legend", {}, "Teaching"),
    field("Teaching skills", "teaching_skills", { value: (mine?.teaching_skills || []).join(", "), hint: "Separate skills with commas, e.g. Python, Linear algebra." }),
    field("Years of experience", "experience_years", { type: "number", inputmode: "numeric", min: 0, max: 80, value: v("experience_years") }),
    field("About your teaching", "experience_description", { type: "textarea", rows: 4, value: v("experience_description") }),
  );
  const showRole = () => {
    const chosen = roleField.querySelector("input:checked")?.value;
    student.hidden = chosen !== "student";
    tutor.hidden = chosen !== "tutor";
  };
  roleField.addEventListener("change", showRole);
  const zoneOptions = zones().map((z) => [z, z]);
  const save = h("button", { type: "submit", class: "primary" }, "Save");
  const saved = h("p", { role: "status", class: "saved" });
  const form = h("form", { novalidate: true, "aria-labelledby": "profile-title" },
    roleField,
    h("div", { class: "row" },
      field("First name", "first_name", { value: v("first_name"), autocomplete: "given-name", required: true }),
      field("Last name", "last_name", { value: v("last_name"), autocomplete: "family-name" })),
    field("Mobile number", "mobile_number", { type: "tel", value: v("mobile_number"), autocomplete: "tel", hint: "Shown only to the other party of an accepted booking." }),
    field("Time zone", "time_zone", { options: zoneOptions, value: zone,
      hint: zone === viewerZone ? "The zone this device is in." : `This device is in ${viewerZone}.` }),
    student, tutor,
    formError(),
    h("div", { class: "actions" }, save),
    saved,
  );
  showRole();
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const chosen = mine?.role || data.get("role");
    const body = { role: chosen || undefined };
    for (const name of ["first_name", "last_name", "mobile_number", "time_zone"]) body[name] = data.get(name).trim() || null;
    if (!chosen) {
      // nothing else to send: the API says what is missing
    } else if (chosen === "student") {
      body.university_name = data.get("university_name").trim() || null;
      body.program_name = data.get("program_name").trim() || null;
      body.enrolled_courses = list(data.get("enrolled_courses"));
      for (const name of ["start_year", "end_year"]) body[name] = data.get(name) ? Number(data.get(name)) : null;
    } else {
      body.teaching_skills = list(data.get("teaching_skills"));
      body.experience_years = data.get("experience_years") ? Number(data.get("experience_years")) : null;
      body.experience_description = data.get("experience_description").trim() || null;
    }
    saved.textContent = "";
    busy(save, form, async () => {
      const created = !mine;
      app.profile = (await post("/save-user-details", body)).profile;
      if (created) {
        app.notice = "Your profile is saved. Add a photo if you like.";
        app.navigate("#/profile");
      } else {
        saved.textContent = "Saved.";
      }
    });
  });

  replace(page,
    h("h1", { id: "profile-title" }, mine ? "Profile" : "Create your profile"),
    mine ? h("p", {}, mine.email) : h("p", {}, "Tell others who you are. Students find tutors; tutors publish the hours they teach."),
    mine
      ? h("div", { class: "profile-columns" },
        form,
        h("div", { class: "profile-side" }, photoSection(mine), notifications(mine), passwordSection(), yourData()))
      : form,
  );
}

// Changing the password refuses every token issued before (this one too); the answer carries
// a fresh token, which keeps this browser signed in.
function passwordSection() {
  const submit = h("button", { type: "submit", class: "secondary" }, "Change password");
  const done = h("p", { role: "status", class: "saved" });
  const form = h("form", { novalidate: true, "aria-labelledby": "password-title" },
    field("Current password", "current_password", { type: "password", autocomplete: "current-password", required: true }),
    field("New password", "new_password", { type: "password", autocomplete: "new-password", required: true, minlength: 10, hint: "At least 10 characters." }),
    formError(),
    h("div", { class: "actions" }, submit),
    done,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    done.textContent = "";
    busy(submit, form, async () => {
      const token = await post("/auth/change-password", { current_password: data.get("current_password"), new_password: data.get("new_password") });
      session.save(token.access_token, token.expires_in, session.get()?.email);
      form.reset();
      done.textContent = "Your password is changed.";
    });
  });
  return h("section", { "aria-labelledby": "password-title" }, h("h2", { id: "password-title" }, "Password"), form);
}

function photoSection(mine) {
  const preview = h("img", { class: "photo large", alt: "", hidden: true });
  const note = h("p", { class: "hint", id: "photo-note" }, "JPEG, PNG or WebP, at most 5 MB.");
  const upload = h("button", { type: "submit", class: "primary", disabled: true }, "Upload photo");
  const done = h("p", { role: "status" });
  const input = h("input", { type: "file", id: "photo", name: "photo", accept: "image/jpeg,image/png,image/webp", "aria-describedby": "photo-note photo-error" });
  const form = h("form", { novalidate: true, class: "photo-form" },
    h("div", { class: "field", "data-field": "photo" },
      h("label", { for: "photo" }, "Photo"), note, input, h("p", { class: "field-error", id: "photo-error" })),
    preview,
    formError(),
    h("div", { class: "actions" }, upload),
    done,
  );
  if (mine.has_profile_image) {
    photoUrl(mine.user_id).then((url) => {
      if (url && !input.files.length) {
        preview.src = url;
        preview.alt = "Your current photo";
        preview.hidden = false;
      }
    });
  }
  let objectUrl = null;
  input.addEventListener("change", () => {
    done.textContent = "";
    const file = input.files[0];
    if (objectUrl) URL.revokeObjectURL(objectUrl);
    objectUrl = null;
    upload.disabled = !file;
    if (!file) return;
    if (!["image/jpeg", "image/png", "image/webp"].includes(file.type)) {
      upload.disabled = true;
      return showError(form, { code: "unsupported_image_type", message: "Choose a JPEG, PNG or WebP image." });
    }
    if (file.size > 5 * 1024 * 1024) {
      upload.disabled = true;
      return showError(form, { code: "image_too_large", message: "The image is larger than 5 MB." });
    }
    clearErrors(form);
    objectUrl = URL.createObjectURL(file);
    preview.src = objectUrl;
    preview.alt = "Preview of your new photo";
    preview.hidden = false;
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const file = input.files[0];
    if (!file) return;
    busy(upload, form, async () => {
      const answer = await call("PUT", "/save-profile-img", { raw: file });
      preview.src = mediaUrl(answer.url);
      preview.alt = "Your current photo";
      app.profile = { ...app.profile, has_profile_image: true };
      input.value = "";
      upload.disabled = true;
      done.textContent = "Photo saved.";
    });
  });
  return h("section", { "aria-labelledby": "photo-title" }, h("h2", { id: "photo-title" }, "Profile photo"), form);
}

// The subscription as the API knows it (another device, or the mail's unsubscribe link, may
// have changed it); GET /subscribe-email-notifications subscribes, so it is only the action.
const MAIL_STATES = {
  none: ["You get booking news here in the app. E-mails about requests, answers and cancellations are off.", "Get booking e-mails"],
  unsubscribed: ["You stopped booking e-mails. Booking news still shows here in the app.", "Get booking e-mails"],
  pending_confirmation: ["Waiting for you to confirm: check your mail for the link we sent to {email}.", "Send the link again"],
  confirmed: ["You get booking e-mails at {email}. Each e-mail has a link to stop them.", null],
};

function notifications(mine) {
  const state = h("p", { role: "status" }, "Checking your e-mail subscription…");
  const button = h("button", { type: "button", class: "secondary", hidden: true }, "Get booking e-mails");
  const error = formError();
  const show = ({ email, subscription_status }) => {
    const [text, action] = MAIL_STATES[subscription_status] || MAIL_STATES.none;
    state.textContent = text.replace("{email}", email || mine.email);
    button.hidden = !action;
    if (action) button.textContent = action;
  };
  const load = () => get("/email-subscription").then(show, (err) => {
    if (err.expired) return; // on the way to log in
    state.textContent = "";
    error.replaceChildren(h("p", {}, `Could not read your e-mail subscription: ${err.message}`));
  });
  load();
  button.addEventListener("click", () => busy(button, null, async () => {
    error.replaceChildren();
    try {
      show(await get("/subscribe-email-notifications"));
    } catch (err) {
      if (!err.expired) error.append(h("p", {}, err.message));
    }
  }));
  return h("section", { "aria-labelledby": "mail-title" },
    h("h2", { id: "mail-title" }, "E-mail notifications"), state, error, h("div", { class: "actions" }, button));
}
