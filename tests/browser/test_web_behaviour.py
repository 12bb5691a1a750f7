"""The web client by keyboard only, its session expiry, and API errors shown where they belong."""

from __future__ import annotations

import re
from datetime import datetime

from playwright.sync_api import expect

from browser.conftest import PHONE, TUTOR_ZONE
from browser.web_steps import api_users, log_in, nav, new_email, tab_to
from e2e.api_client import PASSWORD, Mailbox


def unique(prefix: str) -> str:
    return f"{prefix}{datetime.now().strftime('%H%M%S%f')}"


def test_a_student_books_and_cancels_by_keyboard_only(open_page, web_server):
    skill = unique("Oboe")
    tutor, student, slots = api_users(
        web_server.base_url, Mailbox(web_server.data_dir / "mail"), skill
    )
    page = open_page()
    page.goto("/")
    tab_to(page, "Email")
    page.keyboard.type(student.email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Hello, Student")).to_be_focused()

    tab_to(page, "Find a tutor")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Find a tutor")).to_be_focused()
    tab_to(page, "Skill")
    page.keyboard.type(skill)
    page.keyboard.press("Enter")
    expect(page.locator("li.tutor-card")).to_have_count(1)
    tab_to(page, "Request")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Tutor Tester")).to_be_focused()

    first = page.locator("button.slot").first
    name = first.text_content()
    tab_to(page, name)
    page.keyboard.press("Enter")
    expect(page.get_by_label("Message")).to_be_focused()  # the request form opens beside it
    page.keyboard.type("Reeds and breathing")
    tab_to(page, "Send request")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Request sent")).to_be_visible()
    assert [b["message"] for b in tutor.get("/get-pending-booking-slots").json()["bookings"]] == [
        "Reeds and breathing"
    ]

    tab_to(page, "My bookings", backwards=True)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="My bookings")).to_be_focused()
    tab_to(page, "Cancel booking")
    page.keyboard.press("Enter")
    expect(page.get_by_label("Reason")).to_be_focused()
    page.keyboard.type("found a time that suits me better")
    tab_to(page, "Confirm cancellation")
    page.keyboard.press("Enter")
    expect(page.locator("li.booking").get_by_text("Cancelled", exact=True)).to_be_visible()
    mine = student.get("/get-student-bookings").json()["bookings"]
    assert [(b["booking_status"], b["reason"]) for b in mine] == [
        ("cancelled", "found a time that suits me better")
    ]

    tab_to(page, "Log out", backwards=True)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    expect(page.get_by_text("You have logged out.")).to_be_visible()


def test_an_expired_or_refused_session_goes_to_log_in_and_back(open_page, web_server):
    mailbox = Mailbox(web_server.data_dir / "mail")
    tutor, student, _ = api_users(web_server.base_url, mailbox, unique("Lute"))
    page = open_page()
    page.goto("/#/bookings")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()  # not logged in yet
    log_in(page, student.email)
    expect(page.get_by_role("heading", name="My bookings")).to_be_visible()  # back where it was

    # a token the server refuses (401): back to log in, then back to the page asked for
    page.evaluate(
        """() => { const s = JSON.parse(localStorage.getItem("skillsession.session"));
        s.token = "not-a-token"; localStorage.setItem("skillsession.session", JSON.stringify(s)); }"""
    )
    nav(page).get_by_role("link", name="Dashboard").click()
    expect(page.get_by_text("Your session has expired. Log in again to continue.")).to_be_visible()
    assert page.url.endswith("#/login")
    log_in(page, student.email)
    expect(page.get_by_role("heading", name="Hello, Student")).to_be_visible()

    # a token past its lifetime: the same, without asking the server
    page.goto("/#/requests")
    expect(page.get_by_role("heading", name="Requests")).to_be_visible()
    page.evaluate(
        """() => { const s = JSON.parse(localStorage.getItem("skillsession.session"));
        s.expiresAt = Date.now() - 1000; localStorage.setItem("skillsession.session", JSON.stringify(s)); }"""
    )
    page.reload()
    expect(page.get_by_text("Your session has expired. Log in again to continue.")).to_be_visible()
    log_in(page, student.email)
    expect(page.get_by_role("heading", name="Requests")).to_be_visible()
    assert page.url.endswith("#/requests")


