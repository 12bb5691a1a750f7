"""Attempt limits (logins, codes, resends): a sliding window over the admitted attempts.

At most `limit` attempts are admitted in any `window` seconds, wherever the window starts (a
fixed, aligned window would let `2 * limit` through across its boundary). A refused attempt is
not counted, so waiting `retry_after` always frees one, and a store keeps at most `limit`
instants per key. Each store keeps the instants and feeds them to `admit` in one atomic step."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Admission:
    hits: tuple[int, ...]  # admitted attempts inside the window, oldest first: what to keep
    retry_after: int  # 0: this attempt is admitted; else the seconds until one more would be

    @property
    def admitted(self) -> bool:
        return self.retry_after == 0


def admit(hits: Iterable[int], now: int, window: int, limit: int) -> Admission:
    """One attempt at `now` (unix seconds) against the earlier admitted `hits`."""
    if limit <= 0:
        return Admission((), window)
    recent = sorted(h for h in hits if h > now - window)[-limit:]
    if len(recent) == limit:  # the oldest leaves the window `window` seconds after it came
        return Admission(tuple(recent), recent[0] + window - now)
    return Admission((*recent, now), 0)
