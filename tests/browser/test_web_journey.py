"""The web client's full journey in a real browser, against the real `skillsession serve`:
sign-up with the mailed code, profile with photo, a tutor's window, search, request, accept,
the .ics, cancel; on a desktop and on a 360 px phone (embedded shape), and on a desktop with
the AWS shape's storage (DynamoDB and S3 on moto: the photo comes from S3's presigned URL),
served once by `skillsession serve` and once by the Lambda entry point itself, behind a
stand-in for API Gateway (tests/e2e/lambda_gateway.py: page, files and API as API Gateway
events, mail delivered by the scheduled job's handler), with embedded accounts; and once more
on that shape with `/auth/*` carried out by Cognito (moto's cognito-idp)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from playwright.sync_api import expect

from browser.conftest import DESKTOP, PHONE, STUDENT_ZONE, TUTOR_ZONE
from browser.web_steps import add_window, create_profile, day_group, nav, new_email, png, sign_up
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
    add_window(tutor, day)
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


COGNITO_PASSWORD = "correct horse battery 7"  # the shape's pool also asks for a digit
# Cognito mails sign-up codes itself; moto's SignUp mails none, and its ConfirmSignUp then takes
# any (tests/aws/moto_cognito_codes.py): the student types any 6 digits (the tutor a mailed one)
ANY_CODE = "271828"


def pool_of(web_server) -> dict[str, str]:
    from urllib.parse import parse_qs, urlsplit

    return {
        "client_id": parse_qs(urlsplit(web_server.env["SKILLSESSION_AUTH"]).query)["client_id"][0]
    }


def cognito_refusal(web_server, password: str) -> str:
    """What the shape's pool itself answers to a sign-up with `password` (its own words)."""
    from botocore.exceptions import ClientError
    from cognito_pool import idp

    try:
        idp().sign_up(
            ClientId=pool_of(web_server)["client_id"],
            Username=new_email("probe"),
            Password=password,
        )
    except ClientError as refused:
        assert refused.response["Error"]["Code"] == "InvalidPasswordException"
        return refused.response["Error"]["Message"]
    raise AssertionError("the pool took the password")


