"""CognitoAccounts (the AWS shape's /auth/* use cases) against moto's Cognito in server mode.

moto checks no sign-up confirmation code (ConfirmSignUp accepts any), has no
ResendConfirmationCode, checks reset codes only of its own form (tests/aws/cognito_pool.py), and
answers ConfirmForgotPassword for an unknown e-mail with ResourceNotFoundException (Cognito:
UserNotFoundException, or CodeMismatchException when the pool hides which users exist);
the Cognito errors it never answers (CodeMismatch, throttling, an unknown error) come from
botocore's Stubber on a real client, which parses them as it parses AWS's."""

from __future__ import annotations

import uuid

import pytest
from cognito_pool import idp, new_pool, reset_code
from moto_server import REGION

from skillsession.adapters.auth.cognito import CognitoVerifier
from skillsession.adapters.auth.cognito_accounts import RETRY_AFTER_SECONDS, CognitoAccounts
from skillsession.domain.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    RateLimited,
    Unauthorized,
    Unavailable,
    ValidationFailed,
)

PASSWORD = "correct horse battery"
NEW_PASSWORD = "staple battery horse"


@pytest.fixture(scope="module")
def pool():
    return new_pool()


@pytest.fixture
def accounts(pool):
    return CognitoAccounts.from_url(pool["url"])


def _email() -> str:
    return f"u-{uuid.uuid4().hex[:10]}@example.com"


def _confirmed(accounts, email: str, password: str = PASSWORD) -> str:
    user_id = accounts.signup(email, password)
    accounts.confirm(email, "123456")
    return user_id


def _cognito_accepts(token: str) -> bool:
    """Cognito's own view of an access token (GetUser refuses a revoked one)."""
    from botocore.exceptions import ClientError

    try:
        idp().get_user(AccessToken=token)
    except ClientError as exc:  # NotAuthorized (revoked), UserNotFound (deleted)
        assert exc.response["Error"]["Code"] in ("NotAuthorizedException", "UserNotFoundException")
        return False
    return True


def test_signup_confirm_login_and_the_token_verifies(pool, accounts):
    email = _email()
    user_id = accounts.signup(email, PASSWORD)
    with pytest.raises(Forbidden) as err:
        accounts.login(email, PASSWORD)
    assert err.value.code == "account_unconfirmed"
    accounts.confirm(email, "123456")
    accounts.confirm(email, "123456")  # confirming again is no error
    token, expires_in = accounts.login(email, PASSWORD)
    assert expires_in > 0
    identity = CognitoVerifier.from_url(pool["url"]).verify(token)
    assert (identity.user_id, identity.email) == (user_id, email)


def test_wrong_password_and_unknown_email_are_the_same_401(accounts):
    email = _email()
    _confirmed(accounts, email)
    for who, password in ((email, "wrong password!"), (_email(), PASSWORD)):
        with pytest.raises(Unauthorized) as err:
            accounts.login(who, password)
        assert (err.value.code, err.value.details) == ("invalid_credentials", {})


def test_a_confirmed_email_is_taken(accounts):
    email = _email()
    _confirmed(accounts, email)
    with pytest.raises(Conflict) as err:
        accounts.signup(email, NEW_PASSWORD)
    assert err.value.code == "email_taken"
    accounts.login(email, PASSWORD)


def test_signup_for_an_unconfirmed_email_replaces_the_squatter(accounts):
    email = _email()
    squatter = accounts.signup(email, "the squatter's password")
    owner = accounts.signup(email, PASSWORD)
    assert owner != squatter
    accounts.confirm(email, "123456")  # the code mailed to the owner's box
    accounts.login(email, PASSWORD)
    with pytest.raises(Unauthorized):
        accounts.login(email, "the squatter's password")


def test_confirm_for_an_unknown_email_is_invalid_code(accounts):
    with pytest.raises(BadRequest) as err:
        accounts.confirm(_email(), "123456")
    assert err.value.code == "invalid_code"


def test_weak_password_by_the_pool_policy_is_422(accounts):
    with pytest.raises(ValidationFailed) as err:
        accounts.signup(_email(), "short")
    assert err.value.code == "weak_password"


def test_resend_and_forgot_never_tell_whether_the_account_exists(accounts):
    email = _email()
    accounts.signup(email, PASSWORD)
    for who in (email, _email()):
        accounts.resend_code(who)  # moto has no ResendConfirmationCode: quiet all the same
        accounts.forgot_password(who)


