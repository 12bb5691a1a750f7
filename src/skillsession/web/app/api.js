// The public JSON API, and the session (the access token) kept in this browser.

const meta = document.querySelector('meta[name="skillsession-api"]');
export const API_BASE = (meta?.content || "").replace(/\/+$/, "");
const KEY = "skillsession.session";

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || {};
  }
}

export const session = {
  get() {
    try {
      const saved = JSON.parse(localStorage.getItem(KEY) || "null");
      return saved && saved.token ? saved : null;
    } catch {
      return null;
    }
  },
  save(token, expiresIn, email) {
    const expiresAt = Date.now() + expiresIn * 1000;
    localStorage.setItem(KEY, JSON.stringify({ token, expiresAt, email }));
  },
  clear() {
    localStorage.removeItem(KEY);
  },
  live() {
    const s = this.get();
    return s && s.expiresAt > Date.now() ? s : null;
  },
};

let expired = () => {};
export const onExpired = (handler) => { expired = handler; };

let inFlight = 0;
let progress = () => {};
export const onProgress = (handler) => { progress = handler; };

// A random key per booking attempt (works outside secure contexts too)
export function idempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export async function call(method, path, { body, query, headers = {}, auth = true, raw } = {}) {
  let url = API_BASE + path;
  if (query) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== "") params.set(k, v);
    if ([...params].length) url += `?${params}`;
  }
  const init = { method, headers: { Accept: "application/json", ...headers } };
  if (raw) {
    init.body = raw;
    init.headers["Content-Type"] = raw.type;
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  if (auth) {
    const s = session.live();
    if (!s) {
      expired();
      const error = new ApiError(401, "session_expired", "Your session has expired. Log in again.");
      error.expired = true;
      throw error;
    }
    init.headers.Authorization = `Bearer ${s.token}`;
  }
  if (++inFlight === 1) progress(true);
  let response;
  try {
    response = await fetch(url, init);
  } catch {
    throw new ApiError(0, "network", "Could not reach SkillSession. Check your connection and try again.");
  } finally {
    if (--inFlight === 0) progress(false);
  }
  const type = response.headers.get("content-type") || "";
  const data = type.includes("json") ? await response.json().catch(() => null) : null;
  if (!response.ok) {
    const error = data?.error || {};
    let message = error.message || `The server answered ${response.status}.`;
    const retry = response.headers.get("retry-after");
    if (response.status === 429 && retry) message += ` Try again in ${retry} s.`;
    const failure = new ApiError(response.status, error.code || `http_${response.status}`, message, error.details);
    if (response.status === 401 && auth) {
      // the session is over: the page goes to log in (and comes back after)
      failure.expired = true;
      session.clear();
      expired();
    }
    throw failure;
  }
  return data;
}

export const get = (path, query) => call("GET", path, { query });
export const post = (path, body, options = {}) => call("POST", path, { body, ...options });

// The caller's profile: null when there is none yet (a new account)
export async function myProfile() {
  try {
    return (await post("/get-user-profiles-and-teacher-search", {})).profile;
  } catch (err) {
    if (err.status === 404) return null;
    throw err;
  }
}

// A signed media URL the page may load: on the API's own origin, its path is used, so that a
// public URL that names the host differently (localhost / 127.0.0.1) still loads under the CSP
export function mediaUrl(url) {
  try {
    const parsed = new URL(url, location.href);
    if (!API_BASE && parsed.pathname.startsWith("/media/")) return parsed.pathname + parsed.search;
  } catch {
    /* leave it as it is */
  }
  return url;
}

export async function photoUrl(userId) {
  try {
    return mediaUrl((await get("/get-profile-img-url", { user_id: userId })).url);
  } catch {
    return null;
  }
}
