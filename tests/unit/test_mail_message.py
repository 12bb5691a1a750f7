from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import parsedate_to_datetime

import pytest
from icalendar import Calendar

from skillsession.service.mail_message import booking_ics, build_message, format_message_id

PARIS_WINTER = timezone(timedelta(hours=1))


def _msg(**overrides) -> EmailMessage:
    fields = {
        "to": "Zoë Müller <zoe@example.com>",
        "sender": "SkillSession <no-reply@skillsession.localhost>",
        "subject": "Café – Zoë",
        "text": "Hallo Zoë,\nyour session is at 10:00 ☕\n",
        "message_id": "0190abcdef",
    }
    fields.update(overrides)
    return build_message(**fields)


def _reparse(msg: EmailMessage) -> EmailMessage:
    parsed = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_plain_message_round_trips_utf8_and_is_7bit_on_the_wire():
    msg = _msg()
    wire = msg.as_bytes(policy=email.policy.SMTP)
    assert wire.isascii()  # RFC 2047 headers + quoted-printable body: no 8BITMIME needed

    parsed = _reparse(msg)
    assert parsed["Subject"] == "Café – Zoë"
    assert parsed["To"].addresses[0].display_name == "Zoë Müller"
    assert parsed["To"].addresses[0].addr_spec == "zoe@example.com"
    assert parsed["From"].addresses[0].addr_spec == "no-reply@skillsession.localhost"
    assert parsed.get_content_type() == "text/plain"
    assert parsed.get_content_charset() == "utf-8"
    assert parsed.get_content() == "Hallo Zoë,\nyour session is at 10:00 ☕\n"


def test_message_id_and_date():
    when = datetime(2026, 3, 1, 9, 30, tzinfo=PARIS_WINTER)
    msg = _msg(message_id="n-42", date=when)
    assert msg["Message-ID"] == "<n-42@skillsession>"
    assert parsedate_to_datetime(msg["Date"]) == when
    assert parsedate_to_datetime(msg["Date"]).utcoffset() == timedelta(0)  # written in UTC


def test_date_defaults_to_now():
    before = datetime.now(UTC).replace(microsecond=0)
    sent = parsedate_to_datetime(_msg()["Date"])
    assert before <= sent <= datetime.now(UTC) + timedelta(seconds=1)


def test_generated_message_ids_are_unique_when_none_given():
    first, second = _msg(message_id=None), _msg(message_id=None)
    assert first["Message-ID"] != second["Message-ID"]
    assert first["Message-ID"].endswith("@skillsession>")


@pytest.mark.parametrize("bad", ["", "a b", "x@y", "<x>", "a\r\nBcc: evil@example.com"])
def test_message_id_must_be_a_plain_token(bad):
    with pytest.raises(ValueError):
        format_message_id(bad)


def test_html_alternative():
    msg = _reparse(_msg(html="<p>Hallo <b>Zoë</b></p>"))
    assert msg.get_content_type() == "multipart/alternative"
    assert msg.get_body(("plain",)).get_content().startswith("Hallo Zoë")
    assert msg.get_body(("html",)).get_content().strip() == "<p>Hallo <b>Zoë</b></p>"


def test_attachments_are_wrapped_in_multipart_mixed():
    blob = bytes(range(256))
    msg = _reparse(
        _msg(
            html="<p>hi</p>",
            attachments=[
                ("booking.ics", "text/calendar; method=REQUEST", b"BEGIN:VCALENDAR\r\n"),
                ("raw.bin", "application/octet-stream", blob),
            ],
        )
    )
    assert msg.get_content_type() == "multipart/mixed"
    assert msg.get_body(("html", "plain")).get_content_type() == "text/html"
    parts = {part.get_filename(): part for part in msg.iter_attachments()}
    assert set(parts) == {"booking.ics", "raw.bin"}
    assert parts["booking.ics"].get_content_type() == "text/calendar"
    assert parts["booking.ics"].get_param("method") == "REQUEST"
    assert parts["booking.ics"].get_payload(decode=True) == b"BEGIN:VCALENDAR\r\n"
    assert parts["raw.bin"].get_payload(decode=True) == blob


def test_bad_attachment_content_type_is_rejected():
    with pytest.raises(ValueError):
        _msg(attachments=[("x", "calendar", b"")])


def test_extra_headers_are_added_or_replace_existing_ones():
    msg = _msg(
        headers={"List-Unsubscribe": "<https://x.test/unsubscribe?token=t>", "Subject": "Other"}
    )
    assert msg["List-Unsubscribe"] == "<https://x.test/unsubscribe?token=t>"
    assert msg.get_all("Subject") == ["Other"]


