"""The booking state machine's rules: who may do what, and who is told."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from skillsession.domain import bookings as rules
from skillsession.domain.errors import BookingNotPending, Conflict, Forbidden, ValidationFailed
from skillsession.domain.model import BookingStatus, Role, Slot, SlotStatus

NOW = datetime(2026, 1, 1, tzinfo=UTC)
SLOT = Slot(
    "s1",
    "tutor",
    "a1",
    NOW + timedelta(days=1),
    NOW + timedelta(days=1, hours=1),
    SlotStatus.AVAILABLE,
    "UTC",
)


def booking(status=BookingStatus.PENDING, start=SLOT.start):
    b = rules.new_request(SLOT, "student", "hi", NOW)
    b.booking_status = status
    b.start = start
    return b


def test_new_request_copies_the_slot():
    b = booking()
    assert (b.slot_id, b.tutor_id, b.student_id, b.start, b.end) == (
        "s1",
        "tutor",
        "student",
        SLOT.start,
        SLOT.end,
    )
    assert b.booking_status == BookingStatus.PENDING


def test_message_length_is_bounded():
    with pytest.raises(ValidationFailed):
        rules.new_request(SLOT, "student", "x" * 2001, NOW)


def test_only_the_tutor_answers_and_only_pending():
    assert rules.response_transition(booking(), "tutor", "accept") is rules.ACCEPT
    assert rules.response_transition(booking(), "tutor", "reject") is rules.REJECT
    with pytest.raises(Forbidden):
        rules.response_transition(booking(), "student", "accept")
    with pytest.raises(BookingNotPending):
        rules.response_transition(booking(BookingStatus.ACCEPTED), "tutor", "reject")
    assert rules.ACCEPT.slot_status == SlotStatus.BOOKED
    assert rules.REJECT.slot_status == SlotStatus.AVAILABLE
    assert rules.ACCEPT.notify_role == rules.REJECT.notify_role == Role.STUDENT


@pytest.mark.parametrize(
    ("actor", "status", "allowed", "told"),
    [
        ("student", BookingStatus.PENDING, True, Role.TUTOR),
        ("student", BookingStatus.ACCEPTED, True, Role.TUTOR),
        ("tutor", BookingStatus.ACCEPTED, True, Role.STUDENT),
        ("tutor", BookingStatus.PENDING, False, None),
        ("student", BookingStatus.REJECTED, False, None),
        ("student", BookingStatus.CANCELLED, False, None),
        ("tutor", BookingStatus.COMPLETED, False, None),
        ("student", BookingStatus.EXPIRED, False, None),
    ],
)
def test_cancel_rules(actor, status, allowed, told):
    if allowed:
        t = rules.cancel_transition(booking(status), actor, NOW)
        assert t.to_status == BookingStatus.CANCELLED and t.notify_role == told
        assert t.slot_status == SlotStatus.AVAILABLE and t.require_not_started
    else:
        with pytest.raises(Conflict):
            rules.cancel_transition(booking(status), actor, NOW)


def test_cannot_cancel_once_started_or_as_a_stranger():
    with pytest.raises(Conflict):
        rules.cancel_transition(booking(BookingStatus.ACCEPTED, start=NOW), "student", NOW)
    with pytest.raises(Forbidden):
        rules.cancel_transition(booking(), "someone", NOW)


def test_notification_names_booking_and_reason():
    n = rules.booking_notification("booking_rejected", booking(), "student", NOW, "ill")
    assert n.payload == {"booking_id": n.payload["booking_id"], "reason": "ill"}
    assert n.recipient_id == "student" and n.next_attempt_at == NOW
