"""The `/auth/*` use cases when an identity provider keeps the accounts (`Deps.accounts`, the AWS
shape's Cognito): the same per-address limits as embedded mode, before the provider is called,
and the same failed-login limit per (e-mail, client address); the provider does the rest and
mails its own codes. service/accounts.py hands each call here when `deps.accounts` is set."""

from __future__ import annotations

from datetime import datetime

from skillsession.domain.accounts import check_password, normalise_email
from skillsession.domain.errors import Unauthorized
from skillsession.domain.model import AccountStatus, User
from skillsession.ports import AccountProvider, Identity
from skillsession.service.auth_limits import (
    admit_call,
    count_code_try,
    count_password_try,
    may_mail_code,
)
from skillsession.service.deps import Deps

UNCONFIRMED_PER_RUN = 300  # unconfirmed accounts the job looks at a run (ListUsers: 5 pages)


def _provider(deps: Deps) -> AccountProvider:
    assert deps.accounts is not None
    return deps.accounts


def signup(deps: Deps, email: str, password: str, client: str | None) -> User:
    email = normalise_email(email)
    check_password(password)
    now = deps.now()
    admit_call(deps, client, now, signs_up=True)
    user_id = _provider(deps).signup(email, password)
    return User(
        user_id=user_id,
        email=email,
        password_hash="",
        status=AccountStatus.UNCONFIRMED,
        created_at=now,
    )


def confirm(deps: Deps, email: str, code: str, client: str | None) -> None:
    email = normalise_email(email)
    now = deps.now()
    admit_call(deps, client, now)
    count_code_try(deps, "confirm", email, now)
    _provider(deps).confirm(email, str(code).strip())


def login(deps: Deps, email: str, password: str, client: str | None) -> tuple[str, int]:
    email = normalise_email(email)
    now = deps.now()
    admit_call(deps, client, now)
    key = count_password_try(deps, "login", email, client, now)
    answer = _provider(deps).login(email, password)
    deps.stores.rate_limits.clear(key)
    return answer


def resend_code(deps: Deps, email: str, client: str | None) -> None:
    now = deps.now()
    admit_call(deps, client, now)
    try:
        email = normalise_email(email)
    except ValueError:
        return
    if not may_mail_code(deps, "resend", email, now):
        return
    _provider(deps).resend_code(email)


def forgot_password(deps: Deps, email: str, client: str | None) -> None:
    """202 whatever happens past the caller's own address limit (no enumeration)."""
    now = deps.now()
    admit_call(deps, client, now)
    try:
        email = normalise_email(email)
    except ValueError:
        return
    if not may_mail_code(deps, "forgot", email, now):
        return
    _provider(deps).forgot_password(email)


def reset_password(deps: Deps, email: str, code: str, new_password: str, client: str | None):
    email = normalise_email(email)
    check_password(new_password)
    now = deps.now()
    admit_call(deps, client, now)
    count_code_try(deps, "reset", email, now)
    _provider(deps).reset_password(email, str(code).strip(), new_password)


def change_password(
    deps: Deps, identity: Identity, current: str, new: str, client: str | None
) -> None:
    check_password(new)
    now = deps.now()
    admit_call(deps, client, now)
    key = count_password_try(deps, "change", identity.user_id, client, now)
    try:
        _provider(deps).change_password(identity.user_id, current, new)
    except Unauthorized as exc:
        raise Unauthorized("the current password is wrong", code=exc.code) from None
    deps.stores.rate_limits.clear(key)


def delete_unconfirmed(deps: Deps, created_before: datetime) -> int:
    """The expiry job's part: the provider deletes the accounts still unconfirmed since their
    (last) sign-up before `created_before`, looking at a bounded number of them a run."""
    return _provider(deps).delete_unconfirmed(created_before, UNCONFIRMED_PER_RUN)
