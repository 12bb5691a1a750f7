"""An outbox with one failed notification and one waiting for a later try."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import store_peek
from skillsession.domain.ids import new_id
from skillsession.domain.model import DeliveryOutcome, Notification


def failed_and_waiting(store) -> None:
    now = datetime.now(UTC)
    gone = Notification(new_id(), "test", "u", {}, now, 0, now - timedelta(minutes=1))
    later = Notification(new_id(), "test", "u", {}, now, 0, now + timedelta(hours=1))
    store_peek.add_notifications(store, [gone, later])
    [claimed] = store.outbox.claim_notifications(now, 10, 60)
    store.outbox.finish_notifications(
        [DeliveryOutcome(claimed.notification_id, "failed", None, "550 no such user")]
    )
