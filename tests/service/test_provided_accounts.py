"""The /auth/* use cases handed to an AccountProvider (the AWS shape's Cognito): the service's
own limits still come first, and a refused call never reaches the provider. A recording fake
stands in for the provider (CognitoAccounts itself: tests/aws/test_aws_cognito_accounts.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from skillsession.domain.errors import Forbidden, RateLimited, Unauthorized, ValidationFailed
from skillsession.ports import Identity
from skillsession.service import accounts, expiry


class RecordingProvider:
    def __init__(self):
        self.calls: list[tuple] = []
        self.password = "correct horse battery"

    def signup(self, email, password):
        self.calls.append(("signup", email))
        return "sub-1"

    def confirm(self, email, code):
        self.calls.append(("confirm", email, code))

    def login(self, email, password):
        self.calls.append(("login", email))
        if password != self.password:
            raise Unauthorized("wrong e-mail or password", code="invalid_credentials")
        return "cognito-token", 3600

    def resend_code(self, email):
        self.calls.append(("resend_code", email))

    def forgot_password(self, email):
        self.calls.append(("forgot_password", email))

    def reset_password(self, email, code, new_password):
        self.calls.append(("reset_password", email, code))
        return "sub-1"

    def change_password(self, user_id, current, new):
        self.calls.append(("change_password", user_id))
        if current != self.password:
            raise Unauthorized("wrong e-mail or password", code="invalid_credentials")
        self.password = new
        return "ada@example.com"

    def delete_user(self, user_id):
        self.calls.append(("delete_user", user_id))

    def delete_unconfirmed(self, created_before, limit):
        self.calls.append(("delete_unconfirmed", created_before, limit))
        return 3


@pytest.fixture
def provided(deps):
    provider = RecordingProvider()
    return replace(deps, issuer=None, passwords=None, accounts=provider), provider


def test_the_calls_reach_the_provider_with_normalised_emails(provided):
    deps, provider = provided
    user = accounts.signup(deps, " Ada@Example.COM", "correct horse battery", "192.0.2.1")
    assert (user.user_id, user.email, user.status.value) == (
        "sub-1",
        "ada@example.com",
        "unconfirmed",
    )
    accounts.confirm(deps, "ADA@example.com", " 123456 ", "192.0.2.1")
    assert accounts.login(deps, "ada@example.com", "correct horse battery", "192.0.2.1") == (
        "cognito-token",
        3600,
    )
    accounts.resend_code(deps, "ada@example.com", "192.0.2.1")
    assert [c[0] for c in provider.calls] == ["signup", "confirm", "login", "resend_code"]
    assert provider.calls[1] == ("confirm", "ada@example.com", "123456")


def test_a_short_password_is_refused_before_the_provider(provided):
    deps, provider = provided
    with pytest.raises(ValidationFailed):
        accounts.signup(deps, "ada@example.com", "short", "192.0.2.1")
    assert provider.calls == []


def test_signups_per_address_are_limited_before_the_provider(provided):
    deps, provider = provided
    deps.settings.signups_per_address = 2
    for n in range(2):
        accounts.signup(deps, f"u{n}@example.com", "correct horse battery", "192.0.2.1")
    with pytest.raises(RateLimited):
        accounts.signup(deps, "u3@example.com", "correct horse battery", "192.0.2.1")
    assert len(provider.calls) == 2
    accounts.signup(deps, "u3@example.com", "correct horse battery", "192.0.2.2")


def test_failed_logins_count_per_email_and_address(provided):
    deps, provider = provided
    limit = deps.settings.login_max_failures
    for _ in range(limit):
        with pytest.raises(Unauthorized):
            accounts.login(deps, "ada@example.com", "wrong password!!", "192.0.2.66")
    with pytest.raises(RateLimited):
        accounts.login(deps, "ada@example.com", "correct horse battery", "192.0.2.66")
    assert len(provider.calls) == limit
    assert accounts.login(deps, "ada@example.com", "correct horse battery", "192.0.2.1")


# -- revocation: the floor in the store's `revocations` role --------------------------------
def test_reset_and_change_store_the_floor_and_change_answers_a_fresh_login(provided):
    deps, provider = provided
    me = Identity(user_id="sub-1", email="")
    assert deps.stores.revocations.token_floor("sub-1") == (True, None)
    accounts.reset_password(deps, "ada@example.com", "123456", "correct horse battery", "192.0.2.1")
    exists, first = deps.stores.revocations.token_floor("sub-1")
    assert exists and first is not None
    with pytest.raises(Forbidden) as wrong:  # a wrong current password stores nothing
        accounts.change_password(deps, me, "not the password", "staple battery horse", None)
    assert wrong.value.code == "wrong_password"  # as embedded: 403, the token is good
    assert deps.stores.revocations.token_floor("sub-1") == (True, first)
    answer = accounts.change_password(
        deps, me, "correct horse battery", "staple battery horse", "192.0.2.1"
    )
    assert answer == ("cognito-token", 3600)
    assert provider.calls[-2:] == [("change_password", "sub-1"), ("login", "ada@example.com")]
    assert deps.stores.revocations.token_floor("sub-1")[1] >= first


def test_the_expiry_job_has_the_provider_delete_week_old_unconfirmed_accounts(provided, clock):
    deps, provider = provided
    assert expiry.expire_slots(deps).accounts_deleted == 3
    (name, created_before, limit), *_ = provider.calls
    assert (name, created_before) == ("delete_unconfirmed", clock.now() - timedelta(days=7))
    assert 0 < limit <= 1000  # a bounded run
