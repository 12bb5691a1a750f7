"""/auth/* abuse limits by client address: a stranger's failures lock out only the stranger; every
call and every code e-mail is limited per address (API.md, "Accounts")."""

from __future__ import annotations

import pytest

import store_peek
from skillsession.domain.errors import RateLimited, Unauthorized
from skillsession.service import accounts

PASSWORD = "correct horse battery"
OWNER, STRANGER = "192.0.2.1", "198.51.100.66"


@pytest.fixture
def owner(deps):
    user = accounts.signup(deps, "owner@example.test", PASSWORD, OWNER)
    deps.stores.accounts.confirm_user(user.user_id)
    return user


def test_a_strangers_failures_do_not_lock_the_owner_out(deps, owner):
    for _ in range(deps.settings.login_max_failures):
        with pytest.raises(Unauthorized):
            accounts.login(deps, owner.email, "not the password", STRANGER)
    with pytest.raises(RateLimited):  # the stranger is locked out ...
        accounts.login(deps, owner.email, PASSWORD, STRANGER)
    token, _ = accounts.login(deps, owner.email, PASSWORD, OWNER)  # ... the owner is not
    assert token


def test_every_auth_call_is_limited_per_address(deps, owner):
    deps.settings.auth_calls_per_address = 4
    accounts.login(deps, owner.email, PASSWORD, STRANGER)
    accounts.confirm(deps, owner.email, "000000", STRANGER)  # confirmed already: a 200
    accounts.resend_code(deps, "someone@example.test", STRANGER)
    with pytest.raises(Unauthorized):
        accounts.login(deps, owner.email, "wrong password", STRANGER)
    for call in (
        lambda: accounts.login(deps, owner.email, PASSWORD, STRANGER),
        lambda: accounts.confirm(deps, owner.email, "000000", STRANGER),
        lambda: accounts.resend_code(deps, "someone@example.test", STRANGER),
        lambda: accounts.signup(deps, "new@example.test", PASSWORD, STRANGER),
    ):
        with pytest.raises(RateLimited) as refused:
            call()
        assert 1 <= refused.value.retry_after <= deps.settings.auth_window_seconds
    assert accounts.login(deps, owner.email, PASSWORD, OWNER)  # another address: untouched


def test_sign_ups_are_limited_per_address_before_any_hash(deps, monkeypatch):
    deps.settings.signups_per_address = 2
    accounts.signup(deps, "a@example.test", PASSWORD, STRANGER)
    accounts.signup(deps, "b@example.test", PASSWORD, STRANGER)
    hashed = []
    monkeypatch.setattr(deps.passwords, "hash", lambda p: hashed.append(p) or "x")
    with pytest.raises(RateLimited):
        accounts.signup(deps, "c@example.test", PASSWORD, STRANGER)
    assert hashed == []  # refused before the 64 MiB hash
    mailed = [n.payload["email"] for n in store_peek.notifications(deps.stores)]
    assert sorted(mailed) == ["a@example.test", "b@example.test"]
    accounts.signup(deps, "c@example.test", PASSWORD, OWNER)  # another address may


def test_the_per_address_count_is_bounded_in_memory():
    from datetime import UTC, datetime

    from skillsession.service.address_limits import AddressLimits

    limits = AddressLimits(max_addresses=3)
    now = datetime(2030, 1, 1, tzinfo=UTC)
    for address in ("a", "b", "c", "a", "d"):  # "b" is the least recently seen when "d" comes
        assert limits.hit(address, now, 60, 2).admitted
    assert list(limits._hits) == ["c", "a", "d"]
    assert not limits.hit("a", now, 60, 2).admitted  # "a" kept both of its calls
