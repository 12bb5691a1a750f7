"""The web client's full journey in a real browser, against the real `skillsession serve`:
sign-up with the mailed code, profile with photo, a tutor's window, search, request, accept,
the .ics, cancel; on a desktop and on a 360 px phone (embedded shape), and on a desktop with
the AWS shape's storage (DynamoDB and S3 on moto: the photo comes from S3's presigned URL),
served once by `skillsession serve` and once by the Lambda entry point itself, behind a
stand-in for API Gateway (tests/e2e/lambda_gateway.py: page, files and API as API Gateway
events, mail delivered by the scheduled job's handler). Accounts and mail stay embedded there
(Cognito waits for the accounts issue)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from playwright.sync_api import expect

from browser.conftest import DESKTOP, PHONE, STUDENT_ZONE, TUTOR_ZONE
from browser.web_steps import create_profile, day_group, nav, new_email, png, sign_up
from e2e.api_client import Mailbox


@pytest.mark.parametrize(
    ("web_server", "viewport"),
    [("sqlite", DESKTOP), ("sqlite", PHONE), ("dynamodb", DESKTOP), ("lambda", DESKTOP)],
    ids=["desktop", "phone", "aws-shape-storage", "aws-lambda"],
    indirect=["web_server"],
)
def test_sign_up_publish_search_request_accept_ics_cancel(
    open_page, web_server, viewport, tmp_path
):
    mailbox = Mailbox(web_server.data_dir / "mail")
    skill = f"Cello{datetime.now().microsecond}"
    tutor = open_page(viewport=viewport, zone=TUTOR_ZONE)
    student = open_page(viewport=viewport, zone=STUDENT_ZONE)

    # the tutor signs up with the code from the .eml, makes a profile and adds a photo
    tutor_email = new_email("tutor")
    sign_up(tutor, mailbox, tutor_email)
    create_profile(tutor, "tutor", "Clara", "Schumann", **{"Teaching skills": f"{skill}, Piano"})
    photo = tmp_path / "me.png"
    photo.write_bytes(png())
    tutor.get_by_label("Photo", exact=True).set_input_files(str(photo))
    preview = tutor.get_by_role("img", name="Preview of your new photo")
    expect(preview).to_be_visible()
    assert preview.get_attribute("src").startswith("blob:")
    tutor.get_by_role("button", name="Upload photo").click()
    expect(tutor.get_by_text("Photo saved.")).to_be_visible()
    current = tutor.get_by_role("img", name="Your current photo")
    where = web_server.media_origins[0] if web_server.media_origins else "/media/"
    expect(current).to_have_attribute("src", re.compile(f"^{re.escape(where)}"))
    tutor.wait_for_function(
        "img => img.complete && img.naturalWidth === 96", arg=current.element_handle()
    )

    # ... and publishes a window two days ahead, 09:00-11:00 in Berlin: two slots
    berlin, halifax = ZoneInfo(TUTOR_ZONE), ZoneInfo(STUDENT_ZONE)
    day = datetime.now(berlin).date() + timedelta(days=2)
    nav(tutor).get_by_role("link", name="Availability").click()
    tutor.get_by_label("Date", exact=True).fill(day.isoformat())
    tutor.get_by_label("Start", exact=True).fill("09:00")
    tutor.get_by_label("End", exact=True).fill("11:00")
    tutor.get_by_label("Slot length").select_option("60")
    tutor.get_by_role("button", name="Add window").click()
    expect(tutor.get_by_text("Window added: 2 slots")).to_be_visible()
    expect(tutor.locator(".wslot.available", has_text="09:00")).to_be_visible()

    # the student signs up, searches by two skills and opens the tutor's card
    student_email = new_email("student")
    sign_up(student, mailbox, student_email)
    create_profile(student, "student", "Ada", "Lovelace", University="Dalhousie")
    nav(student).get_by_role("link", name="Find a tutor").click()
    student.get_by_label("Skill").fill(f"piano, {skill.lower()}")
    student.get_by_role("button", name="Search").click()
    card = student.locator("li.tutor-card", has_text="Clara Schumann")
    expect(card).to_have_count(1)
    expect(card.locator("img.photo")).to_be_visible()  # the tutor's photo on the card
    card.get_by_role("link", name="Request", exact=True).click()

    # slots in the student's zone, grouped by day; the tutor's zone named
    start = datetime(day.year, day.month, day.day, 9, 0, tzinfo=berlin).astimezone(halifax)
    expect(student.get_by_role("heading", name="Clara Schumann")).to_be_visible()
    tutor_page = student.url
    expect(student.get_by_text(f"Clara is in {TUTOR_ZONE}")).to_be_visible()
    group = day_group(student, start.date())
    group.get_by_role("button", name=f"{start:%H:%M}", exact=True).click()
    expect(student.get_by_text(f"09:00–10:00 in {TUTOR_ZONE}")).to_be_visible()
    student.get_by_label("Message").fill("Bach suites, please")
    student.get_by_role("button", name="Send request").click()
    expect(student.get_by_role("heading", name="Request sent")).to_be_visible()

    # the tutor sees the request with the student's name and message, and accepts it
    nav(tutor).get_by_role("link", name="Requests").click()
    request = tutor.locator("li.booking", has_text="Ada Lovelace")
    expect(request).to_contain_text("Bach suites, please")
    expect(request.get_by_text("Pending", exact=True)).to_be_visible()
    request.get_by_role("button", name="Accept").click()
    expect(request).to_contain_text("You accepted Ada Lovelace")
    nav(tutor).get_by_role("link", name="Dashboard").click()
    expect(tutor.get_by_role("region", name="Next sessions")).to_contain_text("Ada Lovelace")
    expect(tutor.get_by_role("region", name="Next sessions")).to_contain_text("Starts in")

    # the student sees it accepted and downloads the .ics
    nav(student).get_by_role("link", name="My bookings").click()
    booking = student.locator("li.booking", has_text="Clara Schumann")
    expect(booking.get_by_text("Accepted", exact=True)).to_be_visible()
    with student.expect_download() as download:
        booking.get_by_role("button", name="Download .ics").click()
    event = Calendar.from_ical(Path(download.value.path()).read_bytes()).walk("VEVENT")[0]
    assert event.decoded("DTSTART") == start
    assert event.decoded("DTEND") == start + timedelta(hours=1)
    assert "Clara Schumann" in str(event.get("SUMMARY"))

    # ... and cancels it with a reason, which the tutor then reads
    booking.get_by_role("button", name="Cancel booking").click()
    booking.get_by_label("Reason").fill("exam moved")
    booking.get_by_role("button", name="Confirm cancellation").click()
    expect(booking.get_by_text("Cancelled", exact=True)).to_be_visible()
    nav(tutor).get_by_role("link", name="My bookings").click()
    history = tutor.get_by_role("region", name="History")
    expect(history.locator("li.booking", has_text="Ada Lovelace")).to_contain_text("exam moved")
    expect(history.get_by_text("Cancelled", exact=True)).to_be_visible()

    # the freed slot is offered again
    student.goto(tutor_page)
    expect(
        day_group(student, start.date()).get_by_role("button", name=f"{start:%H:%M}")
    ).to_be_visible()
