"""The DynamoDB store's ways of making fewer calls per request, and that each stays correct when
the item changed meanwhile (another process: a second store on the same table).

- the e-mail guard holds a copy of the account: a look-up by e-mail is one GetItem, and
  `confirm_user` confirms both (an older table's guard, holding only the user id, still works);
- a rate-limit key is one item: a hit is one UpdateItem, clearing it one DeleteItem;
- `transition_booking` starts from the booking `get_booking` read, `delete_availability` from
  the window `get_availability` read (and first assumes every slot free and never booked);
- a replayed Idempotency-Key's booking id comes with the cancelled transaction;
- a verification code lives beside the e-mail guard: confirming reads both with one Query (a
  code stored in the account's partition, as before, still counts);
- refusing to delete a window with a pending or booked slot takes the slot from the cancelled
  transaction;
- the tutor's window lock comes with the profile (`get_profile_for_availability`), and one
  Query checks every new window for overlaps.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import pytest
from factories import (
    BASE,
    at,
    make_code,
    make_notification,
    make_profile,
    make_user,
    make_window,
    publish,
    request,
)
from moto_server import REGION, dynamodb_store, endpoint_url

import store_peek
from skillsession.adapters.store.dynamodb import dynamo_stores
from skillsession.adapters.store.dynamodb.items import (
    code_item,
    code_key,
    email_key,
    encode,
    legacy_code_key,
)
from skillsession.domain.errors import Conflict, NotFound
from skillsession.domain.model import AccountStatus, BookingStatus, Role, SlotStatus
from skillsession.ports.storage import Stores


@pytest.fixture
def stores() -> Iterator[tuple[Stores, Stores]]:
    """Two stores on one new table, as two processes would have."""
    first = dynamodb_store("fewer")
    first.admin.migrate()
    second = dynamo_stores(first.admin.table, region=REGION, endpoint_url=endpoint_url())
    yield first, second
    first.admin.close()
    second.admin.close()


def calls(store: Stores, action: Callable[[], Any]) -> tuple[Any, Counter]:
    seen: list[str] = []

    def record(model, **_):
        seen.append(model.name)

    store.admin.client.meta.events.register("before-call.dynamodb", record)
    try:
        result = action()
    finally:
        store.admin.client.meta.events.unregister("before-call.dynamodb", record)
    return result, Counter(seen)


# -- accounts -------------------------------------------------------------------------------
def test_a_look_up_by_email_is_one_read_and_confirming_keeps_the_copy_in_step(stores):
    first, second = stores
    user = make_user("ada@example.org")
    first.accounts.create_user(user, make_code(user.user_id), make_notification())
    found, used = calls(first, lambda: first.accounts.get_user_by_email(user.email))
    assert found == user and used == Counter(GetItem=1)

    # a process that has not seen the account reads it for the guard's key
    _, used = calls(second, lambda: second.accounts.confirm_user(user.user_id))
    assert used == Counter(GetItem=1, TransactWriteItems=1)
    for store in stores:
        assert store.accounts.get_user_by_email(user.email).status == AccountStatus.CONFIRMED
        assert store_peek.get_user(store, user.user_id).status == AccountStatus.CONFIRMED
        assert store_peek.get_verification_code(store, user.user_id) is None

    # one that has (the service looks the account up first) does not
    other = make_user()
    first.accounts.create_user(other, make_code(other.user_id), make_notification())
    second.accounts.get_user_by_email(other.email)
    _, used = calls(second, lambda: second.accounts.confirm_user(other.user_id))
    assert used == Counter(TransactWriteItems=1)
    assert first.accounts.get_user_by_email(other.email).status == AccountStatus.CONFIRMED


def test_an_older_tables_guard_holding_only_the_user_id(stores):
    first, second = stores
    user = make_user()
    first.accounts.create_user(user, make_code(user.user_id), make_notification())
    first.admin.client.put_item(
        TableName=first.admin.table, Item=encode({**email_key(user.email), "user_id": user.user_id})
    )
    found, used = calls(second, lambda: second.accounts.get_user_by_email(user.email))
    assert found == user and used == Counter(GetItem=2)
    second.accounts.confirm_user(user.user_id)
    assert first.accounts.get_user_by_email(user.email).status == AccountStatus.CONFIRMED


def test_the_consistency_check_compares_the_guards_copy(stores):
    first, _ = stores
    user = make_user()
    first.accounts.create_user(user, make_code(user.user_id), make_notification())
    first.accounts.confirm_user(user.user_id)
    assert first.admin.check_consistency() == []
    first.admin.client.update_item(
        TableName=first.admin.table,
        Key=encode(email_key(user.email)),
        UpdateExpression="SET #s = :u",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":u": {"S": "unconfirmed"}},
    )
    assert first.admin.check_consistency() == [
        f"e-mail guard whose copy of the account differs: {user.user_id}"
    ]


def test_confirming_an_unknown_user_drops_its_code_only(stores):
    first, _ = stores
    first.accounts.replace_verification_code(make_code("ghost"), make_notification())
    first.accounts.confirm_user("ghost")
    assert store_peek.get_verification_code(first, "ghost") is None
    assert store_peek.get_user(first, "ghost") is None


def test_confirming_reads_the_account_and_its_code_in_one_query(stores):
    first, second = stores
    user = make_user()
    first.accounts.create_user(user, make_code(user.user_id), make_notification())
    found, used = calls(second, lambda: second.accounts.get_user_and_code_by_email(user.email))
    assert found == (user, make_code(user.user_id)) and used == Counter(Query=1)
    # the e-mail is known now: a wrong code, and the confirmation, need no further read
    _, used = calls(second, lambda: second.accounts.record_code_failure(user.user_id))
    assert used == Counter(UpdateItem=1)
    _, used = calls(second, lambda: second.accounts.confirm_user(user.user_id))
    assert used == Counter(TransactWriteItems=1)
    confirmed = replace(user, status=AccountStatus.CONFIRMED)
    found, used = calls(first, lambda: first.accounts.get_user_and_code_by_email(user.email))
    assert found == (confirmed, None) and used == Counter(Query=1)  # no code to look for


def test_a_code_stored_in_the_accounts_partition_still_counts(stores):
    """Codes were kept under USER#<id> before they moved beside the e-mail guard."""
    first, second = stores
    user = make_user()
    code = make_code(user.user_id)
    first.accounts.create_user(user, code, make_notification())
    first.admin.client.delete_item(TableName=first.admin.table, Key=encode(code_key(user.email)))
    first.admin.client.put_item(
        TableName=first.admin.table, Item=encode(code_item(code, legacy_code_key(user.user_id)))
    )
    found, used = calls(second, lambda: second.accounts.get_user_and_code_by_email(user.email))
    assert found == (user, code) and used == Counter(Query=1, GetItem=1)
    assert second.accounts.record_code_failure(user.user_id) == 1
    assert store_peek.get_verification_code(first, user.user_id) == replace(code, failed_attempts=1)
    # a new code replaces it where codes live now
    fresh = make_code(user.user_id, "hash-2")
    second.accounts.replace_verification_code(fresh, make_notification())
    assert _raw(first, legacy_code_key(user.user_id)) is None
    assert first.accounts.get_user_and_code_by_email(user.email) == (user, fresh)
    # and confirming drops a code wherever it is
    first.admin.client.put_item(
        TableName=first.admin.table, Item=encode(code_item(code, legacy_code_key(user.user_id)))
    )
    second.accounts.confirm_user(user.user_id)
    assert _raw(first, legacy_code_key(user.user_id)) is None
    assert _raw(first, code_key(user.email)) is None
    assert store_peek.get_verification_code(first, user.user_id) is None


