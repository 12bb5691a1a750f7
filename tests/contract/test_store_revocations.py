"""The Store contract for the token floors of accounts an identity provider keeps
(`TokenFloorStore`, the `revocations` role): every test runs on every adapter (conftest.py)."""

from __future__ import annotations

import threading
from datetime import timedelta

from factories import at, make_code, make_notification, make_user, new_id

from skillsession.ports.storage import Stores


def test_no_floor_record_means_no_floor(store: Stores):
    """Most provider accounts never had a reset or a change: nothing stored, every token good."""
    assert store.revocations.token_floor(new_id("user")) == (True, None)


def test_revoke_stores_the_floor_to_the_microsecond(store: Stores):
    user_id = new_id("user")
    instant = at(minutes=1) + timedelta(microseconds=123_456)
    store.revocations.revoke_tokens(user_id, instant)
    assert store.revocations.token_floor(user_id) == (True, instant)
    assert store.revocations.token_floor(new_id("user")) == (True, None)  # only that user


def test_a_floor_never_goes_back(store: Stores):
    user_id = new_id("user")
    store.revocations.revoke_tokens(user_id, at(minutes=5))
    store.revocations.revoke_tokens(user_id, at(minutes=2))  # a slower process, an older clock
    assert store.revocations.token_floor(user_id) == (True, at(minutes=5))
    store.revocations.revoke_tokens(user_id, at(minutes=9))
    assert store.revocations.token_floor(user_id) == (True, at(minutes=9))


def test_a_deleted_account_is_gone_whatever_its_floor(store: Stores):
    """`delete_account` remembers the id: with no account row (a provider's user) and with one,
    before and after a floor was stored, and a revocation after the deletion keeps it gone."""
    revoked, plain = new_id("user"), new_id("user")
    store.revocations.revoke_tokens(revoked, at(minutes=1))
    embedded = make_user()
    store.accounts.create_user(
        embedded, make_code(embedded.user_id), make_notification(embedded.user_id)
    )
    for user_id in (revoked, plain, embedded.user_id):
        store.accounts.delete_account(user_id)
        assert store.revocations.token_floor(user_id) == (False, None)
    store.revocations.revoke_tokens(revoked, at(minutes=3))
    assert store.revocations.token_floor(revoked) == (False, None)


def test_concurrent_revocations_keep_the_latest(store: Stores):
    user_id = new_id("user")
    instants = [at(minutes=m) for m in range(1, 9)]
    start = threading.Barrier(len(instants))

    def revoke(instant):
        start.wait()
        store.revocations.revoke_tokens(user_id, instant)

    threads = [threading.Thread(target=revoke, args=(i,)) for i in instants]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.revocations.token_floor(user_id) == (True, max(instants))
