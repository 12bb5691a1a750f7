"""The notification outbox in memory (the other roles queue into it with `state.notify` inside
their own atomic methods; delivery claims and finishes here), and the e-mail subscriptions."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta

from skillsession.adapters.store.memory.state import StateRole, atomic
from skillsession.domain.model import (
    DeliveryOutcome,
    Notification,
    OutboxSummary,
    Subscription,
    SubscriptionStatus,
)


class MemoryOutbox(StateRole):
    @atomic
    def claim_notifications(
        self, now: datetime, limit: int, lease_seconds: int
    ) -> list[Notification]:
        due = [
            n
            for n in self.state.notifications.values()
            if n.status == "pending" and n.next_attempt_at is not None and n.next_attempt_at <= now
        ]
        claimed = sorted(due, key=lambda n: n.next_attempt_at)[:limit]
        for notification in claimed:
            notification.next_attempt_at = now + timedelta(seconds=lease_seconds)
            notification.attempts += 1
        return claimed

    @atomic
    def finish_notifications(self, outcomes: list[DeliveryOutcome]) -> None:
        for outcome in outcomes:
            notification = self.state.notifications.get(outcome.notification_id)
            if notification is None:
                continue
            notification.status = outcome.status
            notification.next_attempt_at = outcome.next_attempt_at
            notification.last_error = outcome.error
            if notification.kind == "verification_code" and outcome.status != "pending":
                notification.payload = {}  # the code is not kept once it will not be sent

    @atomic
    def outbox_summary(self, now: datetime, recent_failures: int) -> OutboxSummary:
        summary = OutboxSummary()
        failed = []
        for n in self.state.notifications.values():
            if n.status == "failed":
                failed.append(n)
            elif n.status == "pending" and n.next_attempt_at is not None:
                if n.next_attempt_at <= now:
                    summary.due += 1
                else:
                    summary.waiting += 1
        summary.failed = len(failed)
        failed.sort(key=lambda n: n.notification_id, reverse=True)
        summary.recent_failures = failed[:recent_failures]
        return summary

    @atomic
    def outbox_backlog(self, limit: int) -> tuple[int, datetime | None]:
        waiting = [n for n in self.state.notifications.values() if n.status == "pending"][:limit]
        return len(waiting), min((n.created_at for n in waiting if n.created_at), default=None)

    @atomic
    def get_subscription(self, user_id: str) -> Subscription | None:
        return self.state.subscriptions.get(user_id)

    @atomic
    def get_subscription_by_token(self, token: str) -> Subscription | None:
        return next((s for s in self.state.subscriptions.values() if s.token == token), None)

    @atomic
    def save_subscription(
        self, subscription: Subscription, notification: Notification | None
    ) -> None:
        self.state.subscriptions[subscription.user_id] = copy.deepcopy(subscription)
        if notification is not None:
            self.state.notify(notification)

    @atomic
    def confirm_subscription(self, user_id: str, confirm_token: str) -> Subscription | None:
        found = self.state.subscriptions.get(user_id)
        if (
            found is None
            or found.confirm_token is None
            or found.confirm_token != confirm_token
            or found.status == SubscriptionStatus.UNSUBSCRIBED
        ):
            return None
        found.status = SubscriptionStatus.CONFIRMED
        return found

    @atomic
    def end_subscription(self, user_id: str) -> Subscription | None:
        found = self.state.subscriptions.get(user_id)
        if found is None:
            return None
        found.status, found.confirm_token = SubscriptionStatus.UNSUBSCRIBED, None
        return found

    @atomic
    def keep_subscription_ref(self, user_id: str, email: str, provider_ref: str) -> None:
        found = self.state.subscriptions.get(user_id)
        if found is not None and found.email == email and found.provider_ref is None:
            found.provider_ref = provider_ref
