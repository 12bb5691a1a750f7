"""E-mail subscriptions to booking notifications (the original's SNS e-mail subscriptions)."""

from __future__ import annotations

import secrets

from skillsession.domain.errors import NotFound
from skillsession.domain.ids import new_id
from skillsession.domain.model import Notification, Subscription, SubscriptionStatus
from skillsession.ports import Identity
from skillsession.service.deps import Deps


def subscribe(deps: Deps, identity: Identity) -> Subscription:
    if hasattr(deps.mailer, "subscribe"):
        return _subscribe_with_provider(deps, identity)
    existing = deps.store.get_subscription(identity.user_id)
    if existing is not None and existing.status == SubscriptionStatus.CONFIRMED:
        return existing
    now = deps.now()
    subscription = Subscription(
        user_id=identity.user_id,
        email=identity.email.lower(),
        status=SubscriptionStatus.PENDING_CONFIRMATION,
        token=existing.token if existing else secrets.token_urlsafe(32),
        created_at=existing.created_at if existing else now,
    )
    notification = Notification(
        notification_id=new_id(),
        kind="subscription_confirmation",
        recipient_id=identity.user_id,
        payload={"email": subscription.email},
        created_at=now,
        next_attempt_at=now,
    )
    deps.store.save_subscription(subscription, notification)
    return subscription


def _subscribe_with_provider(deps: Deps, identity: Identity) -> Subscription:
    """The mailer keeps the subscriptions (SNS: an e-mail subscription with a filter policy);
    it mails its own confirmation link, and the status comes from it."""
    existing = deps.store.get_subscription(identity.user_id)
    email = identity.email.lower()
    status = SubscriptionStatus(deps.mailer.subscribe(email))
    subscription = Subscription(
        user_id=identity.user_id,
        email=email,
        status=status,
        token=existing.token if existing else secrets.token_urlsafe(32),
        created_at=existing.created_at if existing else deps.now(),
    )
    deps.store.save_subscription(subscription, None)
    return subscription


def _by_token(deps: Deps, token: str) -> Subscription:
    subscription = deps.store.get_subscription_by_token(token) if token else None
    if subscription is None:
        raise NotFound("unknown or withdrawn link", code="subscription_not_found")
    return subscription


def confirm(deps: Deps, token: str) -> Subscription:
    subscription = _by_token(deps, token)
    deps.store.set_subscription_status(subscription.user_id, SubscriptionStatus.CONFIRMED)
    subscription.status = SubscriptionStatus.CONFIRMED
    return subscription


def unsubscribe(deps: Deps, token: str) -> Subscription:
    subscription = _by_token(deps, token)
    if hasattr(deps.mailer, "unsubscribe"):
        deps.mailer.unsubscribe(subscription.email)
    deps.store.set_subscription_status(subscription.user_id, SubscriptionStatus.UNSUBSCRIBED)
    subscription.status = SubscriptionStatus.UNSUBSCRIBED
    return subscription