def test_builder_owned_headers_cannot_be_overridden():
    with pytest.raises(ValueError):
        _msg(headers={"Content-Type": "text/html"})


def test_header_injection_is_refused():
    with pytest.raises(ValueError):
        _msg(headers={"X-Note": "hi\r\nBcc: evil@example.com"})


# -- iCalendar --------------------------------------------------------------------------------


def _ics(**overrides) -> Calendar:
    fields = {
        "uid": "b-123@skillsession",
        "start": datetime(2026, 3, 1, 10, 0, tzinfo=PARIS_WINTER),
        "end": datetime(2026, 3, 1, 11, 0, tzinfo=PARIS_WINTER),
        "summary": "Tutoring: Zoë and Café Owner",
        "description": "Bring notes; chapters 1, 2\nand 3",
        "organizer_email": "tutor@example.com",
        "attendee_emails": ["student@example.com"],
        "method": "REQUEST",
        "status": "CONFIRMED",
    }
    fields.update(overrides)
    data = booking_ics(**fields)
    assert isinstance(data, bytes)
    return Calendar.from_ical(data)


def _event(cal: Calendar):
    [event] = cal.walk("VEVENT")
    return event


def test_accepted_booking_is_a_confirmed_request_in_utc():
    cal = _ics()
    assert str(cal["METHOD"]) == "REQUEST"
    assert str(cal["VERSION"]) == "2.0"
    event = _event(cal)
    assert str(event["UID"]) == "b-123@skillsession"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert event.decoded("SEQUENCE") == 0
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert start == datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    assert end == datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    assert start.utcoffset() == timedelta(0)
    assert b"DTSTART:20260301T090000Z" in cal.to_ical()
    assert event.decoded("DTSTAMP").utcoffset() == timedelta(0)
    assert str(event["SUMMARY"]) == "Tutoring: Zoë and Café Owner"
    assert str(event["DESCRIPTION"]) == "Bring notes; chapters 1, 2\nand 3"
    assert str(event["ORGANIZER"]) == "mailto:tutor@example.com"
    attendees = event["ATTENDEE"]
    attendees = attendees if isinstance(attendees, list) else [attendees]
    assert [str(a) for a in attendees] == ["mailto:student@example.com"]


def test_cancel_keeps_the_uid_so_it_replaces_the_request():
    request = _event(_ics())
    cancel_cal = _ics(method="CANCEL", status="CANCELLED", sequence=1)
    cancel = _event(cancel_cal)
    assert str(cancel_cal["METHOD"]) == "CANCEL"
    assert str(cancel["STATUS"]) == "CANCELLED"
    assert str(cancel["UID"]) == str(request["UID"])
    assert cancel.decoded("SEQUENCE") == 1


def test_several_attendees_and_fixed_dtstamp():
    stamp = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)
    event = _event(_ics(attendee_emails=["a@example.com", "b@example.com"], dtstamp=stamp))
    assert [str(a) for a in event["ATTENDEE"]] == ["mailto:a@example.com", "mailto:b@example.com"]
    assert event.decoded("DTSTAMP") == stamp


def test_naive_times_are_taken_as_utc():
    event = _event(_ics(start=datetime(2026, 3, 1, 9, 0), end=datetime(2026, 3, 1, 10, 0)))
    assert event.decoded("DTSTART") == datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "overrides",
    [
        {"method": "PUBLISHX"},
        {"status": "DONE"},
        {"uid": ""},
        {"end": datetime(2026, 3, 1, 10, 0, tzinfo=PARIS_WINTER)},  # end == start
    ],
)
def test_invalid_calendar_input_is_rejected(overrides):
    with pytest.raises(ValueError):
        _ics(**overrides)


def test_ics_survives_as_an_attachment():
    data = booking_ics(
        uid="b-1@skillsession",
        start=datetime(2026, 3, 1, 9, tzinfo=UTC),
        end=datetime(2026, 3, 1, 10, tzinfo=UTC),
        summary="Zoë",
        description="",
        organizer_email="t@example.com",
        attendee_emails=["s@example.com"],
        method="REQUEST",
        status="CONFIRMED",
    )
    msg = _reparse(_msg(attachments=[("booking.ics", "text/calendar; method=REQUEST", data)]))
    [part] = msg.iter_attachments()
    assert part.get_payload(decode=True) == data
    assert str(_event(Calendar.from_ical(part.get_payload(decode=True)))["SUMMARY"]) == "Zoë"
