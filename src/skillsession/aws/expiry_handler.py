"""AWS Lambda entry point of the scheduled job: expire due slots and requests, then deliver the
notification outbox once. Returns the counts (visible in the invocation result and logs)."""

from __future__ import annotations

from typing import Any

_deps: Any = None


def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    global _deps
    from skillsession.service import expiry, outbox

    if _deps is None:
        from skillsession import bootstrap

        _deps = bootstrap.build()
        _deps.store.migrate()
    result = expiry.expire_slots(_deps)
    report = outbox.deliver_due(_deps, limit=100)
    return {
        "slots_expired": result.slots_expired,
        "bookings_expired": result.bookings_expired,
        "bookings_completed": result.bookings_completed,
        "mail_sent": report.sent,
        "mail_retried": report.retried,
        "mail_failed": report.failed,
    }
