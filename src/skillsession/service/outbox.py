"""Delivering the outbox: claim due notifications, render, send, record, retry with backoff."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

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


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(BASE_DELAY_SECONDS * 2 ** max(attempts - 1, 0), MAX_DELAY_SECONDS))


def deliver_due(deps: Deps, limit: int = 10) -> DeliveryReport:
    """One small batch (a crash holds back at most this many until their lease ends)."""
    report = DeliveryReport()
    now = deps.now()
    for notification in deps.store.claim_notifications(
        now, limit, deps.settings.outbox_lease_seconds
    ):
        nid = notification.notification_id
        try:
            message = emails.render(deps, notification)
            if message is None:
                deps.store.finish_notification(nid, "skipped", None, None)
                report.skipped += 1
                continue
            deps.mailer.send(message)
        except MailError as exc:
            if exc.permanent or notification.attempts >= MAX_ATTEMPTS:
                deps.store.finish_notification(nid, "failed", None, str(exc)[:500])
                report.failed += 1
                log.warning("notification %s failed for good: %s", nid, exc)
            else:
                retry_at = deps.now() + backoff(notification.attempts)
                deps.store.finish_notification(nid, "pending", retry_at, str(exc)[:500])
                report.retried += 1
            continue
        except Exception as exc:  # a rendering bug must not stop the other notifications
            log.exception("notification %s could not be rendered", nid)
            retry_at = deps.now() + backoff(notification.attempts)
            deps.store.finish_notification(nid, "pending", retry_at, repr(exc)[:500])
            report.retried += 1
            continue
        deps.store.finish_notification(nid, "sent", None, None)
        report.sent += 1
    return report


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
