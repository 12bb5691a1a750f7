"""RateLimitStore in memory: each key's admitted attempts (unix seconds)."""

from __future__ import annotations

from datetime import datetime

from skillsession.adapters.store.memory.state import StateRole, atomic
from skillsession.domain.rate_limits import Admission, admit


class MemoryRateLimits(StateRole):
    @atomic
    def hit(self, key: str, now: datetime, window_seconds: int, limit: int) -> Admission:
        earlier = self.state.rate_limits.get(key, ())
        admission = admit(earlier, int(now.timestamp()), window_seconds, limit)
        self.state.rate_limits[key] = admission.hits
        return admission

    @atomic
    def clear(self, key: str) -> None:
        self.state.rate_limits.pop(key, None)
