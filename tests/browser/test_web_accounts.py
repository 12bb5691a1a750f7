"""Account recovery in the web client: "Forgot password?" on the log-in page mails a reset code,
and the code with a new password logs the person in (the old password no longer works)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from browser.web_steps import create_profile, log_in, new_email, sign_up
from e2e.api_client import PASSWORD, Mailbox

NEW_PASSWORD = "a brand new password"


def test_a_forgotten_password_is_reset_with_the_mailed_code(open_page, web_server):
    mailbox = Mailbox(web_server.data_dir / "mail")
    email = new_email("forgetful")
    sign_up(open_page(), mailbox, email)

    page = open_page()  # another browser: no session
    page.goto("/")
    page.get_by_role("link", name="Forgot password?").click()
    expect(page.get_by_role("heading", name="Reset your password")).to_be_visible()
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Send a reset code").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    message = mailbox.wait_for(email, "reset code")
    code = re.search(r"\b(\d{6})\b", str(message["Subject"])).group(1)
    page.get_by_label("Code").fill(code)
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set the new password").click()
    expect(page.get_by_role("heading", name="Create your profile")).to_be_visible()

    again = open_page()
    again.goto("/")
    log_in(again, email)  # the old password
    expect(again.locator("[data-field=password] .field-error")).to_have_text(
        "wrong e-mail or password"
    )
    again.get_by_label("Password").fill(NEW_PASSWORD)
    again.get_by_role("button", name="Log in").click()
    expect(again.get_by_role("heading", name="Create your profile")).to_be_visible()


def test_a_password_is_changed_on_the_profile_page_and_the_session_goes_on(open_page, web_server):
    """The change refuses the page's token; the answer's fresh one keeps the person signed in
    (a reload reads the profile with it)."""
    mailbox = Mailbox(web_server.data_dir / "mail")
    email = new_email("changer")
    page = open_page()
    sign_up(page, mailbox, email)
    create_profile(page, "student", "Cleo", "Change")
    section = page.get_by_role("region", name="Password")
    section.get_by_label("Current password").fill("not my password")
    section.get_by_label("New password").fill(NEW_PASSWORD)
    section.get_by_role("button", name="Change password").click()
    expect(page.locator("[data-field=current_password] .field-error")).to_have_text(
        "the current password is wrong"
    )
    section.get_by_label("Current password").fill(PASSWORD)
    section.get_by_role("button", name="Change password").click()
    expect(section.get_by_role("status")).to_have_text("Your password is changed.")
    expect(section.get_by_label("Current password")).to_have_value("")
    page.reload()
    expect(page.get_by_role("heading", name="Profile", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Log in")).to_have_count(0)

    again = open_page()  # another browser: the new password
    again.goto("/")
    log_in(again, email, NEW_PASSWORD)
    expect(again.get_by_role("heading", name="Hello, Cleo")).to_be_visible()
