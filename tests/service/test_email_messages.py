"""Issue 11 items 5 and 11: the e-mails as a mail client reads them (the raw bytes a real
mailer wrote: a `.eml` file, or what a real SMTP server received), and the subscription links
they carry, followed over HTTP the way a person, a mail scanner and a mail client do."""

from __future__ import annotations

import asyncio
import email
import email.policy
import html
import re

import httpx
import pytest
from icalendar import Calendar

from skillsession.adapters.mail.files import FileMailer
from skillsession.adapters.mail.smtp import SmtpMailer
from skillsession.domain.availability import WindowRequest
from skillsession.http.app import create_app
from skillsession.service import availability, bookings, outbox, subscriptions

PUBLIC = "http://127.0.0.1:8000"
HOSTILE_MESSAGE = '<b>Bring</b> "notes" & <script>alert(1)</script>\nsecond line'


@pytest.fixture(params=["files", "smtp"])
def mail(request, deps, tmp_path):
    """The raw bytes of every mail sent so far, as the chosen real mailer wrote them."""
    if request.param == "files":
        mailer = FileMailer(tmp_path / "mail")
        deps.mailer = mailer
        yield lambda: [p.read_bytes() for p in mailer.paths()]
    else:
        server = request.getfixturevalue("smtp_test_server")
        deps.mailer = SmtpMailer.from_url(server.url())
        yield lambda: [m.data for m in server.received]


def call(app, method, path, **kwargs) -> httpx.Response:
    async def go():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=PUBLIC) as client:
            return await client.request(method, path, **kwargs)

    return asyncio.run(go())


def parse(raw: bytes) -> email.message.EmailMessage:
    """As a mail store keeps it: SMTP's CRLF line ends as LF."""
    return email.message_from_bytes(raw.replace(b"\r\n", b"\n"), policy=email.policy.default)


def newest(mail, subject: str, to: str | None = None) -> bytes:
    for raw in reversed(mail()):
        message = parse(raw)
        if subject in str(message["Subject"]) and to in (None, str(message["To"])):
            return raw
    raise AssertionError(f"no mail about {subject!r}")


def confirm_by_link(app, mail, who) -> str:
    """Follow the confirmation mail's link as a person does: GET the page, press its button."""
    raw = newest(mail, "Confirm your subscription", who.email)
    text = parse(raw).get_body(("plain",)).get_content()
    link = re.search(r"http://\S+/confirm-subscription\?token=\S+", text).group(0)
    page = call(app, "GET", link, headers={"Accept": "text/html"})
    assert page.status_code == 200 and '<form method="post">' in page.text
    assert subscriptions_of(app, who).status == "pending_confirmation"  # a GET changes nothing
    done = call(app, "POST", link)
    assert done.json()["subscription_status"] == "confirmed"
    return link


def subscriptions_of(app, who):
    return app.state.deps.stores.outbox.get_subscription(who.user_id)


