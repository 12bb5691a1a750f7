"""Every page of the web client scanned with axe-core (axe-playwright-python ships it; it is
injected from the package, no request leaves the machine): no serious or critical violation,
and the colours (axe's contrast rule) pass in the dark scheme too."""

from __future__ import annotations

from datetime import datetime

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from browser.conftest import PHONE, TUTOR_ZONE
from browser.web_steps import api_users, log_in, nav
from e2e.api_client import Mailbox

AXE = Axe()
ALL_RULES = {"resultTypes": ["violations"]}  # no details of what passes: 3x faster
CONTRAST_ONLY = {**ALL_RULES, "runOnly": {"type": "rule", "values": ["color-contrast"]}}


def violations(page, options=None) -> list[str]:
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE.axe_script)  # once per document: the client's pages are hash routes
    found = page.evaluate("options => axe.run(document, options)", options or ALL_RULES)
    found = found["violations"]
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]} {v['help']}"
        for v in found
        if v["impact"] in ("serious", "critical")
    ]


def test_no_serious_or_critical_violation_on_any_page(open_page, web_server):
    mailbox = Mailbox(web_server.data_dir / "mail")
    skill = f"Sitar{datetime.now():%H%M%S%f}"
    tutor, student, slots = api_users(web_server.base_url, mailbox, skill)
    booked = student.post("/create-booking-request", {"slot_id": slots[0]["slot_id"]}).json()
    tutor.post(
        "/process-booking-response",
        {"booking_id": booked["booking"]["booking_id"], "action": "accept"},
    )
    student.post("/create-booking-request", {"slot_id": slots[1]["slot_id"], "message": "Ragas"})
    found: dict[str, list[str]] = {}

    def scan(page, name: str) -> None:
        expect(page.locator("main h1")).to_be_visible()
        expect(page.locator("#progress")).to_be_empty()
        found[name] = violations(page)
        page.emulate_media(color_scheme="dark")
        found[f"{name} (dark)"] = violations(page, CONTRAST_ONLY)
        page.emulate_media(color_scheme="light")

    page = open_page(viewport=PHONE)
    page.goto("/#/login")
    scan(page, "login")
    page.goto("/#/signup")
    scan(page, "signup")
    page.get_by_label("Email").fill(f"new-{skill}@example.test")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_label("Code")).to_be_visible()
    scan(page, "sign-up code")
    page.get_by_label("Code").fill(mailbox.code_for(f"new-{skill}@example.test"))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Create your profile")).to_be_visible()
    scan(page, "new profile")
    page.get_by_role("button", name="Save").click()  # no role chosen: errors shown
    scan(page, "new profile with errors")

    page = open_page()
    page.goto("/")
    log_in(page, student.email)
    scan(page, "student dashboard")
    nav(page).get_by_role("link", name="Find a tutor").click()
    page.get_by_label("Skill").fill(skill)
    page.get_by_role("button", name="Search").click()
    expect(page.locator("li.tutor-card")).to_have_count(1)
    scan(page, "search")
    page.get_by_role("link", name="Request", exact=True).click()
    page.locator("button.slot").first.click()
    scan(page, "tutor page with the request form")
    nav(page).get_by_role("link", name="My bookings").click()
    page.get_by_role("button", name="Cancel booking").first.click()
    scan(page, "student bookings with the cancel form")
    nav(page).get_by_role("link", name="Profile").click()
    scan(page, "student profile")

    page = open_page(viewport=PHONE, zone=TUTOR_ZONE)
    page.goto("/")
    log_in(page, tutor.email)
    scan(page, "tutor dashboard")
    page.goto("/#/requests")
    scan(page, "requests")
    page.goto(f"/#/availability?week={slots[0]['date']}")
    expect(page.locator(".week .wslot.booked")).to_have_count(1)
    scan(page, "availability")
    page.goto("/#/bookings")
    scan(page, "tutor bookings")
    page.goto("/#/profile")
    scan(page, "tutor profile")

    assert {name: v for name, v in found.items() if v} == {}
