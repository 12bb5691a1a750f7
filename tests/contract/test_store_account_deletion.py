"""The Store contract for deleting an account (API.md, "Your data"): `delete_account` and
`delete_tutor_availability`, and what the consistency scan says of a deleted user. Every test
runs on every adapter (see conftest.py)."""

from __future__ import annotations

import pytest
from factories import (
    BASE,
    at,
    make_code,
    make_notification,
    make_profile,
    make_subscription,
    make_user,
    publish,
    request,
)

import store_peek
from skillsession.domain.errors import NotFound, SlotUnavailable
from skillsession.domain.model import BookingStatus, Role, SlotStatus
from skillsession.domain.skills import skill_key
from skillsession.ports.storage import Stores

LIVE = frozenset({BookingStatus.PENDING, BookingStatus.ACCEPTED})


def person(store: Stores, role: Role = Role.TUTOR):
    user = make_user()
    note = make_notification(user.user_id, "verification_code", payload={"code": "123456"})
    store.accounts.create_user(user, make_code(user.user_id), note)
    profile = make_profile(user.user_id, role, skills=["Python"], email=user.email)
    store.profiles.save_profile(profile)
    store.outbox.save_subscription(make_subscription(user.user_id), None)
    return user


def test_delete_account_removes_what_is_the_users_own(store: Stores):
    user = person(store)
    other = person(store)
    store.accounts.delete_account(user.user_id)
    assert store_peek.get_user(store, user.user_id) is None
    assert store.accounts.get_user_by_email(user.email) is None
    assert store_peek.get_verification_code(store, user.user_id) is None
    assert store.profiles.get_profile(user.user_id) is None
    assert store.profiles.get_profile_by_email(user.email) is None
    assert store.outbox.get_subscription(user.user_id) is None
    found = store.profiles.search_tutors([skill_key("python")], None, 10, None)
    assert [p.user_id for p in found] == [other.user_id]
    # the other user is untouched
    assert store.profiles.get_profile(other.user_id) is not None
    assert store.outbox.get_subscription(other.user_id) is not None


def test_delete_account_frees_the_email_and_is_idempotent(store: Stores):
    user = person(store)
    store.accounts.delete_account(user.user_id)
    store.accounts.delete_account(user.user_id)  # again: nothing left, no error
    store.accounts.delete_account("never-existed")
    again = make_user(user.email)
    store.accounts.create_user(again, make_code(again.user_id), make_notification(again.user_id))
    assert store.accounts.get_user_by_email(user.email) == again


def test_delete_account_changes_the_answer_versions(store: Stores):
    if store.versions is None:
        pytest.skip("this backend keeps no answer versions")
    user = person(store)
    before = (store.versions.profiles_version(), store.versions.booking_list_version("someone"))
    store.accounts.delete_account(user.user_id)
    after = (store.versions.profiles_version(), store.versions.booking_list_version("someone"))
    assert after[0] != before[0] and after[1] != before[1]


def test_delete_tutor_availability(store: Stores):
    window, slots = publish(store, "tutor", at(days=1), hours=4)
    other_window, other_slots = publish(store, "other", at(days=1), hours=1)
    pending = request(store, slots[0], "student-1")
    rejected = request(store, slots[1], "student-2")
    store.bookings.transition_booking(
        rejected.booking_id, LIVE, BookingStatus.REJECTED, SlotStatus.AVAILABLE, BASE, None,
        None, False,
    )  # fmt: skip
    store.slots.delete_tutor_availability("tutor")
    assert store.slots.get_availability(window.availability_id) is None
    remaining = store.slots.slots_for_tutor("tutor", BASE, at(days=3), None)
    # the live booking's slot as it was; the slot with history expired; free slots gone
    assert [(s.slot_id, s.slot_status) for s in remaining] == [
        (slots[0].slot_id, SlotStatus.PENDING),
        (slots[1].slot_id, SlotStatus.EXPIRED),
    ]
    with pytest.raises((SlotUnavailable, NotFound)):
        request(store, slots[2], "student-3")
    with pytest.raises((SlotUnavailable, NotFound)):
        request(store, slots[1], "student-3")
    assert store.bookings.get_booking(pending.booking_id).booking_status == BookingStatus.PENDING
    # another tutor's windows stay; a second call changes nothing
    assert store.slots.get_availability(other_window.availability_id) is not None
    store.slots.delete_tutor_availability("tutor")
    assert store.slots.slots_for_tutor("tutor", BASE, at(days=3), None) == remaining
    assert store.admin.check_consistency() == []
    publish(store, "tutor", at(days=1), hours=4)  # the tutor's hours are free again


def test_check_reports_what_a_deleted_user_left_live(store: Stores):
    tutor = person(store)
    student = person(store, Role.STUDENT)
    _, slots = publish(store, tutor.user_id, at(days=1), hours=2)
    booking = request(store, slots[0], student.user_id)
    assert store.admin.check_consistency() == []
    store.accounts.delete_account(tutor.user_id)  # without ending the booking and the slots
    problems = store.admin.check_consistency()
    assert sorted(problems) == sorted(
        [
            f"live booking of a deleted user: {booking.booking_id}",
            f"available slot of a deleted user: {slots[1].slot_id}",
        ]
    )
    store.bookings.transition_booking(
        booking.booking_id, LIVE, BookingStatus.CANCELLED, SlotStatus.EXPIRED, BASE, None, None,
        False,
    )  # fmt: skip
    store.slots.delete_tutor_availability(tutor.user_id)
    assert store.admin.check_consistency() == []