def _raw(store: Stores, key: dict[str, str]):
    return store.admin.client.get_item(
        TableName=store.admin.table, Key=encode(key), ConsistentRead=True
    ).get("Item")


def test_a_rate_limit_key_is_one_item(stores):
    first, second = stores
    admitted, used = calls(first, lambda: first.rate_limits.hit("login:ada", BASE, 60, 2))
    assert admitted.admitted and used == Counter(PutItem=1)  # a new key: one write
    again, used = calls(second, lambda: second.rate_limits.hit("login:ada", at(minutes=0.5), 60, 2))
    assert again.admitted and used == Counter(PutItem=2)  # the first returns the item
    refused, used = calls(
        first, lambda: first.rate_limits.hit("login:ada", at(minutes=0.75), 60, 2)
    )
    assert refused.retry_after == 15 and used == Counter(PutItem=1)  # nothing written
    # the first left
    assert first.rate_limits.hit("login:ada", at(minutes=1), 60, 2).admitted
    item = first.admin.client.get_item(
        TableName=first.admin.table, Key=encode({"PK": "RATE#login:ada", "SK": "RATE"})
    )["Item"]
    second_of = int(BASE.timestamp())
    assert item["hits"] == {"L": [{"N": str(second_of + 30)}, {"N": str(second_of + 60)}]}
    _, used = calls(second, lambda: second.rate_limits.clear("login:ada"))
    assert used == Counter(DeleteItem=1)
    assert first.rate_limits.hit("login:ada", at(minutes=1), 60, 1).admitted


