"""The Mailer contract: every adapter must pass these (see DESIGN.md, "contract test suite").

Each parameter yields `(mailer, received)` where `received()` returns what has arrived so far
as parsed `EmailMessage`s, so the same assertions hold for a folder of `.eml` files and a real
SMTP server on loopback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from icalendar import Calendar

from skillsession.adapters.mail.files import FileMailer
from skillsession.adapters.mail.smtp import SmtpMailer
from skillsession.ports import Mailer
from skillsession.service.mail_message import booking_ics, build_message
from smtp_server import SmtpTestServer

Received = Callable[[], list[EmailMessage]]


def _ses() -> tuple[Mailer, Received]:
    """SES on moto's server (same process): what it accepted is read from its backend."""
    from email import message_from_string, policy

    import boto3
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends
    from moto_server import REGION, endpoint_url

    from skillsession.adapters.mail.ses import SesMailer

    sender = "no-reply@skillsession.localhost"
    boto3.client("ses", region_name=REGION, endpoint_url=endpoint_url()).verify_email_identity(
        EmailAddress=sender
    )
    backend = ses_backends[DEFAULT_ACCOUNT_ID][REGION]
    start = len(backend.sent_messages)

    def received() -> list[EmailMessage]:
        return [
            message_from_string(m.raw_data, policy=policy.default)  # type: ignore[misc]
            for m in backend.sent_messages[start:]
        ]

    mailer = SesMailer.from_url(f"ses://{sender}?region={REGION}&endpoint_url={endpoint_url()}")
    return mailer, received


@pytest.fixture(params=["files", "smtp", "ses"])
def mailer_and_inbox(request, tmp_path: Path) -> Iterator[tuple[Mailer, Received]]:
    if request.param == "files":
        mailer = FileMailer.from_url(f"files://{tmp_path / 'mail'}")
        yield mailer, mailer.messages
    elif request.param == "ses":
        yield _ses()
    else:
        with SmtpTestServer() as server:
            yield SmtpMailer.from_url(server.url(timeout="5")), lambda: server.messages


def _message(message_id: str = "contract-1", **overrides) -> EmailMessage:
    fields = {
        "to": "Zoë Müller <zoe@example.com>",
        "sender": "SkillSession <no-reply@skillsession.localhost>",
        "subject": "Café – Zoë",
        "text": "Hallo Zoë,\n\nnaïve café ☕ — ok?\n",
        "message_id": message_id,
    }
    fields.update(overrides)
    return build_message(**fields)


def _ics() -> bytes:
    return booking_ics(
        uid="booking-7@skillsession",
        start=datetime(2026, 3, 1, 9, 0, tzinfo=UTC),
        end=datetime(2026, 3, 1, 10, 0, tzinfo=UTC),
        summary="Tutoring: Zoë and Café",
        description="Chapter 1, 2; bring notes",
        organizer_email="tutor@example.com",
        attendee_emails=["zoe@example.com"],
        method="REQUEST",
        status="CONFIRMED",
    )


def test_backend_name(mailer_and_inbox, request):
    mailer, _ = mailer_and_inbox
    assert mailer.backend_name == request.node.callspec.params["mailer_and_inbox"]


def test_utf8_subject_recipient_and_body_round_trip(mailer_and_inbox):
    mailer, received = mailer_and_inbox
    mailer.send(_message())
    [got] = received()
    assert got["Subject"] == "Café – Zoë"
    [to] = got["To"].addresses
    assert (to.display_name, to.addr_spec) == ("Zoë Müller", "zoe@example.com")
    assert got["From"].addresses[0].addr_spec == "no-reply@skillsession.localhost"
    assert got.get_content() == "Hallo Zoë,\n\nnaïve café ☕ — ok?\n"


def test_message_id_and_extra_headers_are_preserved(mailer_and_inbox):
    mailer, received = mailer_and_inbox
    sent = _message(
        "n-0190",
        headers={"List-Unsubscribe": "<http://127.0.0.1:8000/unsubscribe?token=abc>"},
    )
    mailer.send(sent)
    [got] = received()
    assert got["Message-ID"] == "<n-0190@skillsession>"
    assert got["Date"] == sent["Date"]
    assert got["List-Unsubscribe"] == "<http://127.0.0.1:8000/unsubscribe?token=abc>"


