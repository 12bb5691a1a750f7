"""Deleting an account is a sequence of atomic steps, the whole idempotent: a crash after any
step is finished by calling again, with each other party told once, and a request that comes in
while the tutor's slots go is ended too. Over the memory store (the service's fake)."""

from __future__ import annotations

import pytest
from service_fakes import person

import store_peek
from skillsession.domain.availability import WindowRequest
from skillsession.domain.errors import Forbidden, ValidationFailed
from skillsession.domain.model import AccountStatus, BookingStatus, User
from skillsession.service import account_data, availability, bookings

# (store method, how many of its calls succeed before the crash)
CRASHES = [
    ("transition_booking", 0),  # before the first booking is ended
    ("transition_booking", 1),  # between the two bookings
    ("delete_tutor_availability", 0),
    ("delete_account", 0),
]


PASSWORD = "the tutor's password"


class Crash(Exception):
    pass


def crash_at(deps, method: str, after: int):
    """Make the `after`+1-th call of a store method raise (the process dies there)."""
    roles = {"transition_booking": "bookings", "delete_tutor_availability": "slots"}
    role = getattr(deps.stores, roles.get(method, "accounts"))
    original = getattr(role, method)
    calls = {"n": 0}

    def dying(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > after:
            raise Crash(method)
        return original(*args, **kwargs)

    object.__setattr__(role, method, dying)
    return lambda: object.__setattr__(role, method, original)


def world(deps, tutor, student):
    hashed = deps.passwords.hash(PASSWORD)
    user = User(tutor.user_id, tutor.email, hashed, AccountStatus.CONFIRMED, deps.now())
    deps.stores.admin.bulk_insert([user], [], [], [])
    other = person(deps, "other", "student")
    _, slots = availability.create(deps, tutor, [WindowRequest("2026-12-02", "09:00", "13:00")])
    pending = bookings.request(deps, student, slots[0].slot_id, None, None).booking
    accepted = bookings.request(deps, other, slots[1].slot_id, None, None).booking
    bookings.respond(deps, tutor, accepted.booking_id, "accept", None)
    return pending, accepted, slots


def cancellations(deps) -> list[tuple[str, str]]:
    return sorted(
        (n.recipient_id, n.payload["booking_id"])
        for n in store_peek.notifications(deps.stores)
        if n.kind == "booking_cancelled"
    )


@pytest.mark.parametrize(("step", "after"), CRASHES)
def test_a_crash_after_any_step_is_finished_by_calling_again(deps, tutor, student, step, after):
    pending, accepted, slots = world(deps, tutor, student)
    restore = crash_at(deps, step, after)
    with pytest.raises(Crash):
        account_data.delete(deps, tutor, PASSWORD)
    restore()
    # the account goes last: until then its owner can sign in and call again
    assert deps.stores.accounts.get_user_by_email(tutor.email) is not None
    account_data.delete(deps, tutor, PASSWORD)
    account_data.delete(deps, tutor, PASSWORD)  # and once more: nothing left to do
    assert deps.stores.profiles.get_profile(tutor.user_id) is None
    assert deps.stores.accounts.get_user_by_email(tutor.email) is None
    for booking in (pending, accepted):
        found = deps.stores.bookings.get_booking(booking.booking_id)
        assert found.booking_status == BookingStatus.CANCELLED
        assert found.reason == account_data.DELETED_REASON
    # each other party told once
    assert cancellations(deps) == sorted(
        [(pending.student_id, pending.booking_id), (accepted.student_id, accepted.booking_id)]
    )
    assert deps.stores.slots.slots_for_tutor(tutor.user_id, slots[0].start, slots[-1].end, None)
    assert deps.stores.admin.check_consistency() == []


def test_a_request_that_races_the_slots_going_is_ended(deps, tutor, student):
    _, slots = availability.create(deps, tutor, [WindowRequest("2026-12-02", "09:00", "11:00")])
    slot_role = deps.stores.slots
    original = slot_role.delete_tutor_availability
    raced = {}

    def request_first(tutor_id):  # the student's request lands just before the slots go
        raced["booking"] = bookings.request(deps, student, slots[0].slot_id, None, None).booking
        original(tutor_id)

    object.__setattr__(slot_role, "delete_tutor_availability", request_first)
    account_data.delete(deps, tutor, None)
    found = deps.stores.bookings.get_booking(raced["booking"].booking_id)
    assert found.booking_status == BookingStatus.CANCELLED
    assert deps.stores.admin.check_consistency() == []


def test_embedded_accounts_need_the_password(deps):
    passwords = deps.passwords
    identity = person(deps, "owner", "student")
    user = User(
        identity.user_id,
        identity.email,
        passwords.hash("the right password"),
        AccountStatus.CONFIRMED,
        deps.now(),
    )
    deps.stores.admin.bulk_insert([user], [], [], [])
    with pytest.raises(ValidationFailed):
        account_data.delete(deps, identity, None)
    with pytest.raises(Forbidden):
        account_data.delete(deps, identity, "a wrong password")
    assert deps.stores.accounts.get_user_by_email(identity.email) == user
    account_data.delete(deps, identity, "the right password")
    assert deps.stores.accounts.get_user_by_email(identity.email) is None
    assert deps.stores.profiles.get_profile(identity.user_id) is None


class Provider:
    """An identity provider (the AWS shape's Cognito), recording what it is asked to delete."""

    def __init__(self):
        self.deleted: list[str] = []

    def delete_user(self, user_id: str) -> None:
        self.deleted.append(user_id)


def test_in_the_aws_shape_the_token_suffices_and_the_providers_account_goes(deps, tutor):
    deps.issuer, deps.accounts = None, Provider()
    account_data.delete(deps, tutor, None)
    assert deps.accounts.deleted == [tutor.user_id]
    assert deps.stores.profiles.get_profile(tutor.user_id) is None
