// My bookings (by state, with cancel and .ics) and the requests inbox (accept / reject).

import { get, post } from "../api.js";
import { empty, h, replace } from "../dom.js";
import { busy, field, formError, moreButton } from "../forms.js";
import { app } from "../shell.js";
import { bookingIcs, download } from "../ics.js";
import { addDays, countdown, dayLabel, span, today, viewerZone, ymdLabel } from "../time.js";

export const STATES = { pending: "Pending", accepted: "Accepted", rejected: "Rejected", cancelled: "Cancelled", expired: "Expired", completed: "Completed" };
const stateText = (b) => STATES[b.booking_status] || b.booking_status;
const isTutor = () => app.profile?.role === "tutor";
const other = (b) => (isTutor() ? b.student : b.tutor);
const started = (b) => new Date(b.start).getTime() <= Date.now();

export async function listBookings(query = {}) {
  const path = isTutor() ? "/get-teacher-bookings" : "/get-student-bookings";
  return get(path, { limit: 200, ...query });
}

export function stateBadge(b) {
  return h("p", { class: `state state-${b.booking_status}` }, stateText(b));
}

export function bookingItem(b, { onChange } = {}) {
  const li = h("li", { class: "card booking", "data-booking": b.booking_id });
  const draw = (booking) => replace(li, ...bookingBody(booking, (changed) => {
    draw(changed);
    onChange?.(changed);
  }));
  draw(b);
  return li;
}

function bookingBody(b, changed) {
  const person = other(b);
  const titleId = `booking-${b.booking_id}`;
  const body = [
    h("h3", { id: titleId }, span(b.start, b.end)),
    stateBadge(b),
    h("p", { class: "meta" }, `${dayLabel(b.start)} · ${viewerZone}`),
    person ? h("p", {}, `${isTutor() ? "Student" : "Tutor"}: ${person.name || person.email}`) : null,
    b.booking_status === "accepted" && !started(b) ? h("p", { class: "countdown" }, `Starts ${countdown(b.start)}`) : null,
    b.message ? h("p", { class: "quote" }, h("span", { class: "label" }, "Message: "), b.message) : null,
    b.reason ? h("p", { class: "quote" }, h("span", { class: "label" }, "Reason: "), b.reason) : null,
  ];
  const actions = h("div", { class: "actions" });
  if (b.booking_status === "accepted") {
    const ics = h("button", { type: "button", class: "secondary", "aria-describedby": titleId }, "Download .ics");
    ics.addEventListener("click", () => {
      const name = person?.name || "SkillSession";
      download(`skillsession-${b.start.slice(0, 10)}.ics`, bookingIcs(b, `Tutoring session with ${name}`, b.message || ""));
    });
    actions.append(ics);
  }
  const cancellable = (b.booking_status === "pending" || b.booking_status === "accepted") && !started(b);
  if (cancellable) {
    const open = h("button", { type: "button", class: "danger", "aria-expanded": "false", "aria-describedby": titleId }, "Cancel booking");
    const form = cancelForm(b, changed, () => {
      form.hidden = true;
      open.setAttribute("aria-expanded", "false");
      open.focus();
    });
    form.hidden = true;
    open.addEventListener("click", () => {
      form.hidden = !form.hidden;
      open.setAttribute("aria-expanded", String(!form.hidden));
      if (!form.hidden) form.querySelector("textarea").focus();
    });
    actions.append(open);
    body.push(actions, form);
  } else if (actions.childNodes.length) {
    body.push(actions);
  }
  return body;
}

function cancelForm(b, changed, close) {
  const confirm = h("button", { type: "submit", class: "danger" }, "Confirm cancellation");
  const keep = h("button", { type: "button", class: "secondary", onclick: close }, "Keep it");
  const who = isTutor() ? "the student" : "the tutor";
  const form = h("form", { novalidate: true, class: "inline-form", "aria-label": "Cancel this booking" },
    field("Reason", "reason", { type: "textarea", rows: 2, maxlength: 1000, hint: `Optional; ${who} sees it.` }),
    formError(),
    h("div", { class: "actions" }, confirm, keep),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const reason = new FormData(form).get("reason").trim();
    busy(confirm, form, async () => {
      const answer = await post("/cancel-booking", { booking_id: b.booking_id, reason: reason || undefined });
      changed({ ...b, ...answer.booking, student: b.student, tutor: b.tutor });
    });
  });
  return form;
}

const HISTORY_DAYS = 30; // history comes a span of days at a time, newest first

// Every page of a bounded span (a span of days): the API lists by start, oldest first
async function allPages(query) {
  const found = [];
  let cursor;
  do {
    const answer = await listBookings({ ...query, cursor });
    found.push(...answer.bookings);
    cursor = answer.next_cursor;
  } while (cursor);
  return found;
}

