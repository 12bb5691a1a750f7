"""OutboxStore on SQLite: the notification outbox (the other roles queue into it in their own
transactions, `db.notify`) and the e-mail subscriptions it is delivered to."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from skillsession.adapters.store.sqlite import rows
from skillsession.adapters.store.sqlite.db import Database, notify
from skillsession.domain.model import DeliveryOutcome, Notification, OutboxSummary, Subscription

UPSERT_SUBSCRIPTION = (
    rows.insert_sql("subscriptions", rows.SUBSCRIPTION_COLUMNS)
    + " ON CONFLICT (user_id) DO UPDATE SET email = excluded.email, "
    "status = excluded.status, token = excluded.token, created_at = excluded.created_at, "
    "confirm_token = excluded.confirm_token, provider_ref = excluded.provider_ref"
)


class SqliteOutbox:
    def __init__(self, database: Database):
        self._db = database

    def claim_notifications(
        self, now: datetime, limit: int, lease_seconds: int
    ) -> list[Notification]:
        leased_until = rows.ts(now + timedelta(seconds=lease_seconds))
        with self._db.tx() as db:
            due = db.execute(
                f"SELECT {rows.NOTIFICATION_COLUMNS} FROM notifications "
                "WHERE status = 'pending' AND next_attempt_at <= ? "
                "ORDER BY next_attempt_at LIMIT ?",
                (rows.ts(now), limit),
            ).fetchall()
            claimed = [rows.notification(r) for r in due]
            db.executemany(
                "UPDATE notifications SET next_attempt_at = ?, attempts = attempts + 1 "
                "WHERE notification_id = ?",
                [(leased_until, n.notification_id) for n in claimed],
            )
        return [
            replace(n, attempts=n.attempts + 1, next_attempt_at=rows.dt(leased_until))
            for n in claimed
        ]

    def finish_notifications(self, outcomes: list[DeliveryOutcome]) -> None:
        """One transaction for the lot. A verification code's payload becomes `{}` once it is
        no longer going to be sent."""
        with self._db.tx() as db:
            db.executemany(
                "UPDATE notifications SET status = ?, next_attempt_at = ?, last_error = ?, "
                "payload = CASE WHEN kind = 'verification_code' AND ? != 'pending' "
                "THEN '{}' ELSE payload END WHERE notification_id = ?",
                [
                    (o.status, rows.ts(o.next_attempt_at), o.error, o.status, o.notification_id)
                    for o in outcomes
                ],
            )

    def outbox_summary(self, now: datetime, recent_failures: int) -> OutboxSummary:
        """Three counts over the partial indexes of pending and failed entries."""
        due, waiting = self._db.one(
            "SELECT count(*) FILTER (WHERE next_attempt_at <= ?), "
            "count(*) FILTER (WHERE next_attempt_at > ?) FROM notifications "
            "WHERE status = 'pending' AND next_attempt_at IS NOT NULL",
            (rows.ts(now), rows.ts(now)),
        )
        (failed,) = self._db.one("SELECT count(*) FROM notifications WHERE status = 'failed'")
        recent = self._db.conn.execute(
            f"SELECT {rows.NOTIFICATION_COLUMNS} FROM notifications WHERE status = 'failed' "
            "ORDER BY notification_id DESC LIMIT ?",
            (recent_failures,),
        ).fetchall()
        return OutboxSummary(due, waiting, failed, [rows.notification(r) for r in recent])

    def outbox_backlog(self, limit: int) -> tuple[int, datetime | None]:
        count, oldest = self._db.one(
            "SELECT count(*), min(created_at) FROM (SELECT created_at FROM notifications "
            "WHERE status = 'pending' LIMIT ?)",
            (limit,),
        )
        return count, rows.dt(oldest) if oldest is not None else None

    def get_subscription(self, user_id: str) -> Subscription | None:
        row = self._db.one(
            f"SELECT {rows.SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE user_id = ?", (user_id,)
        )
        return rows.subscription(row) if row else None

    def get_subscription_by_token(self, token: str) -> Subscription | None:
        row = self._db.one(
            f"SELECT {rows.SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE token = ?", (token,)
        )
        return rows.subscription(row) if row else None

    def save_subscription(
        self, subscription: Subscription, notification: Notification | None
    ) -> None:
        with self._db.tx() as db:
            db.execute(UPSERT_SUBSCRIPTION, rows.subscription_params(subscription))
            if notification is not None:
                notify(db, notification)

    def confirm_subscription(self, user_id: str, confirm_token: str) -> Subscription | None:
        with self._db.tx() as db:
            row = db.execute(
                "UPDATE subscriptions SET status = 'confirmed' WHERE user_id = ? "
                "AND confirm_token = ? AND status != 'unsubscribed' "
                f"RETURNING {rows.SUBSCRIPTION_COLUMNS}",
                (user_id, confirm_token),
            ).fetchone()
        return rows.subscription(row) if row else None

    def end_subscription(self, user_id: str) -> Subscription | None:
        with self._db.tx() as db:
            row = db.execute(
                "UPDATE subscriptions SET status = 'unsubscribed', confirm_token = NULL "
                f"WHERE user_id = ? RETURNING {rows.SUBSCRIPTION_COLUMNS}",
                (user_id,),
            ).fetchone()
        return rows.subscription(row) if row else None

    def keep_subscription_ref(self, user_id: str, email: str, provider_ref: str) -> None:
        with self._db.tx() as db:
            db.execute(
                "UPDATE subscriptions SET provider_ref = ? "
                "WHERE user_id = ? AND email = ? AND provider_ref IS NULL",
                (provider_ref, user_id, email),
            )
