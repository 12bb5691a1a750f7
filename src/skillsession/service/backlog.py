"""The outbox backlog as metrics: how many notifications wait and how old the oldest is. The
scheduled job reports it after each run; the AWS template alarms on both."""

from __future__ import annotations

from dataclasses import dataclass

from skillsession.service.deps import Deps

PENDING_METRIC = "OutboxPending"
AGE_METRIC = "OutboxOldestPendingAgeSeconds"
COUNT_LIMIT = 10_000  # counted up to this many (the alarm's threshold is far below)


@dataclass(frozen=True)
class Backlog:
    pending: int
    oldest_age_seconds: float


def report(deps: Deps) -> Backlog:
    """Read the backlog and hand it to the metrics port, if there is one."""
    now = deps.now()
    pending, oldest = deps.stores.outbox.outbox_backlog(COUNT_LIMIT)
    age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
    backlog = Backlog(pending, age)
    if deps.metrics is not None:
        deps.metrics.put({PENDING_METRIC: backlog.pending, AGE_METRIC: backlog.oldest_age_seconds})
    return backlog