def test_racing_attempts_on_one_rate_limit_key_admit_no_more_than_the_limit(stores):
    first, second = stores
    with ThreadPoolExecutor(8) as pool:
        answers = list(
            pool.map(
                lambda i: (first, second)[i % 2].rate_limits.hit("race", BASE, 60, 5).admitted,
                range(16),
            )
        )
    assert answers.count(True) == 5
    item = first.admin.client.get_item(
        TableName=first.admin.table, Key=encode({"PK": "RATE#race", "SK": "RATE"})
    )["Item"]
    assert len(item["hits"]["L"]) == 5


# -- bookings -------------------------------------------------------------------------------
def _transition(store, booking_id, from_status, to_status, slot_status, now=BASE):
    return store.bookings.transition_booking(
        booking_id,
        frozenset({from_status}),
        to_status,
        slot_status,
        now,
        None,
        make_notification(),
        True,
    )


def test_a_transition_starts_from_the_booking_just_read(stores):
    first, _ = stores
    _, slots = publish(first, "tutor", at(days=1))
    booking = request(first, slots[0])
    first.bookings.get_booking(booking.booking_id)
    done, used = calls(
        first,
        lambda: _transition(
            first,
            booking.booking_id,
            BookingStatus.PENDING,
            BookingStatus.ACCEPTED,
            SlotStatus.BOOKED,
        ),
    )
    assert done.booking_status == BookingStatus.ACCEPTED
    assert used == Counter(TransactWriteItems=1)
    assert first.admin.check_consistency() == []


def test_a_transition_from_a_stale_read_decides_on_the_current_booking(stores):
    first, second = stores
    _, slots = publish(first, "tutor", at(days=1), hours=2)
    booking = request(first, slots[0])
    twin = request(first, slots[1])

    # read as pending here, accepted by another process: rejecting it is refused
    first.bookings.get_booking(booking.booking_id)
    _transition(
        second, booking.booking_id, BookingStatus.PENDING, BookingStatus.ACCEPTED, SlotStatus.BOOKED
    )
    refused = _transition(
        first,
        booking.booking_id,
        BookingStatus.PENDING,
        BookingStatus.REJECTED,
        SlotStatus.AVAILABLE,
    )
    assert refused is None
    assert first.bookings.get_booking(booking.booking_id).booking_status == BookingStatus.ACCEPTED

    # read as pending here, accepted by another process: cancelling the accepted one works
    # (a stale read never answers "not in that state" by itself)
    first.bookings.get_booking(twin.booking_id)
    _transition(
        second, twin.booking_id, BookingStatus.PENDING, BookingStatus.ACCEPTED, SlotStatus.BOOKED
    )
    cancelled, used = calls(
        first,
        lambda: _transition(
            first,
            twin.booking_id,
            BookingStatus.ACCEPTED,
            BookingStatus.CANCELLED,
            SlotStatus.AVAILABLE,
        ),
    )
    assert cancelled.booking_status == BookingStatus.CANCELLED
    assert used == Counter(GetItem=1, TransactWriteItems=1)
    assert store_peek.get_slot(first, slots[1].slot_id).slot_status == SlotStatus.AVAILABLE
    assert first.admin.check_consistency() == []


