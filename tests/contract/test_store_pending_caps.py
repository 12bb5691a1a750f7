"""The Store contract, fair use: a student holds at most `limits.per_tutor` pending requests with
one tutor and `limits.total` in all (API.md, "Booking rules"), under any concurrency, on every
adapter (see conftest.py). Every way out of `pending` (accept, reject, withdraw, expiry) frees a
place; an idempotent replay is not a second request."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from factories import BASE, at, make_booking, make_notification, publish
from test_store_bookings import accept, cancel, reject

import store_peek
from skillsession.domain.bookings import PendingLimits
from skillsession.domain.errors import TooManyPending
from skillsession.domain.model import BookingStatus, SlotStatus
from skillsession.ports.storage import Stores


def ask(store: Stores, slot, limits: PendingLimits, student="student", key=None, now=BASE):
    booking = make_booking(slot, student, now)
    note = make_notification(slot.tutor_id, "booking_requested", now)
    return store.bookings.request_booking(booking, note, now, key, limits)


def pending_of(store: Stores, student="student") -> list:
    return store.bookings.bookings_for_student(
        student, BookingStatus.PENDING, None, None, 200, None
    )


def test_requests_past_a_limit_are_refused_and_write_nothing(store: Stores):
    limits = PendingLimits(per_tutor=2, total=3)
    _, mine = publish(store, "tutor-a", at(days=1), hours=4)
    _, others = publish(store, "tutor-b", at(days=1), hours=4)
    ask(store, mine[0], limits)
    ask(store, mine[1], limits)
    with pytest.raises(TooManyPending) as refused:
        ask(store, mine[2], limits)
    assert refused.value.code == "too_many_pending"
    assert refused.value.details == {"limit": "per_tutor", "max": 2}
    assert store_peek.get_slot(store, mine[2].slot_id).slot_status == SlotStatus.AVAILABLE
    ask(store, others[0], limits)  # another tutor: a place left in all
    with pytest.raises(TooManyPending) as refused:
        ask(store, others[1], limits)
    assert refused.value.details == {"limit": "total", "max": 3}
    assert store_peek.get_slot(store, others[1].slot_id).slot_status == SlotStatus.AVAILABLE
    assert len(pending_of(store)) == 3
    ask(store, others[1], limits, student="someone-else")  # limits are per student
    assert store.admin.check_consistency() == []


def test_without_limits_nothing_is_refused(store: Stores):
    _, slots = publish(store, "tutor", at(days=1), hours=5)
    for slot in slots:
        booking = make_booking(slot, "student")
        store.bookings.request_booking(booking, make_notification("tutor"), BASE)
    assert len(pending_of(store)) == 5
    assert store.admin.check_consistency() == []


def test_every_way_out_of_pending_frees_a_place(store: Stores):
    limits = PendingLimits(per_tutor=1, total=1)
    _, slots = publish(store, "tutor", at(days=1), hours=6)
    later = publish(store, "tutor", at(days=3), hours=1)[1][0]

    def refused_then_freed(booking, leave: Callable[[Any], Any], next_slot) -> Any:
        with pytest.raises(TooManyPending):
            ask(store, next_slot, limits)
        assert leave(booking) is not None
        return ask(store, next_slot, limits)

    first = ask(store, slots[0], limits)
    second = refused_then_freed(first, lambda b: accept(store, b), slots[1])
    third = refused_then_freed(second, lambda b: reject(store, b), slots[2])
    fourth = refused_then_freed(third, lambda b: cancel(store, b), slots[3])  # withdrawn
    # leaving `accepted` does not free a pending place
    assert cancel(store, store.bookings.get_booking(first.booking_id)) is not None
    with pytest.raises(TooManyPending):
        ask(store, slots[5], limits)
    # the expiry job: a request whose slot has started expires
    started = fourth.start + timedelta(minutes=1)
    assert store.bookings.expire(
        started, 50, lambda b: make_notification(b.student_id)
    ).bookings_expired
    assert store.bookings.get_booking(fourth.booking_id).booking_status == BookingStatus.EXPIRED
    fifth = ask(store, later, limits, now=started)
    assert fifth.booking_status == BookingStatus.PENDING
    assert [b.booking_id for b in pending_of(store)] == [fifth.booking_id]
    assert store.admin.check_consistency() == []


def test_an_idempotent_replay_is_not_counted_twice(store: Stores):
    limits = PendingLimits(per_tutor=2, total=2)
    _, slots = publish(store, "tutor", at(days=1), hours=3)
    first = ask(store, slots[0], limits, key="k-1")
    for _ in range(3):
        assert ask(store, slots[0], limits, key="k-1").booking_id == first.booking_id
    second = ask(store, slots[1], limits, key="k-2")  # the second place is still free
    # at the limit, a replay still answers the first result
    assert ask(store, slots[0], limits, key="k-1").booking_id == first.booking_id
    with pytest.raises(TooManyPending):
        ask(store, slots[2], limits, key="k-3")
    assert {b.booking_id for b in pending_of(store)} == {first.booking_id, second.booking_id}
    assert store.admin.check_consistency() == []


def together(count: int, action: Callable[[int], Any]) -> list[Any]:
    """`action(i)` in `count` threads released at once: results or exceptions."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = action(i)
        except Exception as exc:  # noqa: BLE001 - collected for the assertions
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


