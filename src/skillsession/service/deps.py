"""What every use case gets: the ports, wired once by bootstrap."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from skillsession.ports import AccountProvider, Clock, Mailer, MediaStore, Metrics, TokenVerifier
from skillsession.ports.storage import Stores
from skillsession.service.address_limits import AddressLimits
from skillsession.service.answer_cache import AnswerCache, AnswerCacheConfig

if TYPE_CHECKING:
    from skillsession.settings import Settings


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class TokenIssuer(TokenVerifier, Protocol):
    def issue(self, user_id: str, email: str, ttl: int | None = None) -> tuple[str, int]: ...

    def account_read(self, user_id: str, valid_after: datetime | None) -> None:
        """A login has just read the account: keep its floor (no store read on the new
        token's first requests)."""


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
    accounts: AccountProvider | None = None  # accounts kept by an identity provider (Cognito)
    code_secret: bytes = b""
    clock: Clock = field(default_factory=SystemClock)
    metrics: Metrics | None = None  # operational gauges (AWS shape: CloudWatch)
    # /auth/* calls per client address, counted in this process (service/address_limits.py)
    address_limits: AddressLimits = field(default_factory=AddressLimits)
    # the rendered answers this process keeps (service/answer_cache.py), sized by the settings
    # when not given: it lives as long as these ports, so it never outlives the store its
    # entries were checked against
    answers: AnswerCache = None  # type: ignore[assignment]  # set in __post_init__

    def __post_init__(self) -> None:
        if self.answers is None:
            self.answers = AnswerCache(AnswerCacheConfig.from_settings(self.settings))

    def now(self) -> datetime:
        return self.clock.now()
