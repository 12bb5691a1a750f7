"""The limits every `/auth/*` use case passes, embedded or with an identity provider
(service/accounts.py, service/provided_accounts.py), each named once: password tries per who and
client address, mailed-code tries, code re-mails, and the per-address admission of every call."""

from __future__ import annotations

from datetime import datetime

from skillsession.domain.accounts import normalise_email
from skillsession.domain.errors import RateLimited, ValidationFailed
from skillsession.service.deps import Deps

RESEND_MAX_PER_WINDOW = 5
SIGNUP_WINDOW_SECONDS = 3600
LOCAL = "local"  # the client address of a call that did not come over the network (None)


def _limit(deps: Deps, key: str, now: datetime, max_hits: int, window: int | None = None) -> None:
    """Count one attempt against `key`; 429 while `max_hits` were admitted in the last `window`
    seconds (default: the login window). `max_hits` 0: no limit."""
    if max_hits <= 0:
        return
    window = window or deps.settings.login_window_seconds
    admission = deps.stores.rate_limits.hit(key, now, window, max_hits)
    if not admission.admitted:
        raise RateLimited("too many attempts, try again later", retry_after=admission.retry_after)


def count_password_try(deps: Deps, action: str, who: str, client: str | None, now) -> str:
    """A password check (`login` by e-mail, `change` by user id) against the failure limit per
    (who, client address); returns the key, which a success clears."""
    key = f"{action}:{who}:{client or LOCAL}"
    _limit(deps, key, now, deps.settings.login_max_failures)
    return key


def count_code_try(deps: Deps, action: str, email: str, now: datetime) -> None:
    """A mailed code tried (`confirm`, `reset`): at most four times the login failures."""
    _limit(deps, f"{action}:{email}", now, deps.settings.login_max_failures * 4)


def code_mail_to(
    deps: Deps, action: str, email: str, client: str | None, now: datetime
) -> str | None:
    """What a call that mails a code (`resend`, `forgot`) passes first: the per-address
    admission (a 429 is about the caller's address, never the account), then the e-mail,
    normalised, if a code may be mailed to it again. None: say nothing more — the answer is the
    same whether or not the account exists, so a malformed or too-often-asked e-mail is
    refused silently."""
    admit_call(deps, client, now)
    try:
        email = normalise_email(email)
        _limit(deps, f"{action}:{email}", now, RESEND_MAX_PER_WINDOW)
    except (ValidationFailed, RateLimited):
        return None
    return email


def admit_call(deps: Deps, client: str | None, now: datetime, signs_up: bool = False) -> None:
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
