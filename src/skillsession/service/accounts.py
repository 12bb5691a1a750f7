"""Embedded-mode accounts: sign-up with a mailed code, confirmation, login, resend; forgotten
and changed passwords; the token floor that revokes a user's earlier tokens."""

from __future__ import annotations

import hmac
from dataclasses import replace
from datetime import datetime, timedelta

from skillsession.domain.accounts import (
    check_password,
    hash_code,
    invalid_code,
    new_verification_code,
    normalise_email,
    wrong_password,
)
from skillsession.domain.errors import BadRequest, Conflict, Forbidden, Unauthorized
from skillsession.domain.ids import new_id
from skillsession.domain.model import AccountStatus, Notification, User, VerificationCode
from skillsession.ports import Identity
from skillsession.ports.storage import AccountStore
from skillsession.service.auth_limits import (
    admit_call,
    code_mail_to,
    count_code_try,
    count_password_try,
)
from skillsession.service.deps import Deps

RESET_CODE_TTL_SECONDS = 3600  # a password-reset code: 1 h (a sign-up code: settings, 24 h)
UNCONFIRMED_ACCOUNT_SECONDS = 7 * 24 * 3600  # then the expiry job deletes the account


def _require_local(deps: Deps):
    if deps.issuer is None or deps.passwords is None:
        raise Conflict("accounts are managed by the identity provider", code="external_auth")
    return deps.issuer, deps.passwords


def _provided():
    """The use cases when an identity provider keeps the accounts (imported when used: the
    embedded shape never loads it)."""
    from skillsession.service import provided_accounts

    return provided_accounts


def _code_for(
    deps: Deps,
    user_id: str,
    email: str,
    now: datetime,
    kind: str = "verification_code",
    ttl_seconds: int | None = None,
):
    """A fresh code and its e-mail. A user has one code at a time (the store keeps one per
    user): a password-reset code replaces a pending sign-up code, which is harmless since
    either proves the mailbox and a reset also confirms the account."""
    code = new_verification_code()
    ttl_seconds = deps.settings.code_ttl_seconds if ttl_seconds is None else ttl_seconds
    record = VerificationCode(
        user_id=user_id,
        code_hash=hash_code(user_id, code, deps.code_secret),
        expires_at=now + timedelta(seconds=ttl_seconds),
    )
    notification = Notification(
        notification_id=new_id(),
        kind=kind,
        recipient_id=user_id,
        payload={"code": code, "email": email},
        created_at=now,
        next_attempt_at=now,
    )
    return record, notification


def signup(deps: Deps, email: str, password: str, client: str | None = None) -> User:
    if deps.accounts is not None:
        return _provided().signup(deps, email, password, client)
    _, passwords = _require_local(deps)
    email = normalise_email(email)
    check_password(password)
    now = deps.now()
    admit_call(deps, client, now, signs_up=True)
    password_hash = passwords.hash(password)
    user = User(
        user_id=new_id(),
        email=email,
        password_hash=password_hash,
        status=AccountStatus.UNCONFIRMED,
        created_at=now,
    )
    code, notification = _code_for(deps, user.user_id, email, now)
    try:
        deps.stores.accounts.create_user(user, code, notification)
        return user
    except Conflict:
        found = deps.stores.accounts.get_user_by_email(email)  # a new e-mail never reads
        if found is None or found.status == AccountStatus.CONFIRMED:
            raise
    # not confirmed yet: this sign-up replaces the password and mails a fresh code, so whoever
    # reads the mailbox decides the password (an e-mail cannot be squatted); the 7 days
    # before the job deletes the account count from now. Confirmed meanwhile: 409.
    user = replace(found, password_hash=password_hash, created_at=now)
    code, notification = _code_for(deps, user.user_id, email, now)
    deps.stores.accounts.replace_unconfirmed_user(user, code, notification)
    return user


def confirm(deps: Deps, email: str, code: str, client: str | None = None) -> None:
    if deps.accounts is not None:
        return _provided().confirm(deps, email, code, client)
    _require_local(deps)
    email = normalise_email(email)
    now = deps.now()
    admit_call(deps, client, now)
    count_code_try(deps, "confirm", email, now)
    user, record = deps.stores.accounts.get_user_and_code_by_email(email)
    if user is not None and user.status == AccountStatus.CONFIRMED:
        return
    _check_code(deps, user, record, code, now)
    deps.stores.accounts.confirm_user(user.user_id)


def _check_code(
    deps: Deps, user: User | None, record: VerificationCode | None, code: str, now: datetime
) -> None:
    """The mailed code (sign-up or reset) against the stored one: 400 `invalid_code`,
    `code_locked` after `code_max_failures` wrong tries, `code_expired`."""
    if user is None or record is None:
        raise invalid_code()
    if record.failed_attempts >= deps.settings.code_max_failures:
        raise BadRequest("too many wrong codes; ask for a new one", code="code_locked")
    if record.expires_at <= now:
        raise BadRequest("the code has expired; ask for a new one", code="code_expired")
    expected = hash_code(user.user_id, str(code).strip(), deps.code_secret)
    if not hmac.compare_digest(expected, record.code_hash):
        deps.stores.accounts.record_code_failure(user.user_id)
        raise invalid_code()


