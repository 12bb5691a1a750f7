"""What each notification says. Rendered at delivery time from the outbox entry.

Recipients are the stored, normalised addresses only (the account's, the subscription's),
written as bare addresses; names appear in the text, never in an address header.
"""

from __future__ import annotations

from email.headerregistry import Address
from email.message import EmailMessage

from skillsession.domain import local_time
from skillsession.domain.accounts import email_address
from skillsession.domain.model import Booking, Notification, Profile, SubscriptionStatus
from skillsession.service import links
from skillsession.service.account_data import display_name
from skillsession.service.deps import Deps
from skillsession.service.email_render import Action, Content, html_part, text_part, when_text
from skillsession.service.mail_message import booking_ics, build_message

BOOKING_SUBJECTS = {
    "booking_requested": "New booking request from {other}",
    "booking_accepted": "{other} accepted your booking",
    "booking_rejected": "{other} declined your booking request",
    "booking_cancelled": "{other} cancelled a booking",
    "booking_expired": "Your booking request to {other} expired",
}
BOOKING_TEXT = {
    "booking_requested": "{other} asks to book a session with you on {when}.",
    "booking_accepted": "Your session with {other} on {when} is booked. "
    "The calendar invitation is attached.",
    "booking_rejected": "{other} could not take your session on {when}. The slot is free again.",
    "booking_cancelled": "The session with {other} on {when} was cancelled. "
    "The slot is free again.",
    "booking_expired": "Your request for {when} with {other} expired before it was answered.",
}
BOOKING_ACTIONS = {  # (button, web client route)
    "booking_requested": ("Answer the request", "requests"),
    "booking_accepted": ("See your bookings", "bookings"),
    "booking_rejected": ("Find another slot", "bookings"),
    "booking_cancelled": ("See your bookings", "bookings"),
    "booking_expired": ("See your bookings", "bookings"),
}
CALENDAR = {
    "booking_accepted": ("REQUEST", "CONFIRMED"),
    "booking_cancelled": ("CANCEL", "CANCELLED"),
}
SUBSCRIPTION_SUBJECT = "Confirm your subscription to SkillSession booking e-mails"
WHY_SUBSCRIBED = "You get this e-mail because you subscribed to SkillSession booking e-mails."


def render(deps: Deps, notification: Notification) -> EmailMessage | None:
    """The message to send, or None when there is nothing to send (not subscribed, gone)."""
    if notification.kind == "verification_code":
        return _verification(deps, notification)
    if notification.kind == "password_reset_code":
        return _reset_code(deps, notification)
    if notification.kind == "subscription_confirmation":
        return _subscription_confirmation(deps, notification)
    if notification.kind in BOOKING_SUBJECTS:
        return _booking(deps, notification)
    return None


def _message(
    deps: Deps, notification: Notification, to: str, subject: str, content: Content, **extra
) -> EmailMessage:
    return build_message(
        to=str(Address(addr_spec=email_address(to))),  # one bare, normalised address
        sender=deps.settings.mail_from,
        subject=subject,
        text=text_part(content),
        html=html_part(content, subject),
        message_id=notification.notification_id,
        **extra,
    )


def _first_name(deps: Deps, user_id: str) -> str | None:
    profile = deps.stores.profiles.get_profile(user_id)
    return profile.first_name if profile else None


def _verification(deps: Deps, notification: Notification) -> EmailMessage:
    code = notification.payload["code"]
    content = Content(
        first_name=None,  # no profile yet at sign-up
        paragraphs=[
            f"Your SkillSession verification code is {code}.",
            "It expires in 24 hours. If you did not sign up, ignore this e-mail.",
        ],
    )
    subject = f"Your SkillSession code: {code}"
    return _message(deps, notification, notification.payload["email"], subject, content)


