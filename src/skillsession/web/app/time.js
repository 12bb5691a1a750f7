// Times as a person reads them: in the viewer's zone, with the zone named.

export const viewerZone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
const cache = new Map();

function fmt(zone, options) {
  const key = zone + JSON.stringify(options);
  if (!cache.has(key)) cache.set(key, new Intl.DateTimeFormat(undefined, { timeZone: zone, ...options }));
  return cache.get(key);
}

// "09:00"
export function clock(iso, zone = viewerZone) {
  const parts = fmt(zone, { hour: "2-digit", minute: "2-digit", hourCycle: "h23", numberingSystem: "latn" })
    .formatToParts(new Date(iso));
  const hour = parts.find((p) => p.type === "hour").value;
  const minute = parts.find((p) => p.type === "minute").value;
  return `${hour}:${minute}`;
}

// "2026-12-01": the local calendar day of an instant
export function dayKey(iso, zone = viewerZone) {
  const parts = fmt(zone, { year: "numeric", month: "2-digit", day: "2-digit", numberingSystem: "latn" })
    .formatToParts(new Date(iso));
  const get = (t) => parts.find((p) => p.type === t).value;
  return `${get("year")}-${get("month")}-${get("day")}`;
}

// "Tuesday 1 December 2026"
export function dayLabel(iso, zone = viewerZone) {
  return fmt(zone, { weekday: "long", day: "numeric", month: "long", year: "numeric" }).format(new Date(iso));
}

// "Tue 1 Dec"
export function shortDay(iso, zone = viewerZone) {
  return fmt(zone, { weekday: "short", day: "numeric", month: "short" }).format(new Date(iso));
}

// "Tue 1 Dec, 09:00–10:00"
export function span(start, end, zone = viewerZone) {
  return `${shortDay(start, zone)}, ${clock(start, zone)}–${clock(end, zone)}`;
}

// A local date's label, e.g. for a week view column ("Tue 1 Dec")
export function ymdLabel(ymd, options = { weekday: "short", day: "numeric", month: "short" }) {
  return fmt("UTC", options).format(new Date(`${ymd}T12:00:00Z`));
}

export function today(zone = viewerZone) {
  return dayKey(new Date().toISOString(), zone);
}

export function addDays(ymd, days) {
  const d = new Date(`${ymd}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

// "in 2 days 3 h", "in 45 min", "now"
export function countdown(iso, now = Date.now()) {
  let minutes = Math.round((new Date(iso).getTime() - now) / 60000);
  if (minutes <= 0) return "now";
  const days = Math.floor(minutes / 1440);
  minutes -= days * 1440;
  const hours = Math.floor(minutes / 60);
  minutes -= hours * 60;
  const parts = [];
  if (days) parts.push(`${days} ${days === 1 ? "day" : "days"}`);
  if (hours) parts.push(`${hours} h`);
  if (!days && minutes) parts.push(`${minutes} min`);
  return `in ${parts.join(" ") || "1 min"}`;
}

export function zones() {
  try {
    const all = Intl.supportedValuesOf("timeZone");
    return all.includes("UTC") ? all : ["UTC", ...all];
  } catch {
    return [viewerZone, "UTC"];
  }
}

// "2 hours ago", "yesterday"
export function ago(iso, now = Date.now()) {
  const seconds = (new Date(iso).getTime() - now) / 1000;
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  for (const [unit, size] of [["day", 86400], ["hour", 3600], ["minute", 60]]) {
    if (Math.abs(seconds) >= size) return rtf.format(Math.round(seconds / size), unit);
  }
  return rtf.format(0, "minute");
}