def test_errors_show_beside_their_fields_and_forms_keep_their_values(open_page, web_server):
    mailbox = Mailbox(web_server.data_dir / "mail")
    page = open_page(viewport=PHONE, zone=TUTOR_ZONE)
    page.goto("/#/signup")
    email = new_email("weak")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("short")
    page.get_by_role("button", name="Sign up").click()
    password = page.get_by_label("Password")
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(page.locator("[data-field=password] .field-error")).to_have_text(
        "password must have at least 10 characters"
    )
    expect(password).to_be_focused()
    expect(page.get_by_label("Email")).to_have_value(email)

    page.goto("/#/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("wrong password here")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("[data-field=password] .field-error")).to_have_text(
        "wrong e-mail or password"
    )
    expect(page.get_by_label("Email")).to_have_value(email)

    tutor, student, slots = api_users(web_server.base_url, mailbox, unique("Harp"))
    page.goto("/#/login")
    log_in(page, student.email)
    nav(page).get_by_role("link", name="Find a tutor").click()
    page.get_by_label("Skill").fill(",".join(f"skill {i}" for i in range(11)))
    page.get_by_role("button", name="Search").click()
    expect(page.locator("[data-field=skills] .field-error")).to_contain_text("at most 10 items")
    expect(page.get_by_label("Skill")).to_have_attribute("aria-invalid", "true")
    nav(page).get_by_role("button", name="Log out").click()
    log_in(page, tutor.email)
    nav(page).get_by_role("link", name="Availability").click()
    page.get_by_label("Start", exact=True).fill("11:00")
    page.get_by_label("End", exact=True).fill("10:00")
    page.get_by_role("button", name="Add window").click()
    end = page.get_by_label("End", exact=True)
    expect(end).to_have_attribute("aria-invalid", "true")
    expect(page.locator("[data-field=end_time] .field-error")).to_have_text(
        "end must be after start"
    )
    expect(page.get_by_label("Start", exact=True)).to_have_value("11:00")
    # a window over an existing one: the conflict is told at the form
    page.get_by_label("Date", exact=True).fill(slots[0]["date"])
    page.get_by_label("Start", exact=True).fill("10:00")
    page.get_by_label("End", exact=True).fill("13:00")
    page.get_by_role("button", name="Add window").click()
    expect(page.locator("form .form-error")).to_contain_text(re.compile("overlap", re.I))
    # a window with a booked slot cannot go: the reason shows beside its button
    booking = student.post("/create-booking-request", {"slot_id": slots[0]["slot_id"]})
    assert booking.status_code == 201
    page.get_by_role("link", name="Next week").click()
    page.get_by_role("link", name="Previous week").click()  # the week of the window again
    page.goto(f"/#/availability?week={slots[0]['date']}")
    window = page.locator("li.window")
    expect(window).to_contain_text("1 requested or booked")
    window.get_by_role("button", name=re.compile("^Delete window")).click()
    expect(window.locator(".field-error")).not_to_be_empty()


def test_a_slot_taken_meanwhile_is_told_in_the_request_form(open_page, web_server):
    mailbox = Mailbox(web_server.data_dir / "mail")
    tutor, student, slots = api_users(web_server.base_url, mailbox, unique("Viol"))
    page = open_page()
    page.goto("/")
    log_in(page, student.email)
    page.goto(f"/#/tutors/{tutor.user_id}")
    page.locator("button.slot").first.click()
    page.get_by_label("Message").fill("Keep this text")
    rival = student.as_new_user("student", "rival")
    assert (
        rival.post("/create-booking-request", {"slot_id": slots[0]["slot_id"]}).status_code == 201
    )
    page.get_by_role("button", name="Send request").click()
    expect(page.locator(".request-panel .form-error")).to_contain_text("Pick another time")
    expect(page.get_by_label("Message")).to_have_value("Keep this text")
    expect(page.locator("button.slot").first).to_be_disabled()


