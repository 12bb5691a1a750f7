"""SnsMailer against moto: publishing with the `recipient` attribute, subscriptions with a filter
policy. moto confirms e-mail subscriptions at once (PendingConfirmation "false", a real ARN) and
sends no mail; the pending path of real SNS is covered with a fake client below."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import boto3
import httpx
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sns.models import sns_backends
from moto_server import REGION, dynamodb_store, endpoint_url

from skillsession.adapters.mail.sns import CONFIRMED, GONE, PENDING, SnsMailer, sns_subject
from skillsession.ports import MailError
from skillsession.service.mail_message import build_message


@pytest.fixture
def mailer() -> SnsMailer:
    sns = boto3.client("sns", region_name=REGION, endpoint_url=endpoint_url())
    arn = sns.create_topic(Name=f"mail-{uuid.uuid4().hex[:10]}")["TopicArn"]
    return SnsMailer.from_url(f"sns://{arn}?region={REGION}&endpoint_url={endpoint_url()}")


class SnsCalls:
    """Every SNS operation the mailer's client issues, via a botocore event hook (as
    tests/contract/test_store_dynamodb.py's Recorder counts DynamoDB's)."""

    def __init__(self, mailer: SnsMailer):
        self.params: list[tuple[str, dict]] = []
        mailer.client.meta.events.register("provide-client-params.sns.*", self._record)

    def _record(self, params: dict, model: Any, **_: Any) -> None:
        self.params.append((model.name, dict(params)))

    def during(self, action: Callable[[], Any], with_result: bool = False):
        start = len(self.params)
        result = action()
        counted = Counter(name for name, _ in self.params[start:])
        return (result, counted) if with_result else counted


def _sent(mailer: SnsMailer) -> list[tuple]:
    return list(
        sns_backends[DEFAULT_ACCOUNT_ID][REGION].topics[mailer.topic_arn].sent_notifications
    )


def test_publishes_plain_text_with_recipient_attribute(mailer: SnsMailer):
    message = build_message(
        to="Zoë <Zoe@Example.com>",
        sender="SkillSession <no-reply@example.com>",
        subject="Café – Zoë " + "x" * 200,
        text="Hallo Zoë ☕\n",
        message_id="sns-1",
    )
    message.add_attachment(b"BEGIN:VCALENDAR", maintype="text", subtype="calendar")
    mailer.send(message)
    [(_, body, subject, attributes, _)] = _sent(mailer)
    assert body.strip() == "Hallo Zoë ☕"
    assert subject.startswith("Cafe - Zoe x") and len(subject) < 100
    assert attributes["recipient"]["Value"] == "zoe@example.com"


def test_a_rendered_mail_publishes_its_text_part_with_the_unsubscribe_link(mailer: SnsMailer):
    """SNS e-mail carries no headers, HTML part or attachment: what a reader gets is the text
    part, which says everything the HTML part says, the unsubscribe link included."""
    from skillsession.service.email_render import Action, Content, html_part, text_part

    content = Content(
        "Zoë",
        ["Your session on Thursday 3 December, 09:00–10:00 (Europe/Berlin) is booked."],
        action=Action("See your bookings", "https://app.example/#/bookings"),
        unsubscribe_url="https://app.example/unsubscribe?token=t",
    )
    message = build_message(
        to="zoe@example.com",
        sender="no-reply@example.com",
        subject="Booked",
        text=text_part(content),
        html=html_part(content, "Booked"),
        message_id="sns-2",
        headers={"List-Unsubscribe": "<https://app.example/unsubscribe?token=t>"},
    )
    mailer.send(message)
    [(_, body, _, _, _)] = _sent(mailer)
    assert body == text_part(content) and "<" not in body.replace("<https", "")
    assert "Hello Zoë," in body and "09:00–10:00 (Europe/Berlin)" in body
    assert "Stop these e-mails: https://app.example/unsubscribe?token=t" in body


def test_subscribe_sets_filter_policy_and_keeps_the_arn(mailer: SnsMailer):
    assert mailer.subscription_status("a@example.com", None) == (None, GONE)
    status, arn = mailer.subscribe("A@example.com", None)
    assert status == CONFIRMED and arn.startswith(mailer.topic_arn + ":")  # moto auto-confirms
    assert mailer.subscribe("a@example.com", arn) == (CONFIRMED, arn)
    sns = mailer.client
    [sub] = sns.list_subscriptions_by_topic(TopicArn=mailer.topic_arn)["Subscriptions"]
    assert sub["SubscriptionArn"] == arn
    attrs = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert json.loads(attrs["FilterPolicy"]) == {"recipient": ["a@example.com"]}
    assert mailer.subscription_status("a@example.com", arn) == (CONFIRMED, arn)
    mailer.unsubscribe("a@example.com", arn)
    assert mailer.subscription_status("a@example.com", arn) == (None, arn)  # NotFound: gone
    mailer.unsubscribe("a@example.com", arn)


def test_a_subscription_kept_without_its_arn_is_found_by_listing_once(mailer: SnsMailer):
    """Subscriptions stored before the ARN was kept: one listing of the topic (every page)
    finds the ARN for the store to keep; one SNS no longer has answers GONE, kept likewise, so
    that neither is listed again."""
    for i in range(105):  # moto pages list_subscriptions_by_topic by 100
        mailer.client.subscribe(
            TopicArn=mailer.topic_arn, Protocol="email", Endpoint=f"u{i}@example.com"
        )
    status, arn = mailer.subscription_status("u104@example.com", None)
    assert status == CONFIRMED and arn.startswith(mailer.topic_arn + ":")
    assert mailer.subscription_status("nobody@example.com", None) == (None, GONE)
    calls = SnsCalls(mailer)
    assert calls.during(lambda: mailer.subscription_status("x@example.com", GONE)) == Counter()
    mailer.unsubscribe("u104@example.com", None)  # by listing too
    assert mailer.subscription_status("u104@example.com", arn) == (None, arn)


def _pending(mailer: SnsMailer, arn: str) -> None:
    """Make the subscription pending, as real SNS keeps an e-mail subscription until its link is
    followed (moto confirms at once): what GetSubscriptionAttributes then answers."""
    sub = sns_backends[DEFAULT_ACCOUNT_ID][REGION].subscriptions[arn]
    sub.attributes["PendingConfirmation"] = "true"


def test_send_the_link_again_calls_subscribe_while_pending_and_not_once_confirmed(
    mailer: SnsMailer,
):
    """Real SNS mails the confirmation again when Subscribe is called for a pending
    subscription: so a pending one is subscribed again (with the ARN asked for, it comes back
    even while pending); a confirmed one is left alone, and a pending one is not deleted (SNS
    refuses that; it drops it unconfirmed after 48 hours)."""
    calls = SnsCalls(mailer)
    _, arn = mailer.subscribe("p@example.com", None)
    _pending(mailer, arn)
    assert mailer.subscription_status("p@example.com", arn) == (PENDING, arn)
    again, counted = calls.during(lambda: mailer.subscribe("p@example.com", arn), with_result=True)
    assert again == (PENDING, arn)
    assert counted == Counter({"GetSubscriptionAttributes": 2, "Subscribe": 1})
    [subscribed] = [c for c in calls.params if c[0] == "Subscribe"][-1:]
    assert subscribed[1]["ReturnSubscriptionArn"] is True
    assert calls.during(lambda: mailer.unsubscribe("p@example.com", arn)) == Counter(
        {"GetSubscriptionAttributes": 1}
    )
    sns_backends[DEFAULT_ACCOUNT_ID][REGION].subscriptions[arn].attributes[
        "PendingConfirmation"
    ] = "false"  # the link was followed
    assert calls.during(lambda: mailer.subscribe("p@example.com", arn)) == Counter(
        {"GetSubscriptionAttributes": 1}
    )


def test_errors_map_to_mail_error():
    mailer = SnsMailer.from_url(
        f"sns://arn:aws:sns:{REGION}:123456789012:missing?endpoint_url={endpoint_url()}"
    )
    with pytest.raises(MailError) as err:
        mailer.send(
            build_message(
                to="a@example.com", sender="s@example.com", subject="s", text="t", message_id="m"
            )
        )
    assert err.value.permanent
    down = SnsMailer.from_url(f"sns://arn:aws:sns:{REGION}:1:t?endpoint_url=http://127.0.0.1:9")
    with pytest.raises(MailError) as err:
        down.subscription_status("a@example.com", f"arn:aws:sns:{REGION}:1:t:sub")
    assert not err.value.permanent


def test_subject_rules():
    assert sns_subject("Zoë\nline") == "Zoe line"
    assert len(sns_subject("y" * 500)) == 99


class _ListedPending:
    """What real SNS lists for a pending subscription: no ARN (ListSubscriptionsByTopic shows
    "PendingConfirmation" in its place)."""

    def list_subscriptions_by_topic(self, **kwargs):
        pending = {"Protocol": "email", "Endpoint": "p@example.com"}
        return {"Subscriptions": [{**pending, "SubscriptionArn": "PendingConfirmation"}]}

    def unsubscribe(self, **kwargs):
        raise AssertionError("pending subscriptions cannot be deleted")


def test_a_pending_subscription_kept_without_its_arn_lists_as_pending():
    mailer = SnsMailer("arn:aws:sns:eu-west-1:123456789012:t")
    mailer._client = _ListedPending()
    assert mailer.subscription_status("p@example.com", None) == (PENDING, None)  # none to keep
    mailer.unsubscribe("p@example.com", None)


# -- the routes: SNS calls per request do not grow with the topic's subscribers --------------
def _app(tmp_path, mailer: SnsMailer):
    from skillsession.adapters.auth.local import LocalTokens
    from skillsession.http.app import create_app
    from skillsession.service.deps import Deps
    from skillsession.settings import Settings

    tokens = LocalTokens(b"k" * 32)
    store = dynamodb_store("sns-state")
    store.admin.migrate()
    settings = Settings(data_dir=tmp_path, _env_file=None)
    deps = Deps(settings, store, None, mailer, tokens, tokens)
    return deps, create_app(deps, run_jobs=False)


def _get(app, token: str, path: str) -> dict:
    async def go():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sns") as client:
            return await client.get(path, headers={"Authorization": f"Bearer {token}"})

    r = asyncio.run(go())
    assert r.status_code == 200, r.text
    return r.json()


def _others(mailer: SnsMailer, count: int) -> None:
    """`count` more confirmed e-mail subscribers on the topic (not through the counted client)."""
    sns = boto3.client("sns", region_name=REGION, endpoint_url=endpoint_url())
    for i in range(count):
        sns.subscribe(
            TopicArn=mailer.topic_arn,
            Protocol="email",
            Endpoint=f"other{i}-{uuid.uuid4().hex[:6]}@example.com",
            Attributes={"FilterPolicy": json.dumps({"recipient": [f"other{i}@example.com"]})},
        )


def _journey(deps, app, calls: SnsCalls, mailer: SnsMailer, name: str) -> dict[str, Counter]:
    """One user's subscription through the routes, with the SNS calls of each request."""
    email = f"{name}@example.test"
    token, _ = deps.issuer.issue(f"id-{name}", email)
    counts: dict[str, Counter] = {}

    def step(label: str, path: str, expected: str) -> None:
        answer, counts[label] = calls.during(lambda: _get(app, token, path), with_result=True)
        assert answer == {"email": email, "subscription_status": expected}, label

    step("read, never asked for", "/email-subscription", "none")
    step("subscribe, new", "/subscribe-email-notifications", "confirmed")  # moto confirms
    step("read, confirmed", "/email-subscription", "confirmed")
    step("subscribe, confirmed already", "/subscribe-email-notifications", "confirmed")
    arn = deps.stores.outbox.get_subscription(f"id-{name}").provider_ref
    _pending(mailer, arn)  # as real SNS keeps it until its link is followed
    step("read, pending", "/email-subscription", "pending_confirmation")
    step(
        "subscribe, pending: the link again",
        "/subscribe-email-notifications",
        "pending_confirmation",
    )
    boto3.client("sns", region_name=REGION, endpoint_url=endpoint_url()).unsubscribe(
        SubscriptionArn=arn
    )  # ended through SNS's own link: NotFound from then on
    step("read, gone while stored pending", "/email-subscription", "none")
    return counts


