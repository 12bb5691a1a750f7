"""Issue 14's account rules in the service layer: sign-up again for an unconfirmed e-mail
(anti-squatting), forgot / reset / change password, token revocation through the token floors,
and the 7-day deletion of unconfirmed accounts (API.md, "Accounts")."""

from __future__ import annotations

import time
from functools import partial

import pytest

import store_peek
from skillsession.adapters.auth.floors import TokenFloors
from skillsession.adapters.auth.local import LocalTokens
from skillsession.domain.errors import BadRequest, Conflict, Forbidden, Unauthorized
from skillsession.domain.model import AccountStatus
from skillsession.ports import Identity
from skillsession.service import accounts, expiry

OWNER_PASSWORD = "the owner's own password"
STRANGER_PASSWORD = "the stranger's password"
NEW_PASSWORD = "a brand new password"
EMAIL = "owner@example.test"


@pytest.fixture
def deps(deps):
    """The service fixture with the token floors wired as bootstrap wires them."""
    tokens = LocalTokens(
        b"k" * 32, floors=TokenFloors(partial(accounts.token_floor, deps.stores.accounts))
    )
    deps.verifier = deps.issuer = tokens
    return deps


def mailed_codes(deps, kind: str = "verification_code") -> list[str]:
    notes = [n for n in store_peek.notifications(deps.stores) if n.kind == kind]
    return [n.payload["code"] for n in sorted(notes, key=lambda n: n.created_at)]


def confirmed_owner(deps):
    user = accounts.signup(deps, EMAIL, OWNER_PASSWORD)
    accounts.confirm(deps, EMAIL, mailed_codes(deps)[-1])
    return user


# -- squatting --------------------------------------------------------------------------------
def test_a_squatters_password_is_replaced_by_the_mailbox_owners_sign_up(deps):
    squatter = accounts.signup(deps, EMAIL, STRANGER_PASSWORD)
    owner = accounts.signup(deps, EMAIL, OWNER_PASSWORD)  # not a 409
    assert owner.user_id == squatter.user_id
    codes = mailed_codes(deps)
    assert len(codes) == 2
    with pytest.raises(BadRequest):  # the first code was replaced
        accounts.confirm(deps, EMAIL, codes[0] if codes[0] != codes[1] else "000000")
    accounts.confirm(deps, EMAIL, codes[1])
    assert accounts.login(deps, EMAIL, OWNER_PASSWORD)
    with pytest.raises(Unauthorized):
        accounts.login(deps, EMAIL, STRANGER_PASSWORD)


def test_a_sign_up_for_a_confirmed_email_is_still_a_conflict(deps):
    confirmed_owner(deps)
    with pytest.raises(Conflict) as taken:
        accounts.signup(deps, EMAIL, STRANGER_PASSWORD)
    assert taken.value.code == "email_taken"
    assert accounts.login(deps, EMAIL, OWNER_PASSWORD)


# -- forgot / reset ---------------------------------------------------------------------------
def test_forgot_then_reset_sets_the_password_and_revokes_earlier_tokens(deps):
    confirmed_owner(deps)
    token, _ = accounts.login(deps, EMAIL, OWNER_PASSWORD)
    assert deps.verifier.verify(token).email == EMAIL
    accounts.forgot_password(deps, EMAIL)
    (code,) = mailed_codes(deps, "password_reset_code")
    accounts.reset_password(deps, EMAIL, code, NEW_PASSWORD)
    with pytest.raises(Unauthorized) as revoked:
        deps.verifier.verify(token)
    assert revoked.value.code == "token_revoked"
    with pytest.raises(Unauthorized):
        accounts.login(deps, EMAIL, OWNER_PASSWORD)
    fresh, _ = accounts.login(deps, EMAIL, NEW_PASSWORD)
    assert deps.verifier.verify(fresh).email == EMAIL  # issued after the reset: valid
    with pytest.raises(BadRequest):  # the code is spent
        accounts.reset_password(deps, EMAIL, code, "yet another password")


def test_forgot_password_for_an_unknown_email_answers_the_same_and_mails_nothing(deps):
    accounts.forgot_password(deps, "nobody@example.test")
    accounts.forgot_password(deps, "not an address")
    assert mailed_codes(deps, "password_reset_code") == []


def test_a_reset_confirms_an_unconfirmed_account(deps):
    user = accounts.signup(deps, EMAIL, STRANGER_PASSWORD)
    accounts.forgot_password(deps, EMAIL)
    (code,) = mailed_codes(deps, "password_reset_code")
    accounts.reset_password(deps, EMAIL, code, OWNER_PASSWORD)
    assert deps.stores.accounts.get_user(user.user_id).status == AccountStatus.CONFIRMED
    assert accounts.login(deps, EMAIL, OWNER_PASSWORD)


def test_a_reset_code_expires_after_an_hour(deps, clock):
    confirmed_owner(deps)
    accounts.forgot_password(deps, EMAIL)
    (code,) = mailed_codes(deps, "password_reset_code")
    clock.advance(minutes=61)
    with pytest.raises(BadRequest) as expired:
        accounts.reset_password(deps, EMAIL, code, NEW_PASSWORD)
    assert expired.value.code == "code_expired"


