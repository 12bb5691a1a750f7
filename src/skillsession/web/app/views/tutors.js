// Students: find a tutor by skills (and a date), a tutor's page with slots, a request.

import { idempotencyKey, photoUrl, post } from "../api.js";
import { empty, h, replace, uid } from "../dom.js";
import { busy, field, formError, moreButton } from "../forms.js";
import { app } from "../shell.js";
import { addDays, clock, dayKey, dayLabel, span, today, viewerZone } from "../time.js";

const fullName = (p) => [p.first_name, p.last_name].filter(Boolean).join(" ") || p.email || "A tutor";

export async function tutors(page, ctx) {
  if (ctx.params[0]) return tutorPage(page, ctx.params[0]);
  return search(page, ctx.query);
}

function avatar(person, className = "photo") {
  const img = h("img", { class: className, alt: "", width: 64, height: 64, hidden: true });
  const initials = h("span", { class: `${className} initials`, "aria-hidden": "true" },
    `${(person.first_name || "?")[0]}${(person.last_name || "")[0] || ""}`.toUpperCase());
  if (person.has_profile_image) {
    photoUrl(person.user_id).then((url) => {
      if (!url) return;
      img.src = url;
      img.hidden = false;
      initials.remove();
    });
  }
  return h("span", { class: "avatar" }, img, initials);
}

async function search(page, query) {
  const skill = query.get("skill") || "";
  const date = query.get("date") || "";
  const week = query.get("week") === "1";
  const submit = h("button", { type: "submit", class: "primary" }, "Search");
  const form = h("form", { novalidate: true, role: "search", class: "search", "aria-label": "Find a tutor" },
    field("Skill", "skills", { value: skill, required: true, hint: "One or more skills, separated by commas.", autocomplete: "off" }),
    field("Date", "date", { type: "date", value: date, min: today(), hint: "Optional: only tutors with a free slot that day." }),
    h("label", { class: "choice" }, h("input", { type: "checkbox", name: "week", value: "1", checked: week }), "or in the 6 days after it"),
    formError(),
    h("div", { class: "actions" }, submit),
  );
  const results = h("div", { class: "results" });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const params = new URLSearchParams();
    params.set("skill", data.get("skills").trim());
    if (data.get("date")) params.set("date", data.get("date"));
    if (data.get("week")) params.set("week", "1");
    const target = `#/tutors?${params}`;
    if (location.hash === target) run();
    else app.navigate(target);
  });
  const run = () => busy(submit, form, async () => {
    const skills = skill.split(",").map((s) => s.trim()).filter(Boolean);
    if (!skills.length) return;
    const body = { skills };
    if (date) {
      body.available_from = date;
      body.available_to = week ? addDays(date, 6) : date;
    }
    replace(results, h("h2", { id: "results-title" }, "Tutors"), h("p", { class: "loading" }, "Searching…"));
    const list = h("ul", { class: "cards" });
    let cursor = null;
    const more = h("button", { type: "button", class: "secondary" }, "More tutors");
    const fetchPage = async () => {
      const answer = await post("/get-user-profiles-and-teacher-search", { ...body, limit: 20, cursor: cursor || undefined });
      for (const t of answer.tutors) list.append(card(t));
      cursor = answer.next_cursor;
      more.hidden = !cursor;
      return answer.tutors.length;
    };
    more.addEventListener("click", () => busy(more, form, fetchPage));
    let found;
    try {
      found = await fetchPage();
    } catch (err) {
      results.replaceChildren(); // the error shows at the form
      throw err;
    }
    replace(results, h("h2", { id: "results-title" }, found ? `Tutors for ${skills.join(", ")}` : "Tutors"),
      found ? list : empty(`No tutor teaches ${skills.join(" and ")}${date ? " with a free slot then" : ""} yet. Try fewer skills${date ? " or another date" : ""}.`),
      more);
  });
  replace(page,
    h("h1", {}, "Find a tutor"),
    form,
    results,
  );
  if (skill) run();
}

function card(t) {
  const titleId = uid("tutor");
  const stats = [];
  if (t.experience_years !== null && t.experience_years !== undefined) stats.push(`${t.experience_years} ${t.experience_years === 1 ? "year" : "years"} of experience`);
  if (t.rating_average) stats.push(`Rated ${t.rating_average} of 5 (${t.rating_count})`);
  return h("li", { class: "card tutor-card" },
    avatar(t),
    h("div", { class: "card-body" },
      h("h3", { id: titleId }, h("a", { href: `#/tutors/${encodeURIComponent(t.user_id)}` }, fullName(t))),
      h("ul", { class: "chips", "aria-label": "Skills" }, (t.skills || t.teaching_skills || []).map((s) => h("li", {}, s))),
      stats.length ? h("p", { class: "meta" }, stats.join(" · ")) : null,
      t.experience_description ? h("p", { class: "excerpt" }, t.experience_description) : null,
      h("a", { class: "button secondary", href: `#/tutors/${encodeURIComponent(t.user_id)}`, "aria-describedby": titleId }, "Request"),
    ),
  );
}

