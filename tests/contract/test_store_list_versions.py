"""The Store contract, part 4: the per-user booking list version that cached booking lists are
checked against. Every write of a booking gives both its tutor and its student a version never
seen before; every profile write gives every user one (lists show the parties' names); reads and
other users' booking writes leave a user's version alone. A store that keeps no versions (no `versions` role)
is skipped: its booking lists are never cached. Every test runs on every adapter."""

from __future__ import annotations

from datetime import timedelta

import pytest
from factories import (
    BASE,
    at,
    make_notification,
    make_profile,
    make_user,
    make_window,
    publish,
    request,
)

import store_peek
from skillsession.domain.model import BookingStatus, Role, SlotStatus
from skillsession.ports.storage import Stores

B = BookingStatus
USERS = ("tutor", "student", "student-2", "other-tutor", "bystander")


class Versions:
    """Every user's version, with every one seen: each change must be new."""

    def __init__(self, store: Stores):
        self.store = store
        self.seen = {user: [store.versions.booking_list_version(user)] for user in USERS}

    def step(self) -> set[str]:
        """The users whose version changed since the last step (each change to a new value)."""
        changed = set()
        for user, seen in self.seen.items():
            now = self.store.versions.booking_list_version(user)
            if now != seen[-1]:
                assert now not in seen, f"{user}'s version {now} came back"
                changed.add(user)
            seen.append(now)
        return changed


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
        booking.booking_id, frozenset(allowed), to, slot_status, now, "why", None, False
    )


def notify_expired(booking):
    return make_notification(booking.student_id, "booking_expired")


def test_a_user_without_bookings_has_a_version(store: Stores):
    """A store that keeps versions has one for everybody, even with nothing to version yet (the
    caches key on it)."""
    publish(store, "tutor", at(days=1))
    nobody, somebody = (
        store.versions.booking_list_version("nobody"),
        store.versions.booking_list_version("tutor"),
    )
    assert isinstance(nobody, int) and isinstance(somebody, int), (nobody, somebody)


def test_every_booking_write_changes_both_parties_versions(store: Stores, versions: Versions):
    _, slots = publish(store, "tutor", at(days=1), hours=4)
    _, theirs = publish(store, "other-tutor", at(days=1), hours=1)
    assert versions.step() == set()  # slots are not in the lists

    first = request(store, slots[0])
    assert versions.step() == {"tutor", "student"}
    transition(store, first, {B.PENDING}, B.REJECTED, SlotStatus.AVAILABLE)
    assert versions.step() == {"tutor", "student"}
    second = request(store, slots[0], "student-2")
    assert versions.step() == {"tutor", "student-2"}
    transition(store, second, {B.PENDING}, B.ACCEPTED, SlotStatus.BOOKED)
    assert versions.step() == {"tutor", "student-2"}
    transition(store, second, {B.ACCEPTED}, B.CANCELLED, SlotStatus.AVAILABLE)
    assert versions.step() == {"tutor", "student-2"}
    third = request(store, slots[1], key="k")
    assert versions.step() == {"tutor", "student"}
    transition(store, third, {B.PENDING}, B.CANCELLED, SlotStatus.AVAILABLE)
    assert versions.step() == {"tutor", "student"}
    request(store, theirs[0], "student-2")
    assert versions.step() == {"other-tutor", "student-2"}


def test_refused_and_replayed_writes_may_leave_the_versions(store: Stores, versions: Versions):
    """A write that changes nothing need not change a version (either way is correct); later
    writes still must."""
    _, slots = publish(store, "tutor", at(days=1), hours=2)
    booking = request(store, slots[0], key="k")
    assert versions.step() == {"tutor", "student"}
    request(store, slots[0], key="k")  # the replay: the same booking, nothing written
    assert transition(store, booking, {B.ACCEPTED}, B.CANCELLED, SlotStatus.AVAILABLE) is None
    versions.step()
    transition(store, booking, {B.PENDING}, B.ACCEPTED, SlotStatus.BOOKED)
    assert versions.step() == {"tutor", "student"}


