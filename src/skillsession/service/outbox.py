"""Delivering the outbox: claim due notifications, render, send, record, retry with backoff.

A notification gets `settings.outbox_max_attempts` tries. Each failed try that will be retried
is logged at warning with the time of the next one; the last, or a permanent failure, marks it
`failed` with its error and is logged at error. A notification that cannot even be rendered
fails the same way, and none of this holds up the others of the batch.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from skillsession.domain import local_time
from skillsession.domain.model import DeliveryOutcome, Notification
from skillsession.ports import MailError
from skillsession.service import emails
from skillsession.service.deps import Deps

log = logging.getLogger("skillsession.outbox")

BASE_DELAY_SECONDS = 5
MAX_DELAY_SECONDS = 3600
ERROR_CHARS = 500


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
        for notification in deps.stores.outbox.claim_notifications(
            deps.now(), limit, deps.settings.outbox_lease_seconds
        ):
            outcome = _deliver(deps, notification)
            outcomes.append(outcome)
            report.count(outcome)
    finally:
        if outcomes:
            deps.stores.outbox.finish_notifications(outcomes)
    return report


def _deliver(deps: Deps, notification: Notification) -> DeliveryOutcome:
    """Render and send one notification; what became of it."""
    nid, tries = notification.notification_id, notification.attempts
    if tries > deps.settings.outbox_max_attempts:  # claimed again and again, never finished
        return _give_up(notification, f"claimed {tries - 1} times without an outcome")
    try:
        message = emails.render(deps, notification)
    except Exception as exc:  # a rendering bug must not stop the other notifications
        return _failed_try(deps, notification, f"cannot render: {exc!r}", exc)
    if message is None:
        return DeliveryOutcome(nid, "skipped")
    try:
        deps.mailer.send(message)
    except MailError as exc:
        if exc.permanent:
            return _give_up(notification, str(exc))
        return _failed_try(deps, notification, str(exc))
    except Exception as exc:  # a mailer's bug: the same bounded tries
        return _failed_try(deps, notification, f"cannot send: {exc!r}", exc)
    return DeliveryOutcome(nid, "sent")


def _failed_try(
    deps: Deps, notification: Notification, error: str, exc: Exception | None = None
) -> DeliveryOutcome:
    """Retried later, or given up after the last try."""
    if notification.attempts >= deps.settings.outbox_max_attempts:
        return _give_up(notification, error, exc)
    return _retry(deps, notification, error[:ERROR_CHARS])


def _retry(deps: Deps, notification: Notification, error: str) -> DeliveryOutcome:
    retry_at = deps.now() + backoff(notification.attempts)
    log.warning(
        "notification %s (%s) not delivered, try %d of %d; next try at %s: %s",
        notification.notification_id,
        notification.kind,
        notification.attempts,
        deps.settings.outbox_max_attempts,
        local_time.iso(retry_at),
        error,
    )
    return DeliveryOutcome(notification.notification_id, "pending", retry_at, error)


def _give_up(
    notification: Notification, error: str, exc: Exception | None = None
) -> DeliveryOutcome:
    """Marked failed, logged at error (with the traceback of a rendering bug, once)."""
    error = error[:ERROR_CHARS]
    log.error(
        "notification %s (%s) failed for good after %d tries: %s",
        notification.notification_id,
        notification.kind,
        notification.attempts,
        error,
        exc_info=exc,
    )
    return DeliveryOutcome(notification.notification_id, "failed", None, error)


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


def summary(deps: Deps, recent_failures: int = 10):
    """How the outbox stands now (`OutboxStore.outbox_summary`)."""
    return deps.stores.outbox.outbox_summary(deps.now(), recent_failures)
