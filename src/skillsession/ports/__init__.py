"""Ports: what the service layer needs from the outside world. Storage, by role, is in
`ports.storage`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Protocol


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
        """Return the caller's identity or raise `Unauthorized`."""


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

    def reset_password(self, email: str, code: str, new_password: str) -> None:
        """Set the new password and revoke the account's outstanding tokens."""

    def change_password(self, user_id: str, current: str, new: str) -> None:
        """Check `current`, set `new`, revoke the account's outstanding tokens."""

    def delete_user(self, user_id: str) -> None:
        """Revoke the account's tokens and delete it (an unknown id: nothing to do)."""

    def delete_unconfirmed(self, created_before: datetime, limit: int) -> int:
        """The expiry job's part: delete accounts unconfirmed since before `created_before`,
        looking at about `limit` unconfirmed ones a run; how many were deleted. Never raises:
        a failure is logged and the rest of the job goes on."""
