"""The expiry job (the original's expire_slots_cronjob)."""

from __future__ import annotations

from datetime import datetime

from skillsession.domain.bookings import booking_notification
from skillsession.domain.model import ExpiryResult
from skillsession.service import accounts
from skillsession.service.deps import Deps

BATCH = 500


def expire_slots(deps: Deps, now: datetime | None = None) -> ExpiryResult:
    """Run batches until nothing is due: time grows with what changes, not with table size."""
    queued_at = deps.now()  # mail is due now, even when the job runs "as of" another instant
    now = now or queued_at
    total = ExpiryResult()
    while True:
        result = deps.stores.bookings.expire(
            now,
            BATCH,
            lambda booking: booking_notification(
                "booking_expired", booking, booking.student_id, queued_at
            ),
        )
        total.slots_expired += result.slots_expired
        total.bookings_expired += result.bookings_expired
        total.bookings_completed += result.bookings_completed
        if max(result.slots_expired, result.bookings_expired, result.bookings_completed) < BATCH:
            break
    total.accounts_deleted = accounts.delete_unconfirmed(deps, now, BATCH)
    return total
