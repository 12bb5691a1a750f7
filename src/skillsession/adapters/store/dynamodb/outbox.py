"""The outbox on DynamoDB (NOTE#<id>; GSI3 OUTBOX#<shard> the pending entries by due time,
OUTBOXFAILED#<shard> the failed ones) and the e-mail subscriptions (USER#<id> SUB; GSI2 by
confirm token)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from skillsession.adapters.store.dynamodb import items
from skillsession.adapters.store.dynamodb.calls import Expr, Table, error_code
from skillsession.adapters.store.dynamodb.items import DUE_KEYS, Item, decode, pad, ts
from skillsession.adapters.store.dynamodb.schema import SHARDS
from skillsession.domain.model import (
    DeliveryOutcome,
    Notification,
    OutboxSummary,
    Subscription,
    SubscriptionStatus,
)


class DynamoOutbox:
    def __init__(self, db: Table):
        self.db = db

    def claim_notifications(
        self, now: datetime, limit: int, lease_seconds: int
    ) -> list[Notification]:
        """Due entries from the sharded outbox index, each taken by an UpdateItem conditioned
        on the `next_attempt_at` the index showed: of two workers, one wins each entry."""
        db = self.db
        leased_until = ts(now) + lease_seconds
        claimed: list[Notification] = []
        for _ in range(3):  # a lost entry makes room for the next due one
            wanted = limit - len(claimed)
            due = db.due("OUTBOX", now, wanted)
            lost = 0
            for entry in due:
                e = Expr()
                ident = entry["notification_id"]
                update = e.update(
                    {
                        "next_attempt_at": leased_until,
                        **items.outbox_keys(ident, "pending", leased_until),
                    },
                    add={"attempts": 1},
                )
                condition = (
                    f"{e.n('status')} = {e.v('pending')} "
                    f"AND {e.n('next_attempt_at')} = {e.v(entry['next_attempt_at'])}"
                )
                op = db.update(items.note_key(ident), update, e, condition)
                answer = db.try_update(op, ReturnValues="ALL_NEW")
                if answer is None:
                    lost += 1
                else:
                    claimed.append(items.notification(decode(answer["Attributes"])))
            if not lost or len(due) < wanted:
                break
        return claimed

    def finish_notifications(self, outcomes: list[DeliveryOutcome]) -> None:
        """One UpdateItem each (`_finish`): no transaction, each outcome stands on its own."""
        for outcome in outcomes:
            self._finish(outcome)

    def _finish(self, outcome: DeliveryOutcome) -> None:
        """One UpdateItem. Once a verification code will not be sent any more, its copy in the
        outbox is dropped (payload `{}`): the first update is conditioned on another kind, and
        only a code's entry takes a second one."""
        db = self.db
        notification_id, status = outcome.notification_id, outcome.status
        due = ts(outcome.next_attempt_at)
        outbox = items.outbox_keys(notification_id, status, due)
        sets = {"status": status, "next_attempt_at": due, "last_error": outcome.error, **outbox}
        for forget_payload in (False, True):
            e = Expr()
            changes = {**sets, "payload": "{}"} if forget_payload else sets
            update = e.update(changes, remove=[k for k in DUE_KEYS if k not in outbox])
            condition = "attribute_exists(PK)"
            if status != "pending" and not forget_payload:
                condition += f" AND {e.n('kind')} <> {e.v('verification_code')}"
            op = db.update(
                items.note_key(notification_id), update, e, condition, return_old_on_failure=True
            )
            try:
                db.update_item(op)
                return
            except db.client_error as exc:
                if error_code(exc) != "ConditionalCheckFailedException":
                    raise
                if not exc.response.get("Item"):
                    return  # no such notification

    def outbox_summary(self, now: datetime, recent_failures: int) -> OutboxSummary:
        """Counting Queries on the outbox's GSI3 partitions (pending entries split at `now`,
        failed ones), and the newest failed entries of each shard."""
        db = self.db
        cutoff = pad(ts(now) + 1)
        summary = OutboxSummary()
        failures: list[Item] = []
        for number in range(SHARDS):
            e = Expr()
            pk = f"{e.n('GSI3PK')} = {e.v(f'OUTBOX#{number}')}"
            summary.due += db.count(f"{pk} AND {e.n('GSI3SK')} < {e.v(cutoff)}", e)
            e = Expr()
            pk = f"{e.n('GSI3PK')} = {e.v(f'OUTBOX#{number}')}"
            summary.waiting += db.count(f"{pk} AND {e.n('GSI3SK')} >= {e.v(cutoff)}", e)
            e = Expr()
            failed = f"{e.n('GSI3PK')} = {e.v(f'OUTBOXFAILED#{number}')}"
            summary.failed += db.count(failed, e)
            if recent_failures > 0:
                newest = db.query(failed, e, index="GSI3", page_size=recent_failures, forward=False)
                failures += itertools.islice(newest, recent_failures)
        failures.sort(key=lambda i: i["notification_id"], reverse=True)
        summary.recent_failures = [items.notification(i) for i in failures[:recent_failures]]
        return summary

    def outbox_backlog(self, limit: int) -> tuple[int, datetime | None]:
        """Every shard of the outbox index, only `created_at` read (a GSI: a moment behind)."""
        count, oldest = 0, None
        for number in range(SHARDS):
            e = Expr()
            condition = f"{e.n('GSI3PK')} = {e.v(f'OUTBOX#{number}')}"
            entries = self.db.query(condition, e, index="GSI3", projection=e.n("created_at"))
            for entry in itertools.islice(entries, limit - count):
                count += 1
                created = entry.get("created_at")
                oldest = created if oldest is None or created < oldest else oldest
        return count, datetime.fromtimestamp(oldest, UTC) if oldest is not None else None

    def get_subscription(self, user_id: str) -> Subscription | None:
        found = self.db.get(items.subscription_key(user_id))
        return items.subscription(found) if found else None

    def get_subscription_by_token(self, token: str) -> Subscription | None:
        e = Expr()
        condition = f"{e.n('GSI2PK')} = {e.v(f'SUBTOKEN#{token}')}"
        found = next(self.db.query(condition, e, index="GSI2", page_size=1), None)
        return items.subscription(found) if found else None

    def save_subscription(
        self, subscription: Subscription, notification: Notification | None
    ) -> None:
        ops = [self.db.put(items.subscription_item(subscription))]
        if notification is not None:
            ops.append(self.db.put(items.note_item(notification, datetime.now(UTC))))
        self.db.transact(ops)

    def confirm_subscription(self, user_id: str, confirm_token: str) -> Subscription | None:
        """One UpdateItem, conditioned on the token and a status other than unsubscribed."""
        e = Expr()
        condition = (
            f"{e.n('confirm_token')} = {e.v(confirm_token)} "
            f"AND {e.n('status')} <> {e.v(SubscriptionStatus.UNSUBSCRIBED.value)}"
        )
        update = e.update({"status": SubscriptionStatus.CONFIRMED.value})
        op = self.db.update(items.subscription_key(user_id), update, e, condition)
        answer = self.db.try_update(op, ReturnValues="ALL_NEW")
        return items.subscription(decode(answer["Attributes"])) if answer else None

    def end_subscription(self, user_id: str) -> Subscription | None:
        e = Expr()
        update = e.update(
            {"status": SubscriptionStatus.UNSUBSCRIBED.value}, remove=["confirm_token"]
        )
        op = self.db.update(items.subscription_key(user_id), update, e, "attribute_exists(PK)")
        answer = self.db.try_update(op, ReturnValues="ALL_NEW")
        return items.subscription(decode(answer["Attributes"])) if answer else None

    def keep_subscription_ref(self, user_id: str, email: str, provider_ref: str) -> None:
        """One UpdateItem, conditioned on the e-mail and on no ref kept yet."""
        e = Expr()
        condition = f"{e.n('email')} = {e.v(email)} AND attribute_not_exists({e.n('provider_ref')})"
        update = e.update({"provider_ref": provider_ref})
        self.db.try_update(self.db.update(items.subscription_key(user_id), update, e, condition))
