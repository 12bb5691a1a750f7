// Tutors: a week of slots (free, pending, booked), add a window, delete a window.

import { post } from "../api.js";
import { empty, h, replace } from "../dom.js";
import { busy, field, formError } from "../forms.js";
import { app } from "../shell.js";
import { addDays, clock, dayKey, span, today, ymdLabel, viewerZone } from "../time.js";

const STATUS = { available: "Free", pending: "Pending", booked: "Booked", expired: "Past" };
const LENGTHS = [15, 20, 30, 45, 60, 90, 120, 180, 240];
// an expired slot still ahead is one whose window was deleted after a booking had named it
const label = (s) => (s.slot_status === "expired" && new Date(s.start) > Date.now() ? "Removed" : STATUS[s.slot_status] || s.slot_status);

export async function availability(page, { query, notice }) {
  // seven days from today (or from the day asked for): the days a tutor acts on first
  const first = query.get("week") || today();
  const last = addDays(first, 6);
  const { slots } = await post("/get-teacher-slots", {
    tutor_id: app.profile.user_id, from_date: first, to_date: last, status: "all", time_zone: viewerZone,
  });
  const byDay = new Map();
  for (let i = 0; i < 7; i++) byDay.set(addDays(first, i), []);
  for (const slot of slots) byDay.get(dayKey(slot.start))?.push(slot);

  const weekNav = h("nav", { class: "week-nav", "aria-label": "Weeks" },
    h("a", { class: "button secondary", href: `#/availability?week=${addDays(first, -7)}` }, "Previous week"),
    h("a", { class: "button secondary", href: "#/availability" }, "From today"),
    h("a", { class: "button secondary", href: `#/availability?week=${addDays(first, 7)}` }, "Next week"),
  );
  const week = h("ol", { class: "week", "aria-label": `Seven days from ${ymdLabel(first, { day: "numeric", month: "long", year: "numeric" })}` },
    [...byDay].map(([day, daySlots]) => h("li", { class: `weekday${day === today() ? " today" : ""}` },
      h("h3", {}, ymdLabel(day)),
      daySlots.length
        ? h("ul", { class: "week-slots" }, daySlots.map((s) => h("li", { class: `wslot ${s.slot_status}` },
          h("span", { class: "time" }, clock(s.start)), " ", h("span", { class: "status" }, label(s)))))
        : h("p", { class: "none" }, "No slots"))));

  // windows, as the slots show them (a window is the run of slots that share its id)
  const windows = new Map();
  for (const slot of slots) {
    const w = windows.get(slot.availability_id) || { id: slot.availability_id, start: slot.start, end: slot.end, slots: [] };
    w.end = slot.end > w.end ? slot.end : w.end;
    w.start = slot.start < w.start ? slot.start : w.start;
    w.slots.push(slot);
    windows.set(slot.availability_id, w);
  }
  // a window with only expired slots is past or deleted: nothing to act on
  const live = [...windows.values()].filter((w) => w.slots.some((s) => s.slot_status !== "expired"));
  const windowList = live.map((w) => {
    const taken = w.slots.filter((s) => s.slot_status === "pending" || s.slot_status === "booked").length;
    const del = h("button", { type: "button", class: "danger" }, "Delete window");
    const error = h("p", { class: "field-error", role: "alert" });
    const label = span(w.start, w.end);
    del.setAttribute("aria-label", `Delete window ${label}`);
    del.addEventListener("click", () => busy(del, null, async () => {
      error.textContent = "";
      try {
        await post("/delete-availability", { availability_id: w.id });
        app.notice = `Window ${label} deleted.`;
        app.navigate(location.hash || "#/availability");
      } catch (err) {
        error.textContent = err.message;
      }
    }));
    return h("li", { class: "window" },
      h("span", {}, h("strong", {}, label), ` · ${w.slots.length} ${w.slots.length === 1 ? "slot" : "slots"}${taken ? `, ${taken} requested or booked` : ""}`),
      del, error);
  });

  const add = h("button", { type: "submit", class: "primary" }, "Add window");
  const form = h("form", { novalidate: true, "aria-labelledby": "add-title", class: "add-window" },
    h("h2", { id: "add-title" }, "Add a window"),
    h("p", { class: "hint" }, `Times in ${viewerZone}. The window is cut into back-to-back slots.`),
    h("div", { class: "row" },
      field("Date", "date", { type: "date", min: today(), value: first > today() ? first : today(), required: true }),
      field("Start", "start_time", { type: "time", value: "09:00", required: true }),
      field("End", "end_time", { type: "time", value: "12:00", required: true }),
      field("Slot length", "slot_minutes", { options: LENGTHS.map((m) => [m, `${m} minutes`]), value: 60 })),
    formError(),
    h("div", { class: "actions" }, add),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    busy(add, form, async () => {
      const answer = await post("/create-availability", {
        date: data.get("date"), start_time: data.get("start_time"), end_time: data.get("end_time"),
        slot_minutes: Number(data.get("slot_minutes")), time_zone: viewerZone,
      });
      app.notice = `Window added: ${answer.slots.length} ${answer.slots.length === 1 ? "slot" : "slots"} on ${ymdLabel(data.get("date"), { weekday: "long", day: "numeric", month: "long" })}.`;
      const shown = data.get("date") >= first && data.get("date") <= last;
      app.navigate(shown ? location.hash : `#/availability?week=${data.get("date")}`);
    });
  });

  replace(page,
    h("h1", {}, "Availability"),
    notice ? h("p", { class: "notice", role: "status" }, notice) : null,
    form,
    h("section", { "aria-labelledby": "week-title" },
      h("h2", { id: "week-title" }, `${ymdLabel(first)} – ${ymdLabel(last)}`),
      weekNav,
      h("p", { class: "legend" }, h("span", { class: "wslot available" }, "Free"), h("span", { class: "wslot pending" }, "Pending"), h("span", { class: "wslot booked" }, "Booked"), ` Times in ${viewerZone}.`),
      week,
      h("h3", { class: "after-week" }, "Windows these days"),
      windowList.length ? h("ul", { class: "windows" }, windowList) : empty("No windows these days. Add one above; students see its free slots at once."),
    ),
  );
}
