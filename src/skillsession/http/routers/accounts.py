"""/auth/*: accounts, kept by the service (embedded) or by Cognito (AWS shape). Public routes.
Sync handlers: argon2 (or the Cognito call) runs in the thread pool."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from skillsession.domain.accounts import MAX_CODE_LENGTH, MAX_PASSWORD_LENGTH
from skillsession.http import schemas as S
from skillsession.http.client_address import ClientAddress
from skillsession.http.responses import OrjsonResponse
from skillsession.http.schemas import documented
from skillsession.http.security import AppDeps, CurrentUser
from skillsession.service import accounts

router = APIRouter(prefix="/auth", tags=["accounts"])


class Credentials(BaseModel):
    email: S.Email
    password: str = Field(max_length=MAX_PASSWORD_LENGTH)


class CodeBody(BaseModel):
    email: S.Email
    code: str = Field(max_length=MAX_CODE_LENGTH)


class EmailBody(BaseModel):
    email: S.Email


class ResetBody(BaseModel):
    email: S.Email
    code: str = Field(max_length=MAX_CODE_LENGTH)
    new_password: str = Field(max_length=MAX_PASSWORD_LENGTH)


class ChangeBody(BaseModel):
    current_password: str = Field(max_length=MAX_PASSWORD_LENGTH)
    new_password: str = Field(max_length=MAX_PASSWORD_LENGTH)


@router.post(
    "/signup",
    operation_id="signup",
    description="Mails a 6-digit code that confirms the address (valid 24 hours, 5 wrong tries "
    "lock it). E-mails are case-insensitive and stored normalised. 409 `email_taken`, 422 for a "
    "password shorter than 10 characters, 429 `rate_limited` after too many calls or "
    "sign-ups from the client address. In the AWS shape Cognito keeps the accounts and mails "
    "the code.",
    status_code=201,
    summary="Create an account; a 6-digit code is mailed",
    **documented(S.SignupOut, 201),
)
def signup(body: Credentials, deps: AppDeps, client: ClientAddress):
    user = accounts.signup(deps, body.email, body.password, client)
    return OrjsonResponse(
        {"user_id": user.user_id, "email": user.email, "status": user.status.value},
        status_code=201,
    )


@router.post(
    "/confirm",
    operation_id="confirmSignup",
    description="400 `invalid_code`, `code_expired` or `code_locked` (ask for a new one with "
    "`POST /auth/resend-code`). Confirming a confirmed account again is a 200.",
    summary="Confirm the e-mail address with the mailed code",
    **documented(S.StatusOut),
)
def confirm(body: CodeBody, deps: AppDeps, client: ClientAddress):
    accounts.confirm(deps, body.email, body.code, client)
    return OrjsonResponse({"status": "confirmed"})


@router.post(
    "/login",
    operation_id="login",
    description="401 `invalid_credentials` for a wrong e-mail or password, 403 "
    "`account_unconfirmed` before the code was confirmed. 429 `rate_limited` (`Retry-After` "
    "says when to try again) after repeated failures for this e-mail from this client address "
    "(a stranger's failures do not lock the owner out), or after too many `/auth/*` calls from "
    "the address; 503 `auth_busy` while too many passwords are being checked at once.",
    summary="Exchange e-mail and password for a bearer token",
    **documented(S.TokenOut),
)
def login(body: Credentials, deps: AppDeps, client: ClientAddress):
    token, expires_in = accounts.login(deps, body.email, body.password, client)
    return OrjsonResponse({"access_token": token, "token_type": "bearer", "expires_in": expires_in})


@router.post(
    "/resend-code",
    operation_id="resendCode",
    status_code=202,
    summary="Mail a fresh code (same answer always)",
    **documented(S.StatusOut, 202),
)
def resend_code(body: EmailBody, deps: AppDeps, client: ClientAddress):
    accounts.resend_code(deps, body.email, client)
    return OrjsonResponse({"status": "accepted"}, status_code=202)


@router.post(
    "/forgot-password",
    operation_id="forgotPassword",
    description="Mails a 6-digit password reset code (valid 1 hour, 5 wrong tries lock it). "
    "The same 202 whether or not the account exists; 429 only for too many calls from the "
    "client address.",
    status_code=202,
    summary="Mail a password reset code (same answer always)",
    **documented(S.StatusOut, 202),
)
def forgot_password(body: EmailBody, deps: AppDeps, client: ClientAddress):
    accounts.forgot_password(deps, body.email, client)
    return OrjsonResponse({"status": "accepted"}, status_code=202)


@router.post(
    "/reset-password",
    operation_id="resetPassword",
    description="Sets the new password with the mailed reset code; confirms an unconfirmed "
    "account; every token issued before is refused from then on (401 `token_revoked`). 400 "
    "`invalid_code`, `code_expired` or `code_locked`; 422 for a password shorter than 10 "
    "characters.",
    summary="Set a new password with the mailed reset code",
    **documented(S.StatusOut),
)
def reset_password(body: ResetBody, deps: AppDeps, client: ClientAddress):
    accounts.reset_password(deps, body.email, body.code, body.new_password, client)
    return OrjsonResponse({"status": "password_reset"})


@router.post(
    "/change-password",
    operation_id="changePassword",
    description="403 `wrong_password` for a wrong current password (429 after repeated "
    "ones, as for logins); 422 for a new password shorter than 10 characters. Every token "
    "issued before, the one of this call too, is refused from then on (401 `token_revoked`); "
    "the 200 carries the caller's fresh token (`access_token`, `token_type` `bearer`, "
    "`expires_in` seconds, as a login answers), issued after the change: use it from now on. "
    "In the AWS shape it is Cognito's, from a login with the new password.",
    summary="Change the password (revokes the tokens issued before, answers a fresh one)",
    **documented(S.PasswordChangedOut),
)
def change_password(body: ChangeBody, deps: AppDeps, identity: CurrentUser, client: ClientAddress):
    token, expires_in = accounts.change_password(
        deps, identity, body.current_password, body.new_password, client
    )
    return OrjsonResponse(
        {
            "status": "password_changed",
            "access_token": token,
            "token_type": "bearer",
            "expires_in": expires_in,
        }
    )