EXPECTED = {
    "read, never asked for": Counter(),
    "subscribe, new": Counter({"Subscribe": 1, "GetSubscriptionAttributes": 1}),
    "read, confirmed": Counter({"GetSubscriptionAttributes": 1}),
    "subscribe, confirmed already": Counter({"GetSubscriptionAttributes": 1}),
    "read, pending": Counter({"GetSubscriptionAttributes": 1}),
    "subscribe, pending: the link again": Counter({"GetSubscriptionAttributes": 2, "Subscribe": 1}),
    "read, gone while stored pending": Counter({"GetSubscriptionAttributes": 1}),
}


def test_sns_calls_per_request_do_not_change_with_250_other_subscribers(mailer, tmp_path):
    """`GET /email-subscription` (every profile render) and `GET /subscribe-email-notifications`
    make the same SNS calls with 250 other subscribers on the topic as with none: the ARN kept
    with the subscription is read with one GetSubscriptionAttributes, and no request lists the
    topic (before: ListSubscriptionsByTopic page by page, 100 a page, on every request)."""
    deps, app = _app(tmp_path, mailer)
    calls = SnsCalls(mailer)
    alone = _journey(deps, app, calls, mailer, "first")
    _others(mailer, 250)
    crowded = _journey(deps, app, calls, mailer, "second")
    assert alone == crowded == EXPECTED
    assert not any(name == "ListSubscriptionsByTopic" for name, _ in calls.params)
    deps.stores.admin.close()


