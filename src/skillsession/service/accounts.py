"""Embedded-mode accounts: sign-up with a mailed code, confirmation, login, resend."""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta

from skillsession.domain.accounts import (
    check_password,
    hash_code,
    new_verification_code,
    normalise_email,
)
from skillsession.domain.errors import BadRequest, Conflict, Forbidden, RateLimited, Unauthorized
from skillsession.domain.ids import new_id
from skillsession.domain.model import AccountStatus, Notification, User, VerificationCode
from skillsession.service.deps import Deps

RESEND_MAX_PER_WINDOW = 5
SIGNUP_WINDOW_SECONDS = 3600
LOCAL = "local"  # the client address of a call that did not come over the network (None)


def _require_local(deps: Deps):
    if deps.issuer is None or deps.passwords is None:
        raise Conflict("accounts are managed by the identity provider", code="external_auth")
    return deps.issuer, deps.passwords


def _provided():
    """The use cases when an identity provider keeps the accounts (imported when used: that
    module builds on the limits of this one)."""
    from skillsession.service import provided_accounts

    return provided_accounts


def _code_for(deps: Deps, user_id: str, email: str, now: datetime):
    code = new_verification_code()
    record = VerificationCode(
        user_id=user_id,
        code_hash=hash_code(user_id, code, deps.code_secret),
        expires_at=now + timedelta(seconds=deps.settings.code_ttl_seconds),
    )
    notification = Notification(
        notification_id=new_id(),
        kind="verification_code",
        recipient_id=user_id,
        payload={"code": code, "email": email},
        created_at=now,
        next_attempt_at=now,
    )
    return record, notification


def _limit(deps: Deps, key: str, now: datetime, max_hits: int, window: int | None = None) -> None:
    """Count one attempt against `key`; 429 while `max_hits` were admitted in the last `window`
    seconds (default: the login window). `max_hits` 0: no limit."""
    if max_hits <= 0:
        return
    window = window or deps.settings.login_window_seconds
    admission = deps.stores.accounts.hit_rate_limit(key, now, window, max_hits)
    if not admission.admitted:
        raise RateLimited("too many attempts, try again later", retry_after=admission.retry_after)


def _admit_call(deps: Deps, client: str | None, now: datetime, signs_up: bool = False) -> None:
    """The per-address limits an /auth/* call passes first, before any hash or mail: every call
    from `client` (counted in this process: service/address_limits.py), and sign-ups (each
    mails a code; counted in the store, service-wide). None: not a network call (a command, a
    test), which these limits do not count."""
    if client is None:
        return
    settings = deps.settings
    if settings.auth_calls_per_address:
        admission = deps.address_limits.hit(
            client, now, settings.auth_window_seconds, settings.auth_calls_per_address
        )
        if not admission.admitted:
            raise RateLimited(
                "too many requests from this address, try again later",
                retry_after=admission.retry_after,
            )
    if signs_up:
        _limit(deps, f"signup:{client}", now, settings.signups_per_address, SIGNUP_WINDOW_SECONDS)


def signup(deps: Deps, email: str, password: str, client: str | None = None) -> User:
    if deps.accounts is not None:
        return _provided().signup(deps, email, password, client)
    _, passwords = _require_local(deps)
    email = normalise_email(email)
    check_password(password)
    now = deps.now()
    _admit_call(deps, client, now, signs_up=True)
    user = User(
        user_id=new_id(),
        email=email,
        password_hash=passwords.hash(password),
        status=AccountStatus.UNCONFIRMED,
        created_at=now,
    )
    code, notification = _code_for(deps, user.user_id, email, now)
    deps.stores.accounts.create_user(user, code, notification)
    return user


def confirm(deps: Deps, email: str, code: str, client: str | None = None) -> None:
    if deps.accounts is not None:
        return _provided().confirm(deps, email, code, client)
    _require_local(deps)
    email = normalise_email(email)
    now = deps.now()
    _admit_call(deps, client, now)
    _limit(deps, f"confirm:{email}", now, deps.settings.login_max_failures * 4)
    invalid = BadRequest("wrong or expired code", code="invalid_code")
    user, record = deps.stores.accounts.get_user_and_code_by_email(email)
    if user is None:
        raise invalid
    if user.status == AccountStatus.CONFIRMED:
        return
    if record is None:
        raise invalid
    if record.failed_attempts >= deps.settings.code_max_failures:
        raise BadRequest("too many wrong codes; ask for a new one", code="code_locked")
    if record.expires_at <= now:
        raise BadRequest("the code has expired; ask for a new one", code="code_expired")
    expected = hash_code(user.user_id, str(code).strip(), deps.code_secret)
    if not hmac.compare_digest(expected, record.code_hash):
        deps.stores.accounts.record_code_failure(user.user_id)
        raise invalid
    deps.stores.accounts.confirm_user(user.user_id)


def login(deps: Deps, email: str, password: str, client: str | None = None) -> tuple[str, int]:
    """Failures count per e-mail *and* client address: a stranger failing for someone else's
    e-mail locks out only themselves."""
    if deps.accounts is not None:
        return _provided().login(deps, email, password, client)
    issuer, passwords = _require_local(deps)
    email = normalise_email(email)
    now = deps.now()
    _admit_call(deps, client, now)
    key = f"login:{email}:{client or LOCAL}"
    _limit(deps, key, now, deps.settings.login_max_failures)
    user = deps.stores.accounts.get_user_by_email(email)
    if user is None:
        passwords.verify_dummy(password)  # same cost as a real check
        raise Unauthorized("wrong e-mail or password", code="invalid_credentials")
    if not passwords.verify(user.password_hash, password):
        raise Unauthorized("wrong e-mail or password", code="invalid_credentials")
    if user.status != AccountStatus.CONFIRMED:
        raise Forbidden("confirm your e-mail address first", code="account_unconfirmed")
    deps.stores.accounts.clear_rate_limit(key)
    return issuer.issue(user.user_id, user.email)


def resend_code(deps: Deps, email: str, client: str | None = None) -> None:
    """The same answer whether or not the account exists (a 429 is about the caller's address,
    never the account)."""
    if deps.accounts is not None:
        return _provided().resend_code(deps, email, client)
    _require_local(deps)
    now = deps.now()
    _admit_call(deps, client, now)
    try:
        email = normalise_email(email)
    except Exception:
        return
    try:
        _limit(deps, f"resend:{email}", now, RESEND_MAX_PER_WINDOW)
    except RateLimited:
        return
    user = deps.stores.accounts.get_user_by_email(email)
    if user is None or user.status == AccountStatus.CONFIRMED:
        return
    code, notification = _code_for(deps, user.user_id, email, now)
    deps.stores.accounts.replace_verification_code(code, notification)
