"""The Store contract, part 2: availability, slots, bookings and the expiry job.
Every test runs on every adapter (see conftest.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from factories import (
    BASE,
    at,
    make_booking,
    make_notification,
    make_window,
    publish,
    request,
)

import store_peek
from skillsession.domain.errors import Conflict, NotFound, SlotUnavailable
from skillsession.domain.model import (
    Booking,
    BookingStatus,
    ExpiryResult,
    SlotStatus,
)
from skillsession.ports.storage import Stores

PENDING = frozenset({BookingStatus.PENDING})
ACCEPTED = frozenset({BookingStatus.ACCEPTED})
LIVE = PENDING | ACCEPTED


def accept(store: Stores, booking: Booking, now=BASE, note=None) -> Booking | None:
    return store.bookings.transition_booking(
        booking.booking_id,
        PENDING,
        BookingStatus.ACCEPTED,
        SlotStatus.BOOKED,
        now,
        None,
        note,
        True,
    )


def reject(store: Stores, booking: Booking, now=BASE, reason="busy") -> Booking | None:
    return store.bookings.transition_booking(
        booking.booking_id,
        PENDING,
        BookingStatus.REJECTED,
        SlotStatus.AVAILABLE,
        now,
        reason,
        None,
        False,
    )


def cancel(store: Stores, booking: Booking, now=BASE, allowed=LIVE) -> Booking | None:
    return store.bookings.transition_booking(
        booking.booking_id,
        allowed,
        BookingStatus.CANCELLED,
        SlotStatus.AVAILABLE,
        now,
        None,
        None,
        True,
    )


def slot_status(store: Stores, slot) -> SlotStatus:
    return store_peek.get_slot(store, slot.slot_id).slot_status


# -- availability ---------------------------------------------------------------------------
def test_create_availability_stores_windows_and_slots(store: Stores):
    window, slots = make_window("tutor", at(days=1), at(days=1, hours=3))
    store.slots.create_availability([window], slots)
    assert store.slots.get_availability(window.availability_id) == window
    assert [store_peek.get_slot(store, s.slot_id) for s in slots] == slots
    assert store.slots.get_availability("missing") is None
    assert store_peek.get_slot(store, "missing") is None


@pytest.mark.parametrize(
    ("start_h", "end_h"),
    [(9, 12), (8, 10), (11, 13), (10, 11), (8, 13), (9, 10), (11, 12)],
    ids=["same", "overlaps-start", "overlaps-end", "inside", "around", "same-start", "same-end"],
)
def test_overlapping_window_is_a_conflict_and_writes_nothing(store: Stores, start_h, end_h):
    existing, _ = publish(store, "tutor", at(days=1, hours=9), hours=3)
    window, slots = make_window("tutor", at(days=1, hours=start_h), at(days=1, hours=end_h))
    with pytest.raises(Conflict) as caught:
        store.slots.create_availability([window], slots)
    assert caught.value.code == "availability_overlap"
    assert caught.value.details == {"availability_id": existing.availability_id}
    assert store.slots.get_availability(window.availability_id) is None
    assert store_peek.get_slot(store, slots[0].slot_id) is None


def test_adjacent_windows_do_not_overlap(store: Stores):
    publish(store, "tutor", at(days=1, hours=9), hours=3)
    publish(store, "tutor", at(days=1, hours=12), hours=2)  # starts where the first ends
    publish(store, "tutor", at(days=1, hours=7), hours=2)  # ends where the first starts
    publish(store, "other-tutor", at(days=1, hours=9), hours=3)  # same time, another tutor
    slots = store.slots.slots_for_tutor("tutor", BASE, at(days=2), None)
    assert len(slots) == 7


def test_windows_of_one_call_are_all_or_nothing(store: Stores):
    first, first_slots = make_window("tutor", at(days=1), at(days=1, hours=2))
    clash, clash_slots = make_window("tutor", at(days=1, hours=1), at(days=1, hours=3))
    with pytest.raises(Conflict):
        store.slots.create_availability([first, clash], first_slots + clash_slots)
    assert store.slots.get_availability(first.availability_id) is None
    assert store.slots.slots_for_tutor("tutor", BASE, at(days=2), None) == []
    second, second_slots = make_window("tutor", at(days=2), at(days=2, hours=2))
    store.slots.create_availability([first, second], first_slots + second_slots)
    assert len(store.slots.slots_for_tutor("tutor", BASE, at(days=3), None)) == 4


def test_delete_availability_frees_the_window_and_its_slots(store: Stores):
    window, slots = publish(store, "tutor", at(days=1), hours=3)
    store.slots.delete_availability(window.availability_id)
    assert store.slots.get_availability(window.availability_id) is None
    assert all(store_peek.get_slot(store, s.slot_id) is None for s in slots)
    assert store.slots.slots_for_tutor("tutor", BASE, at(days=2), None) == []
    again, _ = publish(store, "tutor", at(days=1), hours=3)  # the time is free again
    assert store.slots.get_availability(again.availability_id) == again


def test_delete_unknown_availability_is_not_found(store: Stores):
    with pytest.raises(NotFound):
        store.slots.delete_availability("missing")
    window, _ = publish(store, "tutor", at(days=1))
    store.slots.delete_availability(window.availability_id)
    with pytest.raises(NotFound):
        store.slots.delete_availability(window.availability_id)


def test_delete_availability_in_use_is_a_conflict(store: Stores):
    window, slots = publish(store, "tutor", at(days=1), hours=2)
    booking = request(store, slots[0])
    for _ in ("pending", "booked"):
        with pytest.raises(Conflict) as caught:
            store.slots.delete_availability(window.availability_id)
        assert caught.value.code == "availability_in_use"
        assert store.slots.get_availability(window.availability_id) == window
        assert store_peek.get_slot(store, slots[1].slot_id) == slots[1]
        accept(store, booking)
    assert slot_status(store, slots[0]) == SlotStatus.BOOKED


def test_delete_availability_keeps_booking_history(store: Stores):
    window, slots = publish(store, "tutor", at(days=1), hours=2)
    booking = reject(store, request(store, slots[0]))
    store.slots.delete_availability(window.availability_id)
    assert store.slots.get_availability(window.availability_id) is None
    assert store.bookings.get_booking(booking.booking_id) == booking
    assert store.slots.slots_for_tutor("tutor", BASE, at(days=2), SlotStatus.AVAILABLE) == []
    with pytest.raises((SlotUnavailable, NotFound)):
        request(store, slots[0])
    assert store.admin.check_consistency() == []
    publish(store, "tutor", at(days=1), hours=2)


# -- slots ----------------------------------------------------------------------------------
def test_slots_for_tutor_range_order_and_status(store: Stores):
    _, later = publish(store, "tutor", at(days=2), hours=2)
    _, earlier = publish(store, "tutor", at(days=1), hours=3, slot_minutes=30)
    publish(store, "other", at(days=1), hours=3)
    every = store.slots.slots_for_tutor("tutor", BASE, at(days=3), None)
    assert every == earlier + later
    # half-open: a slot starting at start_before is out, one starting at start_from is in
    assert (
        store.slots.slots_for_tutor("tutor", earlier[1].start, later[0].start, None) == earlier[1:]
    )
    request(store, earlier[0])
    available = store.slots.slots_for_tutor("tutor", BASE, at(days=3), SlotStatus.AVAILABLE)
    assert available == earlier[1:] + later
    pending = store.slots.slots_for_tutor("tutor", BASE, at(days=3), SlotStatus.PENDING)
    assert [s.slot_id for s in pending] == [earlier[0].slot_id]
    assert store.slots.slots_for_tutor("nobody", BASE, at(days=3), None) == []


def test_slots_for_tutor_gives_the_first_limit_slots(store: Stores):
    _, later = publish(store, "tutor", at(days=2), hours=2)
    _, earlier = publish(store, "tutor", at(days=1), hours=3, slot_minutes=30)
    request(store, earlier[1])
    for status, every in [
        (None, earlier + later),
        (SlotStatus.AVAILABLE, [earlier[0], *earlier[2:], *later]),
        (SlotStatus.PENDING, [earlier[1]]),
    ]:
        for limit in (1, 2, 5, len(every), len(every) + 1):
            found = store.slots.slots_for_tutor("tutor", BASE, at(days=3), status, limit)
            assert [s.slot_id for s in found] == [s.slot_id for s in every[:limit]], (status, limit)


# -- requesting a slot ----------------------------------------------------------------------
def test_request_booking_takes_the_slot(store: Stores):
    _, slots = publish(store, "tutor", at(days=1))
    booking = make_booking(slots[0], "student")
    # the stored booking takes tutor and times from the slot, not from the argument
    booking = replace(booking, tutor_id="liar", start=at(days=9), end=at(days=9, hours=1))
    note = make_notification("tutor", "booking_requested")
    stored = store.bookings.request_booking(booking, note, BASE)
    assert stored == replace(booking, tutor_id="tutor", start=slots[0].start, end=slots[0].end)
    assert store.bookings.get_booking(booking.booking_id) == stored
    assert slot_status(store, slots[0]) == SlotStatus.PENDING
    assert store_peek.get_notification(store, note.notification_id) == note
    assert store.admin.check_consistency() == []


def test_request_unknown_slot_is_not_found(store: Stores):
    _, slots = publish(store, "tutor", at(days=1))
    ghost = replace(slots[0], slot_id="missing")
    with pytest.raises(NotFound) as caught:
        request(store, ghost)
    assert caught.value.code == "slot_not_found"


def _taken(store, slot):
    request(store, slot, "first")


def _booked(store, slot):
    accept(store, request(store, slot, "first"))


def _expired(store, slot):
    store.bookings.expire(slot.start, 10, lambda b: make_notification(b.student_id))


@pytest.mark.parametrize("make_unavailable", [_taken, _booked, _expired])
def test_request_of_an_unavailable_slot_fails_and_writes_nothing(store: Stores, make_unavailable):
    _, slots = publish(store, "tutor", at(days=1))
    make_unavailable(store, slots[0])
    before = store_peek.get_slot(store, slots[0].slot_id)
    booking = make_booking(slots[0], "second")
    note = make_notification("tutor", "booking_requested")
    with pytest.raises(SlotUnavailable):
        store.bookings.request_booking(booking, note, BASE, "key-1")
    assert store.bookings.get_booking(booking.booking_id) is None
    assert store_peek.get_notification(store, note.notification_id) is None
    assert store_peek.get_slot(store, slots[0].slot_id) == before
    assert store.bookings.bookings_for_student("second", None, None, None, 10, None) == []


@pytest.mark.parametrize("now_offset", [timedelta(0), timedelta(minutes=1)])
def test_request_of_a_started_slot_fails(store: Stores, now_offset):
    _, slots = publish(store, "tutor", at(days=1))
    with pytest.raises(SlotUnavailable):
        request(store, slots[0], now=slots[0].start + now_offset)
    assert slot_status(store, slots[0]) == SlotStatus.AVAILABLE
    request(store, slots[0], now=slots[0].start - timedelta(seconds=1))


def test_idempotent_replay_returns_the_first_booking_and_changes_nothing(store: Stores):
    _, slots = publish(store, "tutor", at(days=1), hours=2)
    first = request(store, slots[0], "student", key="key-1")
    note = make_notification("tutor", "booking_requested")
    again = make_booking(slots[0], "student", at(minutes=5))
    replay = store.bookings.request_booking(again, note, at(minutes=5), "key-1")
    assert replay == first
    assert store.bookings.get_booking(again.booking_id) is None
    assert store_peek.get_notification(store, note.notification_id) is None
    # the key names the first result even when reused for another slot
    other = request(store, slots[1], "student", key="key-1")
    assert other == first
    assert slot_status(store, slots[1]) == SlotStatus.AVAILABLE
    # keys belong to a student; a new key is a new request
    assert request(store, slots[1], "another", key="key-1").student_id == "another"
    with pytest.raises(SlotUnavailable):
        request(store, slots[1], "student", key="key-2")


# -- moving a booking -----------------------------------------------------------------------
def test_accept_books_the_slot_and_queues_the_notification(store: Stores):
    _, slots = publish(store, "tutor", at(days=1))
    booking = request(store, slots[0])
    note = make_notification("student", "booking_accepted")
    accepted = accept(store, booking, at(hours=1), note)
    assert accepted == replace(
        booking, booking_status=BookingStatus.ACCEPTED, updated_at=at(hours=1)
    )
    assert store.bookings.get_booking(booking.booking_id) == accepted
    assert slot_status(store, slots[0]) == SlotStatus.BOOKED
    assert store_peek.get_notification(store, note.notification_id) == note
    assert store.bookings.has_accepted_booking("tutor", "student")
    assert not store.bookings.has_accepted_booking("student", "tutor")
    assert not store.bookings.has_accepted_booking("tutor", "someone-else")


def test_reject_frees_the_slot_and_keeps_the_reason(store: Stores):
    _, slots = publish(store, "tutor", at(days=1))
    booking = request(store, slots[0])
    rejected = reject(store, booking, reason="on holiday")
    assert (rejected.booking_status, rejected.reason) == (BookingStatus.REJECTED, "on holiday")
    assert slot_status(store, slots[0]) == SlotStatus.AVAILABLE
    assert not store.bookings.has_accepted_booking("tutor", "student")
    request(store, slots[0], "another")
    assert store.admin.check_consistency() == []


def test_cancel_frees_the_slot(store: Stores):
    _, slots = publish(store, "tutor", at(days=1), hours=2)
    withdrawn = cancel(store, request(store, slots[0]))
    assert withdrawn.booking_status == BookingStatus.CANCELLED
    accepted = accept(store, request(store, slots[1]))
    cancelled = cancel(store, accepted, allowed=ACCEPTED)
    assert cancelled.booking_status == BookingStatus.CANCELLED
    assert [slot_status(store, s) for s in slots] == [SlotStatus.AVAILABLE] * 2
    assert not store.bookings.has_accepted_booking("tutor", "student")
    assert store.admin.check_consistency() == []


def test_transition_from_the_wrong_status_changes_nothing(store: Stores):
    _, slots = publish(store, "tutor", at(days=1))
    booking = accept(store, request(store, slots[0]))
    note = make_notification("student", "booking_rejected")
    result = store.bookings.transition_booking(
        booking.booking_id,
        PENDING,
        BookingStatus.REJECTED,
        SlotStatus.AVAILABLE,
        BASE,
        "no",
        note,
        False,
    )
    assert result is None
    assert store.bookings.get_booking(booking.booking_id) == booking
    assert slot_status(store, slots[0]) == SlotStatus.BOOKED
    assert store_peek.get_notification(store, note.notification_id) is None
    assert accept(store, replace(booking, booking_id="missing")) is None


def test_require_not_started(store: Stores):
    _, slots = publish(store, "tutor", at(days=1), hours=2)
    first = request(store, slots[0])
    assert accept(store, first, now=slots[0].start) is None  # starts now: too late
    assert store.bookings.get_booking(first.booking_id).booking_status == BookingStatus.PENDING
    assert accept(store, first, now=slots[0].start - timedelta(seconds=1)) is not None
    assert cancel(store, first, now=slots[0].start + timedelta(minutes=1)) is None
    second = request(store, slots[1])
    # rejecting does not require the slot not to have started
    assert reject(store, second, now=slots[1].start + timedelta(minutes=5)) is not None


# -- listing bookings -----------------------------------------------------------------------
@pytest.fixture
def history(store: Stores) -> list[Booking]:
    """Bookings of tutor T with students A and B, in (start, booking_id) order."""
    _, slots = publish(store, "T", at(days=1), hours=4)
    _, other = publish(store, "U", at(days=2), hours=1)
    a0 = reject(store, request(store, slots[0], "A"))  # the same slot twice: same start
    a1 = request(store, slots[0], "A")
    b2 = accept(store, request(store, slots[1], "B"))
    a3 = request(store, slots[2], "A")
    b4 = cancel(store, request(store, slots[3], "B"))
    request(store, other[0], "A")
    return [a0, a1, b2, a3, b4]


def ids(bookings: list[Booking]) -> list[str]:
    return [b.booking_id for b in bookings]


def test_bookings_for_tutor_in_start_order(store: Stores, history):
    assert store.bookings.bookings_for_tutor("T", None, None, None, 50, None) == history
    assert store.bookings.bookings_for_tutor("nobody", None, None, None, 50, None) == []


def test_bookings_for_student_only_their_own(store: Stores, history):
    mine = store.bookings.bookings_for_student("A", None, None, None, 50, None)
    assert ids(mine[:3]) == ids([history[0], history[1], history[3]])
    assert mine[3].tutor_id == "U"
    assert ids(store.bookings.bookings_for_student("B", None, None, None, 50, None)) == ids(
        [history[2], history[4]]
    )


def test_bookings_filtered_by_status(store: Stores, history):
    pending = store.bookings.bookings_for_tutor("T", BookingStatus.PENDING, None, None, 50, None)
    assert ids(pending) == ids([history[1], history[3]])
    accepted = store.bookings.bookings_for_student(
        "B", BookingStatus.ACCEPTED, None, None, 50, None
    )
    assert ids(accepted) == ids([history[2]])
    assert store.bookings.bookings_for_tutor("T", BookingStatus.EXPIRED, None, None, 50, None) == []


def test_bookings_filtered_by_start_range(store: Stores, history):
    start_from, start_before = history[2].start, history[4].start
    found = store.bookings.bookings_for_tutor("T", None, start_from, start_before, 50, None)
    assert ids(found) == ids(history[2:4])
    found = store.bookings.bookings_for_student(
        "A", BookingStatus.PENDING, start_from, None, 50, None
    )
    assert ids(found[:1]) == ids([history[3]])
    assert [b.tutor_id for b in found] == ["T", "U"]
    found = store.bookings.bookings_for_student("A", None, None, history[1].start, 50, None)
    assert found == []


@pytest.mark.parametrize("page_size", [1, 2, 3])
def test_bookings_cursor_pagination(store: Stores, history, page_size):
    seen, after = [], None
    while True:
        page = store.bookings.bookings_for_tutor("T", None, None, None, page_size, after)
        seen += page
        if len(page) < page_size:
            break
        after = (page[-1].start, page[-1].booking_id)
    assert seen == history
    # a cursor inside a group of equal starts continues by booking_id
    after = (history[0].start, history[0].booking_id)
    assert store.bookings.bookings_for_tutor("T", None, None, None, 1, after) == [history[1]]


# -- the expiry job -------------------------------------------------------------------------
def notify_expired(booking: Booking):
    return make_notification(
        booking.student_id, "booking_expired", payload={"id": booking.booking_id}
    )


def test_expire_all_three_kinds(store: Stores):
    _, slots = publish(store, "tutor", at(hours=1), hours=5)
    pending = request(store, slots[1])
    accepted = accept(store, request(store, slots[2]))
    still_running = accept(store, request(store, slots[3]))
    future_pending = request(store, slots[4])
    now = slots[3].start + timedelta(minutes=30)  # slot 3 started but not ended

    seen: list[Booking] = []

    def notify(booking: Booking):
        seen.append(booking)
        return notify_expired(booking)

    result = store.bookings.expire(now, 100, notify)
    assert result == ExpiryResult(slots_expired=1, bookings_expired=1, bookings_completed=1)
    assert slot_status(store, slots[0]) == SlotStatus.EXPIRED
    expired = store.bookings.get_booking(pending.booking_id)
    assert (expired.booking_status, expired.updated_at) == (BookingStatus.EXPIRED, now)
    assert slot_status(store, slots[1]) == SlotStatus.EXPIRED
    assert [b.booking_id for b in seen] == [pending.booking_id]
    assert seen[0].booking_status == BookingStatus.EXPIRED
    outbox = store.outbox.claim_notifications(at(days=1), 100, 60)
    assert [n.payload for n in outbox if n.kind == "booking_expired"] == [
        {"id": pending.booking_id}
    ]
    assert store.bookings.get_booking(accepted.booking_id).booking_status == BookingStatus.COMPLETED
    assert slot_status(store, slots[2]) == SlotStatus.BOOKED
    assert (
        store.bookings.get_booking(still_running.booking_id).booking_status
        == BookingStatus.ACCEPTED
    )
    assert (
        store.bookings.get_booking(future_pending.booking_id).booking_status
        == BookingStatus.PENDING
    )
    assert slot_status(store, slots[4]) == SlotStatus.PENDING
    assert store.admin.check_consistency() == []
    # a second run finds nothing to do
    assert store.bookings.expire(now, 100, notify) == ExpiryResult()
    assert len(seen) == 1


def test_expire_boundaries_are_inclusive(store: Stores):
    _, slots = publish(store, "tutor", at(hours=1), hours=2)
    accepted = accept(store, request(store, slots[1]))
    assert (
        store.bookings.expire(slots[0].start - timedelta(seconds=1), 10, notify_expired)
        == ExpiryResult()
    )
    assert store.bookings.expire(slots[0].start, 10, notify_expired).slots_expired == 1
    assert store.bookings.expire(slots[1].end, 10, notify_expired).bookings_completed == 1
    assert store.bookings.get_booking(accepted.booking_id).booking_status == BookingStatus.COMPLETED


def test_expire_is_bounded_by_limit_per_kind(store: Stores):
    _, slots = publish(store, "tutor", at(hours=1), hours=9)
    for slot in slots[3:6]:
        request(store, slot)
    for slot in slots[6:9]:
        accept(store, request(store, slot))
    now = at(days=1)
    results = [store.bookings.expire(now, 2, notify_expired) for _ in range(3)]
    assert results == [
        ExpiryResult(2, 2, 2),
        ExpiryResult(1, 1, 1),
        ExpiryResult(0, 0, 0),
    ]
    assert store.slots.slots_for_tutor("tutor", BASE, now, SlotStatus.AVAILABLE) == []
    assert (
        store.bookings.bookings_for_tutor("tutor", BookingStatus.PENDING, None, None, 10, None)
        == []
    )
    assert (
        store.bookings.bookings_for_tutor("tutor", BookingStatus.ACCEPTED, None, None, 10, None)
        == []
    )
    assert store.admin.check_consistency() == []


def test_expire_takes_the_oldest_first(store: Stores):
    _, slots = publish(store, "tutor", at(hours=1), hours=3)
    assert store.bookings.expire(at(days=1), 1, notify_expired).slots_expired == 1
    assert slot_status(store, slots[0]) == SlotStatus.EXPIRED
    assert slot_status(store, slots[1]) == SlotStatus.AVAILABLE