def test_html_and_attachments_survive(mailer_and_inbox):
    mailer, received = mailer_and_inbox
    ics = _ics()
    blob = bytes(range(256)) * 4
    mailer.send(
        _message(
            html="<p>Hallo <b>Zoë</b></p>",
            attachments=[
                ("booking.ics", "text/calendar; method=REQUEST", ics),
                ("data.bin", "application/octet-stream", blob),
            ],
        )
    )
    [got] = received()
    assert got.get_body(("plain",)).get_content() == "Hallo Zoë,\n\nnaïve café ☕ — ok?\n"
    assert got.get_body(("html",)).get_content().strip() == "<p>Hallo <b>Zoë</b></p>"
    parts = {part.get_filename(): part for part in got.iter_attachments()}
    assert set(parts) == {"booking.ics", "data.bin"}
    assert parts["data.bin"].get_payload(decode=True) == blob

    calendar_part = parts["booking.ics"]
    assert calendar_part.get_content_type() == "text/calendar"
    assert calendar_part.get_param("method") == "REQUEST"
    assert calendar_part.get_payload(decode=True) == ics
    calendar = Calendar.from_ical(calendar_part.get_payload(decode=True))
    [event] = calendar.walk("VEVENT")
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == "booking-7@skillsession"
    assert str(event["SUMMARY"]) == "Tutoring: Zoë and Café"
    assert event.decoded("DTSTART") == datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def test_long_lines_survive(mailer_and_inbox):
    mailer, received = mailer_and_inbox
    text = "x" * 3000 + "\n" + "é" * 1500 + "\n"  # beyond SMTP's 1000-octet line limit
    mailer.send(_message(text=text))
    [got] = received()
    assert got.get_content() == text


def test_several_messages_each_arrive_once(mailer_and_inbox):
    mailer, received = mailer_and_inbox
    for i in range(3):
        mailer.send(_message(f"m{i}", subject=f"Message {i}"))
    got = received()
    assert sorted(m["Subject"] for m in got) == ["Message 0", "Message 1", "Message 2"]
    assert sorted(m["Message-ID"] for m in got) == [f"<m{i}@skillsession>" for i in range(3)]


def test_resending_the_same_message_is_safe(mailer_and_inbox):
    # What the outbox does after a crash between send and "sent": no error, the message is
    # there (the file backend keeps one copy; SMTP may deliver it twice).
    mailer, received = mailer_and_inbox
    message = _message("again")
    mailer.send(message)
    mailer.send(message)
    got = received()
    assert 1 <= len(got) <= 2
    assert {m["Message-ID"] for m in got} == {"<again@skillsession>"}


# -- what reaches a mail client, byte for byte ------------------------------------------------
@pytest.fixture(params=["files", "smtp", "ses"])
def mailer_and_raw(request, tmp_path: Path) -> Iterator[tuple[Mailer, Callable[[], list[bytes]]]]:
    """Each adapter, with the raw bytes of what it delivered (the .eml file, the SMTP DATA,
    the SES raw message): the header lines a mail client reads before any parsing."""
    if request.param == "files":
        mailer = FileMailer.from_url(f"files://{tmp_path / 'mail'}")
        yield mailer, lambda: [p.read_bytes() for p in mailer.paths()]
    elif request.param == "ses":
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.ses.models import ses_backends
        from moto_server import REGION

        mailer, _ = _ses()
        backend = ses_backends[DEFAULT_ACCOUNT_ID][REGION]
        start = len(backend.sent_messages)
        yield mailer, lambda: [m.raw_data.encode() for m in backend.sent_messages[start:]]
    else:
        with SmtpTestServer() as server:
            yield (
                SmtpMailer.from_url(server.url(timeout="5")),
                lambda: [m.data for m in server.received],
            )


def test_list_unsubscribe_reaches_the_client_raw(mailer_and_raw):
    """RFC 2369 wants `<URL>` as it is; a long URL must not come out as RFC 2047 encoded words
    (`=?utf-8?q?=3Chttp...`), which no mail client recognises there (issue 11 item 5)."""
    mailer, raw = mailer_and_raw
    url = "https://skillsession.example.com/unsubscribe?token=" + "Tk9QRV9ub3BlX25vcGU" * 4
    mailer.send(
        _message(
            "n-raw",
            html="<p>Hallo</p>",
            attachments=[("booking.ics", "text/calendar; method=REQUEST", _ics())],
            headers={
                "List-Unsubscribe": f"<{url}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        )
    )
    [data] = raw()
    head = data.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0].decode("ascii")
    lines = head.split("\n")
    assert f"List-Unsubscribe: <{url}>" in lines
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in lines
    assert not any(line.startswith("List-Unsubscribe") and "=?" in line for line in lines)
