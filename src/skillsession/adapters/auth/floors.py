"""Token floors: per user, the instant before which its tokens are refused, kept per process
for a short TTL so that the token check reads the store once per user and TTL, never per
request. Both verifiers use them: embedded tokens (local.py, the floor on the account row) and
Cognito's (cognito.py, the floor in the store's `revocations` role)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

FLOOR_TTL_SECONDS = 30.0
GONE = float("inf")  # the floor of an account that does not exist: every token is refused


class TokenFloors:
    """Per user, the instant (unix seconds) before which its tokens are refused, as read from
    the store by `load(user_id)` (`(exists, valid_after)`: not exists, every token refused;
    valid_after None, none refused) and kept here for `ttl_seconds`. The process that makes a
    change `set`s it at once; other processes learn it within the TTL."""

    def __init__(
        self,
        load: Callable[[str], tuple[bool, datetime | None]],
        *,
        ttl_seconds: float = FLOOR_TTL_SECONDS,
        size: int = 100_000,
        clock: Callable[[], float] = time.time,
    ):
        self._load = load
        self._ttl = ttl_seconds
        self._size = size
        self._clock = clock
        self._floors: dict[str, tuple[float, float]] = {}  # user id -> (floor, read at)

    def floor(self, user_id: str, now: float) -> float:
        """`now`: the caller's reading of the wall clock (the one `set` reads)."""
        hit = self._floors.get(user_id)
        if hit is not None and now - hit[1] < self._ttl:
            return hit[0]
        floor = _floor_of(*self._load(user_id))
        self._keep(user_id, floor, now)
        return floor

    def set(self, user_id: str, exists: bool, valid_after: datetime | None) -> None:
        """What this process has just stored or read of the account (as `load` answers)."""
        self._keep(user_id, _floor_of(exists, valid_after), self._clock())

    def _keep(self, user_id: str, floor: float, now: float) -> None:
        if len(self._floors) >= self._size:
            self._floors.clear()  # rare; the next reads refill it
        self._floors[user_id] = (floor, now)


def _floor_of(exists: bool, valid_after: datetime | None) -> float:
    return GONE if not exists else valid_after.timestamp() if valid_after else 0.0
