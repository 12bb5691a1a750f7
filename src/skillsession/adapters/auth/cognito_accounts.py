"""AccountProvider for Amazon Cognito user pools: each `/auth/*` use case is one or two Cognito
calls, so that the AWS shape speaks the same `/auth/*` as the embedded one.

URL: the verifier's, `cognito://REGION/POOL_ID?client_id=...&endpoint_url=...`. The app client
must allow USER_PASSWORD_AUTH and have no secret (template.yaml's UserPoolClient). The pool
keeps e-mails as its username attribute (`UsernameAttributes: [email]`): sign-up passes the
e-mail as the username, Cognito's generated username is the `sub`, the user id of the tokens.

- Public calls (no IAM permission): SignUp, ConfirmSignUp, ResendConfirmationCode, InitiateAuth,
  ForgotPassword, ConfirmForgotPassword, ChangePassword. Admin calls (the functions' roles, on
  this pool only): AdminGetUser, AdminDeleteUser, AdminUserGlobalSignOut, AdminSetUserPassword
  (the API); ListUsers, AdminGetUser, AdminDeleteUser (the expiry job).
- A reset also confirms an unconfirmed account, as in the embedded shape, but Cognito mails no
  reset code to an address not yet proven: forgot-password mails the sign-up code again
  (ResendConfirmationCode), and reset-password with it runs ConfirmSignUp, then sets the
  password (AdminSetUserPassword, permanent) only once that code proved the mailbox.
- Unconfirmed accounts are deleted 7 days after their (last) sign-up by the expiry job:
  ListUsers filtered on `cognito:user_status`, a bounded number a run (`delete_unconfirmed`).
- A sign-up for an e-mail whose account is unconfirmed replaces that account: AdminDeleteUser,
  then SignUp again (Cognito mails a fresh code). Not AdminSetUserPassword: a permanent password
  set by an administrator confirms the user, which would hand the squatter a confirmed account.
- Change password finds the caller's e-mail (AdminGetUser: behind API Gateway's authorizer an
  access token's claims carry none), checks the current password with InitiateAuth
  (ChangePassword needs an access token; the route's may be an id token), then ChangePassword
  with the fresh access token; it answers the e-mail, and the service logs in with the new
  password for the caller's fresh token. Reset and change end with AdminUserGlobalSignOut
  (Cognito revokes the refresh tokens and the access tokens for its own APIs; the service
  stores the token floor that makes this API refuse them: service/provided_accounts.py).
- Cognito's errors become the API's: `_ERRORS` below; a per-call `UserNotFoundException` is
  what an unknown e-mail means there; anything else (an outage, an error not named) is a 503,
  never a 500.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from skillsession.adapters import aws_clients
from skillsession.domain.accounts import invalid_code
from skillsession.domain.errors import (
    BadRequest,
    Conflict,
    DomainError,
    Forbidden,
    RateLimited,
    Unauthorized,
    Unavailable,
    ValidationFailed,
)

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30  # Cognito's throttling answers say no time; its quotas are per second
UNCONFIRMED = "UNCONFIRMED"  # a UserStatus: signed up, the e-mail not proven yet
PAGE = 60  # ListUsers' largest page


def _created(user: dict[str, Any]) -> datetime:
    """A user's UserCreateDate (botocore parses it to an aware datetime)."""
    created = user.get("UserCreateDate")
    return created if isinstance(created, datetime) else datetime.max.replace(tzinfo=UTC)


def _invalid_credentials(_message: str) -> DomainError:
    return Unauthorized("wrong e-mail or password", code="invalid_credentials")


def _invalid_code(_message: str) -> DomainError:
    return invalid_code()


def _rate_limited(_message: str) -> DomainError:
    return RateLimited("too many attempts, try again later", retry_after=RETRY_AFTER_SECONDS)


# a code-taking call (confirm a sign-up with a code, reset with one): no such user, or a code
# Cognito will not take, is the same 400 as a wrong code (it must not tell who exists)
_CODE_REFUSED = {"UserNotFoundException": _invalid_code, "NotAuthorizedException": _invalid_code}