def login(deps: Deps, email: str, password: str, client: str | None = None) -> tuple[str, int]:
    """Failures count per e-mail *and* client address: a stranger failing for someone else's
    e-mail locks out only themselves."""
    if deps.accounts is not None:
        return _provided().login(deps, email, password, client)
    issuer, passwords = _require_local(deps)
    email = normalise_email(email)
    now = deps.now()
    admit_call(deps, client, now)
    key = count_password_try(deps, "login", email, client, now)
    user = deps.stores.accounts.get_user_by_email(email)
    if user is None:
        passwords.verify_dummy(password)  # same cost as a real check
        raise Unauthorized("wrong e-mail or password", code="invalid_credentials")
    if not passwords.verify(user.password_hash, password):
        raise Unauthorized("wrong e-mail or password", code="invalid_credentials")
    if user.status != AccountStatus.CONFIRMED:
        raise Forbidden("confirm your e-mail address first", code="account_unconfirmed")
    deps.stores.rate_limits.clear(key)
    issuer.account_read(user.user_id, user.tokens_valid_after)
    return issuer.issue(user.user_id, user.email)


def resend_code(deps: Deps, email: str, client: str | None = None) -> None:
    """The same answer whether or not the account exists (a 429 is about the caller's address,
    never the account)."""
    if deps.accounts is not None:
        return _provided().resend_code(deps, email, client)
    _require_local(deps)
    now = deps.now()
    email = code_mail_to(deps, "resend", email, client, now)
    if email is None:
        return
    user = deps.stores.accounts.get_user_by_email(email)
    if user is None or user.status == AccountStatus.CONFIRMED:
        return
    code, notification = _code_for(deps, user.user_id, email, now)
    deps.stores.accounts.replace_verification_code(code, notification)


def forgot_password(deps: Deps, email: str, client: str | None = None) -> None:
    """Mail a reset code (1 h, 5 tries). The same answer whether or not the account exists."""
    if deps.accounts is not None:
        return _provided().forgot_password(deps, email, client)
    _require_local(deps)
    now = deps.now()
    email = code_mail_to(deps, "forgot", email, client, now)
    if email is None:
        return
    user = deps.stores.accounts.get_user_by_email(email)
    if user is None:
        return
    code, notification = _code_for(
        deps, user.user_id, email, now, "password_reset_code", RESET_CODE_TTL_SECONDS
    )
    deps.stores.accounts.replace_verification_code(code, notification)


def reset_password(
    deps: Deps, email: str, code: str, new_password: str, client: str | None = None
) -> None:
    """Set a new password with the mailed code; this confirms an unconfirmed account and
    revokes every token issued before."""
    if deps.accounts is not None:
        return _provided().reset_password(deps, email, code, new_password, client)
    issuer, passwords = _require_local(deps)
    email = normalise_email(email)
    check_password(new_password)
    now = deps.now()
    admit_call(deps, client, now)
    count_code_try(deps, "reset", email, now)
    user, record = deps.stores.accounts.get_user_and_code_by_email(email)
    _check_code(deps, user, record, code, now)
    _set_password(deps, issuer, user.user_id, passwords.hash(new_password), record.code_hash)


def change_password(
    deps: Deps,
    identity: Identity,
    current_password: str,
    new_password: str,
    client: str | None = None,
) -> tuple[str, int]:
    """403 `wrong_password` for a wrong current password; tries (right or wrong) are limited
    per account and client address as failed logins are (`login_max_failures` a window), so a
    stolen token cannot guess the password. Every token issued before, the caller's too, is
    revoked; the answer is the caller's fresh token `(token, expires_in)`, issued after."""
    if deps.accounts is not None:
        return _provided().change_password(deps, identity, current_password, new_password, client)
    issuer, passwords = _require_local(deps)
    check_password(new_password)
    now = deps.now()
    admit_call(deps, client, now)
    count_password_try(deps, "change", identity.user_id, client, now)
    user = deps.stores.accounts.get_user(identity.user_id)
    if user is None:
        raise Unauthorized("the account no longer exists", code="token_revoked")
    if not passwords.verify(user.password_hash, current_password):
        raise wrong_password()
    _set_password(deps, issuer, user.user_id, passwords.hash(new_password))
    return issuer.issue(user.user_id, user.email)


def _set_password(
    deps: Deps, issuer, user_id: str, password_hash: str, code_hash: str | None = None
) -> None:
    """`code_hash`: the reset code checked, which the store consumes (a code resets once)."""
    valid_after = issuer.revocation_instant()
    deps.stores.accounts.set_password(user_id, password_hash, valid_after, code_hash)
    issuer.revoked(user_id, valid_after)  # this process at once; the others within the TTL


def token_floor(accounts: AccountStore, user_id: str) -> tuple[bool, datetime | None]:
    """What the token check needs of an account (read through `TokenFloors`' short cache):
    whether it exists, and its `tokens_valid_after`."""
    user = accounts.get_user(user_id)
    return (False, None) if user is None else (True, user.tokens_valid_after)


def delete_unconfirmed(deps: Deps, now: datetime, batch: int) -> int:
    """The expiry job's part: accounts unconfirmed for 7 days, deleted in batches (by the
    identity provider when it keeps the accounts)."""
    before = now - timedelta(seconds=UNCONFIRMED_ACCOUNT_SECONDS)
    if deps.accounts is not None:
        return _provided().delete_unconfirmed(deps, before)
    total = 0
    while True:
        deleted = deps.stores.accounts.delete_unconfirmed_users(before, batch)
        total += deleted
        if deleted < batch:
            return total
