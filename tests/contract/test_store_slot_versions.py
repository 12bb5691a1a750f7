"""The Store contract, part 3: the per-tutor slot version that cached slot listings are checked
against. Every write to a tutor's slots gives the tutor a version never seen before; reads and
other tutors' writes leave it alone. A store that keeps no versions (no `versions`
role) is skipped: answers about its slots are never cached. Every test runs on every adapter (see conftest.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from factories import (
    BASE,
    at,
    make_booking,
    make_notification,
    make_profile,
    make_user,
    make_window,
    publish,
    request,
)

import store_peek
from skillsession.domain.errors import Conflict, SlotUnavailable
from skillsession.domain.model import BookingStatus, SlotStatus
from skillsession.ports.storage import Stores

PENDING = frozenset({BookingStatus.PENDING})
ACCEPTED = frozenset({BookingStatus.ACCEPTED})


class Versions:
    """Reads a tutor's version and remembers every one seen: each change must be new."""

    def __init__(self, store: Stores, tutor_id: str = "tutor"):
        self.store, self.tutor_id = store, tutor_id
        self.seen = [store.versions.slot_version(tutor_id)]

    def changed(self) -> bool:
        now = self.store.versions.slot_version(self.tutor_id)
        new = now not in self.seen
        self.seen.append(now)
        return new

    def unchanged(self) -> bool:
        now = self.store.versions.slot_version(self.tutor_id)
        return now == self.seen[-1]


@pytest.fixture(autouse=True)
def keeps_versions(store: Stores) -> None:
    """These tests are about the answer versions: a backend that keeps none (DynamoDB) does not
    implement the role, and its answers are never remembered."""
    if store.versions is None:
        pytest.skip(f"{store.backend_name} keeps no answer versions")


@pytest.fixture
def versions(store: Stores) -> Versions:
    return Versions(store)


def transition(store: Stores, booking, allowed, to, slot_status, now=BASE):
    return store.bookings.transition_booking(
        booking.booking_id, allowed, to, slot_status, now, None, None, False
    )


def notify_expired(booking):
    return make_notification(booking.student_id, "booking_expired")


def test_a_tutor_without_slots_has_a_version(store: Stores):
    """A store that keeps versions has one for everybody, even with nothing to version yet (the
    caches key on it)."""
    publish(store, "tutor", at(days=1))
    nobody, somebody = store.versions.slot_version("nobody"), store.versions.slot_version("tutor")
    assert isinstance(nobody, int) and isinstance(somebody, int), (nobody, somebody)


def test_both_versions_of_a_slot_answer_are_read_together(store: Stores, versions: Versions):
    def together():
        return store.versions.slot_answer_versions("tutor")

    assert together() == (store.versions.profiles_version(), store.versions.slot_version("tutor"))
    publish(store, "tutor", at(days=1))
    assert versions.changed()
    assert together() == (store.versions.profiles_version(), store.versions.slot_version("tutor"))
    store.profiles.save_profile(make_profile("other"))
    assert together() == (store.versions.profiles_version(), store.versions.slot_version("tutor"))


def test_publishing_and_deleting_a_window_change_the_version(store: Stores, versions: Versions):
    window, _ = publish(store, "tutor", at(days=1), hours=3)
    assert versions.changed()
    two, slots_two = make_window("tutor", at(days=2), at(days=2, hours=1))
    three, slots_three = make_window("tutor", at(days=3), at(days=3, hours=1))
    store.slots.create_availability([two, three], slots_two + slots_three)
    assert versions.changed()
    store.slots.delete_availability(window.availability_id)
    assert versions.changed()
    store.slots.delete_availability(two.availability_id)
    assert versions.changed()