_ERRORS = {
    "UsernameExistsException": lambda m: Conflict("the e-mail is taken", code="email_taken"),
    "AliasExistsException": lambda m: Conflict("the e-mail is taken", code="email_taken"),
    "CodeMismatchException": _invalid_code,
    "ExpiredCodeException": lambda m: BadRequest(
        "the code has expired; ask for a new one", code="code_expired"
    ),
    "NotAuthorizedException": _invalid_credentials,
    "UserNotFoundException": _invalid_credentials,
    "UserNotConfirmedException": lambda m: Forbidden(
        "confirm your e-mail address first", code="account_unconfirmed"
    ),
    "PasswordResetRequiredException": lambda m: Forbidden(
        "the password must be reset first (POST /auth/forgot-password)",
        code="password_reset_required",
    ),
    "InvalidPasswordException": lambda m: ValidationFailed(
        "the password does not meet the policy", code="weak_password", details={"password": m}
    ),
    "InvalidParameterException": lambda m: ValidationFailed(
        "the identity provider refused a field", details={"message": m}
    ),
    "TooManyRequestsException": _rate_limited,
    "LimitExceededException": _rate_limited,
    "TooManyFailedAttemptsException": _rate_limited,
    "CodeDeliveryFailureException": lambda m: Unavailable("the code could not be mailed"),
}


def _attributes(user: dict[str, Any]) -> dict[str, str]:
    """An AdminGetUser answer's attributes by name."""
    return {a["Name"]: a["Value"] for a in user.get("UserAttributes", [])}


def _cognito_words(exc: DomainError) -> tuple[str, str]:
    """(Cognito's error code, its message) behind a mapped error, else ("", "")."""
    return getattr(exc, "cognito", ("", ""))