def test_a_replayed_key_needs_one_read(stores):
    first, _ = stores
    _, slots = publish(first, "tutor", at(days=1), hours=2)
    booking = request(first, slots[0], key="k-1")
    again, used = calls(first, lambda: request(first, slots[1], key="k-1"))
    assert again.booking_id == booking.booking_id and again.slot_id == slots[0].slot_id
    assert used == Counter(TransactWriteItems=1, GetItem=1)


# -- windows --------------------------------------------------------------------------------
def test_deleting_a_window_whose_slots_were_never_booked(stores):
    first, _ = stores
    window, slots = publish(first, "tutor", at(days=1), hours=3)
    first.slots.get_availability(window.availability_id)
    _, used = calls(first, lambda: first.slots.delete_availability(window.availability_id))
    assert used == Counter(TransactWriteItems=1)
    assert first.slots.get_availability(window.availability_id) is None
    assert all(store_peek.get_slot(first, s.slot_id) is None for s in slots)
    assert first.slots.slots_for_tutor("tutor", BASE, at(days=2), None) == []


def test_deleting_a_window_with_booking_history_reads_its_slots(stores):
    first, second = stores
    window, slots = publish(first, "tutor", at(days=1), hours=3)
    booking = request(first, slots[0])
    first.slots.get_availability(window.availability_id)
    with pytest.raises(Conflict):  # a slot is pending
        first.slots.delete_availability(window.availability_id)
    assert (
        store_peek.get_slot(first, slots[1].slot_id).slot_status == SlotStatus.AVAILABLE
    )  # all or nothing

    _transition(
        second,
        booking.booking_id,
        BookingStatus.PENDING,
        BookingStatus.CANCELLED,
        SlotStatus.AVAILABLE,
    )
    first.slots.get_availability(window.availability_id)
    _, used = calls(first, lambda: first.slots.delete_availability(window.availability_id))
    assert used == Counter(TransactWriteItems=2, BatchGetItem=1)  # the first one assumed wrong
    assert (
        store_peek.get_slot(first, slots[0].slot_id).slot_status == SlotStatus.EXPIRED
    )  # keeps its history
    assert [store_peek.get_slot(first, s.slot_id) for s in slots[1:]] == [None, None]
    assert first.admin.check_consistency() == []


def _refusal(store: Stores, availability_id: str) -> Conflict:
    with pytest.raises(Conflict) as caught:
        store.slots.delete_availability(availability_id)
    return caught.value


def test_refusing_to_delete_a_window_in_use_reads_no_slot(stores):
    first, second = stores
    window, slots = publish(first, "tutor", at(days=1), hours=3)
    booking = request(second, slots[1])
    _transition(
        second, booking.booking_id, BookingStatus.PENDING, BookingStatus.ACCEPTED, SlotStatus.BOOKED
    )
    request(second, slots[2])  # and one pending
    first.slots.get_availability(window.availability_id)
    refused, used = calls(first, lambda: _refusal(first, window.availability_id))
    assert refused.code == "availability_in_use"
    assert used == Counter(TransactWriteItems=1)  # the slots came with the cancellation
    refused, used = calls(first, lambda: _refusal(first, window.availability_id))
    assert refused.code == "availability_in_use"
    assert used == Counter(GetItem=1, TransactWriteItems=1)  # the window read again
    assert store_peek.get_slot(first, slots[0].slot_id).slot_status == SlotStatus.AVAILABLE
    assert first.slots.get_availability(window.availability_id) is not None
    assert first.admin.check_consistency() == []