def test_a_subscription_stored_before_the_arn_was_kept_lists_the_topic_once(mailer, tmp_path):
    """The fallback for existing deployments: the first read lists the topic (every page) and
    keeps the ARN found; every later read is one GetSubscriptionAttributes."""
    from skillsession.domain.model import Subscription, SubscriptionStatus

    deps, app = _app(tmp_path, mailer)
    _others(mailer, 250)
    old_arn = mailer.client.subscribe(
        TopicArn=mailer.topic_arn, Protocol="email", Endpoint="old@example.test"
    )["SubscriptionArn"]
    token, _ = deps.issuer.issue("id-old", "old@example.test")
    deps.stores.outbox.save_subscription(
        Subscription("id-old", "old@example.test", SubscriptionStatus.CONFIRMED, "tok", deps.now()),
        None,
    )
    calls = SnsCalls(mailer)
    first = calls.during(lambda: _get(app, token, "/email-subscription"))
    assert first == Counter({"ListSubscriptionsByTopic": 3})  # 251 subscriptions, 100 a page
    assert deps.stores.outbox.get_subscription("id-old").provider_ref == old_arn
    assert calls.during(lambda: _get(app, token, "/email-subscription")) == Counter(
        {"GetSubscriptionAttributes": 1}
    )
    assert _get(app, token, "/email-subscription")["subscription_status"] == "confirmed"
    deps.stores.admin.close()


def test_deleting_the_account_ends_its_sns_subscription(mailer, tmp_path):
    """The address does not stay on the topic after `DELETE /account` (the AWS shape's
    deletion: the token suffices)."""
    from skillsession.ports import Identity
    from skillsession.service import account_data

    deps, app = _app(tmp_path, mailer)
    token, _ = deps.issuer.issue("id-leaving", "leaving@example.test")
    assert _get(app, token, "/subscribe-email-notifications")["subscription_status"] == "confirmed"
    arn = deps.stores.outbox.get_subscription("id-leaving").provider_ref
    sns = boto3.client("sns", region_name=REGION, endpoint_url=endpoint_url())
    assert sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    account_data.delete(deps, Identity("id-leaving", "leaving@example.test"), None)
    listed = sns.list_subscriptions_by_topic(TopicArn=mailer.topic_arn)["Subscriptions"]
    assert all(s["Endpoint"] != "leaving@example.test" for s in listed)
    assert deps.stores.outbox.get_subscription("id-leaving") is None
    deps.stores.admin.close()
