"""Embedded-mode accounts: argon2id passwords, the instance secret, HS256 tokens, e-mail codes."""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import argon2
import jwt

from skillsession.adapters.auth.floors import TokenFloors
from skillsession.domain.errors import Busy, Unauthorized
from skillsession.ports import Identity

MIN_SECRET_CHARS = 32
BUSY_RETRY_AFTER_SECONDS = 1
SECRET_FILE = "secret.key"


# -- passwords ------------------------------------------------------------------------------
class PasswordHasher:
    """argon2id with argon2-cffi's defaults (RFC 9106 low-memory profile: 64 MiB a hash) unless
    overridden, at most `at_once` hashes or checks at a time in this process: another waits up
    to `wait_seconds` for its turn, then gets `Busy` (503, Retry-After). So a flood of sign-ups
    or logins queues or is refused instead of holding 64 MiB per request thread."""

    def __init__(self, *, at_once: int = 2, wait_seconds: float = 5.0, **params: int):
        self._hasher = argon2.PasswordHasher(type=argon2.Type.ID, **params)
        self._turns = threading.BoundedSemaphore(at_once)
        self._wait_seconds = wait_seconds
        self._dummy: str | None = None  # made on first use, not at import time

    @contextlib.contextmanager
    def _turn(self) -> Iterator[None]:
        if not self._turns.acquire(timeout=self._wait_seconds):
            raise Busy(
                "too many sign-ins at once; try again shortly",
                code="auth_busy",
                retry_after=BUSY_RETRY_AFTER_SECONDS,
            )
        try:
            yield
        finally:
            self._turns.release()

    def hash(self, password: str) -> str:
        with self._turn():
            return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        """True on a match; False on a mismatch or an unreadable hash (never raises for those)."""
        with self._turn():
            try:
                return self._hasher.verify(password_hash, password)
            except (argon2.exceptions.VerificationError, ValueError):  # InvalidHashError
                return False

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except ValueError:  # InvalidHashError, or a non-ASCII string
            return True

    def verify_dummy(self, password: str) -> bool:
        """Spend the time of a real verify (for unknown e-mails); always False."""
        if self._dummy is None:
            self._dummy = self.hash(secrets.token_urlsafe(16))
        self.verify(self._dummy, password)
        return False


@cache
def _default_hasher() -> PasswordHasher:
    return PasswordHasher()


def verify_dummy_password(password: str) -> bool:
    """Module-level `PasswordHasher().verify_dummy`; the dummy hash is made once, on first use."""
    return _default_hasher().verify_dummy(password)


# -- instance secret ------------------------------------------------------------------------
def load_or_create_secret_key(data_dir: Path, configured: str | None) -> bytes:
    """The configured secret, else `data_dir/secret.key`, created (0600) on first start.

    Several worker processes may start together: the file is created with O_EXCL, and a loser
    of that race waits briefly for the winner's content."""
    if configured:
        if len(configured) < MIN_SECRET_CHARS:
            raise ValueError(f"the secret key must have at least {MIN_SECRET_CHARS} characters")
        return configured.encode()
    path = Path(data_dir) / SECRET_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_secret(path)
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(64) + "\n")
        f.flush()
        os.fsync(f.fileno())
    return _read_secret(path)


def _read_secret(path: Path, wait_seconds: float = 2.0) -> bytes:
    deadline = time.monotonic() + wait_seconds
    while True:
        text = path.read_text("utf-8").strip()
        if len(text) >= MIN_SECRET_CHARS:
            return text.encode()
        if time.monotonic() > deadline:
            raise ValueError(f"{path} is empty or too short; delete it to generate a new one")
        time.sleep(0.02)


# -- tokens ---------------------------------------------------------------------------------
class LocalTokens:
    """Issues and verifies HS256 JWTs. Verified tokens are cached (bounded LRU) until their exp.

    With `floors`, a token whose `iat` (sub-second) is before its user's floor, or of a user
    that does not exist, is refused (401 `token_revoked`): a dict look-up per request."""

    def __init__(
        self,
        secret: bytes,
        issuer: str = "skillsession",
        audience: str = "skillsession-api",
        ttl_seconds: int = 3600,
        *,
        cache_size: int = 10_000,
        clock: Callable[[], float] = time.time,
        floors: TokenFloors | None = None,
    ):
        self._secret = secret
        self.issuer = issuer
        self.audience = audience
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._cache: OrderedDict[str, tuple[Identity, int, float]] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self._floors = floors

    def revocation_instant(self) -> datetime:
        """Now on the clock that stamps tokens: stored as a user's `tokens_valid_after`, it
        refuses every token issued before it."""
        return datetime.fromtimestamp(self._clock(), UTC)

    def revoked(self, user_id: str, valid_after: datetime) -> None:
        """The account's `tokens_valid_after` was just stored: this process refuses the
        user's earlier tokens at once."""
        if self._floors is not None:
            self._floors.set(user_id, True, valid_after)

    def account_deleted(self, user_id: str) -> None:
        """The account was just deleted: this process refuses all its tokens at once."""
        if self._floors is not None:
            self._floors.set(user_id, False, None)

    def account_read(self, user_id: str, valid_after: datetime | None) -> None:
        """The account as a login just read it: its floor, so the token's first requests do
        not read the store again."""
        if self._floors is not None:
            self._floors.set(user_id, True, valid_after)

    def _check_floor(self, identity: Identity, issued_at: float, now: float) -> Identity:
        """`now` is this object's clock, which its floors share (their TTL is on it too)."""
        if self._floors is not None and issued_at < self._floors.floor(identity.user_id, now):
            raise Unauthorized("the token was revoked; log in again", code="token_revoked")
        return identity

    def issue(self, user_id: str, email: str, ttl: int | None = None) -> tuple[str, int]:
        """Return `(token, expires_in_seconds)`."""
        ttl = self.ttl_seconds if ttl is None else ttl
        issued_at = round(self._clock(), 6)  # sub-second: compared with revocation instants
        now = int(issued_at)
        claims = {
            "sub": user_id,
            "email": email,
            "iss": self.issuer,
            "aud": self.audience,
            "iat": issued_at,
            "exp": now + ttl,
            "jti": secrets.token_urlsafe(16),
        }
        return jwt.encode(claims, self._secret, algorithm="HS256"), ttl

    def verify(self, token: str) -> Identity:
        now = self._clock()
        with self._lock:
            hit = self._cache.get(token)
            if hit is not None:
                if now < hit[1]:
                    self._cache.move_to_end(token)
                else:
                    del self._cache[token]
                    hit = None
        if hit is not None:
            return self._check_floor(hit[0], hit[2], now)
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                issuer=self.issuer,
                audience=self.audience,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("token expired", code="token_expired") from None
        except (jwt.PyJWTError, ValueError, TypeError):
            raise Unauthorized("invalid token", code="invalid_token") from None
        sub, email, exp, iat = (claims.get(k) for k in ("sub", "email", "exp", "iat"))
        if not isinstance(sub, str) or not sub or not isinstance(email, str):
            raise Unauthorized("invalid token", code="invalid_token")
        if not isinstance(iat, int | float):
            raise Unauthorized("invalid token", code="invalid_token")
        if now >= exp:  # same clock as the cache
            raise Unauthorized("token expired", code="token_expired")
        identity = Identity(user_id=sub, email=email)
        with self._lock:
            self._cache[token] = (identity, int(exp), float(iat))
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return self._check_floor(identity, float(iat), now)
