"""Outbox delivery through SES and SNS failures, on moto with the DynamoDB store: a throttled
send is retried later, a rejected address fails for good without holding back the others, and
nothing is lost: every notification ends sent (each once) or failed with its reason; none stays
pending. Faults are injected on the mailer's own client by botocore event hooks (a hook's answer
replaces the HTTP exchange, so botocore's retries do not see it)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import boto3
import pytest
from factories import BASE
from moto.core import DEFAULT_ACCOUNT_ID
from moto_server import REGION, dynamodb_store, endpoint_url

import store_peek
from skillsession.domain.model import Notification
from skillsession.service import outbox
from skillsession.service.deps import Deps
from skillsession.settings import Settings

REJECTED = "bounce@example.com"
ADDRESSES = ["ada@example.com", "bob@example.com", REJECTED, "cy@example.com"]
# service -> (operation, the throttling error code, the rejection error code)
FAULTS = {
    "ses": ("SendRawEmail", "Throttling", "MessageRejected"),
    "sns": ("Publish", "Throttled", "InvalidParameter"),
}


class Clock:
    def __init__(self):
        self.current = BASE

    def now(self):
        return self.current


class _Http:
    def __init__(self, status: int):
        self.status_code = status
        self.headers: dict[str, str] = {}


def _error(code: str, message: str) -> dict:
    return {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": 400},
    }


def _mailer(service: str):
    url = endpoint_url()
    if service == "ses":
        from skillsession.adapters.mail.ses import SesMailer

        boto3.client("ses", region_name=REGION, endpoint_url=url).verify_email_identity(
            EmailAddress="no-reply@example.com"
        )
        return SesMailer.from_url(f"ses://no-reply@example.com?region={REGION}&endpoint_url={url}")
    from skillsession.adapters.mail.sns import SnsMailer

    sns = boto3.client("sns", region_name=REGION, endpoint_url=url)
    arn = sns.create_topic(Name=f"outbox-{uuid.uuid4().hex[:10]}")["TopicArn"]
    return SnsMailer.from_url(f"sns://{arn}?region={REGION}&endpoint_url={url}")


def _delivered(service: str, mailer) -> list[str]:
    """The recipients of what reached moto, one entry per message."""
    if service == "ses":
        from moto.ses.models import ses_backends

        sent = ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages
        # moto adds the To header's addresses to the Destinations given: one entry per address
        return [d for m in sent if mailer.sender in str(m.source) for d in set(m.destinations)]
    from moto.sns.models import sns_backends

    topic = sns_backends[DEFAULT_ACCOUNT_ID][REGION].topics[mailer.topic_arn]
    return [n[3]["recipient"]["Value"] for n in topic.sent_notifications]


@pytest.mark.parametrize("service", sorted(FAULTS))
def test_throttled_and_rejected_sends_lose_nothing(service, tmp_path, monkeypatch):
    operation, throttled, rejected = FAULTS[service]
    monkeypatch.setenv("SKILLSESSION_DATA_DIR", str(tmp_path))
    store = dynamodb_store("outbox-faults")
    store.admin.migrate()
    mailer = _mailer(service)
    before = len(_delivered(service, mailer))
    clock = Clock()
    deps = Deps(Settings(), store, None, mailer, None, clock=clock)

    throttles = iter(range(3))  # the first three sends are throttled

    def inject(params, **kwargs):
        body = params["body"]
        text = body.decode() if isinstance(body, bytes) else str(body)
        if REJECTED.replace("@", "%40") in text or REJECTED in text:
            return _Http(400), _error(rejected, "address rejected")
        if next(throttles, None) is not None:
            return _Http(400), _error(throttled, "slow down")
        return None

    mailer.client.meta.events.register(f"before-call.*.{operation}", inject)
    notes = [
        Notification(
            notification_id=uuid.uuid4().hex,
            kind="verification_code",
            recipient_id=f"user-{n}",
            payload={"code": f"{n:06d}", "email": address},
            created_at=BASE,
            next_attempt_at=BASE,
        )
        for n, address in enumerate(ADDRESSES)
    ]
    store_peek.add_notifications(store, notes)

    first = outbox.deliver_all(deps)
    assert first.retried >= 1 and first.failed == 1
    for _ in range(5):  # later runs of the job, past each backoff
        clock.current += timedelta(hours=1)
        outbox.deliver_all(deps)
    final = {
        n.notification_id: store_peek.get_notification(store, n.notification_id) for n in notes
    }
    statuses = {n.payload["email"]: final[n.notification_id].status for n in notes}
    assert statuses == {a: ("failed" if a == REJECTED else "sent") for a in ADDRESSES}
    assert "rejected" in final[notes[ADDRESSES.index(REJECTED)].notification_id].last_error
    throttled_once = [f for f in final.values() if f.status == "sent" and f.attempts > 1]
    assert throttled_once  # some were retried after a throttle, and then sent
    assert store.outbox.outbox_backlog(100) == (0, None)
    delivered = _delivered(service, mailer)[before:]
    assert sorted(delivered) == sorted(a for a in ADDRESSES if a != REJECTED)  # each once
