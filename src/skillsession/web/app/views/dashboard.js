// The next sessions with a countdown, and what waits on me.

import { get } from "../api.js";
import { empty, h, replace } from "../dom.js";
import { app } from "../shell.js";
import { addDays, ago, countdown, span, today, viewerZone } from "../time.js";
import { listBookings, stateBadge } from "./bookings.js";

export async function dashboard(page, { notice }) {
  const me = app.profile;
  const tutor = me.role === "tutor";
  const [accepted, mine, pending] = await Promise.all([
    listBookings({ status: "accepted", from_date: today(), limit: 20 }),
    listBookings({ from_date: addDays(today(), -30), limit: 200 }),
    get("/get-pending-booking-slots", { limit: 20 }),
  ]);
  const now = Date.now();
  const next = accepted.bookings.filter((b) => new Date(b.end).getTime() > now).slice(0, 5);
  // what changed in the last week: answers, cancellations, expiries
  const recent = mine.bookings
    .filter((b) => b.booking_status !== "pending" && now - new Date(b.updated_at).getTime() < 7 * 86400e3)
    .sort((a, b) => (a.updated_at < b.updated_at ? 1 : -1))
    .slice(0, 5);
  const who = (b) => (tutor ? b.student : b.tutor)?.name || "";
  const counters = [];
  const sessionItem = (b) => {
    const count = h("span", { class: "countdown" }, `Starts ${countdown(b.start)}`);
    counters.push([count, b.start]);
    return h("li", { class: "card" }, h("h3", {}, span(b.start, b.end)), h("p", {}, `${tutor ? "Student" : "Tutor"}: ${who(b)}`), h("p", {}, count));
  };
  const tick = setInterval(() => {
    for (const [el, start] of counters) el.textContent = `Starts ${countdown(start)}`;
  }, 30000);
  app.onLeave(() => clearInterval(tick));

  const waiting = pending.bookings;
  replace(page,
    h("h1", {}, me.first_name ? `Hello, ${me.first_name}` : "Dashboard"),
    notice ? h("p", { class: "notice", role: "status" }, notice) : null,
    h("p", { class: "zone" }, `Times are in your time zone, ${viewerZone}.`),
    h("section", { "aria-labelledby": "next-title" },
      h("h2", { id: "next-title" }, "Next sessions"),
      next.length ? h("ul", { class: "list" }, next.map(sessionItem))
        : empty(tutor ? "No sessions booked yet. " : "No sessions booked yet. ",
          tutor ? h("a", { href: "#/availability" }, "Publish your availability") : h("a", { href: "#/tutors" }, "Find a tutor"), "."),
    ),
    h("section", { "aria-labelledby": "waiting-title" },
      h("h2", { id: "waiting-title" }, tutor ? "Requests to answer" : "Requests you sent"),
      waiting.length
        ? h("ul", { class: "list" }, waiting.slice(0, 5).map((b) => h("li", { class: "card" },
          h("h3", {}, span(b.start, b.end)), stateBadge(b), h("p", {}, `${tutor ? "Student" : "Tutor"}: ${who(b)}`))))
        : empty(tutor ? "Nothing waits on you." : "No open requests."),
      waiting.length ? h("p", {}, h("a", { href: tutor ? "#/requests" : "#/bookings" }, tutor ? (pending.next_cursor ? "Answer the requests" : `Answer ${waiting.length === 1 ? "the request" : `all ${waiting.length} requests`}`) : "See them in My bookings")) : null,
    ),
    h("section", { "aria-labelledby": "recent-title" },
      h("h2", { id: "recent-title" }, "Recent changes"),
      recent.length
        ? h("ul", { class: "list" }, recent.map((b) => h("li", { class: "card" },
          h("h3", {}, span(b.start, b.end)), stateBadge(b),
          h("p", {}, `${tutor ? "Student" : "Tutor"}: ${who(b)}`),
          b.reason ? h("p", { class: "quote" }, h("span", { class: "label" }, "Reason: "), b.reason) : null,
          h("p", { class: "meta" }, `Changed ${ago(b.updated_at, now)}`))))
        : empty("Nothing changed this week."),
    ),
  );
}
