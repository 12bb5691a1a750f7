"""The `/auth/*` use cases when an identity provider keeps the accounts (`Deps.accounts`, the AWS
shape's Cognito): the same per-address limits as embedded mode, before the provider is called,
and the same failed-login limit per (e-mail, client address); the provider does the rest and
mails its own codes. service/accounts.py hands each call here when `deps.accounts` is set.

A reset or a change stores the account's token floor in the store's `revocations` role (Cognito
keeps the account, the store only that), which the verifier reads through its per-process cache
(adapters/auth/floors.py); a deletion marks the id deleted there (`delete_account`)."""

from __future__ import annotations

from datetime import datetime

from skillsession.domain.accounts import check_password, normalise_email, wrong_password
from skillsession.domain.errors import Unauthorized
from skillsession.domain.model import AccountStatus, User
from skillsession.ports import AccountProvider, Identity
from skillsession.service.auth_limits import (
    admit_call,
    code_mail_to,
    count_code_try,
    count_password_try,
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
    email = code_mail_to(deps, "resend", email, client, now)
    if email is None:
        return
    _provider(deps).resend_code(email)


def forgot_password(deps: Deps, email: str, client: str | None) -> None:
    """202 whatever happens past the caller's own address limit (no enumeration)."""
    now = deps.now()
    email = code_mail_to(deps, "forgot", email, client, now)
    if email is None:
        return
    _provider(deps).forgot_password(email)


def reset_password(deps: Deps, email: str, code: str, new_password: str, client: str | None):
    email = normalise_email(email)
    check_password(new_password)
    now = deps.now()
    admit_call(deps, client, now)
    count_code_try(deps, "reset", email, now)
    valid_after = deps.verifier.revocation_instant()
    user_id = _provider(deps).reset_password(email, str(code).strip(), new_password)
    _revoke(deps, user_id, valid_after)


def change_password(
    deps: Deps, identity: Identity, current: str, new: str, client: str | None
) -> tuple[str, int]:
    """The caller's fresh token (a login with the new password) after the change."""
    check_password(new)
    now = deps.now()
    admit_call(deps, client, now)
    key = count_password_try(deps, "change", identity.user_id, client, now)
    valid_after = deps.verifier.revocation_instant()
    try:
        email = _provider(deps).change_password(identity.user_id, current, new)
    except Unauthorized:  # Cognito's NotAuthorizedException: the current password
        raise wrong_password() from None
    _revoke(deps, identity.user_id, valid_after)
    deps.stores.rate_limits.clear(key)
    return _provider(deps).login(email, new)


def _revoke(deps: Deps, user_id: str, valid_after: datetime) -> None:
    """The provider's account changed its password: the tokens issued before `valid_after`
    (read before the provider was called, so the ones issued after the change are good) are
    refused, by this process at once, by the others within the floors' TTL."""
    deps.stores.revocations.revoke_tokens(user_id, valid_after)
    deps.verifier.revoked(user_id, valid_after)


def delete_unconfirmed(deps: Deps, created_before: datetime) -> int:
    """The expiry job's part: the provider deletes the accounts still unconfirmed since their
    (last) sign-up before `created_before`, looking at a bounded number of them a run."""
    return _provider(deps).delete_unconfirmed(created_before, UNCONFIRMED_PER_RUN)