export async function bookings(page) {
  // what lies ahead, from today on, a page at a time (the API lists by start: the nearest
  // first); history, the days before, a span at a time going back
  const first = today();
  let earliest = addDays(first, -HISTORY_DAYS);
  const [ahead, past] = await Promise.all([
    listBookings({ from_date: first }),
    allPages({ from_date: earliest, to_date: addDays(first, -1) }),
  ]);
  const all = new Map([...past, ...ahead.bookings].map((b) => [b.booking_id, b]));
  let cursor = ahead.next_cursor;
  const items = new Map(); // booking_id -> its card, kept across redraws (an open cancel form stays)
  const item = (b) => {
    if (!items.has(b.booking_id)) items.set(b.booking_id, bookingItem(b, { onChange: (changed) => all.set(changed.booking_id, changed) }));
    return items.get(b.booking_id);
  };
  const sections = h("div", { class: "sections" });
  const later = moreButton("Show later bookings", async () => {
    const next = await listBookings({ from_date: first, cursor });
    for (const b of next.bookings) all.set(b.booking_id, b);
    cursor = next.next_cursor;
    draw();
  });
  const earlier = moreButton("Show earlier bookings", async () => {
    const from = addDays(earliest, -HISTORY_DAYS);
    for (const b of await allPages({ from_date: from, to_date: addDays(earliest, -1) })) all.set(b.booking_id, b);
    earliest = from;
    draw();
  });
  const section = (id, title, list, none, ...after) => h("section", { "aria-labelledby": id },
    h("h2", { id }, title),
    list.length ? h("ul", { class: "list" }, list.map(item)) : empty(none),
    after);
  function draw() {
    // by state and time, whichever answer a booking came in (their days are the API's)
    const now = Date.now();
    const byStart = [...all.values()].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    const pending = byStart.filter((b) => b.booking_status === "pending");
    const upcoming = byStart.filter((b) => b.booking_status === "accepted" && new Date(b.end).getTime() > now);
    const history = byStart.filter((b) => !pending.includes(b) && !upcoming.includes(b)).reverse();
    later.button.hidden = !cursor;
    const since = ymdLabel(earliest, { day: "numeric", month: "long", year: "numeric" });
    replace(sections,
      section("upcoming-title", "Upcoming", upcoming, isTutor() ? "No accepted sessions ahead. Accepted requests show here." : "No accepted sessions ahead."),
      section("pending-title", isTutor() ? "Waiting for your answer" : "Waiting for the tutor", pending,
        isTutor() ? "No requests to answer." : h("span", {}, "No open requests. ", h("a", { href: "#/tutors" }, "Find a tutor"), " to book a session.")),
      cursor ? h("p", { class: "hint" }, "There are more bookings ahead.") : null,
      later.button, later.error,
      section("history-title", "History", history, `Nothing since ${since}: past, rejected and cancelled bookings show here.`,
        history.length ? h("p", { class: "hint" }, `History since ${since}.`) : null, earlier.button, earlier.error),
    );
  }
  draw();
  replace(page,
    h("h1", {}, "My bookings"),
    h("p", { class: "zone" }, `Times are in your time zone, ${viewerZone}.`),
    sections,
  );
}

export async function requests(page) {
  const first = await get("/get-pending-booking-slots", { limit: 200 });
  const tutor = isTutor();
  const list = h("ul", { class: "list" }, first.bookings.map(tutor ? requestItem : (b) => bookingItem(b)));
  let cursor = first.next_cursor;
  const more = moreButton("Show more requests", async () => {
    const next = await get("/get-pending-booking-slots", { limit: 200, cursor });
    list.append(...next.bookings.map(tutor ? requestItem : (b) => bookingItem(b)));
    cursor = next.next_cursor;
    more.button.hidden = !cursor;
  });
  more.button.hidden = !cursor;
  const none = tutor
    ? empty("No requests to answer. Students' requests for your free slots show here.")
    : empty("No open requests. ", h("a", { href: "#/tutors" }, "Find a tutor"), ".");
  replace(page,
    h("h1", {}, "Requests"),
    h("p", { class: "zone" }, tutor
      ? `Students waiting for your answer. Times are in your time zone, ${viewerZone}.`
      : `Your requests waiting for a tutor's answer. Times are in your time zone, ${viewerZone}.`),
    first.bookings.length ? list : none,
    more.button, more.error,
  );
}

function requestItem(b) {
  const li = h("li", { class: "card booking", "data-booking": b.booking_id });
  const titleId = `request-${b.booking_id}`;
  const student = b.student || {};
  const accept = h("button", { type: "button", class: "primary", "aria-describedby": titleId }, "Accept");
  const reject = h("button", { type: "button", class: "danger", "aria-describedby": titleId }, "Reject");
  const form = h("form", { novalidate: true, class: "inline-form", "aria-label": `Answer ${student.name || "the student"}` },
    field("Reason", "reason", { type: "textarea", rows: 2, maxlength: 1000, hint: "Optional; sent to the student with your answer." }),
    formError(),
    h("div", { class: "actions" }, accept, reject),
  );
  form.addEventListener("submit", (e) => e.preventDefault());
  const answer = (action, button) => busy(button, form, async () => {
    const reason = new FormData(form).get("reason").trim();
    const result = await post("/process-booking-response", { booking_id: b.booking_id, action, reason: reason || undefined });
    const done = { ...b, ...result.booking, student: b.student, tutor: b.tutor };
    replace(li, h("h3", { id: titleId }, span(done.start, done.end)), stateBadge(done),
      h("p", { role: "status", tabindex: "-1" }, action === "accept"
        ? `You accepted ${student.name || "the request"}. It is in My bookings.`
        : `You rejected ${student.name || "the request"}. The slot is free again.`));
    li.querySelector("[role=status]").focus();
  });
  accept.addEventListener("click", () => answer("accept", accept));
  reject.addEventListener("click", () => answer("reject", reject));
  append(li,
    h("h3", { id: titleId }, span(b.start, b.end)),
    stateBadge(b),
    h("p", {}, `Student: ${student.name || ""} `, student.email ? h("a", { href: `mailto:${student.email}` }, student.email) : null),
    b.message ? h("p", { class: "quote" }, h("span", { class: "label" }, "Message: "), b.message) : empty("No message."),
    form,
  );
  return li;
}

function append(el, ...children) {
  for (const c of children) if (c) el.append(c);
}
