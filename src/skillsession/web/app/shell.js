// What every page shares with the shell: the signed-in person's profile, the notice for the next
// page, what to do on leaving, and the way to another page. main.js (the shell) lends it its
// render and navigation drawing, so that no page imports the shell that loads it.

import { myProfile, session } from "./api.js";

const RETURN = "skillsession.returnTo";
const hooks = { render: () => {}, drawNav: () => {} };

export const app = {
  profile: undefined, // undefined: not loaded; null: none yet
  notice: null, // a message for the next page (e.g. "your session has expired")
  cleanup: [],
  navigate(hash) {
    if (location.hash === hash) hooks.render();
    else location.hash = hash;
  },
  async reloadProfile() {
    app.profile = await myProfile();
    hooks.drawNav();
    return app.profile;
  },
  // what a page calls on leaving (timers)
  onLeave(fn) {
    app.cleanup.push(fn);
  },
};

// the shell's own render and navigation drawing (main.js calls this once)
export function lend(render, drawNav) {
  hooks.render = render;
  hooks.drawNav = drawNav;
}

// where the person was when the session ended, for after they log in again
export function rememberReturn(hash) {
  sessionStorage.setItem(RETURN, hash);
}

export function forgetReturn() {
  sessionStorage.removeItem(RETURN);
}

export function afterLogin() {
  const back = sessionStorage.getItem(RETURN);
  forgetReturn();
  if (back && back !== "#/login") return app.navigate(back);
  app.navigate(app.profile ? "#/dashboard" : "#/profile");
}

export function endSession(notice) {
  session.clear();
  app.profile = undefined;
  app.notice = notice;
}
