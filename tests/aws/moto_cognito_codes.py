"""Sign-up codes as Cognito handles them, taught to the moto server of this test process (it runs
in a thread of it: tests/contract/moto_server.py), where moto 5.2 lacks them:

- ResendConfirmationCode: moto does not implement it (a 500). Here it "mails" a fresh sign-up code
  (kept on the user: `signup_code` reads the mailbox) and answers as Cognito does:
  `UserNotFoundException` for an unknown user, `InvalidParameterException` ("User is already
  confirmed.") for a confirmed one.
- ConfirmSignUp: moto accepts any code. Here, once a code was sent to the user, only that code
  confirms (`CodeMismatchException` otherwise). A user who was never sent one keeps moto's
  any-code behaviour, which the tests that confirm with "123456" rely on.
- ForgotPassword: moto mails a reset code to an unconfirmed user too. Cognito refuses
  (`InvalidParameterException` "Cannot reset password for the user as there is no
  registered/verified email or phone_number"), and so does this server.

`install()` is idempotent (tests/aws/cognito_pool.py calls it before making a pool)."""

from __future__ import annotations

import random
from typing import Any

_installed = False
SIGNUP_CODE = "signup_code"  # the attribute of moto's user holding the code last sent


def _user(client_id: str, username: str) -> Any:
    from moto.cognitoidp.models import cognitoidp_backends

    for backends in cognitoidp_backends.values():
        for region, backend in backends.items():
            if region == "global":
                continue
            for pool in backend.user_pools.values():
                if client_id in pool.clients:
                    return pool._get_user(username)
    return None


def install() -> None:
    global _installed
    if _installed:
        return
    from moto.cognitoidp.exceptions import (
        CodeMismatchException,
        InvalidParameterException,
        UserNotFoundError,
    )
    from moto.cognitoidp.models import UserStatus
    from moto.cognitoidp.responses import CognitoIdpResponse
    from moto.core.responses import ActionResult

    original_confirm = CognitoIdpResponse.confirm_sign_up
    original_forgot = CognitoIdpResponse.forgot_password

    def resend_confirmation_code(self) -> ActionResult:
        user = _user(self._get_param("ClientId"), self._get_param("Username"))
        if user is None:
            raise UserNotFoundError("Username/client id combination not found.")
        if user.status == UserStatus.CONFIRMED:
            raise InvalidParameterException("User is already confirmed.")
        setattr(user, SIGNUP_CODE, f"{random.randint(0, 999_999):06d}")
        email = user.attribute_lookup.get("email", "")
        details = {"Destination": email, "DeliveryMedium": "EMAIL", "AttributeName": "email"}
        return ActionResult({"CodeDeliveryDetails": details})

    def confirm_sign_up(self) -> Any:
        user = _user(self._get_param("ClientId"), self._get_param("Username"))
        sent = getattr(user, SIGNUP_CODE, None) if user is not None else None
        if sent is not None and self._get_param("ConfirmationCode") != sent:
            raise CodeMismatchException("Invalid verification code provided, please try again.")
        return original_confirm(self)

    def forgot_password(self) -> Any:
        user = _user(self._get_param("ClientId"), self._get_param("Username"))
        if user is not None and user.status == UserStatus.UNCONFIRMED:
            raise InvalidParameterException(
                "Cannot reset password for the user as there is no registered/verified email"
                " or phone_number"
            )
        return original_forgot(self)

    CognitoIdpResponse.resend_confirmation_code = resend_confirmation_code
    CognitoIdpResponse.confirm_sign_up = confirm_sign_up
    CognitoIdpResponse.forgot_password = forgot_password
    _installed = True


def signup_code(client_id: str, email: str) -> str | None:
    """The sign-up code last mailed to `email` (None: none was sent)."""
    user = _user(client_id, email)
    return None if user is None else getattr(user, SIGNUP_CODE, None)
