"""Reading the caller's e-mail subscription (`GET /email-subscription`): each state as it stands
in the store, or in a mailer that keeps the subscriptions itself (SNS); a read mails nothing."""

from __future__ import annotations

from skillsession.domain.model import Subscription, SubscriptionStatus
from skillsession.ports import KeptSubscription
from skillsession.service import outbox, subscriptions


def test_each_state_of_the_stored_subscription_and_a_read_changes_nothing(deps, tutor):
    assert subscriptions.current(deps, tutor) == (tutor.email, "none")
    assert outbox.deliver_all(deps).handled == 0  # nothing queued by the read
    assert deps.stores.outbox.get_subscription(tutor.user_id) is None

    asked = subscriptions.subscribe(deps, tutor)
    assert subscriptions.current(deps, tutor) == (tutor.email, "pending_confirmation")
    subscriptions.confirm(deps, asked.confirm_token)
    assert subscriptions.current(deps, tutor) == (tutor.email, "confirmed")
    subscriptions.unsubscribe(deps, asked.token)  # the mail's link
    assert subscriptions.current(deps, tutor) == (tutor.email, "unsubscribed")
    assert subscriptions.current(deps, tutor) == (tutor.email, "unsubscribed")


class KeepingMailer:
    """Like SNS: it mails its own confirmation link, knows the status (None: it has none), and
    answers its own id for a subscription ("ref") for us to keep and hand back."""

    backend_name = "provider"

    def __init__(self):
        self.status: str | None = "pending_confirmation"
        self.calls: list[tuple[str, str | None]] = []

    def send(self, message):
        pass

    def subscribe(self, email, ref):
        self.calls.append(("subscribe", ref))
        return KeptSubscription(self.status, f"ref:{email}")

    def subscription_status(self, email, ref):
        self.calls.append(("status", ref))
        return KeptSubscription(self.status, ref or f"found:{email}")

    def unsubscribe(self, email, ref):
        self.calls.append(("unsubscribe", ref))
        self.status = None


def test_a_mailer_that_keeps_subscriptions_tells_their_state(deps, tutor, student):
    deps.mailer = KeepingMailer()
    assert subscriptions.current(deps, tutor) == (tutor.email, "none")
    subscriptions.subscribe(deps, tutor)
    assert subscriptions.current(deps, tutor) == (tutor.email, "pending_confirmation")
    deps.mailer.status = "confirmed"  # its link was followed: the store does not know
    assert subscriptions.current(deps, tutor) == (tutor.email, "confirmed")
    deps.mailer.status = None  # gone (lapsed, or ended by its own link) while stored pending
    assert subscriptions.current(deps, tutor) == (tutor.email, "none")

    deps.mailer.status = "confirmed"  # SNS on moto, or an address confirmed before
    subscriptions.subscribe(deps, student)
    deps.mailer.status = None  # ended through the mailer's own unsubscribe link
    assert subscriptions.current(deps, student) == (student.email, "unsubscribed")


def test_the_mailers_ref_is_kept_and_handed_back_on_every_call(deps, tutor):
    """The mailer's id for the subscription (SNS: its ARN) is stored with ours, so that the
    mailer reads that one subscription instead of looking the address up among all of them;
    "send the link again" asks the mailer each time (it decides what a pending one needs)."""
    deps.mailer = KeepingMailer()
    ref = f"ref:{tutor.email}"
    subscriptions.subscribe(deps, tutor)
    assert deps.stores.outbox.get_subscription(tutor.user_id).provider_ref == ref
    assert subscriptions.current(deps, tutor) == (tutor.email, "pending_confirmation")
    again = subscriptions.subscribe(deps, tutor)  # "send the link again"
    assert again.provider_ref == ref
    subscriptions.unsubscribe(deps, again.token)
    assert deps.mailer.calls == [
        ("subscribe", None),
        ("status", ref),
        ("subscribe", ref),
        ("unsubscribe", ref),
    ]


def test_a_subscription_kept_before_refs_were_gets_its_ref_on_the_first_read(deps, tutor):
    deps.mailer = KeepingMailer()
    deps.mailer.status = "confirmed"
    old = Subscription(
        tutor.user_id, tutor.email, SubscriptionStatus.CONFIRMED, "t0k3n", deps.now()
    )
    deps.stores.outbox.save_subscription(old, None)
    assert subscriptions.current(deps, tutor) == (tutor.email, "confirmed")
    found = f"found:{tutor.email}"
    assert deps.stores.outbox.get_subscription(tutor.user_id).provider_ref == found
    assert subscriptions.current(deps, tutor) == (tutor.email, "confirmed")
    assert deps.mailer.calls == [("status", None), ("status", found)]
