"""AWS Lambda entry point of the scheduled job: expire due slots and requests, then deliver the
notification outbox, then report the outbox backlog (pending notifications, the oldest one's
age) to the metrics port (CloudWatch, watched by the template's alarms). Returns the counts (visible in the invocation result and logs).

It does not migrate: the table exists (CloudFormation, or `skillsession migrate`), and the
function's policy allows data calls only, not DescribeTimeToLive or CreateTable. Mail is
delivered batch after batch until nothing is due or the invocation nears its timeout; what is
left goes out on the next run."""

from __future__ import annotations

from typing import Any

_deps: Any = None
MAX_BATCHES = 1000  # of outbox.deliver_due's batches: up to 10,000 mails a run
RESERVE_MS = 15_000  # stop delivering this long before the function's timeout


def _remaining_ms(context: Any) -> int:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return remaining() if remaining is not None else RESERVE_MS + 1


def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    global _deps
    from skillsession.service import backlog, expiry, outbox

    if _deps is None:
        from skillsession import bootstrap

        _deps = bootstrap.build()
    result = expiry.expire_slots(_deps)
    report = outbox.deliver_all(
        _deps, rounds=MAX_BATCHES, keep_going=lambda: _remaining_ms(context) > RESERVE_MS
    )
    waiting = backlog.report(_deps)
    return {
        "outbox_pending": waiting.pending,
        "outbox_oldest_age_seconds": int(waiting.oldest_age_seconds),
        "slots_expired": result.slots_expired,
        "bookings_expired": result.bookings_expired,
        "bookings_completed": result.bookings_completed,
        "accounts_deleted": result.accounts_deleted,
        "mail_sent": report.sent,
        "mail_retried": report.retried,
        "mail_failed": report.failed,
    }
