"""What every use case gets: the ports, wired once by bootstrap."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from skillsession.ports import Clock, Mailer, MediaStore, Metrics, TokenVerifier
from skillsession.ports.storage import Stores

if TYPE_CHECKING:
    from skillsession.settings import Settings


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class TokenIssuer(TokenVerifier, Protocol):
    def issue(self, user_id: str, email: str, ttl: int | None = None) -> tuple[str, int]: ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool: ...

    def verify_dummy(self, password: str) -> bool:
        """Spend the time of a real check (unknown e-mails) and answer False."""


@dataclass
class Deps:
    settings: Settings
    stores: Stores
    media: MediaStore
    mailer: Mailer
    verifier: TokenVerifier
    issuer: TokenIssuer | None = None  # embedded accounts only
    passwords: PasswordHasher | None = None
    code_secret: bytes = b""
    clock: Clock = field(default_factory=SystemClock)
    metrics: Metrics | None = None  # operational gauges (AWS shape: CloudWatch)
    # per-process caches of the layers above (e.g. rendered answers), by name: they live as long
    # as these ports, so a cache never outlives the store its entries were checked against
    caches: dict[str, Any] = field(default_factory=dict)

    def now(self) -> datetime:
        return self.clock.now()
