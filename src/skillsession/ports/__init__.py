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
