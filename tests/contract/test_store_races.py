"""Races between threads on every Store adapter (memory, SQLite, DynamoDB on moto): the atomic
state changes stay atomic when callers arrive together. Each test releases its threads at once
from a barrier. SQLite is also raced by several processes (test_store_sqlite.py); moto answers
one request at a time (tests/contract/moto_server.py), so on DynamoDB these races test the
adapter's conditions and transactions, not DynamoDB's own isolation."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any

from factories import BASE, at, make_code, make_notification, make_user, publish, request

import store_peek
from skillsession.domain.errors import BadRequest, SlotUnavailable
from skillsession.domain.model import BookingStatus, SlotStatus
from skillsession.ports.storage import Stores


def together(count: int, action: Callable[[int], Any]) -> list[Any]:
    """`action(i)` in `count` threads released at once; each one's result or exception."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        barrier.wait(timeout=60)
        try:
            results[i] = action(i)
        except Exception as exc:  # noqa: BLE001 - collected for the assertions
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: in-process code races too
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
            assert not thread.is_alive()
    finally:
        sys.setswitchinterval(interval)
    return results


def test_threads_racing_for_one_slot_make_one_booking(store: Stores):
    _, slots = publish(store, "tutor", at(days=1))
    results = together(16, lambda i: request(store, slots[0], f"student-{i}"))
    winners = [r for r in results if not isinstance(r, Exception)]
    assert len(winners) == 1, results
    assert all(isinstance(r, SlotUnavailable) for r in results if r not in winners), results
    assert store_peek.get_slot(store, slots[0].slot_id).slot_status == SlotStatus.PENDING
    stored = store.bookings.bookings_for_tutor("tutor", None, None, None, 50, None)
    assert [b.booking_id for b in stored] == [winners[0].booking_id]
    assert store.admin.check_consistency() == []


def test_replays_of_one_idempotency_key_make_one_booking(store: Stores):
    _, slots = publish(store, "tutor", at(days=1), hours=8)
    results = together(8, lambda i: request(store, slots[i], "student", key="same"))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len({r.booking_id for r in results}) == 1
    assert len(store.bookings.bookings_for_student("student", None, None, None, 50, None)) == 1
    assert store.admin.check_consistency() == []


def test_accept_and_reject_racing_on_each_booking_one_wins(store: Stores):
    _, slots = publish(store, "tutor", at(days=1), hours=4)
    bookings = [request(store, slot, f"student-{i}") for i, slot in enumerate(slots)]
    moves = {
        BookingStatus.ACCEPTED: SlotStatus.BOOKED,
        BookingStatus.REJECTED: SlotStatus.AVAILABLE,
    }
    tries = [(b, to) for b in bookings for to in moves]

    def answer(i: int):
        booking, to = tries[i]
        pending = frozenset({BookingStatus.PENDING})
        note = make_notification(booking.student_id)
        return store.bookings.transition_booking(
            booking.booking_id, pending, to, moves[to], BASE, None, note, True
        )

    results = together(len(tries), answer)
    assert not [r for r in results if isinstance(r, Exception)], results
    for booking, slot in zip(bookings, slots, strict=True):
        won = [r for r, (b, _) in zip(results, tries, strict=True) if b is booking and r]
        assert len(won) == 1, won
        final = store.bookings.get_booking(booking.booking_id).booking_status
        assert final == won[0].booking_status
        assert store_peek.get_slot(store, slot.slot_id).slot_status == moves[final]
    assert store.admin.check_consistency() == []


def test_claims_racing_never_share_a_notification(store: Stores):
    store_peek.add_notifications(store, [make_notification(due=at(minutes=-m)) for m in range(30)])
    results = together(6, lambda i: store.outbox.claim_notifications(BASE, 5, 300))
    assert not [r for r in results if isinstance(r, Exception)], results
    claimed = [n.notification_id for batch in results for n in batch]
    assert len(claimed) == len(set(claimed)), sorted(claimed)  # none taken twice
    while batch := store.outbox.claim_notifications(
        BASE, 5, 300
    ):  # a claim that lost races may take
        claimed += [n.notification_id for n in batch]  # fewer: the rest is still there
    assert len(claimed) == len(set(claimed)) == 30


def test_expiry_jobs_racing_change_each_thing_once(store: Stores):
    _, slots = publish(store, "tutor", at(hours=1), hours=8)
    requested = [request(store, slot).booking_id for slot in slots[:4]]

    def notify(booking):
        return make_notification(booking.student_id, "booking_expired")

    results = together(3, lambda i: store.bookings.expire(at(days=1), 100, notify))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r.slots_expired for r in results) == 4
    assert sum(r.bookings_expired for r in results) == 4
    statuses = {store.bookings.get_booking(b).booking_status for b in requested}
    assert statuses == {BookingStatus.EXPIRED}
    kinds = [n.kind for n in store.outbox.claim_notifications(at(days=2), 100, 60)]
    assert kinds.count("booking_expired") == 4  # one notification each, kept with its change
    assert store.admin.check_consistency() == []


def test_resets_racing_with_one_code_use_it_once(store: Stores):
    user = make_user("ann@example.org")
    store.accounts.create_user(user, make_code(user.user_id), make_notification(user.user_id))
    results = together(
        8,
        lambda i: store.accounts.set_password(
            user.user_id, f"hash-of-{i}", at(minutes=i), "hash-1"
        ),
    )
    winners = [i for i, r in enumerate(results) if not isinstance(r, Exception)]
    assert len(winners) == 1, results
    assert all(isinstance(r, BadRequest) for r in results if isinstance(r, Exception)), results
    assert store.accounts.get_user(user.user_id).password_hash == f"hash-of-{winners[0]}"
