"""The Store contract, part 1: accounts, rate limits, profiles and search, the outbox,
subscriptions, and the bulk path. Every test runs on every adapter (see conftest.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from factories import (
    BASE,
    at,
    make_code,
    make_notification,
    make_profile,
    make_subscription,
    make_user,
    make_window,
    publish,
    request,
)

import store_peek
from skillsession.domain.errors import Conflict, NotFound
from skillsession.domain.model import (
    AccountStatus,
    DeliveryOutcome,
    Role,
    SlotStatus,
    SubscriptionStatus,
)
from skillsession.domain.skills import skill_key
from skillsession.ports.storage import Stores


def new_user(store: Stores, email: str | None = None):
    user = make_user(email)
    note = make_notification(user.user_id, "verification_code", payload={"code": "123456"})
    store.accounts.create_user(user, make_code(user.user_id), note)
    return user, note


def test_backend_has_a_name(store: Stores):
    assert isinstance(store.backend_name, str) and store.backend_name


def test_migrate_twice_is_harmless(store: Stores):
    user, _ = new_user(store)
    store.admin.migrate()
    assert store_peek.get_user(store, user.user_id) == user


# -- accounts -------------------------------------------------------------------------------
def test_create_user_stores_user_code_and_notification(store: Stores):
    user, note = new_user(store, "ada@example.org")
    assert store_peek.get_user(store, user.user_id) == user
    assert store.accounts.get_user_by_email("ada@example.org") == user
    assert store_peek.get_verification_code(store, user.user_id) == make_code(user.user_id)
    assert store_peek.get_notification(store, note.notification_id) == note


def test_unknown_users_are_none(store: Stores):
    assert store_peek.get_user(store, "nobody") is None
    assert store.accounts.get_user_by_email("nobody@example.org") is None
    assert store_peek.get_verification_code(store, "nobody") is None


def test_duplicate_email_is_a_conflict_and_writes_nothing(store: Stores):
    new_user(store, "ada@example.org")
    twin = make_user("ada@example.org")
    note = make_notification(twin.user_id, "verification_code")
    with pytest.raises(Conflict) as caught:
        store.accounts.create_user(twin, make_code(twin.user_id), note)
    assert caught.value.code == "email_taken"
    assert store_peek.get_user(store, twin.user_id) is None
    assert store_peek.get_verification_code(store, twin.user_id) is None
    assert store_peek.get_notification(store, note.notification_id) is None


def test_replace_verification_code_replaces_and_queues_mail(store: Stores):
    user, _ = new_user(store)
    assert store.accounts.record_code_failure(user.user_id) == 1
    fresh = make_code(user.user_id, "hash-2")
    note = make_notification(user.user_id, "verification_code")
    store.accounts.replace_verification_code(fresh, note)
    assert (
        store_peek.get_verification_code(store, user.user_id) == fresh
    )  # failures reset with the code
    assert store_peek.get_notification(store, note.notification_id) is not None


def test_code_failures_count_up_and_are_zero_without_code(store: Stores):
    user, _ = new_user(store)
    assert [store.accounts.record_code_failure(user.user_id) for _ in range(3)] == [1, 2, 3]
    assert store_peek.get_verification_code(store, user.user_id).failed_attempts == 3
    assert store.accounts.record_code_failure("nobody") == 0


def test_confirm_user_marks_confirmed_and_deletes_code(store: Stores):
    user, _ = new_user(store)
    store.accounts.confirm_user(user.user_id)
    assert store_peek.get_user(store, user.user_id).status == AccountStatus.CONFIRMED
    assert store_peek.get_verification_code(store, user.user_id) is None
    assert store.accounts.record_code_failure(user.user_id) == 0


def test_user_and_code_by_email_follow_the_code(store: Stores):
    user, _ = new_user(store, "ada@example.org")
    assert store.accounts.get_user_and_code_by_email("ada@example.org") == (
        user,
        make_code(user.user_id),
    )
    store.accounts.record_code_failure(user.user_id)
    fresh = make_code(user.user_id, "hash-2")
    store.accounts.replace_verification_code(fresh, make_notification(user.user_id))
    assert store.accounts.record_code_failure(user.user_id) == 1
    assert store.accounts.get_user_and_code_by_email("ada@example.org") == (
        user,
        replace(fresh, failed_attempts=1),
    )
    store.accounts.confirm_user(user.user_id)
    confirmed = replace(user, status=AccountStatus.CONFIRMED)
    assert store.accounts.get_user_and_code_by_email("ada@example.org") == (confirmed, None)
    assert store.accounts.get_user_and_code_by_email("nobody@example.org") == (None, None)


# -- rate limits ----------------------------------------------------------------------------
def _admitted(store: Stores, key: str, when, window: int = 3600, limit: int = 3) -> int:
    """0 if the attempt was admitted, else the seconds it was told to wait."""
    return store.rate_limits.hit(key, when, window, limit).retry_after


def test_rate_limit_admits_the_limit_within_a_window(store: Stores):
    assert [_admitted(store, "login:ada", at(minutes=m)) for m in (0, 10, 59)] == [0, 0, 0]
    assert _admitted(store, "login:ada", at(minutes=59.5)) == 30  # the first leaves
    assert _admitted(store, "login:ada", at(minutes=60)) == 0  # ... and it has left
    assert _admitted(store, "login:ada", at(minutes=61)) == 9 * 60  # 10, 59, 60 in the window


def test_rate_limit_window_slides_across_any_boundary(store: Stores):
    # the attempts just before an aligned minute and just after it are in one window
    boundary = BASE - timedelta(seconds=BASE.timestamp() % 60) + timedelta(minutes=1)
    for _ in range(5):
        assert _admitted(store, "k", boundary - timedelta(seconds=1), 60, 5) == 0
    assert _admitted(store, "k", boundary, 60, 5) == 59
    assert _admitted(store, "k", boundary + timedelta(seconds=58), 60, 5) == 1
    assert _admitted(store, "k", boundary + timedelta(seconds=59), 60, 5) == 0
    # the refused attempts were not counted: only the one just admitted is in the window now
    later = boundary + timedelta(seconds=100)
    assert [_admitted(store, "k", later, 60, 5) for _ in range(5)] == [0, 0, 0, 0, 19]


def test_rate_limit_keys_are_independent_and_clearable(store: Stores):
    assert _admitted(store, "a", BASE, 60, 2) == 0
    assert _admitted(store, "a", BASE, 60, 2) == 0
    assert _admitted(store, "a", BASE, 60, 2) == 60
    assert _admitted(store, "b", BASE, 60, 2) == 0
    store.rate_limits.clear("a")
    assert _admitted(store, "a", BASE, 60, 2) == 0


# -- profiles -------------------------------------------------------------------------------
def test_profile_round_trip_and_lookups(store: Stores):
    tutor = make_profile(skills=["Python", "Linear Algebra"])
    student = make_profile(role=Role.STUDENT)
    store.profiles.save_profile(tutor)
    store.profiles.save_profile(student)
    assert store.profiles.get_profile(tutor.user_id) == tutor
    assert store.profiles.get_profile(student.user_id) == student
    assert store.profiles.get_profile_by_email(tutor.email) == tutor
    assert store.profiles.get_profile("nobody") is None
    assert store.profiles.get_profile_by_email("nobody@example.org") is None
    found = store.profiles.get_profiles([tutor.user_id, "nobody", student.user_id])
    assert found == {tutor.user_id: tutor, student.user_id: student}
    assert store.profiles.get_profiles([]) == {}


def test_profile_reads_for_availability_and_booking(store: Stores):
    tutor = make_profile(skills=["Python"])
    student = make_profile(role=Role.STUDENT)
    store.profiles.save_profile(tutor)
    store.profiles.save_profile(student)
    assert store.slots.get_profile_for_availability(tutor.user_id) == tutor
    assert store.slots.get_profile_for_availability("nobody") is None
    _, slots = publish(store, tutor.user_id, at(days=1))
    assert store.bookings.get_profile_and_slot(student.user_id, slots[0].slot_id) == (
        student,
        slots[0],
    )
    assert store.bookings.get_profile_and_slot("nobody", slots[0].slot_id) == (None, slots[0])
    assert store.bookings.get_profile_and_slot(student.user_id, "missing") == (student, None)
    # a slot's reader sees its state
    request(store, slots[0], student.user_id)
    _, taken = store.bookings.get_profile_and_slot(student.user_id, slots[0].slot_id)
    assert taken.slot_status == SlotStatus.PENDING


def test_save_profile_replaces_fields(store: Stores):
    profile = make_profile(skills=["Python"])
    store.profiles.save_profile(profile)
    changed = replace(profile, first_name="Grace", mobile_number=None, updated_at=at(hours=1))
    store.profiles.save_profile(changed)
    assert store.profiles.get_profile(profile.user_id) == changed


def test_profile_image_is_set_and_previous_returned(store: Stores):
    profile = make_profile()
    store.profiles.save_profile(profile)
    assert store.profiles.set_profile_image(profile.user_id, "img/1.png") is None
    assert store.profiles.set_profile_image(profile.user_id, "img/2.png") == "img/1.png"
    assert store.profiles.get_profile(profile.user_id).image_key == "img/2.png"
    # saving the profile (from a copy read before the image changed) keeps the image
    store.profiles.save_profile(replace(profile, first_name="Grace"))
    assert store.profiles.get_profile(profile.user_id).image_key == "img/2.png"
    assert store.profiles.set_profile_image(profile.user_id, None) == "img/2.png"
    assert store.profiles.get_profile(profile.user_id).image_key is None


def test_profile_image_of_unknown_profile_is_not_found(store: Stores):
    with pytest.raises(NotFound):
        store.profiles.set_profile_image("nobody", "img/1.png")


# -- tutor search ---------------------------------------------------------------------------
def search(store: Stores, *skills: str, between=None, limit: int = 50, after=None) -> list[str]:
    keys = [skill_key(s) for s in skills]
    return [p.user_id for p in store.profiles.search_tutors(keys, between, limit, after)]


def test_search_matches_skill_keys_case_and_space_insensitively(store: Stores):
    tutor = make_profile(skills=["  Linear   ALGEBRA ", "Python"])
    store.profiles.save_profile(tutor)
    assert search(store, "linear algebra") == [tutor.user_id]
    assert search(store, "Linear Algebra", "PYTHON") == [tutor.user_id]
    assert search(store, "linear") == []
    found = store.profiles.search_tutors([skill_key("python")], None, 10, None)
    assert found == [tutor]


def test_search_requires_every_skill(store: Stores):
    both = make_profile(skills=["Python", "Calculus"])
    python_only = make_profile(skills=["Python"])
    store.profiles.save_profile(both)
    store.profiles.save_profile(python_only)
    assert search(store, "python") == sorted([both.user_id, python_only.user_id])
    assert search(store, "python", "calculus") == [both.user_id]
    assert search(store, "calculus", "python") == [both.user_id]
    assert search(store, "python", "chemistry") == []


def test_search_follows_skill_changes(store: Stores):
    tutor = make_profile(skills=["Python", "Calculus"])
    store.profiles.save_profile(tutor)
    store.profiles.save_profile(replace(tutor, teaching_skills=["Calculus", "Chemistry"]))
    assert search(store, "python") == []
    assert search(store, "chemistry", "calculus") == [tutor.user_id]
    store.profiles.save_profile(replace(tutor, teaching_skills=[]))
    assert search(store, "calculus") == []


def test_search_pages_by_user_id(store: Stores):
    ids = sorted(make_profile(user_id=f"tutor-{i:02d}", skills=["Go"]).user_id for i in range(7))
    for user_id in reversed(ids):
        store.profiles.save_profile(make_profile(user_id=user_id, skills=["Go"]))
    store.profiles.save_profile(make_profile(skills=["Rust"]))
    assert search(store, "go", limit=3) == ids[:3]
    assert search(store, "go", limit=3, after=ids[2]) == ids[3:6]
    assert search(store, "go", limit=3, after=ids[5]) == ids[6:]
    assert search(store, "go", limit=3, after=ids[6]) == []
    assert search(store, "go", after="tutor-03x") == ids[4:]


def test_search_with_availability_range(store: Stores):
    early, late, none = (make_profile(skills=["Go"]) for _ in range(3))
    for profile in (early, late, none):
        store.profiles.save_profile(profile)
    publish(store, early.user_id, at(days=1), hours=2)
    _, late_slots = publish(store, late.user_id, at(days=5), hours=1)
    between = (at(days=1), at(days=2))
    assert search(store, "go", between=between) == [early.user_id]
    assert search(store, "go", between=(at(days=1, hours=1), at(days=6))) == sorted(
        [early.user_id, late.user_id]
    )
    # the range is half-open on slot start: a slot starting at the end does not count
    assert search(store, "go", between=(at(days=2), at(days=5))) == []
    assert search(store, "go", between=(at(days=5), at(days=5, minutes=1))) == [late.user_id]
    # only *available* slots count
    request(store, late_slots[0])
    assert search(store, "go", between=(at(days=5), at(days=6))) == []
    assert search(store, "go") == sorted([early.user_id, late.user_id, none.user_id])


# -- outbox ---------------------------------------------------------------------------------
def test_add_and_get_notification(store: Stores):
    note = make_notification(payload={"booking_id": "b1", "reason": "sick", "n": [1, 2]})
    store_peek.add_notifications(store, [note])
    assert store_peek.get_notification(store, note.notification_id) == note
    assert store_peek.get_notification(store, "missing") is None
    store_peek.add_notifications(store, [])


def test_claim_takes_due_pending_in_due_order_and_leases(store: Stores):
    later = make_notification(due=at(minutes=-1))
    first = make_notification(due=at(minutes=-5))
    future = make_notification(due=at(minutes=5))
    store_peek.add_notifications(store, [later, first, future])
    claimed = store.outbox.claim_notifications(BASE, 10, 120)
    assert [n.notification_id for n in claimed] == [first.notification_id, later.notification_id]
    assert all(n.attempts == 1 and n.next_attempt_at == at(minutes=2) for n in claimed)
    stored = store_peek.get_notification(store, first.notification_id)
    assert (stored.attempts, stored.next_attempt_at) == (1, at(minutes=2))
    # leased: not claimable again until the lease runs out
    assert store.outbox.claim_notifications(BASE, 10, 120) == []
    again = store.outbox.claim_notifications(at(minutes=2), 10, 120)
    assert {n.notification_id for n in again} == {first.notification_id, later.notification_id}
    assert all(n.attempts == 2 for n in again)


def test_claim_respects_limit_and_never_hands_out_a_row_twice(store: Stores):
    notes = [make_notification(due=at(minutes=m)) for m in range(-10, 0)]
    store_peek.add_notifications(store, notes)
    a = store.outbox.claim_notifications(BASE, 4, 60)
    b = store.outbox.claim_notifications(BASE, 4, 60)
    c = store.outbox.claim_notifications(BASE, 4, 60)
    assert (len(a), len(b), len(c)) == (4, 4, 2)
    ids = [n.notification_id for n in a + b + c]
    assert sorted(ids) == sorted(n.notification_id for n in notes)


def test_finish_notifications_outcomes(store: Stores):
    sent, retry, failed, skipped = (make_notification() for _ in range(4))
    store_peek.add_notifications(store, [sent, retry, failed, skipped])
    assert len(store.outbox.claim_notifications(BASE, 10, 60)) == 4
    store.outbox.finish_notifications(
        [
            DeliveryOutcome(sent.notification_id, "sent"),
            DeliveryOutcome(retry.notification_id, "pending", at(minutes=10), "451 try later"),
            DeliveryOutcome(failed.notification_id, "failed", None, "550 no such user"),
        ]
    )
    store.outbox.finish_notifications([DeliveryOutcome(skipped.notification_id, "skipped")])
    store.outbox.finish_notifications([DeliveryOutcome("no-such-notification", "sent")])  # ignored
    store.outbox.finish_notifications([])
    assert store_peek.get_notification(store, sent.notification_id).status == "sent"
    stored = store_peek.get_notification(store, retry.notification_id)
    assert (stored.status, stored.next_attempt_at, stored.last_error) == (
        "pending",
        at(minutes=10),
        "451 try later",
    )
    assert (
        store_peek.get_notification(store, failed.notification_id).last_error == "550 no such user"
    )
    assert store_peek.get_notification(store, skipped.notification_id).status == "skipped"
    # finished ones are never claimed again; the retry comes back when due
    assert store.outbox.claim_notifications(at(minutes=9), 10, 60) == []
    back = store.outbox.claim_notifications(at(minutes=10), 10, 60)
    assert [(n.notification_id, n.attempts) for n in back] == [(retry.notification_id, 2)]


def test_finished_verification_code_mail_forgets_the_code(store: Stores):
    user, note = new_user(store)
    store.outbox.claim_notifications(BASE, 10, 60)
    store.outbox.finish_notifications([DeliveryOutcome(note.notification_id, "sent")])
    assert store_peek.get_notification(store, note.notification_id).payload == {}


def test_outbox_summary_counts_due_waiting_and_failed(store: Stores):
    empty = store.outbox.outbox_summary(BASE, 5)
    assert (empty.due, empty.waiting, empty.failed, empty.recent_failures) == (0, 0, 0, [])
    due = [make_notification(due=at(minutes=-m)) for m in (1, 2)]
    later = make_notification(due=at(minutes=5))
    failing = [make_notification(due=at(minutes=-9)) for _ in range(3)]
    sent = make_notification(due=at(minutes=-9))
    store_peek.add_notifications(store, [*due, later, *failing, sent])
    assert len(store.outbox.claim_notifications(at(minutes=-8), 10, 60)) == 4  # failing + sent
    store.outbox.finish_notifications(
        [
            DeliveryOutcome(n.notification_id, "failed", None, f"550 no {i}")
            for i, n in enumerate(failing)
        ]
        + [DeliveryOutcome(sent.notification_id, "sent")]
    )
    summary = store.outbox.outbox_summary(BASE, 2)
    assert (summary.due, summary.waiting, summary.failed) == (2, 1, 3)
    newest = sorted(failing, key=lambda n: n.notification_id, reverse=True)[:2]
    assert [n.notification_id for n in summary.recent_failures] == [
        n.notification_id for n in newest
    ]
    assert all(n.status == "failed" and n.last_error for n in summary.recent_failures)
    # a claim leases the due ones: they wait (under the lease) until it runs out
    store.outbox.claim_notifications(BASE, 10, 60)
    leased = store.outbox.outbox_summary(BASE, 0)
    assert (leased.due, leased.waiting, leased.failed, leased.recent_failures) == (0, 3, 3, [])


def test_notification_without_times_is_due_at_once(store: Stores):
    note = make_notification()
    note.created_at = note.next_attempt_at = None
    store_peek.add_notifications(store, [note])
    stored = store_peek.get_notification(store, note.notification_id)
    assert stored.created_at is not None and stored.next_attempt_at is not None
    assert [n.notification_id for n in store.outbox.claim_notifications(at(days=3650), 5, 60)] == [
        note.notification_id
    ]


# -- subscriptions --------------------------------------------------------------------------
def test_subscription_save_lookup_and_status(store: Stores):
    sub = make_subscription("user-1", "token-1")
    note = make_notification("user-1", "subscription_confirmation")
    store.outbox.save_subscription(sub, note)
    assert store.outbox.get_subscription("user-1") == sub
    assert store.outbox.get_subscription_by_token("token-1") == sub
    assert store_peek.get_notification(store, note.notification_id) is not None
    assert store.outbox.get_subscription("nobody") is None
    assert store.outbox.get_subscription_by_token("nope") is None


def test_confirm_takes_the_current_confirm_token_only(store: Stores):
    sub = make_subscription("user-1", "token-1")
    store.outbox.save_subscription(sub, None)
    assert store.outbox.confirm_subscription("user-1", "token-1") is None  # the unsubscribe token
    assert store.outbox.confirm_subscription("user-1", "user-1.other") is None
    assert store.outbox.confirm_subscription("nobody", sub.confirm_token) is None
    assert store.outbox.get_subscription("user-1").status == SubscriptionStatus.PENDING_CONFIRMATION
    confirmed = store.outbox.confirm_subscription("user-1", sub.confirm_token)
    assert confirmed == replace(sub, status=SubscriptionStatus.CONFIRMED)
    assert (
        store.outbox.confirm_subscription("user-1", sub.confirm_token) == confirmed
    )  # twice: same
    assert store.outbox.get_subscription_by_token("token-1") == confirmed


def test_an_ended_subscription_cannot_be_confirmed_by_an_old_link(store: Stores):
    sub = make_subscription("user-1", "token-1")
    store.outbox.save_subscription(sub, None)
    store.outbox.confirm_subscription("user-1", sub.confirm_token)
    ended = store.outbox.end_subscription("user-1")
    assert ended == replace(sub, status=SubscriptionStatus.UNSUBSCRIBED, confirm_token=None)
    assert store.outbox.get_subscription("user-1") == ended
    assert store.outbox.confirm_subscription("user-1", sub.confirm_token) is None
    assert store.outbox.get_subscription("user-1").status == SubscriptionStatus.UNSUBSCRIBED
    assert store.outbox.end_subscription("nobody") is None
    # subscribing again makes a new confirmation link; the old one still confirms nothing
    again = replace(
        ended, status=SubscriptionStatus.PENDING_CONFIRMATION, confirm_token="user-1.new"
    )
    store.outbox.save_subscription(again, None)
    assert store.outbox.confirm_subscription("user-1", sub.confirm_token) is None
    assert (
        store.outbox.confirm_subscription("user-1", "user-1.new").status
        == SubscriptionStatus.CONFIRMED
    )


def test_the_mailers_ref_is_stored_with_the_subscription(store: Stores):
    """`provider_ref` (SNS: the subscription ARN) is saved, read by user and by token, kept by
    confirm and end, and replaced with the record; `keep_subscription_ref` sets it only on a
    subscription of that e-mail that has none yet."""
    arn = "arn:aws:sns:eu-west-1:123456789012:t:0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    sub = replace(make_subscription("user-1", "token-1"), provider_ref=arn)
    store.outbox.save_subscription(sub, None)
    assert store.outbox.get_subscription("user-1") == sub
    assert store.outbox.get_subscription_by_token("token-1").provider_ref == arn
    assert store.outbox.confirm_subscription("user-1", sub.confirm_token).provider_ref == arn
    assert store.outbox.end_subscription("user-1").provider_ref == arn
    store.outbox.keep_subscription_ref("user-1", sub.email, "arn:other")  # has one: unchanged
    assert store.outbox.get_subscription("user-1").provider_ref == arn

    old = make_subscription("user-2", "token-2")  # stored before refs were kept
    store.outbox.save_subscription(old, None)
    assert store.outbox.get_subscription("user-2").provider_ref is None
    store.outbox.keep_subscription_ref("user-2", "someone-else@example.org", arn)
    store.outbox.keep_subscription_ref("nobody", "nobody@example.org", arn)
    assert store.outbox.get_subscription("user-2").provider_ref is None
    assert store.outbox.get_subscription("nobody") is None
    store.outbox.keep_subscription_ref("user-2", old.email, arn)
    assert store.outbox.get_subscription("user-2") == replace(old, provider_ref=arn)
    store.outbox.save_subscription(old, None)  # replaced: the ref goes with the record
    assert store.outbox.get_subscription("user-2").provider_ref is None


def test_subscription_is_replaced_with_a_new_token(store: Stores):
    store.outbox.save_subscription(make_subscription("user-1", "token-1"), None)
    fresh = replace(make_subscription("user-1", "token-2"), status=SubscriptionStatus.UNSUBSCRIBED)
    store.outbox.save_subscription(fresh, None)
    assert store.outbox.get_subscription("user-1") == fresh
    assert store.outbox.get_subscription_by_token("token-1") is None
    assert store.outbox.get_subscription_by_token("token-2") == fresh


# -- bulk path and consistency check --------------------------------------------------------
def test_bulk_insert_is_readable_through_every_access_pattern(store: Stores):
    users = [make_user() for _ in range(3)]
    profiles = [make_profile(u.user_id, skills=["Piano", "Music Theory"]) for u in users]
    windows, slots = [], []
    for i, user in enumerate(users):
        window, window_slots = make_window(user.user_id, at(days=i + 1), at(days=i + 1, hours=3))
        windows.append(window)
        slots += window_slots
    store.admin.bulk_insert(users, profiles, windows, slots)
    assert store.accounts.get_user_by_email(users[1].email) == users[1]
    assert store.profiles.get_profile(users[2].user_id) == profiles[2]
    assert search(store, "music theory", "piano") == sorted(u.user_id for u in users)
    assert store.slots.get_availability(windows[0].availability_id) == windows[0]
    tutor_slots = store.slots.slots_for_tutor(users[0].user_id, BASE, at(days=30), None)
    assert tutor_slots == slots[:3]
    booking = request(store, slots[4])
    assert store.bookings.get_booking(booking.booking_id) == booking
    assert store.admin.check_consistency() == []


def test_bulk_insert_rejects_duplicates_as_a_whole(store: Stores):
    user = make_user()
    store.admin.bulk_insert([user], [], [], [])
    other = make_user()
    with pytest.raises(Conflict):
        store.admin.bulk_insert([other, make_user(user.email)], [], [], [])
    assert store_peek.get_user(store, other.user_id) is None


def test_consistency_check_is_empty_for_a_busy_store(store: Stores):
    tutor = make_profile(skills=["Go"])
    store.profiles.save_profile(tutor)
    _, slots = publish(store, tutor.user_id, at(hours=1), hours=4)
    request(store, slots[0])
    request(store, slots[1])
    assert store.admin.check_consistency() == []
    assert store_peek.get_slot(store, slots[0].slot_id).slot_status == SlotStatus.PENDING
