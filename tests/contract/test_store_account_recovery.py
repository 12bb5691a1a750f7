"""The Store contract for issue 14's account rules: a sign-up again for an unconfirmed account
(anti-squatting), a password set by reset or change (with the token floor), and the 7-day
deletion of unconfirmed accounts. Every test runs on every adapter (see conftest.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from factories import BASE, at, make_code, make_notification, make_user

import store_peek
from skillsession.domain.errors import BadRequest, Conflict, NotFound
from skillsession.domain.model import AccountStatus
from skillsession.ports.storage import Stores


def new_user(store: Stores, email: str | None = None, created_minutes: int = 0):
    user = replace(make_user(email), created_at=at(minutes=created_minutes))
    note = make_notification(user.user_id, "verification_code", payload={"code": "123456"})
    store.accounts.create_user(user, make_code(user.user_id), note)
    return user


def test_get_user_reads_the_account_and_none_for_unknown(store: Stores):
    user = new_user(store)
    assert store.accounts.get_user(user.user_id) == user
    assert store.accounts.get_user("nobody") is None


def test_replace_unconfirmed_user_sets_password_code_and_mail_at_once(store: Stores):
    user = new_user(store, "ann@example.org")
    again = replace(user, password_hash="owner-hash", created_at=at(minutes=5))
    code = make_code(user.user_id, "hash-2")
    note = make_notification(user.user_id, "verification_code", payload={"code": "654321"})
    store.accounts.replace_unconfirmed_user(again, code, note)
    assert store.accounts.get_user(user.user_id) == again
    assert store.accounts.get_user_by_email("ann@example.org") == again
    assert store_peek.get_verification_code(store, user.user_id) == code
    assert store_peek.get_notification(store, note.notification_id) == note


def test_replace_unconfirmed_user_refuses_a_confirmed_account_and_writes_nothing(store: Stores):
    user = new_user(store, "ann@example.org")
    store.accounts.confirm_user(user.user_id)
    confirmed = replace(user, status=AccountStatus.CONFIRMED)
    note = make_notification(user.user_id, "verification_code")
    with pytest.raises(Conflict) as caught:
        store.accounts.replace_unconfirmed_user(
            replace(user, password_hash="stranger"), make_code(user.user_id, "x"), note
        )
    assert caught.value.code == "email_taken"
    assert store.accounts.get_user(user.user_id) == confirmed
    assert store.accounts.get_user_by_email("ann@example.org") == confirmed
    assert store_peek.get_verification_code(store, user.user_id) is None
    assert store_peek.get_notification(store, note.notification_id) is None


def test_replace_unconfirmed_user_refuses_a_gone_account(store: Stores):
    ghost = make_user("ghost@example.org")
    with pytest.raises(Conflict):
        store.accounts.replace_unconfirmed_user(
            ghost, make_code(ghost.user_id), make_notification(ghost.user_id)
        )
    assert store.accounts.get_user(ghost.user_id) is None


def test_set_password_confirms_drops_the_code_and_keeps_the_floor(store: Stores):
    user = new_user(store, "ann@example.org")
    floor = BASE + timedelta(seconds=90, microseconds=123456)
    store.accounts.set_password(user.user_id, "new-hash", floor)
    expected = replace(
        user, password_hash="new-hash", status=AccountStatus.CONFIRMED, tokens_valid_after=floor
    )
    assert store.accounts.get_user(user.user_id) == expected  # to the microsecond
    assert store.accounts.get_user_by_email("ann@example.org") == expected
    assert store_peek.get_verification_code(store, user.user_id) is None


def test_set_password_with_a_code_uses_it_once(store: Stores):
    user = new_user(store, "ann@example.org")  # its code: make_code's "hash-1"
    with pytest.raises(BadRequest) as wrong:
        store.accounts.set_password(user.user_id, "stranger-hash", at(minutes=1), "hash-2")
    assert wrong.value.code == "invalid_code"
    assert store.accounts.get_user(user.user_id) == user  # nothing written
    assert store_peek.get_verification_code(store, user.user_id) == make_code(user.user_id)
    store.accounts.set_password(user.user_id, "owner-hash", at(minutes=2), "hash-1")
    with pytest.raises(BadRequest):  # the same code again
        store.accounts.set_password(user.user_id, "second-hash", at(minutes=3), "hash-1")
    found = store.accounts.get_user(user.user_id)
    assert (found.password_hash, found.tokens_valid_after) == ("owner-hash", at(minutes=2))


def test_set_password_for_a_gone_account_is_not_found(store: Stores):
    for code_hash in (None, "hash-1"):
        with pytest.raises(NotFound):
            store.accounts.set_password("nobody", "hash", BASE, code_hash)
    assert store.accounts.get_user("nobody") is None


def test_delete_unconfirmed_users_deletes_only_old_unconfirmed_ones_in_batches(store: Stores):
    old = [new_user(store, f"old{i}@example.org", created_minutes=i) for i in range(3)]
    young = new_user(store, "young@example.org", created_minutes=60)
    confirmed = new_user(store, "kept@example.org")
    store.accounts.confirm_user(confirmed.user_id)
    cutoff = at(minutes=30)
    assert store.accounts.delete_unconfirmed_users(cutoff, 2) == 2
    assert store.accounts.delete_unconfirmed_users(cutoff, 2) == 1
    assert store.accounts.delete_unconfirmed_users(cutoff, 2) == 0
    for user in old:
        assert store.accounts.get_user(user.user_id) is None
        assert store.accounts.get_user_by_email(user.email) is None
        assert store_peek.get_verification_code(store, user.user_id) is None
    assert store.accounts.get_user(young.user_id) == young
    assert store.accounts.get_user(confirmed.user_id).status == AccountStatus.CONFIRMED
    # the e-mail is free again
    new_user(store, "old0@example.org")


def test_a_sign_up_again_restarts_the_seven_days(store: Stores):
    user = new_user(store, "ann@example.org", created_minutes=0)
    again = replace(user, password_hash="h2", created_at=at(minutes=60))
    note = make_notification(user.user_id, "verification_code")
    store.accounts.replace_unconfirmed_user(again, make_code(user.user_id, "h2"), note)
    assert store.accounts.delete_unconfirmed_users(at(minutes=30), 10) == 0
    assert store.accounts.get_user(user.user_id) == again
