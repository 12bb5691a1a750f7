"""E-mail subscriptions to booking notifications (the original's SNS e-mail subscriptions).

Two links, two single-purpose tokens: the confirmation link carries the subscription's
`confirm_token` (`<user_id>.<random>`, made when a subscription is asked for and dropped when it
ends, so an old confirmation mail cannot subscribe again an address that unsubscribed later);
the unsubscribe link carries `token`, which never changes (unsubscribing twice does no harm,
and old mails' links keep working, as RFC 8058 wants). A GET on either link only shows what a
POST would do; the POST acts (mail scanners follow GET links).
"""

from __future__ import annotations

import secrets

from skillsession.domain.accounts import normalise_email
from skillsession.domain.errors import NotFound
from skillsession.domain.ids import new_id
from skillsession.domain.model import Notification, Subscription, SubscriptionStatus
from skillsession.ports import Identity, SubscriptionKeeper
from skillsession.service.deps import Deps

GONE = "this link is no longer valid"


def _keeper(deps: Deps) -> SubscriptionKeeper | None:
    """The mailer, when it keeps the e-mail subscriptions itself (SNS); None when the store's
    record is all there is (files, SMTP, SES: the service mails its own links)."""
    return deps.mailer if hasattr(deps.mailer, "subscribe") else None


def subscribe(deps: Deps, identity: Identity) -> Subscription:
    keeper = _keeper(deps)
    if keeper is not None:
        return _subscribe_with_provider(deps, keeper, identity)
    existing = deps.stores.outbox.get_subscription(identity.user_id)
    if existing is not None and existing.status == SubscriptionStatus.CONFIRMED:
        return existing
    now = deps.now()
    pending = existing is not None and existing.status == SubscriptionStatus.PENDING_CONFIRMATION
    subscription = Subscription(
        user_id=identity.user_id,
        email=normalise_email(identity.email),
        status=SubscriptionStatus.PENDING_CONFIRMATION,
        token=existing.token if existing else secrets.token_urlsafe(32),
        created_at=existing.created_at if existing else now,
        # a second request while one is open keeps its link: both mails work
        confirm_token=(existing.confirm_token if pending and existing.confirm_token else None)
        or _confirm_token(identity.user_id),
    )
    notification = Notification(
        notification_id=new_id(),
        kind="subscription_confirmation",
        recipient_id=identity.user_id,
        payload={"email": subscription.email},
        created_at=now,
        next_attempt_at=now,
    )
    deps.stores.outbox.save_subscription(subscription, notification)
    return subscription


NONE = "none"  # the state of an address whose subscription was never asked for


def current(deps: Deps, identity: Identity) -> tuple[str, str]:
    """(e-mail, status) of the caller's subscription as it stands: a SubscriptionStatus value,
    or NONE (never asked for, or a mailer's pending one lapsed). Only reads: nothing is
    subscribed or mailed. Where the mailer keeps the subscriptions (SNS), it knows whether its
    confirmation link was followed, or its own unsubscribe link."""
    found = deps.stores.outbox.get_subscription(identity.user_id)
    if found is None:
        return normalise_email(identity.email), NONE
    status = found.status
    keeper = _keeper(deps)
    if status != SubscriptionStatus.UNSUBSCRIBED and keeper is not None:
        kept = keeper.subscription_status(found.email, found.provider_ref)
        if found.provider_ref is None and kept.ref is not None:  # kept before refs were
            deps.stores.outbox.keep_subscription_ref(found.user_id, found.email, kept.ref)
        if kept.status is not None:
            status = SubscriptionStatus(kept.status)
        elif status == SubscriptionStatus.CONFIRMED:  # ended through the mailer's own link
            status = SubscriptionStatus.UNSUBSCRIBED
        else:  # stored pending: lapsed unconfirmed, or ended after a confirmation we never saw
            return found.email, NONE
    return found.email, status.value


MAX_TOKEN_LENGTH = 200  # a link's token given back (`token`, `confirm_token`), at most


def _confirm_token(user_id: str) -> str:
    return f"{user_id}.{secrets.token_urlsafe(24)}"


def _confirm_token_user(token: str) -> str:
    """The user id a `_confirm_token` names ("" when it names none)."""
    return token.rpartition(".")[0]


def _subscribe_with_provider(
    deps: Deps, keeper: SubscriptionKeeper, identity: Identity
) -> Subscription:
    """The mailer keeps the subscriptions (SNS: an e-mail subscription with a filter policy);
    it mails its own confirmation link (again, while one is pending), the status comes from
    it, and its own id for the subscription is kept with ours for the next call."""
    existing = deps.stores.outbox.get_subscription(identity.user_id)
    email = normalise_email(identity.email)
    ref = existing.provider_ref if existing is not None and existing.email == email else None
    kept = keeper.subscribe(email, ref)
    subscription = Subscription(
        user_id=identity.user_id,
        email=email,
        status=SubscriptionStatus(kept.status or SubscriptionStatus.PENDING_CONFIRMATION),
        token=existing.token if existing else secrets.token_urlsafe(32),
        created_at=existing.created_at if existing else deps.now(),
        provider_ref=kept.ref,
    )
    deps.stores.outbox.save_subscription(subscription, None)
    return subscription


def _gone() -> NotFound:
    return NotFound(GONE, code="subscription_not_found")


def confirmation(deps: Deps, token: str) -> Subscription:
    """What a confirmation link would confirm (the GET page); 404 for a link that no longer
    confirms anything."""
    user_id = _confirm_token_user(token)
    found = deps.stores.outbox.get_subscription(user_id) if user_id else None
    if (
        found is None
        or found.confirm_token is None
        or not secrets.compare_digest(found.confirm_token, token)
        or found.status == SubscriptionStatus.UNSUBSCRIBED
    ):
        raise _gone()
    return found


def confirm(deps: Deps, token: str) -> Subscription:
    user_id = _confirm_token_user(token)
    confirmed = deps.stores.outbox.confirm_subscription(user_id, token) if user_id else None
    if confirmed is None:
        raise _gone()
    return confirmed


def unsubscription(deps: Deps, token: str) -> Subscription:
    """What an unsubscribe link would end (the GET page); 404 for an unknown link."""
    found = deps.stores.outbox.get_subscription_by_token(token) if token else None
    if found is None:
        raise _gone()
    return found


def end_at_mailer(deps: Deps, user_id: str) -> None:
    """Where the mailer keeps the subscriptions (SNS), end the user's there (account deletion:
    the store's record goes with the account; the address must not stay with the mailer). A
    pending one cannot be ended there: SNS drops it unconfirmed within 48 hours."""
    keeper = _keeper(deps)
    if keeper is None:
        return  # the store's record is all there is: it goes with the account
    found = deps.stores.outbox.get_subscription(user_id)
    if found is not None:
        keeper.unsubscribe(found.email, found.provider_ref)


def unsubscribe(deps: Deps, token: str) -> Subscription:
    subscription = unsubscription(deps, token)
    keeper = _keeper(deps)
    if keeper is not None:
        keeper.unsubscribe(subscription.email, subscription.provider_ref)
    ended = deps.stores.outbox.end_subscription(subscription.user_id)
    if ended is None:
        raise _gone()
    return ended