@pytest.mark.parametrize("web_server", ["cognito"], indirect=True)
def test_on_the_aws_shape_with_accounts_in_cognito(open_page, web_server, tmp_path):
    """The journey on the AWS shape with `/auth/*` carried out by Cognito (moto's cognito-idp,
    template.yaml's pool): the Lambda entry point behind the stand-in for API Gateway, DynamoDB
    and S3 on moto. Sign up (Cognito's policy refusal shown beside the password), a new code
    (a wrong one refused beside the field), confirm, log in, profile, a window, search, request, accept, accepted; forgot password; log out; the
    account deleted (a tick: Cognito's shape takes the token alone, no password). Each step's
    screen is kept in the test's tmp dir for a person to look at."""
    shots = iter(range(1, 100))

    def shot(page, name: str) -> None:
        page.screenshot(path=str(tmp_path / f"{next(shots):02d}-{name}.png"), full_page=True)

    skill = f"Lute{datetime.now().microsecond}"
    tutor = open_page(zone=TUTOR_ZONE)
    student = open_page(zone=STUDENT_ZONE)

    # Cognito's password policy refuses what the API's own rule (10 characters) lets through:
    # its words, beside the field; the form keeps what was typed
    tutor_email = new_email("tutor")
    tutor.goto("/")
    nav(tutor).get_by_role("link", name="Sign up").click()
    tutor.get_by_label("Email").fill(tutor_email)
    tutor.get_by_label("Password").fill("correct horse battery")
    tutor.get_by_role("button", name="Sign up").click()
    expect(tutor.locator("[data-field=password] .field-error")).to_have_text(
        cognito_refusal(web_server, "correct horse battery")
    )
    expect(tutor.get_by_label("Password")).to_have_attribute("aria-invalid", "true")
    expect(tutor.get_by_label("Email")).to_have_value(tutor_email)
    shot(tutor, "signup-cognito-policy")
    tutor.get_by_label("Password").fill(COGNITO_PASSWORD)
    tutor.get_by_role("button", name="Sign up").click()
    expect(tutor.get_by_role("heading", name="Confirm your e-mail")).to_be_visible()
    # a new code (ResendConfirmationCode): a wrong one is Cognito's CodeMismatch, beside the field
    tutor.get_by_role("button", name="Send a new code").click()
    expect(tutor.get_by_text(f"A new code is on its way to {tutor_email}.")).to_be_visible()
    from cognito_pool import signup_code

    mailed = signup_code(pool_of(web_server), tutor_email)
    tutor.get_by_label("Code").fill(f"{(int(mailed) + 1) % 1_000_000:06d}")
    tutor.get_by_role("button", name="Confirm").click()
    expect(tutor.locator("[data-field=code] .field-error")).to_have_text("wrong or expired code")
    shot(tutor, "confirm-code")
    tutor.get_by_label("Code").fill(mailed)
    tutor.get_by_role("button", name="Confirm").click()
    expect(tutor.get_by_role("heading", name="Create your profile")).to_be_visible()
    create_profile(tutor, "tutor", "Luis", "Milán", **{"Teaching skills": f"{skill}, Vihuela"})
    shot(tutor, "tutor-profile")

    berlin, halifax = ZoneInfo(TUTOR_ZONE), ZoneInfo(STUDENT_ZONE)
    day = datetime.now(berlin).date() + timedelta(days=2)
    add_window(tutor, day)
    shot(tutor, "tutor-availability")

    # the student: signs up, finds the tutor, requests the first slot
    student_email = new_email("student")
    sign_up(student, None, student_email, COGNITO_PASSWORD, code=ANY_CODE)
    create_profile(student, "student", "Ana", "Caro", University="Salamanca")
    nav(student).get_by_role("link", name="Find a tutor").click()
    student.get_by_label("Skill").fill(skill.lower())
    student.get_by_role("button", name="Search").click()
    card = student.locator("li.tutor-card", has_text="Luis Milán")
    expect(card).to_have_count(1)
    shot(student, "student-search")
    card.get_by_role("link", name="Request", exact=True).click()
    start = datetime(day.year, day.month, day.day, 9, 0, tzinfo=berlin).astimezone(halifax)
    day_group(student, start.date()).get_by_role(
        "button", name=f"{start:%H:%M}", exact=True
    ).click()
    student.get_by_label("Message").fill("Fantasias, please")
    shot(student, "student-request")
    student.get_by_role("button", name="Send request").click()
    expect(student.get_by_role("heading", name="Request sent")).to_be_visible()

    # the tutor accepts; the student sees it accepted
    nav(tutor).get_by_role("link", name="Requests").click()
    request = tutor.locator("li.booking", has_text="Ana Caro")
    expect(request).to_contain_text("Fantasias, please")
    shot(tutor, "tutor-requests")
    request.get_by_role("button", name="Accept").click()
    expect(request).to_contain_text("You accepted Ana Caro")
    nav(student).get_by_role("link", name="My bookings").click()
    booking = student.locator("li.booking", has_text="Luis Milán")
    expect(booking.get_by_text("Accepted", exact=True)).to_be_visible()
    shot(student, "student-bookings")

    # log out; forgot password: Cognito's reset code sets a new one, which logs in
    nav(student).get_by_role("button", name="Log out").click()
    expect(student.get_by_role("heading", name="Log in")).to_be_visible()
    student.get_by_role("link", name="Forgot password?").click()
    expect(student.get_by_role("heading", name="Reset your password")).to_be_visible()
    student.get_by_label("Email").fill(student_email)
    student.get_by_role("button", name="Send a reset code").click()
    expect(student.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    shot(student, "forgot-password")
    student.get_by_label("Code").fill("314159")  # moto: any code not of its own form
    student.get_by_label("New password").fill("a new password 8")
    student.get_by_role("button", name="Set the new password").click()
    expect(nav(student).get_by_role("link", name="My bookings")).to_be_visible()
    nav(student).get_by_role("button", name="Log out").click()
    expect(student.get_by_text("You have logged out.")).to_be_visible()
    shot(student, "logged-out")
    student.get_by_label("Email").fill(student_email)
    student.get_by_label("Password").fill(COGNITO_PASSWORD)  # the old one no longer
    student.get_by_role("button", name="Log in").click()
    expect(student.locator("[data-field=password] .field-error")).to_have_text(
        "wrong e-mail or password"
    )

    # leaving: Cognito's shape takes the token alone (no password it would not check): a tick
    student.get_by_label("Password").fill("a new password 8")
    student.get_by_role("button", name="Log in").click()
    nav(student).get_by_role("link", name="Profile").click()
    leave = student.get_by_role("form", name="Delete your account")
    leave.get_by_role("button", name="Delete account").click()
    expect(leave.get_by_text("Tick the box to confirm.")).to_be_visible()
    expect(leave.get_by_label("Your password")).to_have_count(0)
    shot(student, "delete-account")
    leave.get_by_label("Yes, delete my account").check()
    leave.get_by_role("button", name="Delete account").click()
    expect(student.get_by_text("Your account is deleted.")).to_be_visible()
    student.get_by_label("Email").fill(student_email)
    student.get_by_label("Password").fill("a new password 8")
    student.get_by_role("button", name="Log in").click()
    expect(student.get_by_text("wrong e-mail or password")).to_be_visible()
