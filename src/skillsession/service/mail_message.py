"""Pure helpers that build outgoing mail: the RFC 5322 message and the iCalendar attachment.

No I/O here; the Mailer adapters only deliver what these build, serialised with the message's
own policy (`MAIL_POLICY`). That policy writes the URL headers of RFC 2369 and RFC 8058
(`List-Unsubscribe`, `List-Unsubscribe-Post`) exactly as given: the standard library would fold
a long `<https://...>` into RFC 2047 encoded words, which no mail client recognises there.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from email import policy as email_policy
from email.headerregistry import HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

MESSAGE_ID_DOMAIN = "skillsession"
ICS_PRODID = "-//SkillSession//Booking//EN"

# The part left of "@" in `<{message_id}@skillsession>`: RFC 5322 dot-atom-ish characters only.
_MESSAGE_ID_TOKEN = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+")
_ICS_METHODS = frozenset({"REQUEST", "CANCEL", "PUBLISH"})
_ICS_STATUSES = frozenset({"CONFIRMED", "CANCELLED", "TENTATIVE"})
# Headers the builder owns; overriding them through `headers` would produce a broken message.
_RESERVED_HEADERS = frozenset({"content-type", "content-transfer-encoding", "mime-version"})
_RAW_HEADERS = ("list-unsubscribe", "list-unsubscribe-post", "list-id", "list-help")
_RAW_VALUE = re.compile(r"[\x21-\x7e]+(?: [\x21-\x7e]+)*")  # printable ASCII, single spaces
RFC5322_MAX_LINE = 998


class RawHeader(UnstructuredHeader):
    """A header written as given, never folded or encoded: printable ASCII only, one line."""

    @classmethod
    def parse(cls, value, kwds):
        value = " ".join(str(value).split())  # unfold a parsed (folded) value
        if not _RAW_VALUE.fullmatch(value):
            raise ValueError(f"{kwds.get('name', 'header')} must be one line of printable ASCII")
        super().parse(value, kwds)

    def fold(self, *, policy):
        line = f"{self.name}: {self}"
        if len(line) > RFC5322_MAX_LINE:
            raise ValueError(f"{self.name} is longer than one header line may be")
        return line + policy.linesep


def _registry() -> HeaderRegistry:
    registry = HeaderRegistry()
    for name in _RAW_HEADERS:
        registry.map_to_type(name, RawHeader)
    return registry


# email.policy.default, but the list headers above stay raw
MAIL_POLICY = email_policy.default.clone(header_factory=_registry())


def format_message_id(message_id: str) -> str:
    """`<{message_id}@skillsession>`; `message_id` is a plain token, e.g. a notification id."""
    if not _MESSAGE_ID_TOKEN.fullmatch(message_id):
        raise ValueError(
            f"message_id must be a plain token without '@', '<' or spaces: {message_id!r}"
        )
    return f"<{message_id}@{MESSAGE_ID_DOMAIN}>"


def build_message(
    *,
    to: str,
    sender: str,
    subject: str,
    text: str,
    message_id: str | None,
    html: str | None = None,
    attachments: Iterable[tuple[str, str, bytes]] = (),
    headers: Mapping[str, str] | None = None,
    date: datetime | None = None,
) -> EmailMessage:
    """A UTF-8 message: text/plain, or multipart/alternative with `html`, wrapped in
    multipart/mixed when there are attachments `(filename, content_type, data)`.

    `content_type` may carry parameters, e.g. `"text/calendar; method=REQUEST"`. A stable
    `message_id` (e.g. the notification id) makes redelivery recognisable as the same message.
    `date` defaults to now (UTC).
    """
    msg = EmailMessage(policy=MAIL_POLICY)
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(_as_utc(date or datetime.now(UTC)))
    msg["Message-ID"] = (
        format_message_id(message_id)
        if message_id is not None
        else make_msgid(domain=MESSAGE_ID_DOMAIN)
    )
    for name, value in (headers or {}).items():
        if name.lower() in _RESERVED_HEADERS:
            raise ValueError(f"header {name!r} is set by the builder")
        del msg[name]  # replace rather than duplicate (no-op when absent)
        msg[name] = value

    # Quoted-printable keeps the body 7-bit clean (no 8BITMIME needed) and readable.
    msg.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    if html is not None:
        msg.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    for filename, content_type, data in attachments:
        maintype, subtype, params = _split_content_type(content_type)
        msg.add_attachment(
            data, maintype=maintype, subtype=subtype, filename=filename, params=params
        )
    return msg


def booking_ics(
    *,
    uid: str,
    start: datetime,
    end: datetime,
    summary: str,
    description: str,
    organizer_email: str,
    attendee_emails: list[str],
    method: str,
    status: str,
    sequence: int = 0,
    dtstamp: datetime | None = None,
) -> bytes:
    """An iCalendar (RFC 5545/5546) object with one VEVENT for a booking.

    Use `method="REQUEST", status="CONFIRMED"` for an accepted booking and
    `method="CANCEL", status="CANCELLED"` for a cancelled one, with the same `uid` (e.g.
    `f"{booking_id}@skillsession"`) and a higher `sequence` for the cancel, so calendar apps
    replace the event instead of adding a second one. Times are written in UTC (naive ones
    are taken as UTC already).
    """
    method = method.upper()
    status = status.upper()
    if method not in _ICS_METHODS:
        raise ValueError(f"unsupported iCalendar method {method!r}")
    if status not in _ICS_STATUSES:
        raise ValueError(f"unsupported event status {status!r}")
    if not uid:
        raise ValueError("uid is required")
    start_utc, end_utc = _as_utc(start), _as_utc(end)
    if end_utc <= start_utc:
        raise ValueError("end must be after start")

    from icalendar import Calendar, Event, vCalAddress, vText  # mail delivery only

    cal = Calendar()
    cal.add("prodid", ICS_PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)

    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", _as_utc(dtstamp or datetime.now(UTC)))
    event.add("dtstart", start_utc)
    event.add("dtend", end_utc)
    event.add("summary", summary)
    event.add("description", description)
    event.add("status", status)
    event.add("sequence", sequence)
    event.add("transp", "OPAQUE")
    organizer = vCalAddress(f"mailto:{organizer_email}")
    organizer.params["cn"] = vText(organizer_email)
    event.add("organizer", organizer)
    for email in attendee_emails:
        attendee = vCalAddress(f"mailto:{email}")
        attendee.params["cn"] = vText(email)
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        if status == "CONFIRMED":  # both parties agreed when the tutor accepted
            attendee.params["partstat"] = vText("ACCEPTED")
        attendee.params["rsvp"] = vText("FALSE")
        event.add("attendee", attendee, encode=False)
    cal.add_component(event)
    return cal.to_ical()


def _as_utc(value: datetime) -> datetime:
    """Naive datetimes are taken as UTC, as everywhere in the domain (storage is UTC)."""
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _split_content_type(content_type: str) -> tuple[str, str, dict[str, str]]:
    main, _, rest = content_type.partition(";")
    maintype, slash, subtype = main.strip().lower().partition("/")
    if not slash or not maintype or not subtype:
        raise ValueError(f"content type must be 'type/subtype': {content_type!r}")
    params: dict[str, str] = {}
    for item in rest.split(";"):
        key, eq, value = item.partition("=")
        if key.strip():
            if not eq:
                raise ValueError(f"malformed content type parameter {item!r}")
            params[key.strip().lower()] = value.strip().strip('"')
    return maintype, subtype, params
