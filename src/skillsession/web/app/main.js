// The shell: hash routes, the navigation, the session and its expiry.

import { ApiError, onExpired, onProgress, session } from "./api.js";
import { h, replace } from "./dom.js";
import { app, endSession, forgetReturn, lend, rememberReturn } from "./shell.js";

const ROUTES = {
  login: { load: () => import("./views/auth.js"), view: "login", open: true },
  signup: { load: () => import("./views/auth.js"), view: "signup", open: true },
  dashboard: { load: () => import("./views/dashboard.js"), view: "dashboard" },
  tutors: { load: () => import("./views/tutors.js"), view: "tutors" },
  bookings: { load: () => import("./views/bookings.js"), view: "bookings" },
  requests: { load: () => import("./views/bookings.js"), view: "requests" },
  availability: { load: () => import("./views/availability.js"), view: "availability" },
  profile: { load: () => import("./views/profile.js"), view: "profile" },
};
function parse() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, query = ""] = raw.split("?");
  const [name, ...rest] = path.split("/").filter(Boolean);
  return { name: name || "", params: rest.map(decodeURIComponent), query: new URLSearchParams(query) };
}

function link(hash, label, current) {
  return h("a", { href: hash, "aria-current": current ? "page" : null }, label);
}

function drawNav() {
  const nav = document.getElementById("nav");
  const here = parse().name;
  const live = session.live();
  if (!live) {
    replace(nav, h("ul", {}, h("li", {}, link("#/login", "Log in", here === "login")), h("li", {}, link("#/signup", "Sign up", here === "signup"))));
    return;
  }
  const role = app.profile?.role;
  const items = [["#/dashboard", "Dashboard", "dashboard"]];
  if (role === "student") items.push(["#/tutors", "Find a tutor", "tutors"], ["#/bookings", "My bookings", "bookings"]);
  if (role === "tutor") items.push(["#/requests", "Requests", "requests"], ["#/availability", "Availability", "availability"], ["#/bookings", "My bookings", "bookings"]);
  items.push(["#/profile", "Profile", "profile"]);
  const logout = h("button", { type: "button", class: "link-button", onclick: logOut }, "Log out");
  replace(nav, h("ul", {}, items.map(([hash, label, name]) => h("li", {}, link(hash, label, here === name))), h("li", {}, logout)));
}

function logOut() {
  endSession("You have logged out.");
  forgetReturn();
  app.navigate("#/login");
}

// After the session ends (an expired or refused token): log in, then come back here
onExpired(() => {
  const here = location.hash;
  if (!here.startsWith("#/login") && !here.startsWith("#/signup")) rememberReturn(here);
  endSession("Your session has expired. Log in again to continue.");
  app.navigate("#/login");
});

let progressTimer = null;
onProgress((on) => {
  const bar = document.getElementById("progress");
  clearTimeout(progressTimer);
  if (on) progressTimer = setTimeout(() => { bar.textContent = "Loading…"; bar.classList.add("on"); }, 250);
  else { bar.textContent = ""; bar.classList.remove("on"); }
});

let rendering = 0;
async function render() {
  const turn = ++rendering;
  for (const fn of app.cleanup.splice(0)) fn();
  const main = document.getElementById("main");
  let { name, params, query } = parse();
  const live = session.live();
  if (!ROUTES[name]) name = live ? "dashboard" : "login";
  const route = ROUTES[name];
  if (!route.open && !live) {
    if (session.get()) {
      // a token that has run out: the same way back as a refused one
      rememberReturn(location.hash);
      endSession("Your session has expired. Log in again to continue.");
    } else if (location.hash && !location.hash.startsWith("#/dashboard")) {
      rememberReturn(location.hash);
    }
    if (location.hash !== "#/login") return app.navigate("#/login");
    name = "login";
  }
  try {
    if (live && app.profile === undefined) await app.reloadProfile();
    if (live && app.profile === null && name !== "profile") return app.navigate("#/profile");
    const module = await ROUTES[name].load();
    if (turn !== rendering) return;
    drawNav();
    const page = h("div", { class: "page" });
    const notice = app.notice;
    app.notice = null;
    await module[ROUTES[name].view](page, { params, query, notice });
    if (turn !== rendering) return;
    replace(main, page);
    const heading = main.querySelector("h1");
    if (heading) {
      heading.tabIndex = -1;
      document.title = `${heading.textContent} · SkillSession`;
      if (document.activeElement === document.body || document.activeElement === main || !main.contains(document.activeElement)) heading.focus({ preventScroll: false });
    }
  } catch (err) {
    if (err instanceof ApiError && err.expired) return; // on the way to log in
    drawNav();
    replace(main, h("div", { class: "page" }, h("h1", {}, "Something went wrong"), h("p", { role: "alert" }, err.message || String(err)), h("p", {}, h("a", { href: "#/dashboard" }, "Back to the dashboard"))));
  }
}

lend(render, drawNav);
window.addEventListener("hashchange", render);
render();