def test_the_expiry_job_changes_the_parties_of_what_it_expires_or_completes(
    store: Stores, versions: Versions
):
    _, slots = publish(store, "tutor", at(hours=1), hours=3)
    _, theirs = publish(store, "other-tutor", at(hours=1), hours=1)
    pending = request(store, slots[0])
    accepted = request(store, theirs[0], "student-2")
    transition(store, accepted, {B.PENDING}, B.ACCEPTED, SlotStatus.BOOKED)
    versions.step()

    store.bookings.expire(slots[0].start, 10, notify_expired)  # the pending request expires
    assert versions.step() == {"tutor", "student"}
    assert store.bookings.get_booking(pending.booking_id).booking_status == B.EXPIRED
    store.bookings.expire(theirs[0].end, 10, notify_expired)  # the accepted one completes
    assert versions.step() == {"other-tutor", "student-2"}
    assert store.bookings.get_booking(accepted.booking_id).booking_status == B.COMPLETED
    store.bookings.expire(theirs[0].end + timedelta(hours=5), 10, notify_expired)
    assert versions.step() == set()  # only free slots expired: no list shows them


def test_every_profile_write_changes_every_users_version(store: Stores, versions: Versions):
    _, slots = publish(store, "tutor", at(days=1), hours=1)
    request(store, slots[0])
    versions.step()
    everyone = set(USERS)

    store.profiles.save_profile(make_profile("tutor"))
    assert versions.step() == everyone
    store.profiles.save_profile(
        make_profile("student", Role.STUDENT)
    )  # a change of name or zone alike
    assert versions.step() == everyone
    store.profiles.set_profile_image("student", "img/student.png")
    assert versions.step() == everyone
    user = make_user(user_id="newcomer")
    window, new_slots = make_window("newcomer", at(days=2), at(days=2, hours=1))
    store.admin.bulk_insert([user], [make_profile("newcomer")], [window], new_slots)
    assert versions.step() == everyone
    other = make_user(user_id="no-profile")
    store.admin.bulk_insert([other], [], [], [])  # no profile written: need not change (either way)
    versions.step()
    store.profiles.save_profile(make_profile("bystander", Role.STUDENT))
    assert versions.step() == everyone


def test_reads_and_other_writes_leave_the_versions(store: Stores, versions: Versions):
    _, slots = publish(store, "tutor", at(days=1), hours=2)
    booking = request(store, slots[0])
    store.profiles.save_profile(make_profile("tutor"))
    versions.step()
    store.profiles.get_profile("tutor")
    store.profiles.get_profiles(["tutor", "student"])
    store.bookings.get_booking(booking.booking_id)
    store.bookings.has_accepted_booking("tutor", "student")
    store.bookings.bookings_for_tutor("tutor", None, None, None, 10, None)
    store.bookings.bookings_for_student("student", B.PENDING, BASE, None, 10, None)
    store.versions.booking_list_version("tutor")
    store.versions.slot_version("tutor")
    store_peek.add_notifications(store, [make_notification("tutor")])
    spare, _ = publish(store, "tutor", at(days=3), hours=1)  # slots: not in the lists
    store.slots.delete_availability(spare.availability_id)
    assert versions.step() == set()


def test_profiles_version_changes_with_every_profile_write_only(store: Stores):
    """What a search without dates shows (profiles and skills) changes only with a profile
    write, and each gives a profiles version never seen before."""
    seen = [store.versions.profiles_version()]

    def changed() -> bool:
        now = store.versions.profiles_version()
        if now == seen[-1]:
            return False
        assert now not in seen
        seen.append(now)
        return True

    store.profiles.save_profile(make_profile("tutor"))
    assert changed()
    store.profiles.save_profile(make_profile("tutor"))  # the same again: still a write
    assert changed()
    store.profiles.set_profile_image("tutor", "img/tutor.png")
    assert changed()
    user = make_user(user_id="newcomer")
    store.admin.bulk_insert([user], [make_profile("newcomer")], [], [])
    assert changed()
    _, slots = publish(store, "tutor", at(days=1), hours=1)  # slots and bookings: not searched
    booking = request(store, slots[0])
    transition(store, booking, {B.PENDING}, B.ACCEPTED, SlotStatus.BOOKED)
    store.profiles.search_tutors(["python"], None, 10, None)
    assert not changed()
