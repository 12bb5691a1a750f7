"""Ports: what the service layer needs from the outside world. Storage, by role, is in
`ports.storage`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import NamedTuple, Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class MailError(Exception):
    """Delivery failed. `permanent` failures are not retried (e.g. a rejected address)."""

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


class Mailer(Protocol):
    backend_name: str

    def send(self, message: EmailMessage) -> None:
        """Deliver one RFC 5322 message (To/From/Subject/Message-ID set). Raises `MailError`."""


class KeptSubscription(NamedTuple):
    """A subscription as a mailer that keeps them itself reports it: `status` is
    "pending_confirmation", "confirmed", or None (it has none); `ref` is its own id for it,
    to be kept with ours (None: nothing to keep)."""

    status: str | None
    ref: str | None


class SubscriptionKeeper(Protocol):
    """A Mailer that keeps the e-mail subscriptions itself (SNS) and mails its own confirmation
    link. `ref` is what an earlier answer gave to keep (None when none was kept); each call
    costs the same however many subscriptions the mailer keeps."""

    def subscribe(self, email: str, ref: str | None) -> KeptSubscription:
        """Subscribe `email`, mailing a confirmation link again while one is pending."""

    def subscription_status(self, email: str, ref: str | None) -> KeptSubscription: ...

    def unsubscribe(self, email: str, ref: str | None) -> None: ...


@dataclass(frozen=True)
class SignedUrl:
    url: str
    expires_at: datetime


class Metrics(Protocol):
    """Operational gauges (e.g. the outbox backlog) for an operator's alarms."""

    backend_name: str

    def put(self, values: dict[str, float]) -> None:
        """Record one sample of each named value, now."""


class MediaStore(Protocol):
    backend_name: str

    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> tuple[bytes, str] | None:
        """(data, content_type) or None."""

    def delete(self, key: str) -> None: ...

    def signed_url(self, key: str, expires_in_seconds: int) -> SignedUrl: ...


@dataclass(frozen=True)
class Identity:
    user_id: str
    email: str


class TokenVerifier(Protocol):
    def verify(self, token: str) -> Identity:
        """Return the caller's identity or raise `Unauthorized` (`token_revoked` for a token
        issued before its user's floor, or of a deleted user)."""

    def revocation_instant(self) -> datetime:
        """Now on the clock tokens are stamped and compared on: stored as a user's floor, it
        refuses every token issued before it."""

    def revoked(self, user_id: str, valid_after: datetime) -> None:
        """The user's floor was just stored: this process refuses the user's tokens issued
        before it at once; other processes within their cache's TTL
        (settings.token_floor_cache_seconds)."""

    def account_deleted(self, user_id: str) -> None:
        """The account was just deleted: its tokens are refused, here at once, elsewhere
        within the TTL."""


class AccountProvider(Protocol):
    """Accounts kept by an identity provider (the AWS shape: Cognito) instead of the store. Each
    method is one `/auth/*` use case; errors are domain errors (`Conflict` `email_taken`,
    `BadRequest` `invalid_code`/`code_expired`, `Unauthorized` `invalid_credentials`,
    `Forbidden` `account_unconfirmed`, `ValidationFailed`, `RateLimited`, `Unavailable`).
    E-mails arrive normalised; the provider mails its own codes."""

    def signup(self, email: str, password: str) -> str:
        """Create an unconfirmed account (or replace an unconfirmed one's password, mailing a
        fresh code); return its user id."""

    def confirm(self, email: str, code: str) -> None: ...

    def login(self, email: str, password: str) -> tuple[str, int]:
        """(access token, seconds it is valid)."""

    def resend_code(self, email: str) -> None:
        """Never says whether the account exists (no error for an unknown e-mail)."""

    def forgot_password(self, email: str) -> None:
        """Never says whether the account exists."""

    def reset_password(self, email: str, code: str, new_password: str) -> str:
        """Set the new password and revoke the account's outstanding tokens (for the
        provider's own APIs); return the account's user id."""

    def change_password(self, user_id: str, current: str, new: str) -> str:
        """Check `current`, set `new`, revoke the account's outstanding tokens (for the
        provider's own APIs); return the account's e-mail (what logging in needs)."""

    def delete_user(self, user_id: str) -> None:
        """Revoke the account's tokens and delete it (an unknown id: nothing to do)."""

    def delete_unconfirmed(self, created_before: datetime, limit: int) -> int:
        """The expiry job's part: delete accounts unconfirmed since before `created_before`,
        looking at about `limit` unconfirmed ones a run; how many were deleted. Never raises:
        a failure is logged and the rest of the job goes on."""