def _reset_code(deps: Deps, notification: Notification) -> EmailMessage:
    code = notification.payload["code"]
    content = Content(
        first_name=_first_name(deps, notification.recipient_id),
        paragraphs=[
            f"Your SkillSession password reset code is {code}.",
            "It expires in 1 hour. If you did not ask to reset your password, ignore this "
            "e-mail: your password stays as it is.",
        ],
    )
    subject = f"Your SkillSession password reset code: {code}"
    return _message(deps, notification, notification.payload["email"], subject, content)


def _subscription_confirmation(deps: Deps, notification: Notification) -> EmailMessage | None:
    subscription = deps.stores.outbox.get_subscription(notification.recipient_id)
    if (
        subscription is None
        or subscription.status != SubscriptionStatus.PENDING_CONFIRMATION
        or subscription.confirm_token is None
    ):
        return None
    public = deps.settings.public_url
    content = Content(
        first_name=_first_name(deps, notification.recipient_id),
        paragraphs=[
            "You asked to receive SkillSession booking e-mails: requests, answers, "
            "cancellations, each with the time in your zone.",
            "If this was not you, ignore this e-mail and nothing will be sent.",
        ],
        action=Action(
            "Confirm your subscription",
            links.confirm_subscription(public, subscription.confirm_token),
        ),
    )
    return _message(deps, notification, subscription.email, SUBSCRIPTION_SUBJECT, content)


def _booking(deps: Deps, notification: Notification) -> EmailMessage | None:
    subscription = deps.stores.outbox.get_subscription(notification.recipient_id)
    if subscription is None or subscription.status != SubscriptionStatus.CONFIRMED:
        return None  # booking e-mails go to confirmed subscribers only
    booking = deps.stores.bookings.get_booking(notification.payload["booking_id"])
    if booking is None:
        return None
    kind = notification.kind
    profiles = deps.stores.profiles.get_profiles([booking.tutor_id, booking.student_id])
    recipient = profiles.get(notification.recipient_id)
    other_id = (
        booking.student_id if notification.recipient_id == booking.tutor_id else booking.tutor_id
    )
    other = profiles.get(other_id)
    other_name = display_name(other)
    tz = local_time.zone(recipient.time_zone if recipient else "UTC")
    when = when_text(booking.start, booking.end, tz, deps.now())
    public = deps.settings.public_url
    unsubscribe = links.unsubscribe(public, subscription.token)
    quotes = []
    if kind == "booking_requested" and booking.message:
        quotes.append((f"{other_name} wrote", booking.message))
    if reason := notification.payload.get("reason"):
        quotes.append(("Reason given", reason))
    label, route = BOOKING_ACTIONS[kind]
    content = Content(
        first_name=recipient.first_name if recipient else None,
        paragraphs=[BOOKING_TEXT[kind].format(other=other_name, when=when)],
        quotes=quotes,
        action=Action(label, links.web(public, route)),
        footer=[WHY_SUBSCRIBED],
        unsubscribe_url=unsubscribe,
    )
    attachments = []
    if kind in CALENDAR:
        method = CALENDAR[kind][0]
        attachments.append(
            ("booking.ics", f"text/calendar; method={method}", _ics(booking, profiles, kind))
        )
    return _message(
        deps,
        notification,
        subscription.email,
        BOOKING_SUBJECTS[kind].format(other=other_name),
        content,
        attachments=attachments,
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",  # RFC 2369, written raw
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",  # RFC 8058
        },
    )


def _ics(booking: Booking, profiles: dict[str, Profile], kind: str) -> bytes:
    method, status = CALENDAR[kind]
    tutor = profiles.get(booking.tutor_id)
    student = profiles.get(booking.student_id)
    return booking_ics(
        uid=f"{booking.booking_id}@skillsession",
        start=booking.start,
        end=booking.end,
        summary=f"Tutoring: {display_name(tutor)} and {display_name(student)}",
        description=booking.message or "SkillSession tutoring session",
        organizer_email=tutor.email if tutor else "no-reply@skillsession.localhost",
        attendee_emails=[student.email] if student else [],
        method=method,
        status=status,
        sequence=1 if method == "CANCEL" else 0,
    )
