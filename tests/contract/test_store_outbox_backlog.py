"""Store.outbox_backlog on every adapter: what waits for delivery, and since when."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from factories import BASE, make_notification

import store_peek
from skillsession.domain.model import DeliveryOutcome


def test_backlog_counts_what_waits_and_finds_the_oldest(store):
    assert store.outbox.outbox_backlog(100) == (0, None)
    old = make_notification(due=BASE - timedelta(hours=2))
    retried = replace(make_notification(due=BASE), next_attempt_at=BASE + timedelta(hours=1))
    sent = make_notification(due=BASE - timedelta(hours=5))
    store_peek.add_notifications(store, [old, retried, sent])
    assert store.outbox.outbox_backlog(100) == (3, BASE - timedelta(hours=5))

    store.outbox.claim_notifications(BASE, 10, 60)  # claimed: still waiting for its outcome
    store.outbox.finish_notifications([DeliveryOutcome(sent.notification_id, "sent")])
    assert store.outbox.outbox_backlog(100) == (2, BASE - timedelta(hours=2))
    store.outbox.finish_notifications([DeliveryOutcome(old.notification_id, "failed", error="x")])
    assert store.outbox.outbox_backlog(100) == (1, BASE)


def test_backlog_counts_up_to_the_limit(store):
    store_peek.add_notifications(
        store, [make_notification(due=BASE + timedelta(seconds=n)) for n in range(5)]
    )
    count, oldest = store.outbox.outbox_backlog(3)
    assert count == 3 and oldest is not None
