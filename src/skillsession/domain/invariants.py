"""What is true of every store, written once: which slot may be requested, and the booking
invariants (API.md, "Bookings") that the consistency scan checks.

Each backend only feeds these: its atomic `request_booking` refuses a slot that is not
`bookable` (a read inside the transaction, or a condition built from `BOOKABLE_STATUS` where
the store checks conditions itself, DynamoDB), and its consistency scan hands every slot with
the bookings that name it to `slot_problems`, and every booking whose slot is gone to
`orphan_problem`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from skillsession.domain.model import LIVE_BOOKING_STATUSES, BookingStatus, SlotStatus

BOOKABLE_STATUS = SlotStatus.AVAILABLE
# the slot state that each live booking state requires of its slot
SLOT_STATUS_OF = {
    BookingStatus.PENDING: SlotStatus.PENDING,
    BookingStatus.ACCEPTED: SlotStatus.BOOKED,
}
# a booked slot is explained by one of these bookings (an accepted one, or the completed one)
BOOKED_BY = frozenset({BookingStatus.ACCEPTED, BookingStatus.COMPLETED})


def bookable(slot_status: SlotStatus, start: datetime, now: datetime) -> bool:
    """Whether a slot may be requested at `now`: available, and not yet started."""
    return slot_status == BOOKABLE_STATUS and start > now


def slot_problems(
    slot_id: str, slot_status: SlotStatus, bookings: Iterable[tuple[str, BookingStatus]]
) -> list[str]:
    """Violations of the booking invariants by one slot and every booking that names it
    (`(booking_id, booking_status)`), human readable: at most one live booking; a live booking's
    slot in the state it requires; a pending slot with its pending booking, a booked slot with
    its accepted (or completed) booking."""
    problems = []
    statuses = set()
    live = 0
    for booking_id, status in bookings:
        statuses.add(status)
        live += status in LIVE_BOOKING_STATUSES
        wanted = SLOT_STATUS_OF.get(status)
        if wanted is not None and slot_status != wanted:
            problems.append(
                f"{status.value} booking whose slot is not {wanted.value}: {booking_id}"
            )
    if live > 1:
        problems.append(f"slot with more than one live booking: {slot_id}")
    if slot_status == SlotStatus.PENDING and BookingStatus.PENDING not in statuses:
        problems.append(f"pending slot without a pending booking: {slot_id}")
    if slot_status == SlotStatus.BOOKED and not statuses & BOOKED_BY:
        problems.append(f"booked slot without an accepted or completed booking: {slot_id}")
    return problems


def orphan_problem(booking_id: str) -> str:
    """A booking whose slot does not exist."""
    return f"booking whose slot is missing: {booking_id}"


def deleted_user_problems(
    live_bookings: Iterable[tuple[str, str, str]],
    available_slots: Iterable[tuple[str, str]],
    deleted: set[str] | frozenset[str],
) -> list[str]:
    """A deleted account leaves nothing live behind (API.md, "Your data"): no pending or
    accepted booking `(booking_id, tutor_id, student_id)` names a deleted user, and no
    available slot `(slot_id, tutor_id)` belongs to one. A backend may hand over only the
    bookings and slots that name a deleted user."""
    problems = [
        f"live booking of a deleted user: {booking_id}"
        for booking_id, tutor_id, student_id in live_bookings
        if tutor_id in deleted or student_id in deleted
    ]
    problems += [
        f"available slot of a deleted user: {slot_id}"
        for slot_id, tutor_id in available_slots
        if tutor_id in deleted
    ]
    return problems