async function tutorPage(page, tutorId) {
  const range = { tutor_id: tutorId, from_date: today(), to_date: addDays(today(), 30), time_zone: viewerZone };
  const [look, slotAnswer] = await Promise.all([
    post("/get-user-profiles-and-teacher-search", { user_id: tutorId }),
    post("/get-teacher-slots", range),
  ]);
  const t = look.profile;
  const name = fullName(t);
  const slots = slotAnswer.slots;
  const tutorZone = t.time_zone;
  const zoneNote = tutorZone && tutorZone !== viewerZone
    ? `Times are in your time zone, ${viewerZone}. ${t.first_name || name} is in ${tutorZone}.`
    : `Times are in your time zone, ${viewerZone}.`;
  const panel = h("div", { class: "request-panel", hidden: true });
  const days = h("div", { class: "days" });
  let selected = null;

  // the API gives each slot's local date and time in the zone asked for (the viewer's): no
  // date formatting per slot, one per day
  const local = (slot) => slot.time_zone === viewerZone;
  const lists = new Map(); // day -> its list of slot buttons
  function addSlots(page) {
    const fragment = document.createDocumentFragment();
    for (const slot of page) {
      const key = local(slot) ? slot.date : dayKey(slot.start);
      if (!lists.has(key)) {
        const headingId = `day-${key}`;
        const list = h("ul", { class: "slots" });
        lists.set(key, list);
        fragment.append(h("section", { role: "group", class: "day", "aria-labelledby": headingId },
          h("h3", { id: headingId }, dayLabel(slot.start)), list));
      }
      lists.get(key).append(h("li", {},
        h("button", { type: "button", class: "slot", "data-slot": slot.slot_id, "aria-pressed": "false", onclick: (e) => choose(slot, e.currentTarget) }, local(slot) ? slot.start_time : clock(slot.start))));
    }
    days.append(fragment);
  }
  addSlots(slots);
  // a long page of slots comes in parts (the API answers at most 1000 at a time)
  let cursor = slotAnswer.next_cursor;
  const { button: more, error: moreError } = moreButton("Show more times", async () => {
    const next = await post("/get-teacher-slots", { ...range, cursor });
    addSlots(next.slots);
    cursor = next.next_cursor;
    more.hidden = !cursor;
  });
  more.hidden = !cursor;

  function choose(slot, button) {
    if (selected) selected.setAttribute("aria-pressed", "false");
    selected = button;
    button.setAttribute("aria-pressed", "true");
    button.closest("section").after(panel);
    requestForm(slot, button);
  }

  function requestForm(slot, button) {
    const key = idempotencyKey(); // one per attempt at this slot: a retry after a lost answer books once
    const send = h("button", { type: "submit", class: "primary" }, "Send request");
    const close = h("button", { type: "button", class: "secondary" }, "Close");
    const there = tutorZone && tutorZone !== viewerZone ? h("p", { class: "hint" }, `${clock(slot.start, tutorZone)}–${clock(slot.end, tutorZone)} in ${tutorZone}, ${t.first_name || name}'s zone.`) : null;
    const form = h("form", { novalidate: true, "aria-labelledby": "request-title" },
      h("h2", { id: "request-title" }, `Request ${span(slot.start, slot.end)}`),
      h("p", {}, `${dayLabel(slot.start)}, ${clock(slot.start)}–${clock(slot.end)} (${viewerZone}) with ${name}.`),
      there,
      field("Message", "message", { type: "textarea", rows: 3, maxlength: 2000, hint: `Optional: what you would like to work on. ${t.first_name || name} reads it before accepting.` }),
      formError(),
      h("div", { class: "actions" }, send, close),
    );
    close.addEventListener("click", () => {
      panel.hidden = true;
      button.setAttribute("aria-pressed", "false");
      button.focus();
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const message = new FormData(form).get("message").trim();
      busy(send, form, async () => {
        try {
          await post("/create-booking-request", { slot_id: slot.slot_id, message: message || undefined }, { headers: { "Idempotency-Key": key } });
        } catch (err) {
          if (err.code === "slot_unavailable" || err.code === "slot_not_found") {
            button.disabled = true;
            err.message += " Pick another time.";
          }
          throw err;
        }
        button.closest("li").remove();
        replace(panel, h("div", { class: "notice", role: "status", tabindex: "-1" },
          h("h2", {}, "Request sent"),
          h("p", {}, `${name} will accept or reject your request for ${span(slot.start, slot.end)}. You will find it under `, h("a", { href: "#/bookings" }, "My bookings"), "."),
        ));
        panel.firstChild.focus();
      });
    });
    replace(panel, form);
    panel.hidden = false;
    form.querySelector("textarea").focus();
  }

  replace(page,
    h("div", { class: "tutor-head" },
      avatar(t, "photo large"),
      h("div", {},
        h("h1", {}, name),
        h("ul", { class: "chips", "aria-label": "Skills" }, (t.teaching_skills || []).map((s) => h("li", {}, s))),
        t.experience_years !== null && t.experience_years !== undefined ? h("p", { class: "meta" }, `${t.experience_years} years of experience`) : null,
      )),
    t.experience_description ? h("p", { class: "about" }, t.experience_description) : null,
    h("section", { "aria-labelledby": "times-title" },
      h("h2", { id: "times-title" }, "Free times"),
      h("p", { class: "zone" }, zoneNote),
      slots.length ? [days, more, moreError] : empty(`${name} has no free time in the next 30 days. Check again later or `, h("a", { href: "#/tutors" }, "find another tutor"), "."),
    ),
    panel,
  );
}