def test_a_tutor_rejects_with_a_reason_and_deletes_a_free_window(open_page, web_server):
    mailbox = Mailbox(web_server.data_dir / "mail")
    tutor, student, slots = api_users(web_server.base_url, mailbox, unique("Zither"))
    asked = student.post(
        "/create-booking-request", {"slot_id": slots[0]["slot_id"], "message": "Scales"}
    )
    assert asked.status_code == 201
    page = open_page(zone=TUTOR_ZONE)
    page.goto("/")
    log_in(page, tutor.email)
    expect(page.get_by_role("region", name="Requests to answer")).to_contain_text("Student Tester")
    page.get_by_role("link", name="Answer the request").click()
    request = page.locator("li.booking", has_text="Student Tester")
    request.get_by_label("Reason").fill("I am away that week")
    request.get_by_role("button", name="Reject").click()
    expect(request).to_contain_text("You rejected Student Tester")
    expect(request.get_by_text("Rejected", exact=True)).to_be_visible()
    (seen,) = student.get("/get-student-bookings").json()["bookings"]
    assert (seen["booking_status"], seen["reason"]) == ("rejected", "I am away that week")
    nav(page).get_by_role("link", name="Dashboard").click()
    recent = page.get_by_role("region", name="Recent changes")
    expect(recent.get_by_text("Rejected", exact=True)).to_be_visible()
    expect(recent).to_contain_text("I am away that week")

    # the slot is free again, so its window can go
    page.goto(f"/#/availability?week={slots[0]['date']}")
    window = page.locator("li.window")
    expect(window).to_have_count(1)
    window.get_by_role("button", name=re.compile("^Delete window")).click()
    expect(page.get_by_text(re.compile(r"^Window .* deleted\.$"))).to_be_visible()
    expect(page.locator("li.window")).to_have_count(0)
    free = student.post("/get-teacher-slots", {"tutor_id": tutor.user_id}).json()["slots"]
    assert free == []


def test_profile_errors_photo_errors_and_the_subscription(open_page, web_server):
    mailbox = Mailbox(web_server.data_dir / "mail")
    from e2e.api_client import Api

    person = Api(web_server.base_url, mailbox).as_new_user(None, "newcomer")  # no profile yet
    page = open_page(viewport=PHONE)
    page.goto("/")
    log_in(page, person.email)
    expect(page.get_by_role("heading", name="Create your profile")).to_be_visible()
    page.get_by_label("First name").fill("Nadia")
    page.get_by_role("button", name="Save").click()  # no role chosen
    expect(page.locator("[data-field=role] .field-error")).to_have_text(
        "role is required for a new profile"
    )
    expect(page.get_by_label("First name")).to_have_value("Nadia")

    page.get_by_label("Student", exact=True).check()
    page.get_by_label("Start year").fill("2026")
    page.get_by_label("End year").fill("2020")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_label("End year")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("[data-field=end_year] .field-error")).to_have_text(
        "end_year is before start_year"
    )
    page.get_by_label("End year").fill("2030")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Profile", exact=True)).to_be_visible()
    assert (
        person.post("/get-user-profiles-and-teacher-search", {}).json()["profile"]["end_year"]
        == 2030
    )

    # a file that claims to be a PNG but is not one: the server's answer, beside the field
    page.get_by_label("Photo", exact=True).set_input_files(
        {"name": "me.png", "mimeType": "image/png", "buffer": b"not an image at all"}
    )
    page.get_by_role("button", name="Upload photo").click()
    expect(page.locator("[data-field=photo] .field-error")).not_to_be_empty()
    expect(page.get_by_label("Photo", exact=True)).to_have_attribute("aria-invalid", "true")
    # a type the API refuses is caught before any upload
    page.get_by_label("Photo", exact=True).set_input_files(
        {"name": "me.gif", "mimeType": "image/gif", "buffer": b"GIF89a"}
    )
    expect(page.locator("[data-field=photo] .field-error")).to_have_text(
        "Choose a JPEG, PNG or WebP image."
    )
    expect(page.get_by_role("button", name="Upload photo")).to_be_disabled()

    page.get_by_role("button", name="Get booking e-mails").click()
    expect(page.get_by_text("Waiting for you to confirm: check your mail")).to_be_visible()
    mailbox.wait_for(person.email, "confirm your subscription")


