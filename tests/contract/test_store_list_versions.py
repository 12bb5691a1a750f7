"""The Store contract, part 4: the per-user booking list version that cached booking lists are
checked against. Every write of a booking gives both its tutor and its student a version never
seen before; every profile write gives every user one (lists show the parties' names); reads and
other users' booking writes leave a user's version alone. A store that keeps no version (None)
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

from skillsession.domain.model import BookingStatus, Role, SlotStatus
from skillsession.ports import Store

B = BookingStatus
USERS = ("tutor", "student", "student-2", "other-tutor", "bystander")


class Versions:
    """Every user's version, with every one seen: each change must be new."""

    def __init__(self, store: Store):
        self.store = store
        self.seen = {user: [store.booking_list_version(user)] for user in USERS}

    def step(self) -> set[str]:
        """The users whose version changed since the last step (each change to a new value)."""
        changed = set()
        for user, seen in self.seen.items():
            now = self.store.booking_list_version(user)
            if now != seen[-1]:
                assert now not in seen, f"{user}'s version {now} came back"
                changed.add(user)
            seen.append(now)
        return changed


@pytest.fixture
def versions(store: Store) -> Versions:
    if store.booking_list_version("tutor") is None:
        pytest.skip(f"{store.backend_name} keeps no booking list version (lists are not cached)")
    return Versions(store)


def transition(store: Store, booking, allowed, to, slot_status, now=BASE):
    return store.transition_booking(
        booking.booking_id, frozenset(allowed), to, slot_status, now, "why", None, False
    )


def notify_expired(booking):
    return make_notification(booking.student_id, "booking_expired")


def test_a_user_without_bookings_has_a_version(store: Store):
    """A store that keeps versions has one for everybody, even with nothing to version yet (the
    caches key on it); a store that keeps none answers None for everybody."""
    publish(store, "tutor", at(days=1))
    nobody, somebody = store.booking_list_version("nobody"), store.booking_list_version("tutor")
    assert (nobody is None) == (somebody is None), (nobody, somebody)
    assert nobody is None or (isinstance(nobody, int) and isinstance(somebody, int))


def test_every_booking_write_changes_both_parties_versions(store: Store, versions: Versions):
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


def test_refused_and_replayed_writes_may_leave_the_versions(store: Store, versions: Versions):
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
    store: Store, versions: Versions
):
    _, slots = publish(store, "tutor", at(hours=1), hours=3)
    _, theirs = publish(store, "other-tutor", at(hours=1), hours=1)
    pending = request(store, slots[0])
    accepted = request(store, theirs[0], "student-2")
    transition(store, accepted, {B.PENDING}, B.ACCEPTED, SlotStatus.BOOKED)
    versions.step()

    store.expire(slots[0].start, 10, notify_expired)  # the pending request expires
    assert versions.step() == {"tutor", "student"}
    assert store.get_booking(pending.booking_id).booking_status == B.EXPIRED
    store.expire(theirs[0].end, 10, notify_expired)  # the accepted one completes
    assert versions.step() == {"other-tutor", "student-2"}
    assert store.get_booking(accepted.booking_id).booking_status == B.COMPLETED
    store.expire(theirs[0].end + timedelta(hours=5), 10, notify_expired)
    assert versions.step() == set()  # only free slots expired: no list shows them


def test_every_profile_write_changes_every_users_version(store: Store, versions: Versions):
    _, slots = publish(store, "tutor", at(days=1), hours=1)
    request(store, slots[0])
    versions.step()
    everyone = set(USERS)

    store.save_profile(make_profile("tutor"))
    assert versions.step() == everyone
    store.save_profile(make_profile("student", Role.STUDENT))  # a change of name or zone alike
    assert versions.step() == everyone
    store.set_profile_image("student", "img/student.png")
    assert versions.step() == everyone
    user = make_user(user_id="newcomer")
    window, new_slots = make_window("newcomer", at(days=2), at(days=2, hours=1))
    store.bulk_insert([user], [make_profile("newcomer")], [window], new_slots)
    assert versions.step() == everyone
    other = make_user(user_id="no-profile")
    store.bulk_insert([other], [], [], [])  # no profile written: need not change (either way)
    versions.step()
    store.save_profile(make_profile("bystander", Role.STUDENT))
    assert versions.step() == everyone


def test_reads_and_other_writes_leave_the_versions(store: Store, versions: Versions):
    _, slots = publish(store, "tutor", at(days=1), hours=2)
    booking = request(store, slots[0])
    store.save_profile(make_profile("tutor"))
    versions.step()
    store.get_profile("tutor")
    store.get_profiles(["tutor", "student"])
    store.get_booking(booking.booking_id)
    store.has_accepted_booking("tutor", "student")
    store.bookings_for_tutor("tutor", None, None, None, 10, None)
    store.bookings_for_student("student", B.PENDING, BASE, None, 10, None)
    store.booking_list_version("tutor")
    store.slot_version("tutor")
    store.add_notifications([make_notification("tutor")])
    spare, _ = publish(store, "tutor", at(days=3), hours=1)  # slots: not in the lists
    store.delete_availability(spare.availability_id)
    assert versions.step() == set()


def test_profiles_version_changes_with_every_profile_write_only(store: Store):
    """What a search without dates shows (profiles and skills) changes only with a profile
    write, and each gives a profiles version never seen before."""
    if store.profiles_version() is None:
        pytest.skip(f"{store.backend_name} keeps no profiles version (searches are not cached)")
    seen = [store.profiles_version()]

    def changed() -> bool:
        now = store.profiles_version()
        if now == seen[-1]:
            return False
        assert now not in seen
        seen.append(now)
        return True

    store.save_profile(make_profile("tutor"))
    assert changed()
    store.save_profile(make_profile("tutor"))  # the same again: still a write
    assert changed()
    store.set_profile_image("tutor", "img/tutor.png")
    assert changed()
    user = make_user(user_id="newcomer")
    store.bulk_insert([user], [make_profile("newcomer")], [], [])
    assert changed()
    _, slots = publish(store, "tutor", at(days=1), hours=1)  # slots and bookings: not searched
    booking = request(store, slots[0])
    transition(store, booking, {B.PENDING}, B.ACCEPTED, SlotStatus.BOOKED)
    store.search_tutors(["python"], None, 10, None)
    assert not changed()
