"""The booking state machine: who may move a booking where, and who is told.

Slot states: available -> pending -> booked, back to available on reject/cancel, expired once
past. Booking states: pending -> accepted | rejected | cancelled | expired;
accepted -> cancelled | completed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from skillsession.domain.errors import (
    BookingNotPending,
    Conflict,
    Forbidden,
    TooManyPending,
    ValidationFailed,
)
from skillsession.domain.ids import new_id
from skillsession.domain.model import (
    Booking,
    BookingStatus,
    Notification,
    Role,
    Slot,
    SlotStatus,
)

MAX_MESSAGE_LENGTH = 2000
MAX_REASON_LENGTH = 1000  # a rejection's or a cancellation's reason


@dataclass(frozen=True)
class Transition:
    """A change the store applies atomically, if the booking is still in `from_statuses`."""

    from_statuses: frozenset[BookingStatus]
    to_status: BookingStatus
    slot_status: SlotStatus
    require_not_started: bool
    notify_role: Role  # whose inbox hears of it
    notification_kind: str


ACCEPT = Transition(
    frozenset({BookingStatus.PENDING}),
    BookingStatus.ACCEPTED,
    SlotStatus.BOOKED,
    require_not_started=True,
    notify_role=Role.STUDENT,
    notification_kind="booking_accepted",
)
REJECT = Transition(
    frozenset({BookingStatus.PENDING}),
    BookingStatus.REJECTED,
    SlotStatus.AVAILABLE,
    require_not_started=False,
    notify_role=Role.STUDENT,
    notification_kind="booking_rejected",
)


@dataclass(frozen=True)
class PendingLimits:
    """Fair use: how many pending requests one student may hold with one tutor and in all
    (0: no limit of that kind)."""

    per_tutor: int
    total: int

    @property
    def off(self) -> bool:
        return not (self.per_tutor or self.total)


PER_TUTOR = "per_tutor"
TOTAL = "total"


def too_many_pending(limits: PendingLimits, which: str) -> TooManyPending:
    """The refusal of a request that would break limit `which` (PER_TUTOR or TOTAL)."""
    maximum = limits.per_tutor if which == PER_TUTOR else limits.total
    scope = "with one tutor" if which == PER_TUTOR else "in all"
    return TooManyPending(
        f"at most {maximum} pending booking requests {scope}; withdraw one or wait for an answer",
        details={"limit": which, "max": maximum},
    )


def check_pending(limits: PendingLimits | None, with_tutor: int, in_all: int) -> None:
    """Refuse one more request from a student who has `with_tutor` pending requests with the
    slot's tutor and `in_all` in total (the store counts, in the request's transaction)."""
    if limits is None:
        return
    if limits.per_tutor and with_tutor >= limits.per_tutor:
        raise too_many_pending(limits, PER_TUTOR)
    if limits.total and in_all >= limits.total:
        raise too_many_pending(limits, TOTAL)


def new_request(slot: Slot, student_id: str, message: str | None, now: datetime) -> Booking:
    if message is not None and len(message) > MAX_MESSAGE_LENGTH:
        raise ValidationFailed(
            f"message is at most {MAX_MESSAGE_LENGTH} characters", details={"message": "too long"}
        )
    return Booking(
        booking_id=new_id(),
        slot_id=slot.slot_id,
        tutor_id=slot.tutor_id,
        student_id=student_id,
        booking_status=BookingStatus.PENDING,
        request_created_at=now,
        updated_at=now,
        start=slot.start,
        end=slot.end,
        message=message or None,
    )


def response_transition(booking: Booking, actor_id: str, action: str) -> Transition:
    """What the tutor's accept/reject does; raises if the actor may not or the state forbids it."""
    if booking.tutor_id != actor_id:
        raise Forbidden("only the booking's tutor can answer it", code="not_booking_tutor")
    if booking.booking_status != BookingStatus.PENDING:
        raise not_pending(booking)
    return ACCEPT if action == "accept" else REJECT


def cancel_transition(booking: Booking, actor_id: str, now: datetime) -> Transition:
    """A student withdraws a pending request or cancels an accepted booking; a tutor cancels an
    accepted booking; both only before the slot starts."""
    if actor_id == booking.student_id:
        allowed = frozenset({BookingStatus.PENDING, BookingStatus.ACCEPTED})
        notify = Role.TUTOR
    elif actor_id == booking.tutor_id:
        allowed = frozenset({BookingStatus.ACCEPTED})
        notify = Role.STUDENT
    else:
        raise Forbidden("not a party to this booking", code="not_booking_party")
    if booking.booking_status not in allowed or booking.start <= now:
        raise not_cancellable(booking)
    return Transition(
        allowed,
        BookingStatus.CANCELLED,
        SlotStatus.AVAILABLE,
        require_not_started=True,
        notify_role=notify,
        notification_kind="booking_cancelled",
    )


def not_pending(booking: Booking) -> BookingNotPending:
    return BookingNotPending(
        f"booking is {booking.booking_status.value}, not pending",
        details={"booking_status": booking.booking_status.value},
    )


def not_cancellable(booking: Booking) -> Conflict:
    return Conflict(
        "this booking cannot be cancelled (wrong state, or the slot has started)",
        code="booking_not_cancellable",
        details={"booking_status": booking.booking_status.value},
    )


def recipient(booking: Booking, role: Role) -> str:
    return booking.student_id if role == Role.STUDENT else booking.tutor_id


def booking_notification(
    kind: str, booking: Booking, recipient_id: str, now: datetime, reason: str | None = None
) -> Notification:
    payload: dict[str, str] = {"booking_id": booking.booking_id}
    if reason:
        payload["reason"] = reason
    return Notification(
        notification_id=new_id(),
        kind=kind,
        recipient_id=recipient_id,
        payload=payload,
        created_at=now,
        next_attempt_at=now,
    )
