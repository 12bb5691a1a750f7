"""Reading the caller's e-mail subscription (`GET /email-subscription`): each state as it stands
in the store, or in a mailer that keeps the subscriptions itself (SNS); a read mails nothing."""

from __future__ import annotations

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
    """Like SNS: it mails its own confirmation link and knows the status (None: it has none)."""

    backend_name = "provider"

    def __init__(self):
        self.status: str | None = "pending_confirmation"

    def send(self, message):
        pass

    def subscribe(self, email):
        return self.status

    def subscription_status(self, email):
        return self.status

    def unsubscribe(self, email):
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
