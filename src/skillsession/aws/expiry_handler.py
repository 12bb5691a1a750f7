"""AWS Lambda entry point of the scheduled job: expire due slots and requests, then deliver the
notification outbox once. Returns the counts (visible in the invocation result and logs).

It does not migrate: the table exists (CloudFormation, or `skillsession migrate`), and the
function's policy allows data calls only, not DescribeTimeToLive or CreateTable."""

from __future__ import annotations

from typing import Any

_deps: Any = None


def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    global _deps
    from skillsession.service import expiry, outbox

    if _deps is None:
        from skillsession import bootstrap

        _deps = bootstrap.build()
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