def test_failed_writes_may_leave_the_version(store: Stores, versions: Versions):
    """Not required either way; but a failed write must not break later bumps."""
    publish(store, "tutor", at(days=1), hours=2)
    assert versions.changed()
    clash, clash_slots = make_window("tutor", at(days=1), at(days=1, hours=1))
    with pytest.raises(Conflict):
        store.slots.create_availability([clash], clash_slots)
    publish(store, "tutor", at(days=2))
    assert versions.changed()


def test_request_accept_reject_cancel_change_the_version(store: Stores, versions: Versions):
    _, slots = publish(store, "tutor", at(days=1), hours=3)
    assert versions.changed()
    first = request(store, slots[0])
    assert versions.changed()
    transition(store, first, PENDING, BookingStatus.REJECTED, SlotStatus.AVAILABLE)
    assert versions.changed()
    second = request(store, slots[0], "student-2")
    assert versions.changed()
    transition(store, second, PENDING, BookingStatus.ACCEPTED, SlotStatus.BOOKED)
    assert versions.changed()
    transition(store, second, ACCEPTED, BookingStatus.CANCELLED, SlotStatus.AVAILABLE)
    assert versions.changed()
    third = request(store, slots[1], key="k")
    assert versions.changed()
    transition(store, third, PENDING, BookingStatus.CANCELLED, SlotStatus.AVAILABLE)
    assert versions.changed()


def test_the_expiry_job_changes_the_versions_of_the_tutors_it_touches(
    store: Stores, versions: Versions
):
    _, slots = publish(store, "tutor", at(hours=1), hours=3)
    _, later = publish(store, "later-tutor", at(days=5), hours=1)
    pending_tutor = Versions(store, "pending-tutor")
    _, theirs = publish(store, "pending-tutor", at(hours=2), hours=1)
    request(store, theirs[0])
    assert versions.changed() and pending_tutor.changed()
    later_version = store.versions.slot_version("later-tutor")

    store.bookings.expire(slots[0].start, 10, notify_expired)  # slot 0 of "tutor" expires
    assert versions.changed()
    assert pending_tutor.unchanged()
    store.bookings.expire(theirs[0].start, 10, notify_expired)  # the pending request expires
    assert pending_tutor.changed()
    assert store.versions.slot_version("later-tutor") == later_version


def test_reads_and_other_tutors_writes_leave_the_version(store: Stores, versions: Versions):
    window, slots = publish(store, "tutor", at(days=1), hours=2)
    booking = request(store, slots[0])
    assert versions.changed()
    store_peek.get_slot(store, slots[0].slot_id)
    store.slots.get_availability(window.availability_id)
    store.slots.slots_for_tutor("tutor", BASE, at(days=2), None)
    store.slots.slots_for_tutor("tutor", BASE, at(days=2), SlotStatus.AVAILABLE)
    store.bookings.get_booking(booking.booking_id)
    store.bookings.bookings_for_tutor("tutor", None, None, None, 10, None)
    store.bookings.bookings_for_student("student", None, None, None, 10, None)
    store.versions.slot_version("tutor")
    _, theirs = publish(store, "other-tutor", at(days=1), hours=1)
    request(store, theirs[0])
    assert versions.unchanged()
    # a refused request writes nothing, so it need not change the version either way
    with pytest.raises(SlotUnavailable):
        store.bookings.request_booking(
            make_booking(slots[0], "late-student"), make_notification(), BASE, None
        )
    # completing an accepted booking does not change its slot (`booked` stays `booked`)
    transition(store, booking, PENDING, BookingStatus.ACCEPTED, SlotStatus.BOOKED)
    assert versions.changed()
    store.bookings.expire(slots[0].end + timedelta(minutes=1), 10, notify_expired)
    assert versions.changed()  # slot 1, still available, expired


def test_bulk_insert_changes_the_version(store: Stores, versions: Versions):
    user = make_user(user_id="tutor")
    window, slots = make_window("tutor", at(days=1), at(days=1, hours=2))
    store.admin.bulk_insert([user], [make_profile("tutor")], [window], slots)
    assert versions.changed()
