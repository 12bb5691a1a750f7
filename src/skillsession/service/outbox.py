"""Delivering the outbox: claim due notifications, render, send, record, retry with backoff."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from skillsession.domain.model import DeliveryOutcome, Notification
from skillsession.ports import MailError
from skillsession.service import emails
from skillsession.service.deps import Deps

log = logging.getLogger("skillsession.outbox")

MAX_ATTEMPTS = 12
BASE_DELAY_SECONDS = 5
MAX_DELAY_SECONDS = 3600


@dataclass
class DeliveryReport:
    sent: int = 0
    skipped: int = 0
    retried: int = 0
    failed: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.skipped + self.retried + self.failed

    def count(self, outcome: DeliveryOutcome) -> None:
        field = "retried" if outcome.status == "pending" else outcome.status
        setattr(self, field, getattr(self, field) + 1)


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(BASE_DELAY_SECONDS * 2 ** max(attempts - 1, 0), MAX_DELAY_SECONDS))


def deliver_due(deps: Deps, limit: int = 10) -> DeliveryReport:
    """One small batch (a crash holds back at most this many until their lease ends). The
    outcomes are recorded together at the end of the batch (one write on SQLite); a crash
    before that sends the batch's mails again after the lease (delivery is at least once, with
    a stable Message-ID)."""
    report = DeliveryReport()
    outcomes: list[DeliveryOutcome] = []
    try:
        for notification in deps.store.claim_notifications(
            deps.now(), limit, deps.settings.outbox_lease_seconds
        ):
            outcome = _deliver(deps, notification)
            outcomes.append(outcome)
            report.count(outcome)
    finally:
        if outcomes:
            deps.store.finish_notifications(outcomes)
    return report


def _deliver(deps: Deps, notification: Notification) -> DeliveryOutcome:
    """Render and send one notification; what became of it."""
    nid = notification.notification_id
    try:
        message = emails.render(deps, notification)
        if message is None:
            return DeliveryOutcome(nid, "skipped")
        deps.mailer.send(message)
    except MailError as exc:
        if exc.permanent or notification.attempts >= MAX_ATTEMPTS:
            log.warning("notification %s failed for good: %s", nid, exc)
            return DeliveryOutcome(nid, "failed", None, str(exc)[:500])
        retry_at = deps.now() + backoff(notification.attempts)
        return DeliveryOutcome(nid, "pending", retry_at, str(exc)[:500])
    except Exception as exc:  # a rendering bug must not stop the other notifications
        log.exception("notification %s could not be rendered", nid)
        retry_at = deps.now() + backoff(notification.attempts)
        return DeliveryOutcome(nid, "pending", retry_at, repr(exc)[:500])
    return DeliveryOutcome(nid, "sent")


def deliver_all(
    deps: Deps, rounds: int = 100, keep_going: Callable[[], bool] = lambda: True
) -> DeliveryReport:
    """Deliver batch after batch until nothing more is due now, `rounds` batches were sent, or
    `keep_going()` says stop (a Lambda's remaining time)."""
    total = DeliveryReport()
    for _ in range(rounds):
        if not keep_going():
            break
        report = deliver_due(deps)
        for field in ("sent", "skipped", "retried", "failed"):
            setattr(total, field, getattr(total, field) + getattr(report, field))
        if report.handled == 0:
            break
    return total
