"""Steps a person takes in the web client, by the names they see (issue 13's accessible names)."""

from __future__ import annotations

import io
import itertools
import re
import time

from playwright.sync_api import Page, expect

from e2e.api_client import PASSWORD, Mailbox

_counter = itertools.count(1)


def new_email(prefix: str) -> str:
    return f"{prefix}-{next(_counter)}-{time.monotonic_ns()}@example.test"


def nav(page: Page):
    return page.get_by_role("navigation", name="Main")


def sign_up(
    page: Page, mailbox: Mailbox | None, email: str, password: str = PASSWORD, code: str = ""
) -> None:
    """Sign up with the code read from the mailed .eml (or `code`, given); ends on the new
    profile form."""
    page.goto("/")
    nav(page).get_by_role("link", name="Sign up").click()
    # the log-in form has an "Email" too: wait until the sign-up form has replaced it
    expect(page.get_by_role("heading", name="Sign up")).to_be_visible()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Confirm your e-mail")).to_be_visible()
    page.get_by_label("Code").fill(code or mailbox.code_for(email))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Create your profile")).to_be_visible()


def add_window(page: Page, day, start: str = "09:00", end: str = "11:00", slots: int = 2) -> None:
    """A tutor adds a window of 60-minute slots on `day` (in the profile's zone)."""
    nav(page).get_by_role("link", name="Availability").click()
    page.get_by_label("Date", exact=True).fill(day.isoformat())
    page.get_by_label("Start", exact=True).fill(start)
    page.get_by_label("End", exact=True).fill(end)
    page.get_by_label("Slot length").select_option("60")
    page.get_by_role("button", name="Add window").click()
    expect(page.get_by_text(f"Window added: {slots} slots")).to_be_visible()


def create_profile(page: Page, role: str, first: str, last: str, **fields: str) -> None:
    page.get_by_label("Tutor" if role == "tutor" else "Student", exact=True).check()
    page.get_by_label("First name").fill(first)
    page.get_by_label("Last name").fill(last)
    for label, value in fields.items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Profile", exact=True)).to_be_visible()
    expect(nav(page).get_by_role("button", name="Log out")).to_be_visible()


def log_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def png(color=(31, 95, 174)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (96, 96), color).save(out, "PNG")
    return out.getvalue()


def day_group(page: Page, day) -> object:
    """The group of slots of a local day (a `date`), named like "Tuesday, 8 December 2026"."""
    return page.get_by_role("group", name=re.compile(rf"\b{day.day} {day:%B} {day.year}\b"))


def api_users(base_url: str, mailbox: Mailbox, skill: str, days_ahead: int = 2):
    """A tutor (Berlin) with a window of three slots `days_ahead` days ahead, and a student
    (Halifax), made over the API; returns (tutor Api, student Api, the slots)."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from e2e.api_client import Api

    anon = Api(base_url, mailbox)
    tutor = anon.as_new_user(
        "tutor",
        "tutor",
        teaching_skills=f"{skill}, Python",
        time_zone="Europe/Berlin",
        experience_years=7,
        experience_description="Exam preparation and patient explanations.",
    )
    student = anon.as_new_user("student", "student", time_zone="America/Halifax")
    day = datetime.now(ZoneInfo("Europe/Berlin")).date() + timedelta(days=days_ahead)
    r = tutor.post(
        "/create-availability",
        {"date": day.isoformat(), "start_time": "09:00", "end_time": "12:00"},
    )
    assert r.status_code == 201, r.text
    return tutor, student, r.json()["slots"]


FOCUSED_NAME = """() => {
  const el = document.activeElement;
  if (!el) return "";
  const label = el.labels && el.labels[0] ? el.labels[0].textContent : "";
  return (el.getAttribute("aria-label") || label || el.textContent || "").trim();
}"""


def tab_to(page: Page, name: str, limit: int = 80, backwards: bool = False) -> None:
    """Press Tab until the focused control's name is `name` (keyboard only, no clicks)."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        if page.evaluate(FOCUSED_NAME) == name:
            return
    raise AssertionError(f"Tab never reached {name!r}")