def test_five_wrong_reset_codes_lock_the_code(deps):
    confirmed_owner(deps)
    accounts.forgot_password(deps, EMAIL)
    (code,) = mailed_codes(deps, "password_reset_code")
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(deps.settings.code_max_failures):
        with pytest.raises(BadRequest):
            accounts.reset_password(deps, EMAIL, wrong, NEW_PASSWORD)
    with pytest.raises(BadRequest) as locked:
        accounts.reset_password(deps, EMAIL, code, NEW_PASSWORD)
    assert locked.value.code == "code_locked"
    assert accounts.login(deps, EMAIL, OWNER_PASSWORD)


# -- change -----------------------------------------------------------------------------------
def test_change_password_needs_the_current_one_and_revokes_earlier_tokens(deps):
    user = confirmed_owner(deps)
    token, _ = accounts.login(deps, EMAIL, OWNER_PASSWORD)
    me = deps.verifier.verify(token)
    with pytest.raises(Forbidden) as wrong:
        accounts.change_password(deps, me, "not my password", NEW_PASSWORD)
    assert wrong.value.code == "wrong_password"
    assert deps.verifier.verify(token) == me  # a failed change revokes nothing
    fresh, expires_in = accounts.change_password(deps, me, OWNER_PASSWORD, NEW_PASSWORD)
    with pytest.raises(Unauthorized):
        deps.verifier.verify(token)
    assert deps.verifier.verify(fresh) == me and expires_in > 0  # issued after the change
    assert accounts.login(deps, EMAIL, NEW_PASSWORD)
    assert deps.stores.accounts.get_user(user.user_id).tokens_valid_after is not None


# -- revocation across processes --------------------------------------------------------------
def test_another_process_refuses_revoked_tokens_within_the_cache_ttl(deps):
    """Two processes over one store: the one that resets refuses at once, the other once its
    cached floor is older than the TTL (a fake monotonic clock stands for the wait)."""
    confirmed_owner(deps)
    token, _ = accounts.login(deps, EMAIL, OWNER_PASSWORD)
    loads = []

    def load(user_id):
        loads.append(user_id)
        return accounts.token_floor(deps.stores.accounts, user_id)

    start, ticks = time.time(), [0.0]

    def clock():
        return start + ticks[0]

    other = LocalTokens(
        b"k" * 32, clock=clock, floors=TokenFloors(load, ttl_seconds=30, clock=clock)
    )
    assert other.verify(token).email == EMAIL
    assert other.verify(token).email == EMAIL
    assert len(loads) == 1  # one store read per user and TTL, not per request
    accounts.forgot_password(deps, EMAIL)
    accounts.reset_password(deps, EMAIL, mailed_codes(deps, "password_reset_code")[0], NEW_PASSWORD)
    with pytest.raises(Unauthorized):
        deps.verifier.verify(token)  # this process: at once
    ticks[0] = 29.0
    assert other.verify(token).email == EMAIL  # the other: still cached
    ticks[0] = 30.5
    with pytest.raises(Unauthorized):
        other.verify(token)
    assert len(loads) == 2


def test_a_token_of_a_user_that_does_not_exist_is_refused(deps):
    token, _ = deps.issuer.issue("no-such-user", "ghost@example.test")
    with pytest.raises(Unauthorized) as refused:
        deps.verifier.verify(token)
    assert refused.value.code == "token_revoked"


def test_a_deleted_users_tokens_are_refused_once_the_issuer_is_told(deps):
    """What DELETE /account relies on: `issuer.account_deleted(user_id)` in the deleting process
    (the others read the account's absence within the TTL)."""
    user = confirmed_owner(deps)
    token, _ = accounts.login(deps, EMAIL, OWNER_PASSWORD)
    assert deps.verifier.verify(token).user_id == user.user_id
    deps.issuer.account_deleted(user.user_id)
    with pytest.raises(Unauthorized):
        deps.verifier.verify(token)


# -- 7-day deletion ---------------------------------------------------------------------------
def test_the_expiry_job_deletes_accounts_unconfirmed_for_seven_days(deps, clock):
    stale = accounts.signup(deps, "stale@example.test", STRANGER_PASSWORD)
    owner = confirmed_owner(deps)
    clock.advance(days=6)
    fresh = accounts.signup(deps, "fresh@example.test", STRANGER_PASSWORD)
    assert expiry.expire_slots(deps).accounts_deleted == 0
    clock.advance(days=1, seconds=1)
    assert expiry.expire_slots(deps).accounts_deleted == 1
    assert deps.stores.accounts.get_user(stale.user_id) is None
    assert deps.stores.accounts.get_user(owner.user_id) is not None
    assert deps.stores.accounts.get_user(fresh.user_id) is not None
    again = accounts.signup(deps, "stale@example.test", OWNER_PASSWORD)  # the e-mail is free
    assert again.user_id != stale.user_id


def test_identity_is_unchanged_by_the_check(deps):
    confirmed_owner(deps)
    token, _ = accounts.login(deps, EMAIL, OWNER_PASSWORD)
    identity = deps.verifier.verify(token)
    assert isinstance(identity, Identity) and identity.email == EMAIL