@pytest.mark.parametrize(
    ("tutors", "limits", "wanted"),
    [(1, PendingLimits(3, 10), 3), (4, PendingLimits(3, 5), 5)],
    ids=["one tutor", "four tutors"],
)
def test_threads_of_one_student_never_pass_the_limits(store: Stores, tutors, limits, wanted):
    slots = []
    for t in range(tutors):
        slots += publish(store, f"tutor-{t}", at(days=1), hours=16 // tutors)[1]
    results = together(len(slots), lambda i: ask(store, slots[i], limits))
    won = [r for r in results if not isinstance(r, Exception)]
    lost = [r for r in results if isinstance(r, Exception)]
    assert all(isinstance(r, TooManyPending) for r in lost), lost
    assert len(won) == wanted
    held = pending_of(store)
    assert {b.booking_id for b in held} == {b.booking_id for b in won}
    assert max(Counter(b.tutor_id for b in held).values()) <= limits.per_tutor
    taken = [
        s for s in slots if store_peek.get_slot(store, s.slot_id).slot_status == SlotStatus.PENDING
    ]
    assert len(taken) == wanted  # a refused request left its slot free
    assert store.admin.check_consistency() == []


def test_a_zero_limit_is_no_limit(store: Stores):
    _, slots = publish(store, "tutor", at(days=1), hours=4)
    for slot in slots[:3]:
        ask(store, slot, PendingLimits(per_tutor=0, total=3))
    with pytest.raises(TooManyPending) as refused:
        ask(store, slots[3], PendingLimits(per_tutor=0, total=3))
    assert refused.value.details["limit"] == "total"
    ask(store, slots[3], PendingLimits(per_tutor=0, total=0))
    assert len(pending_of(store)) == 4


def test_the_consistency_check_compares_the_dynamodb_counters():
    """DynamoDB keeps the numbers as counter items (the pair's, the student's): `check`
    reports a counter that drifted from the pending bookings it counts."""
    from moto_server import dynamodb_store

    from skillsession.adapters.store.dynamodb.items import encode, pair_key, pending_key

    store = dynamodb_store("caps")
    store.admin.migrate()
    _, slots = publish(store, "tutor", at(days=1), hours=2)
    ask(store, slots[0], PendingLimits(3, 10))
    assert store.admin.check_consistency() == []
    for key in (pair_key("tutor", "student"), pending_key("student")):
        store.admin.client.update_item(
            TableName=store.admin.table,
            Key=encode(key),
            UpdateExpression="ADD pending :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
        )
    assert sorted(store.admin.check_consistency()) == [
        "pending-requests counter is wrong for pair: tutor/student",
        "pending-requests counter is wrong for student: student",
    ]
    store.admin.close()