def test_deleting_a_window_another_process_deleted(stores):
    first, second = stores
    window, _ = publish(first, "tutor", at(days=1))
    first.slots.get_availability(window.availability_id)
    second.slots.delete_availability(window.availability_id)
    with pytest.raises(NotFound):
        first.slots.delete_availability(window.availability_id)


def test_profiles_are_not_remembered(stores):
    """Profiles change without a version in the caller's hands: every read is a read."""
    first, second = stores
    profile = make_profile(role=Role.TUTOR, skills=["Go"])
    first.profiles.save_profile(profile)
    first.profiles.get_profile(profile.user_id)
    second.profiles.set_profile_image(profile.user_id, "img/1.png")
    assert first.profiles.get_profile(profile.user_id).image_key == "img/1.png"


def test_a_create_starts_from_the_lock_read_with_the_profile(stores):
    first, _ = stores
    tutor = make_profile(role=Role.TUTOR)
    first.profiles.save_profile(tutor)
    found, used = calls(first, lambda: first.slots.get_profile_for_availability(tutor.user_id))
    assert found == tutor and used == Counter(BatchGetItem=1)
    windows = [
        make_window(tutor.user_id, at(days=1, hours=h), at(days=1, hours=h + 1))
        for h in (9, 12, 15)
    ]
    _, used = calls(
        first,
        lambda: first.slots.create_availability(
            [w for w, _ in windows], [s for _, slots in windows for s in slots]
        ),
    )
    assert used == Counter(Query=1, TransactWriteItems=1)  # one overlap Query for three windows
    assert len(first.slots.slots_for_tutor(tutor.user_id, BASE, at(days=2), None)) == 3


def test_a_create_whose_lock_changed_after_it_was_read_checks_again(stores):
    """The lock was read with the profile; another process creates an overlapping window after
    this one's overlap check: the transaction's lock condition fails, the next try sees it."""
    first, second = stores
    tutor = make_profile(role=Role.TUTOR)
    first.profiles.save_profile(tutor)
    first.slots.get_profile_for_availability(tutor.user_id)
    mine, my_slots = make_window(tutor.user_id, at(days=1, hours=9), at(days=1, hours=11))
    theirs, their_slots = make_window(tutor.user_id, at(days=1, hours=10), at(days=1, hours=12))
    sent: list[int] = []

    def other_process_first(**_):
        if not sent:
            sent.append(1)
            second.slots.create_availability([theirs], their_slots)

    first.admin.client.meta.events.register(
        "before-send.dynamodb.TransactWriteItems", other_process_first
    )
    with pytest.raises(Conflict) as caught:
        first.slots.create_availability([mine], my_slots)
    assert caught.value.code == "availability_overlap"
    assert caught.value.details == {"availability_id": theirs.availability_id}
    assert first.slots.get_availability(mine.availability_id) is None
    assert first.admin.check_consistency() == []


def test_one_overlap_query_finds_a_clash_among_many_windows_between_new_ones(stores):
    first, _ = stores
    for day in range(1, 8):  # 7 windows, 09:00-10:00 each day
        publish(first, "tutor", at(days=day, hours=9))
    ok = [make_window("tutor", at(days=d, hours=12), at(days=d, hours=13)) for d in (1, 7)]
    clash = make_window("tutor", at(days=4, hours=8), at(days=4, hours=10))
    windows = [ok[0], clash, ok[1]]
    with pytest.raises(Conflict) as caught:
        first.slots.create_availability(
            [w for w, _ in windows], [s for _, ss in windows for s in ss]
        )
    existing = first.slots.slots_for_tutor("tutor", at(days=4), at(days=4, hours=23), None)
    assert caught.value.details == {"availability_id": existing[0].availability_id}
    # without the clash: written, however many existing windows lie between the new ones
    _, used = calls(
        first,
        lambda: first.slots.create_availability(
            [w for w, _ in ok], [s for _, ss in ok for s in ss]
        ),
    )
    assert used["TransactWriteItems"] == 1 and used["Query"] >= 1
    assert len(first.slots.slots_for_tutor("tutor", BASE, at(days=8), None)) == 9