def test_reset_password_sets_it_and_revokes_the_tokens(pool, accounts):
    email = _email()
    _confirmed(accounts, email)
    token, _ = accounts.login(email, PASSWORD)
    with pytest.raises(BadRequest) as err:  # moto: a wrong code of its form is "expired"
        accounts.reset_password(email, "moto-confirmation-code:000000", NEW_PASSWORD)
    assert err.value.code == "code_expired"
    assert _cognito_accepts(token)
    accounts.reset_password(email, reset_code(pool, email), NEW_PASSWORD)
    assert not _cognito_accepts(token)
    with pytest.raises(Unauthorized):
        accounts.login(email, PASSWORD)
    accounts.login(email, NEW_PASSWORD)


def test_change_password_checks_the_current_one_and_revokes_the_tokens(accounts):
    email = _email()
    user_id = _confirmed(accounts, email)
    token, _ = accounts.login(email, PASSWORD)
    with pytest.raises(Unauthorized) as err:
        accounts.change_password(user_id, "not the password", NEW_PASSWORD)
    assert err.value.code == "invalid_credentials"
    assert _cognito_accepts(token)
    accounts.change_password(user_id, PASSWORD, NEW_PASSWORD)
    assert not _cognito_accepts(token)
    with pytest.raises(Unauthorized):
        accounts.login(email, PASSWORD)
    accounts.login(email, NEW_PASSWORD)


def test_delete_user_revokes_and_frees_the_email(accounts):
    email = _email()
    user_id = _confirmed(accounts, email)
    token, _ = accounts.login(email, PASSWORD)
    accounts.delete_user(user_id)
    assert not _cognito_accepts(token)
    with pytest.raises(Unauthorized):
        accounts.login(email, PASSWORD)
    accounts.delete_user(user_id)  # gone already: nothing to do
    assert accounts.signup(email, NEW_PASSWORD) != user_id


def test_no_cognito_answer_is_503():
    closed = CognitoAccounts(REGION, f"{REGION}_x", "c", endpoint_url="http://127.0.0.1:9")
    with pytest.raises(Unavailable):
        closed.login(_email(), PASSWORD)


def _stubbed(operation: str, code: str):
    from botocore.stub import Stubber

    client = idp()
    stubber = Stubber(client)
    if operation == "confirm_forgot_password":  # reset_password reads the account's status first
        stubber.add_response("admin_get_user", {"Username": "sub-1", "UserStatus": "CONFIRMED"})
    stubber.add_client_error(operation, service_error_code=code, service_message="no")
    stubber.activate()
    return CognitoAccounts(REGION, f"{REGION}_x", "c", client=client)


@pytest.mark.parametrize(
    ("operation", "code", "error", "api_code"),
    [
        ("confirm_sign_up", "CodeMismatchException", BadRequest, "invalid_code"),
        ("confirm_sign_up", "ExpiredCodeException", BadRequest, "code_expired"),
        ("confirm_sign_up", "NotAuthorizedException", BadRequest, "invalid_code"),
        ("initiate_auth", "TooManyRequestsException", RateLimited, "rate_limited"),
        ("initiate_auth", "LimitExceededException", RateLimited, "rate_limited"),
        ("initiate_auth", "PasswordResetRequiredException", Forbidden, "password_reset_required"),
        ("initiate_auth", "InternalErrorException", Unavailable, "unavailable"),
        ("confirm_forgot_password", "CodeMismatchException", BadRequest, "invalid_code"),
        ("confirm_forgot_password", "UserNotFoundException", BadRequest, "invalid_code"),
        ("sign_up", "InvalidPasswordException", ValidationFailed, "weak_password"),
    ],
)
def test_cognito_errors_become_the_api_errors(operation, code, error, api_code):
    accounts = _stubbed(operation, code)
    call = {
        "confirm_sign_up": lambda: accounts.confirm("a@example.com", "123456"),
        "initiate_auth": lambda: accounts.login("a@example.com", PASSWORD),
        "sign_up": lambda: accounts.signup("a@example.com", PASSWORD),
        "confirm_forgot_password": lambda: accounts.reset_password(
            "a@example.com", "123456", PASSWORD
        ),
    }[operation]
    with pytest.raises(error) as err:
        call()
    assert err.value.code == api_code
    if error is RateLimited:
        assert err.value.retry_after == RETRY_AFTER_SECONDS


def test_throttled_forgot_password_is_still_quiet():
    _stubbed("forgot_password", "LimitExceededException").forgot_password("a@example.com")
