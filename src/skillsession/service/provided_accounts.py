"""The `/auth/*` use cases when an identity provider keeps the accounts (`Deps.accounts`, the AWS
shape's Cognito): the same per-address limits as embedded mode, before the provider is called,
and the same failed-login limit per (e-mail, client address); the provider does the rest and
mails its own codes. service/accounts.py hands each call here when `deps.accounts` is set."""

from __future__ import annotations

from skillsession.domain.accounts import check_password, normalise_email
from skillsession.domain.errors import RateLimited, Unauthorized
from skillsession.domain.model import AccountStatus, User
from skillsession.ports import AccountProvider, Identity
from skillsession.service.accounts import LOCAL, RESEND_MAX_PER_WINDOW, _admit_call, _limit
from skillsession.service.deps import Deps


def _provider(deps: Deps) -> AccountProvider:
    assert deps.accounts is not None
    return deps.accounts


def signup(deps: Deps, email: str, password: str, client: str | None) -> User:
    email = normalise_email(email)
    check_password(password)
    now = deps.now()
    _admit_call(deps, client, now, signs_up=True)
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
    _admit_call(deps, client, now)
    _limit(deps, f"confirm:{email}", now, deps.settings.login_max_failures * 4)
    _provider(deps).confirm(email, str(code).strip())


def login(deps: Deps, email: str, password: str, client: str | None) -> tuple[str, int]:
    email = normalise_email(email)
    now = deps.now()
    _admit_call(deps, client, now)
    key = f"login:{email}:{client or LOCAL}"
    _limit(deps, key, now, deps.settings.login_max_failures)
    answer = _provider(deps).login(email, password)
    deps.stores.accounts.clear_rate_limit(key)
    return answer


def resend_code(deps: Deps, email: str, client: str | None) -> None:
    now = deps.now()
    _admit_call(deps, client, now)
    try:
        email = normalise_email(email)
        _limit(deps, f"resend:{email}", now, RESEND_MAX_PER_WINDOW)
    except (ValueError, RateLimited):
        return
    _provider(deps).resend_code(email)


def forgot_password(deps: Deps, email: str, client: str | None) -> None:
    """202 whatever happens past the caller's own address limit (no enumeration)."""
    now = deps.now()
    _admit_call(deps, client, now)
    try:
        email = normalise_email(email)
        _limit(deps, f"forgot:{email}", now, RESEND_MAX_PER_WINDOW)
    except (ValueError, RateLimited):
        return
    _provider(deps).forgot_password(email)


def reset_password(deps: Deps, email: str, code: str, new_password: str, client: str | None):
    email = normalise_email(email)
    check_password(new_password)
    now = deps.now()
    _admit_call(deps, client, now)
    _limit(deps, f"reset:{email}", now, deps.settings.login_max_failures * 4)
    _provider(deps).reset_password(email, str(code).strip(), new_password)


def change_password(
    deps: Deps, identity: Identity, current: str, new: str, client: str | None
) -> None:
    check_password(new)
    now = deps.now()
    _admit_call(deps, client, now)
    key = f"login:{identity.user_id}:{client or LOCAL}"
    _limit(deps, key, now, deps.settings.login_max_failures)
    try:
        _provider(deps).change_password(identity.user_id, current, new)
    except Unauthorized as exc:
        raise Unauthorized("the current password is wrong", code=exc.code) from None
    deps.stores.accounts.clear_rate_limit(key)