class CognitoAccounts:
    def __init__(
        self,
        region: str,
        pool_id: str,
        client_id: str,
        *,
        endpoint_url: str | None = None,
        client: Any = None,
    ):
        if not (region and pool_id and client_id):
            raise ValueError("CognitoAccounts needs a region, a pool id and a client_id")
        self.region = region
        self.pool_id = pool_id
        self.client_id = client_id
        self.endpoint_url = endpoint_url
        self._client = client
        self._unconfirmed_cursor: str | None = None  # where delete_unconfirmed goes on
        self.list_page = PAGE

    @classmethod
    def from_url(cls, url: str) -> CognitoAccounts:
        parts = urlsplit(url)
        if parts.scheme != "cognito" or not parts.netloc or not parts.path.strip("/"):
            raise ValueError(f"not a cognito://REGION/POOL_ID URL: {url}")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        return cls(
            parts.netloc,
            parts.path.strip("/"),
            query.get("client_id", ""),
            endpoint_url=query.get("endpoint_url"),
        )

    # -- AccountProvider --------------------------------------------------------------------
    def signup(self, email: str, password: str) -> str:
        for attempt in (1, 2):
            try:
                answer = self._call(
                    "sign_up",
                    ClientId=self.client_id,
                    Username=email,
                    Password=password,
                    UserAttributes=[{"Name": "email", "Value": email}],
                )
                return str(answer["UserSub"])
            except Conflict:
                if attempt == 2 or not self._delete_if_unconfirmed(email):
                    raise
        raise AssertionError("unreachable")

    def confirm(self, email: str, code: str) -> None:
        try:
            self._call(
                "confirm_sign_up",
                {"UserNotFoundException": _invalid_code},
                ClientId=self.client_id,
                Username=email,
                ConfirmationCode=code,
            )
        except Unauthorized as exc:
            # "User cannot be confirmed. Current status is CONFIRMED": confirming again is a 200
            if "CONFIRMED" not in _cognito_words(exc)[1]:
                raise _invalid_code("") from None

    def login(self, email: str, password: str) -> tuple[str, int]:
        answer = self._call(
            "initiate_auth",
            ClientId=self.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": password},
        )
        result = answer.get("AuthenticationResult")
        if not result:  # NEW_PASSWORD_REQUIRED, MFA, ...: steps this API does not offer
            raise Forbidden(
                "the identity provider asks for a further step",
                code="auth_challenge",
                details={"challenge": str(answer.get("ChallengeName", ""))},
            )
        return str(result["AccessToken"]), int(result.get("ExpiresIn", 3600))

    def resend_code(self, email: str) -> None:
        self._quietly("resend_confirmation_code", ClientId=self.client_id, Username=email)

    def forgot_password(self, email: str) -> None:
        """ForgotPassword; for an unconfirmed account, which Cognito will not send a reset code
        (its address is not verified), ResendConfirmationCode: that sign-up code is what
        `reset_password` then takes."""
        try:
            status = self._status(email)
        except DomainError as exc:  # Cognito down or refusing: try the plain call all the same
            log.info("cognito admin_get_user: %s %s", *_cognito_words(exc))
            status = ""
        if status is None:  # no such account: nothing to mail, nothing to say
            return
        if status == UNCONFIRMED:
            self._quietly("resend_confirmation_code", ClientId=self.client_id, Username=email)
        else:
            self._quietly("forgot_password", ClientId=self.client_id, Username=email)

    def reset_password(self, email: str, code: str, new_password: str) -> str:
        """ConfirmForgotPassword. For an unconfirmed account `code` is its sign-up code (see
        `forgot_password`): ConfirmSignUp with it first, so that the account is confirmed, and
        the password set (AdminSetUserPassword, permanent), only once the code proved the
        mailbox. Either way the account's tokens are then revoked; answers the user id (`sub`),
        which the service stores the token floor under."""
        user = self._user(email)
        if user is None:
            raise _invalid_code("")
        status = str(user.get("UserStatus", ""))
        if status == UNCONFIRMED:
            self._call(
                "confirm_sign_up",
                _CODE_REFUSED,
                ClientId=self.client_id,
                Username=email,
                ConfirmationCode=code,
            )
            self._call(
                "admin_set_user_password",
                UserPoolId=self.pool_id,
                Username=email,
                Password=new_password,
                Permanent=True,
            )
        else:
            self._call(
                "confirm_forgot_password",
                _CODE_REFUSED,
                ClientId=self.client_id,
                Username=email,
                ConfirmationCode=code,
                Password=new_password,
            )
        self._sign_out(email)
        return _attributes(user).get("sub", user["Username"])

    def change_password(self, user_id: str, current: str, new: str) -> str:
        # by e-mail, as the caller logs in (the token's identity may carry no e-mail)
        user = self._call("admin_get_user", UserPoolId=self.pool_id, Username=user_id)
        email = _attributes(user).get("email", user_id)
        token, _ = self.login(email, current)
        self._call(
            "change_password", PreviousPassword=current, ProposedPassword=new, AccessToken=token
        )
        self._sign_out(email)
        return email

    def delete_user(self, user_id: str) -> None:
        for operation in ("admin_user_global_sign_out", "admin_delete_user"):
            try:
                self._call(operation, UserPoolId=self.pool_id, Username=user_id)
            except Unauthorized:  # UserNotFoundException: already gone
                return

    def delete_unconfirmed(self, created_before: datetime, limit: int) -> int:
        """The expiry job's part: delete the accounts still unconfirmed that were created (or
        last signed up: a sign-up replaces an unconfirmed account) before `created_before`;
        returns how many. ListUsers' filter selects the unconfirmed accounts, a page at a time,
        until `limit` of them were seen in this run; the next run goes on where this one
        stopped (the pagination token is kept here), so those beyond `limit` are reached then.
        Each one is read again (AdminGetUser) right before AdminDeleteUser: an account
        confirmed since its page was listed stays. A failure of Cognito is logged and ends the
        run with what was deleted so far (the listing restarts from the top next time)."""
        deleted = seen = 0
        try:
            while seen < limit:
                params: dict[str, Any] = {
                    "UserPoolId": self.pool_id,
                    "Filter": f'cognito:user_status = "{UNCONFIRMED}"',
                    "Limit": self.list_page,  # the same on every page: the token is the query's
                }
                if self._unconfirmed_cursor:
                    params["PaginationToken"] = self._unconfirmed_cursor
                page = self._call("list_users", **params)
                self._unconfirmed_cursor = page.get("PaginationToken")
                users = page.get("Users", [])
                seen += len(users)
                for user in users:
                    if _created(user) < created_before and self._delete_if_unconfirmed(
                        user["Username"], created_before
                    ):
                        deleted += 1
                if not self._unconfirmed_cursor or not users:
                    break  # the end of the list: the next run starts again from the top
        except DomainError as exc:
            self._unconfirmed_cursor = None
            log.warning(
                "cognito: unconfirmed accounts not deleted this run: %s %s %s",
                exc.code,
                *_cognito_words(exc),
            )
        return deleted

    # -- internals --------------------------------------------------------------------------
    def _user(self, username: str) -> dict[str, Any] | None:
        """AdminGetUser's answer, None when there is no such account."""
        try:
            return self._call("admin_get_user", UserPoolId=self.pool_id, Username=username)
        except Unauthorized:  # UserNotFoundException
            return None

    def _status(self, username: str) -> str | None:
        """The account's UserStatus (AdminGetUser), None when there is no such account."""
        user = self._user(username)
        return None if user is None else str(user.get("UserStatus", ""))

    def _sign_out(self, username: str) -> None:
        self._call("admin_user_global_sign_out", UserPoolId=self.pool_id, Username=username)

    def _delete_if_unconfirmed(self, email: str, created_before: datetime | None = None) -> bool:
        """True when `email` now has no account (an unconfirmed one was deleted, or it was gone
        already); False when its account is confirmed (or in another state Cognito keeps), or
        was created at or after `created_before`."""
        try:
            user = self._call("admin_get_user", UserPoolId=self.pool_id, Username=email)
        except Unauthorized:  # UserNotFoundException
            return True
        if user.get("UserStatus") != UNCONFIRMED:
            return False
        if created_before is not None and _created(user) >= created_before:
            return False
        with contextlib.suppress(Unauthorized):  # gone meanwhile
            self._call("admin_delete_user", UserPoolId=self.pool_id, Username=user["Username"])
        return True

    def _quietly(self, operation: str, **params: Any) -> None:
        """Calls whose answer must not tell whether the account exists: every failure is
        logged, none is raised."""
        try:
            self._call(operation, **params)
        except DomainError as exc:
            log.info("cognito %s: %s %s", operation, *_cognito_words(exc))

    def _call(
        self, operation: str, errors: dict[str, Any] | None = None, **params: Any
    ) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self._cognito(), operation)(**params)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code, message = str(error.get("Code", "")), str(error.get("Message", ""))
            mapped = (errors or {}).get(code) or _ERRORS.get(code)
            if mapped is None:
                log.warning("cognito %s failed: %s %s", operation, code, message)
                raise Unavailable(
                    "the identity provider did not answer; try again", details={"cognito": code}
                ) from None
            domain_error = mapped(message)
            # Cognito's own words stay here (logs, the confirm check): some would tell a caller
            # whether an account exists ("User does not exist.")
            domain_error.cognito = (code, message)  # type: ignore[attr-defined]
            raise domain_error from None
        except BotoCoreError as exc:  # connection refused, timeouts, ...
            log.warning("cognito %s failed: %s", operation, exc)
            raise Unavailable("the identity provider did not answer; try again") from None

    def _cognito(self) -> Any:
        if self._client is None:
            from botocore.config import Config

            self._client = aws_clients.client(
                "cognito-idp",
                region_name=self.region,
                endpoint_url=self.endpoint_url,
                config=Config(retries={"mode": "standard"}, connect_timeout=5, read_timeout=10),
            )
        return self._client
