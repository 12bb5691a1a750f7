"""Your data in the web client: on the profile page, "Download my data" saves the export as a
JSON file, and "Delete account" asks for the password, refuses a wrong one beside the field,
and with the right one ends the session; the e-mail then no longer logs in."""

from __future__ import annotations

import json
from pathlib import Path

from playwright.sync_api import expect

from browser.conftest import DESKTOP
from browser.web_steps import create_profile, log_in, new_email, sign_up
from e2e.api_client import PASSWORD, Mailbox


def test_download_my_data_then_delete_the_account(open_page, web_server):
    mailbox = Mailbox(web_server.data_dir / "mail")
    page = open_page(viewport=DESKTOP)
    email = new_email("leaving")
    sign_up(page, mailbox, email)
    create_profile(page, "student", "Lea", "Ving")

    with page.expect_download() as info:
        page.get_by_role("button", name="Download my data").click()
    download = info.value
    assert download.suggested_filename == "skillsession-data.json"
    data = json.loads(Path(download.path()).read_text(encoding="utf-8"))
    assert data["account"]["email"] == email
    assert data["profile"]["first_name"] == "Lea"
    assert data["bookings"] == []

    section = page.get_by_role("form", name="Delete your account")
    section.get_by_label("Your password").fill("not my password")
    section.get_by_role("button", name="Delete account").click()
    expect(section.get_by_text("wrong password")).to_be_visible()
    expect(section.get_by_label("Your password")).to_have_attribute("aria-invalid", "true")

    section.get_by_label("Your password").fill(PASSWORD)
    section.get_by_role("button", name="Delete account").click()
    expect(page.get_by_text("Your account is deleted.")).to_be_visible()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    log_in(page, email)
    expect(page.get_by_text("wrong e-mail or password")).to_be_visible()