def test_the_subscription_state_comes_from_the_api(open_page, web_server, tmp_path):
    """Subscribed on one device, confirmed and later ended through the mails' links: another
    browser (its own storage) shows each state as the API tells it, with the action that fits."""
    mailbox = Mailbox(web_server.data_dir / "mail")
    tutor, student, slots = api_users(web_server.base_url, mailbox, unique("Harp"))
    section = "section[aria-labelledby=mail-title]"
    mail_state = f"{section} [role=status]"

    def open_profile(page):
        page.goto("/")
        log_in(page, tutor.email)
        nav(page).get_by_role("link", name="Profile").click()
        expect(page.get_by_role("heading", name="Profile", exact=True)).to_be_visible()

    laptop = open_page()
    open_profile(laptop)
    expect(laptop.locator(mail_state)).to_contain_text("E-mails about requests")
    laptop.get_by_role("button", name="Get booking e-mails").click()
    expect(laptop.locator(mail_state)).to_contain_text("Waiting for you to confirm")

    phone = open_page(viewport=PHONE)  # another device: nothing of the laptop's storage
    open_profile(phone)
    expect(phone.locator(mail_state)).to_have_text(
        f"Waiting for you to confirm: check your mail for the link we sent to {tutor.email}."
    )
    expect(phone.get_by_role("button", name="Send the link again")).to_be_visible()
    phone.locator(section).screenshot(path=str(tmp_path / "subscription-pending.png"))

    # the confirmation link from the .eml, opened in the browser: its page's button confirms
    confirmation = mailbox.wait_for(tutor.email, "confirm your subscription")
    link = re.search(r"\S+/confirm-subscription\?token=\S+", plain(confirmation)).group(0)
    laptop.goto(link)
    laptop.get_by_role("button", name="Confirm").click()
    expect(laptop.get_by_role("heading", name="Subscribed")).to_be_visible()
    phone.reload()
    expect(phone.locator(mail_state)).to_have_text(
        f"You get booking e-mails at {tutor.email}. Each e-mail has a link to stop them."
    )
    expect(phone.get_by_role("button", name="Get booking e-mails")).to_be_hidden()
    phone.locator(section).screenshot(path=str(tmp_path / "subscription-confirmed.png"))

    # a booking mail comes; its unsubscribe link ends the subscription
    assert student.post("/create-booking-request", {"slot_id": slots[0]["slot_id"]}).is_success
    booking_mail = mailbox.wait_for(tutor.email, "request")
    stop = re.search(r"<(\S+/unsubscribe\?token=\S+)>", booking_mail["List-Unsubscribe"])
    laptop.goto(stop.group(1))
    laptop.get_by_role("button", name="Unsubscribe").click()
    expect(laptop.get_by_role("heading", name="Unsubscribed")).to_be_visible()
    phone.reload()
    expect(phone.locator(mail_state)).to_contain_text("You stopped booking e-mails.")
    expect(phone.get_by_role("button", name="Get booking e-mails")).to_be_visible()
    phone.locator(section).screenshot(path=str(tmp_path / "subscription-ended.png"))


def plain(message) -> str:
    return message.get_body(("plain",)).get_content()


def test_a_request_retried_after_a_lost_answer_books_once(open_page, web_server):
    """The first answer never reaches the page (the request did reach the server); the person
    sends again, with the same Idempotency-Key: one booking, and the page says it is sent."""
    mailbox = Mailbox(web_server.data_dir / "mail")
    tutor, student, slots = api_users(web_server.base_url, mailbox, unique("Kora"))
    page = open_page()
    page.goto("/")
    log_in(page, student.email)
    page.goto(f"/#/tutors/{tutor.user_id}")
    keys = []

    def lose_the_first_answer(route):
        keys.append(route.request.headers["idempotency-key"])
        if len(keys) == 1:
            route.fetch()  # the server books it ...
            route.abort("connectionreset")  # ... and the answer is lost
        else:
            route.continue_()

    page.route("**/create-booking-request", lose_the_first_answer)
    open_page.allowed.append("net::ERR_CONNECTION_RESET")
    page.locator("button.slot").first.click()
    page.get_by_role("button", name="Send request").click()
    expect(page.locator(".request-panel .form-error")).to_contain_text("Could not reach")
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_role("heading", name="Request sent")).to_be_visible()
    assert len(keys) == 2 and keys[0] == keys[1] and len(keys[0]) == 32
    mine = student.get("/get-student-bookings").json()["bookings"]
    assert [b["slot_id"] for b in mine] == [slots[0]["slot_id"]]


