"""CognitoAccounts' account lifecycle against moto's Cognito in server mode: a reset confirms an
unconfirmed account, with the code that proves its mailbox only; the expiry job's part deletes
the accounts unconfirmed for 7 days, selected by ListUsers' filter, a bounded number a run.

moto lacks ResendConfirmationCode, checks no sign-up code and mails reset codes to unconfirmed
users; tests/aws/moto_cognito_codes.py teaches its server Cognito's behaviour there (and
`signup_code` reads the mailbox). The Cognito faults moto never answers come from botocore's
Stubber on a real client."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from cognito_pool import idp, new_pool, signup_code
from moto_server import REGION

from skillsession.adapters.auth.cognito_accounts import CognitoAccounts
from skillsession.domain.errors import BadRequest, Forbidden, Unauthorized

PASSWORD = "the squatter's password"
NEW_PASSWORD = "staple battery horse"


def _email() -> str:
    return f"u-{uuid.uuid4().hex[:10]}@example.com"


def _user(pool, email: str) -> dict:
    return idp().admin_get_user(UserPoolId=pool["pool_id"], Username=email)


class Calls:
    """The Cognito operations a client sent, with their parameters (botocore's
    before-parameter-build events)."""

    def __init__(self, client):
        self.made: list[tuple[str, dict]] = []
        client.meta.events.register("before-parameter-build.cognito-idp.*", self._record)

    def _record(self, params, model, **_):
        self.made.append((model.name, dict(params)))

    def names(self) -> list[str]:
        return [name for name, _ in self.made]


@pytest.fixture
def pool():
    return new_pool()


@pytest.fixture
def client():
    return idp()


@pytest.fixture
def accounts(pool, client):
    return CognitoAccounts(REGION, pool["pool_id"], pool["client_id"], client=client)


# -- a reset confirms an unconfirmed account --------------------------------------------------
def test_forgot_password_re_mails_the_sign_up_code_of_an_unconfirmed_account(pool, accounts):
    email = _email()
    accounts.signup(email, PASSWORD)
    assert signup_code(pool, email) is None
    accounts.forgot_password(email)
    assert signup_code(pool, email) is not None


def test_reset_with_the_mailed_code_confirms_and_sets_the_password(pool, accounts, client):
    """The squatting case: a stranger signed up with the owner's e-mail and never confirmed;
    the owner, reading the mailbox, resets the password and owns the account."""
    email = _email()
    user_id = accounts.signup(email, PASSWORD)
    accounts.forgot_password(email)
    calls = Calls(client)
    accounts.reset_password(email, signup_code(pool, email), NEW_PASSWORD)
    assert calls.names() == [
        "AdminGetUser",
        "ConfirmSignUp",
        "AdminSetUserPassword",
        "AdminUserGlobalSignOut",
    ]
    assert calls.made[2][1]["Permanent"] is True
    assert _user(pool, email)["UserStatus"] == "CONFIRMED"
    token, _ = accounts.login(email, NEW_PASSWORD)
    assert token
    with pytest.raises(Unauthorized):
        accounts.login(email, PASSWORD)
    assert _user(pool, email)["Username"] == user_id


def test_a_wrong_code_neither_confirms_nor_sets_the_password(pool, accounts, client):
    email = _email()
    accounts.signup(email, PASSWORD)
    accounts.forgot_password(email)
    wrong = f"{(int(signup_code(pool, email)) + 1) % 1_000_000:06d}"
    calls = Calls(client)
    with pytest.raises(BadRequest) as err:
        accounts.reset_password(email, wrong, NEW_PASSWORD)
    assert err.value.code == "invalid_code"
    assert "AdminSetUserPassword" not in calls.names()
    assert _user(pool, email)["UserStatus"] == "UNCONFIRMED"
    with pytest.raises(Unauthorized):
        accounts.login(email, NEW_PASSWORD)
    with pytest.raises(Forbidden):  # the sign-up password, still unconfirmed
        accounts.login(email, PASSWORD)


def test_a_confirmed_account_gets_a_reset_code_as_before(pool, accounts, client):
    email = _email()
    accounts.signup(email, PASSWORD)
    accounts.confirm(email, "123456")
    calls = Calls(client)
    accounts.forgot_password(email)
    assert calls.names() == ["AdminGetUser", "ForgotPassword"]
    assert signup_code(pool, email) is None


def test_forgot_and_reset_for_an_unknown_email(accounts, client):
    calls = Calls(client)
    accounts.forgot_password(_email())  # quiet: nothing to mail, nothing to say
    assert calls.names() == ["AdminGetUser"]
    with pytest.raises(BadRequest) as err:
        accounts.reset_password(_email(), "123456", NEW_PASSWORD)
    assert err.value.code == "invalid_code"


# -- unconfirmed accounts deleted after 7 days ------------------------------------------------
def _created(pool, email: str):
    return _user(pool, email)["UserCreateDate"]


def _exists(pool, email: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        _user(pool, email)
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "UserNotFoundException"
        return False
    return True


def test_only_unconfirmed_accounts_older_than_the_cutoff_are_deleted(pool, accounts, client):
    confirmed = [_email() for _ in range(3)]
    for email in confirmed:
        accounts.signup(email, PASSWORD)
        accounts.confirm(email, "123456")
    old = [_email() for _ in range(5)]
    for email in old:
        accounts.signup(email, PASSWORD)
    young = _email()
    accounts.signup(young, PASSWORD)
    last_old, first_young = _created(pool, old[-1]), _created(pool, young)
    assert last_old < first_young
    cutoff = last_old + (first_young - last_old) / 2

    accounts.list_page = 2
    calls = Calls(client)
    assert accounts.delete_unconfirmed(cutoff, limit=100) == 5
    listed = [params for name, params in calls.made if name == "ListUsers"]
    # the filter selects: 6 unconfirmed accounts are 3 pages, whatever the confirmed ones
    assert len(listed) == 3
    assert {p["Filter"] for p in listed} == {'cognito:user_status = "UNCONFIRMED"'}
    assert [_exists(pool, e) for e in old] == [False] * 5
    assert _exists(pool, young)
    assert all(_exists(pool, e) for e in confirmed)
    assert accounts.delete_unconfirmed(cutoff, limit=100) == 0


def test_a_run_is_bounded_and_the_next_one_goes_on(pool, accounts, client):
    old = [_email() for _ in range(5)]
    for email in old:
        accounts.signup(email, PASSWORD)
    cutoff = _created(pool, old[-1]) + timedelta(seconds=1)
    accounts.list_page = 2
    calls = Calls(client)
    runs = []
    for _ in range(3):
        before = len(calls.names())
        runs.append(accounts.delete_unconfirmed(cutoff, limit=2))
        assert calls.names()[before:].count("ListUsers") == 1  # one page a run
    assert runs == [2, 2, 1]
    assert not any(_exists(pool, e) for e in old)


def test_runs_go_on_where_the_last_one_stopped(pool, accounts, client):
    """Young unconfirmed accounts at the top of the list do not hide the ones after them:
    each run lists the next page, and the listing starts over after its end."""
    emails = [_email() for _ in range(5)]
    for email in emails:
        accounts.signup(email, PASSWORD)
    before_all = _created(pool, emails[0]) - timedelta(seconds=1)  # none is old enough
    seen: list[set[str]] = []
    client.meta.events.register(
        "after-call.cognito-idp.ListUsers",
        lambda parsed, **_: seen.append({u["Username"] for u in parsed.get("Users", [])}),
    )
    accounts.list_page = 2
    for _ in range(4):
        assert accounts.delete_unconfirmed(before_all, limit=2) == 0
    ids = {_user(pool, e)["Username"] for e in emails}
    assert [len(page) for page in seen] == [2, 2, 1, 2]
    assert set().union(*seen[:3]) == ids
    assert seen[3] == seen[0]


def test_an_account_confirmed_after_its_page_was_listed_stays(pool, accounts, client):
    email = _email()
    accounts.signup(email, PASSWORD)
    cutoff = _created(pool, email) + timedelta(seconds=1)

    def confirm_meanwhile(**_):  # the owner confirms between ListUsers and the deletion
        idp().admin_confirm_sign_up(UserPoolId=pool["pool_id"], Username=email)

    client.meta.events.register_first("before-call.cognito-idp.AdminGetUser", confirm_meanwhile)
    assert accounts.delete_unconfirmed(cutoff, limit=100) == 0
    assert _user(pool, email)["UserStatus"] == "CONFIRMED"


def test_a_cognito_failure_is_logged_and_ends_the_run_quietly(caplog):
    from botocore.stub import Stubber

    client = idp()
    stubber = Stubber(client)
    cutoff = datetime.now(UTC)
    old = cutoff - timedelta(days=8)
    page = {
        "Users": [
            {"Username": "sub-1", "UserStatus": "UNCONFIRMED", "UserCreateDate": old},
            {"Username": "sub-2", "UserStatus": "UNCONFIRMED", "UserCreateDate": old},
        ],
        "PaginationToken": "next",
    }
    stubber.add_response("list_users", page)
    stubber.add_client_error("admin_get_user", "TooManyRequestsException", "Rate exceeded")
    stubber.activate()
    accounts = CognitoAccounts(REGION, f"{REGION}_x", "c", client=client)
    with caplog.at_level(logging.WARNING):
        assert accounts.delete_unconfirmed(cutoff, limit=100) == 0
    assert "TooManyRequestsException" in caplog.text
    stubber.assert_no_pending_responses()
    assert accounts._unconfirmed_cursor is None  # the next run starts from the top

    closed = CognitoAccounts(REGION, f"{REGION}_x", "c", endpoint_url="http://127.0.0.1:9")
    assert closed.delete_unconfirmed(cutoff, limit=100) == 0