def html_text(markup: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def same_content(plain: str, markup: str) -> None:
    """Every line the text part says, the HTML part says too (links aside)."""
    shown = html_text(markup)
    for line in plain.splitlines():
        line = line.removeprefix("> ").strip()
        if line and line != "--" and "http" not in line:
            assert " ".join(line.split()) in shown, line


def no_external_resources(markup: str) -> None:
    assert not re.search(
        r"<(img|link|script|iframe|object|embed|style)\b|\bsrc=|url\(|@import", markup
    )
    for href in re.findall(r'href="([^"]*)"', markup):
        assert html.unescape(href).startswith(f"{PUBLIC}/"), href


@pytest.fixture
def world(deps, mail, tutor, student):
    app = create_app(deps, run_jobs=False)
    deps.stores.profiles.save_profile(
        _with(
            deps.stores.profiles.get_profile(tutor.user_id), first_name="Tünde", last_name="Kovács"
        )
    )
    for who in (tutor, student):
        subscriptions.subscribe(deps, who)
        outbox.deliver_all(deps)
        confirm_by_link(app, mail, who)
    window = WindowRequest(date="2026-12-03", start_time="09:00", end_time="10:00")
    _, [slot] = availability.create(deps, tutor, [window])
    return app, slot


def _with(profile, **fields):
    for name, value in fields.items():
        setattr(profile, name, value)
    return profile


def test_a_booking_request_mail_as_a_mail_client_reads_it(deps, mail, world, tutor, student):
    _, slot = world
    bookings.request(deps, student, slot.slot_id, HOSTILE_MESSAGE, None)
    assert outbox.deliver_all(deps).sent == 1
    raw = newest(mail, "New booking request")
    head = raw.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
    # RFC 2369 / RFC 8058, written raw (not RFC 2047 encoded words), each on one line
    unsubscribe = re.search(
        rb"^List-Unsubscribe: <(http://127\.0\.0\.1:8000/unsubscribe\?token=[\w%-]+)>$",
        head,
        re.M,
    )
    assert unsubscribe, head.decode()
    assert re.search(rb"^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r?$", head, re.M)
    assert b"=?utf-8?q?=3C" not in head
    assert re.search(rb"^To: tutor@example\.test\r?$", head, re.M)  # one bare address
    message = parse(raw)
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    plain = message.get_body(("plain",)).get_content()
    markup = message.get_body(("html",)).get_content()
    when = "Thursday 3 December, 09:00–10:00 (Europe/Berlin)"
    for part in (plain, html_text(markup)):
        assert "Hello Tünde," in part
        assert f"Student asks to book a session with you on {when}." in part
    assert f"Answer the request: {PUBLIC}/#/requests" in plain
    assert f'href="{PUBLIC}/#/requests"' in markup
    assert unsubscribe.group(1).decode() in plain
    assert '> <b>Bring</b> "notes" & <script>alert(1)</script>\n> second line' in plain
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in markup and "<script" not in markup
    assert "<b>Bring" not in markup
    same_content(plain, markup)
    no_external_resources(markup)


def test_an_accepted_booking_mail_carries_the_calendar_event(deps, mail, world, tutor, student):
    _, slot = world
    asked = bookings.request(deps, student, slot.slot_id, None, None)
    outbox.deliver_all(deps)
    bookings.respond(deps, tutor, asked.booking.booking_id, "accept", None)
    assert outbox.deliver_all(deps).sent == 1
    message = parse(newest(mail, "accepted your booking"))
    assert message.get_content_type() == "multipart/mixed"
    body, ics = message.iter_parts()
    assert body.get_content_type() == "multipart/alternative"
    assert ics.get_content_type() == "text/calendar" and ics.get_filename() == "booking.ics"
    event = Calendar.from_ical(ics.get_content()).walk("VEVENT")[0]
    assert str(event["DTSTART"].dt.isoformat()) == "2026-12-03T08:00:00+00:00"
    assert Calendar.from_ical(ics.get_content())["METHOD"] == "REQUEST"
    plain = message.get_body(("plain",)).get_content()
    markup = message.get_body(("html",)).get_content()
    assert "Hello Student," in plain  # the student reads it in Halifax
    assert "Thursday 3 December, 04:00–05:00 (America/Halifax)" in plain
    assert "Tünde Kovács" in plain and "Tünde Kovács" in html_text(markup)
    assert f"{PUBLIC}/#/bookings" in plain and f'href="{PUBLIC}/#/bookings"' in markup
    same_content(plain, markup)
    no_external_resources(markup)


def test_one_click_unsubscribe_and_an_old_confirmation_link(deps, mail, world, tutor, student):
    app, slot = world
    old_confirmation = newest(mail, "Confirm your subscription", tutor.email)
    old_link = re.search(
        r"http://\S+/confirm-subscription\?token=\S+",
        parse(old_confirmation).get_body(("plain",)).get_content(),
    ).group(0)
    bookings.request(deps, student, slot.slot_id, None, None)
    outbox.deliver_all(deps)
    head = newest(mail, "New booking request").replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
    target = re.search(rb"^List-Unsubscribe: <(\S+)>", head, re.M).group(1).decode()
    # what a mail scanner does: GET the link. Nothing changes.
    scanned = call(app, "GET", target, headers={"Accept": "text/html"})
    assert scanned.status_code == 200 and "Unsubscribe</button>" in scanned.text
    assert subscriptions_of(app, tutor).status == "confirmed"
    # what a mail client does on "unsubscribe" (RFC 8058)
    one_click = call(
        app,
        "POST",
        target,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert one_click.status_code == 200, one_click.text
    assert one_click.json() == {"email": tutor.email, "subscription_status": "unsubscribed"}
    # the old confirmation mail cannot subscribe the address again: not by its page, not by POST
    page = call(app, "GET", old_link, headers={"Accept": "text/html"})
    assert page.status_code == 404 and "<form" not in page.text
    assert call(app, "POST", old_link).status_code == 404
    assert call(app, "GET", old_link).json()["error"]["code"] == "subscription_not_found"
    assert subscriptions_of(app, tutor).status == "unsubscribed"
    # and the unsubscribe link is not a confirmation link
    token = target.rpartition("token=")[2]
    assert call(app, "POST", f"/confirm-subscription?token={token}").status_code == 404
    # subscribing again mails a new link, which works; the old one still does not
    subscriptions.subscribe(deps, tutor)
    outbox.deliver_all(deps)
    assert confirm_by_link(app, mail, tutor) != old_link
    assert call(app, "POST", old_link).status_code == 404


def test_link_pages_are_escaped_and_load_nothing(deps, world, student):
    app, _ = world
    subscription = deps.stores.outbox.get_subscription(student.user_id)
    page = call(app, "GET", f"/unsubscribe?token={subscription.token}")
    assert page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert page.headers.get_list("content-security-policy") == [csp]  # one policy, not two
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert not re.search(r"\bsrc=|<link|<script|url\(", page.text)
    hostile = call(app, "GET", '/unsubscribe?token=<script>"x', headers={"Accept": "text/html"})
    assert hostile.status_code == 404 and "<script>" not in hostile.text
    posted = call(
        app, "POST", f"/unsubscribe?token={subscription.token}", headers={"Accept": "text/html"}
    )
    assert posted.status_code == 200 and posted.headers["content-type"].startswith("text/html")
    assert html.escape(student.email) in posted.text


def test_the_link_paths_answer_405_naming_both_methods(deps):
    app = create_app(deps, run_jobs=False)
    for path in ("/confirm-subscription", "/unsubscribe"):
        response = call(app, "PUT", path)
        assert response.status_code == 405
        assert response.headers["allow"] == "GET, POST"
    assert call(app, "PUT", "/health").headers["allow"] == "GET"
