"""What each notification says. Rendered at delivery time from the outbox entry."""

from __future__ import annotations

from email.message import EmailMessage
from urllib.parse import quote

from skillsession.adapters.mail.message import booking_ics, build_message
from skillsession.domain import time as tz_time
from skillsession.domain.model import Booking, Notification, Profile, SubscriptionStatus
from skillsession.service.deps import Deps

BOOKING_SUBJECTS = {
    "booking_requested": "New booking request from {other}",
    "booking_accepted": "{other} accepted your booking",
    "booking_rejected": "{other} declined your booking request",
    "booking_cancelled": "{other} cancelled a booking",
    "booking_expired": "Your booking request to {other} expired",
}
BOOKING_TEXT = {
    "booking_requested": "{other} asks to book your session on {when}.\n\n"
    "Accept or reject it in the app.",
    "booking_accepted": "Your session with {other} on {when} is booked.",
    "booking_rejected": "{other} could not take your session on {when}. The slot is free again.",
    "booking_cancelled": "The session with {other} on {when} was cancelled. The slot is free again.",
    "booking_expired": "Your request for {when} with {other} expired before it was answered.",
}
CALENDAR = {
    "booking_accepted": ("REQUEST", "CONFIRMED"),
    "booking_cancelled": ("CANCEL", "CANCELLED"),
}


def render(deps: Deps, notification: Notification) -> EmailMessage | None:
    """The message to send, or None when there is nothing to send (not subscribed, gone)."""
    if notification.kind == "verification_code":
        return _verification(deps, notification)
    if notification.kind == "subscription_confirmation":
        return _subscription_confirmation(deps, notification)
    if notification.kind in BOOKING_SUBJECTS:
        return _booking(deps, notification)
    return None


def _message(deps: Deps, notification: Notification, to: str, subject: str, text: str, **extra):
    return build_message(
        to=to,
        sender=deps.settings.mail_from,
        subject=subject,
        text=text,
        message_id=notification.notification_id,
        **extra,
    )


def _verification(deps: Deps, notification: Notification) -> EmailMessage:
    code = notification.payload["code"]
    text = (
        f"Your SkillSession verification code is {code}.\n\n"
        "It expires in 24 hours. If you did not sign up, ignore this e-mail."
    )
    return _message(deps, notification, notification.payload["email"], f"Your code: {code}", text)


def _subscription_confirmation(deps: Deps, notification: Notification) -> EmailMessage | None:
    subscription = deps.store.get_subscription(notification.recipient_id)
    if subscription is None or subscription.status != SubscriptionStatus.PENDING_CONFIRMATION:
        return None
    link = f"{deps.settings.public_url}/confirm-subscription?token={quote(subscription.token)}"
    text = (
        "You asked to receive SkillSession booking notifications.\n\n"
        f"Confirm your subscription: {link}\n\nIf this was not you, ignore this e-mail."
    )
    return _message(deps, notification, subscription.email, "Confirm your subscription", text)


def _booking(deps: Deps, notification: Notification) -> EmailMessage | None:
    subscription = deps.store.get_subscription(notification.recipient_id)
    if subscription is None or subscription.status != SubscriptionStatus.CONFIRMED:
        return None  # booking e-mails go to confirmed subscribers only
    booking = deps.store.get_booking(notification.payload["booking_id"])
    if booking is None:
        return None
    profiles = deps.store.get_profiles([booking.tutor_id, booking.student_id])
    recipient = profiles.get(notification.recipient_id)
    other_id = (
        booking.student_id if notification.recipient_id == booking.tutor_id else booking.tutor_id
    )
    other = profiles.get(other_id)
    other_name = other.display_name if other else "your tutoring partner"
    tz = tz_time.zone(recipient.time_zone if recipient else "UTC")
    fields = tz_time.local_fields(booking.start, booking.end, tz)
    when = f"{fields['date']} {fields['start_time']}–{fields['end_time']} ({fields['time_zone']})"
    text = BOOKING_TEXT[notification.kind].format(other=other_name, when=when)
    if reason := notification.payload.get("reason"):
        text += f"\n\nReason given: {reason}"
    unsubscribe = f"{deps.settings.public_url}/unsubscribe?token={quote(subscription.token)}"
    text += f"\n\n--\nStop these e-mails: {unsubscribe}\n"
    attachments = []
    if notification.kind in CALENDAR:
        method = CALENDAR[notification.kind][0]
        attachments.append(
            (
                "booking.ics",
                f"text/calendar; method={method}",
                _ics(booking, profiles, notification),
            )
        )
    return _message(
        deps,
        notification,
        subscription.email,
        BOOKING_SUBJECTS[notification.kind].format(other=other_name),
        text,
        attachments=attachments,
        headers={"List-Unsubscribe": f"<{unsubscribe}>"},
    )


def _ics(booking: Booking, profiles: dict[str, Profile], notification: Notification) -> bytes:
    method, status = CALENDAR[notification.kind]
    tutor = profiles.get(booking.tutor_id)
    student = profiles.get(booking.student_id)
    return booking_ics(
        uid=f"{booking.booking_id}@skillsession",
        start=booking.start,
        end=booking.end,
        summary=f"Tutoring: {tutor.display_name if tutor else 'tutor'} and "
        f"{student.display_name if student else 'student'}",
        description=booking.message or "SkillSession tutoring session",
        organizer_email=tutor.email if tutor else "no-reply@skillsession.localhost",
        attendee_emails=[student.email] if student else [],
        method=method,
        status=status,
        sequence=1 if method == "CANCEL" else 0,
    )