def test_a_tutor_page_shows_more_than_one_answer_of_slots(open_page, web_server):
    """The API answers at most 1000 slots at a time; the page asks for the rest on request."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    mailbox = Mailbox(web_server.data_dir / "mail")
    tutor, student, _ = api_users(web_server.base_url, mailbox, unique("Gong"))
    first = datetime.now(ZoneInfo(TUTOR_ZONE)).date() + timedelta(days=3)
    days = [(first + timedelta(days=d)).isoformat() for d in range(11)]
    window = {"start_time": "00:00", "end_time": "24:00", "slot_minutes": 15}
    for part in (days[:10], days[10:]):
        r = tutor.post("/create-availability", {"windows": [{"date": d, **window} for d in part]})
        assert r.status_code == 201, r.text
    page = open_page(zone=TUTOR_ZONE)
    page.goto("/")
    log_in(page, student.email)
    page.goto(f"/#/tutors/{tutor.user_id}")
    expect(page.locator("button.slot")).to_have_count(1000)

    # the next part is lost on its way: told beside the button, which stays to try again
    def lose_the_next_part(route):
        if "cursor" in (route.request.post_data or ""):
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/get-teacher-slots", lose_the_next_part)
    open_page.allowed.append("net::ERR_CONNECTION_RESET")
    more = page.get_by_role("button", name="Show more times")
    more.click()
    error = page.get_by_role("alert").filter(has_text="Could not reach SkillSession")
    expect(error).to_be_visible()
    expect(page.locator("button.slot")).to_have_count(1000)
    page.unroute("**/get-teacher-slots")
    more.click()
    expect(page.locator("button.slot")).to_have_count(3 + 11 * 96)  # api_users' three, too
    expect(error).to_be_hidden()
    expect(page.get_by_role("button", name="Show more times")).to_be_hidden()


def one_a_page(route) -> None:
    """Every list answer one item long (the page asks for 200): paging with three items."""
    route.continue_(url=route.request.url.replace("limit=200", "limit=1"))


def test_requests_and_my_bookings_come_a_page_at_a_time(open_page, web_server):
    """The pages follow the API's cursor: three requests take three answers, in the tutor's
    inbox and in the student's bookings; history goes back in spans of days; a failed load is
    told beside its button."""
    mailbox = Mailbox(web_server.data_dir / "mail")
    tutor, student, slots = api_users(web_server.base_url, mailbox, unique("Lute"))
    ids = []
    for slot in slots:
        r = student.post("/create-booking-request", {"slot_id": slot["slot_id"]})
        assert r.status_code == 201, r.text
        ids.append(r.json()["booking"]["booking_id"])

    inbox = open_page(zone=TUTOR_ZONE)
    inbox.goto("/")
    log_in(inbox, tutor.email)
    expect(nav(inbox).get_by_role("link", name="Requests")).to_be_visible()
    inbox.route(re.compile(r"/get-pending-booking-slots\?"), one_a_page)
    nav(inbox).get_by_role("link", name="Requests").click()
    expect(inbox.locator("li.booking")).to_have_count(1)
    more = inbox.get_by_role("button", name="Show more requests")
    more.click()
    expect(inbox.locator("li.booking")).to_have_count(2)
    more.click()
    expect(inbox.locator("li.booking")).to_have_count(3)
    expect(more).to_be_hidden()
    inbox.locator("li.booking").first.get_by_role("button", name="Accept").click()
    expect(inbox.locator("li.booking").first).to_contain_text("You accepted Student Tester")
    assert student.post("/cancel-booking", {"booking_id": ids[2]}).is_success

    page = open_page()
    page.goto("/")
    log_in(page, student.email)
    expect(nav(page).get_by_role("link", name="My bookings")).to_be_visible()
    page.route(re.compile(r"/get-student-bookings\?"), one_a_page)
    nav(page).get_by_role("link", name="My bookings").click()
    upcoming = page.get_by_role("region", name="Upcoming")
    waiting = page.get_by_role("region", name="Waiting for the tutor")
    history = page.get_by_role("region", name="History")
    expect(upcoming.locator("li.booking")).to_have_count(1)
    expect(waiting.locator("li.booking")).to_have_count(0)
    later = page.get_by_role("button", name="Show later bookings")
    later.click()
    expect(waiting.locator("li.booking")).to_have_count(1)
    expect(history.locator("li.booking")).to_have_count(0)
    later.click()
    expect(history.locator("li.booking").get_by_text("Cancelled", exact=True)).to_be_visible()
    expect(later).to_be_hidden()
    expect(page.locator("li.booking")).to_have_count(3)

    page.route(re.compile(r"/get-student-bookings\?"), lambda route: route.abort("connectionreset"))
    open_page.allowed.append("net::ERR_CONNECTION_RESET")
    earlier = page.get_by_role("button", name="Show earlier bookings")
    earlier.click()
    error = history.get_by_role("alert").filter(has_text="Could not reach SkillSession")
    expect(error).to_be_visible()
    page.unroute(re.compile(r"/get-student-bookings\?"))
    earlier.click()
    expect(error).to_be_hidden()
    expect(page.locator("li.booking")).to_have_count(3)
