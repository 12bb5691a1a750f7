"""SnsMailer against moto: publishing with the `recipient` attribute, subscriptions with a filter
policy. moto confirms e-mail subscriptions at once (PendingConfirmation "false", a real ARN) and
sends no mail; the pending path of real SNS is covered with a fake client below."""

from __future__ import annotations

import json
import uuid

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sns.models import sns_backends
from moto_server import REGION, endpoint_url

from skillsession.adapters.mail.sns import CONFIRMED, PENDING, SnsMailer, sns_subject
from skillsession.ports import MailError
from skillsession.service.mail_message import build_message


@pytest.fixture
def mailer() -> SnsMailer:
    sns = boto3.client("sns", region_name=REGION, endpoint_url=endpoint_url())
    arn = sns.create_topic(Name=f"mail-{uuid.uuid4().hex[:10]}")["TopicArn"]
    return SnsMailer.from_url(f"sns://{arn}?region={REGION}&endpoint_url={endpoint_url()}")


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


def test_subscribe_sets_filter_policy_and_is_idempotent(mailer: SnsMailer):
    assert mailer.subscription_status("a@example.com") is None
    assert mailer.subscribe("A@example.com") == CONFIRMED  # moto auto-confirms
    assert mailer.subscribe("a@example.com") == CONFIRMED
    sns = mailer.client
    [sub] = sns.list_subscriptions_by_topic(TopicArn=mailer.topic_arn)["Subscriptions"]
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub["SubscriptionArn"])["Attributes"]
    assert json.loads(attrs["FilterPolicy"]) == {"recipient": ["a@example.com"]}
    assert mailer.subscription_status("a@example.com") == CONFIRMED
    mailer.unsubscribe("a@example.com")
    assert mailer.subscription_status("a@example.com") is None
    mailer.unsubscribe("a@example.com")


def test_status_lookup_follows_pages(mailer: SnsMailer):
    for i in range(105):  # moto pages list_subscriptions_by_topic by 100
        mailer.client.subscribe(
            TopicArn=mailer.topic_arn, Protocol="email", Endpoint=f"u{i}@example.com"
        )
    assert mailer.subscription_status("u104@example.com") == CONFIRMED


class _PendingSns:
    """What real SNS answers before the user clicks the confirmation link."""

    def __init__(self):
        self.subs: list[dict] = []

    def subscribe(self, **kwargs):
        self.subs.append(
            {
                "Protocol": "email",
                "Endpoint": kwargs["Endpoint"],
                "SubscriptionArn": "PendingConfirmation",
            }
        )
        return {"SubscriptionArn": "pending confirmation"}

    def list_subscriptions_by_topic(self, **kwargs):
        return {"Subscriptions": self.subs}

    def unsubscribe(self, **kwargs):
        raise AssertionError("pending subscriptions cannot be deleted")


def test_pending_confirmation_as_real_sns_reports_it():
    mailer = SnsMailer("arn:aws:sns:eu-west-1:123456789012:t")
    mailer._client = _PendingSns()
    assert mailer.subscribe("p@example.com") == PENDING
    assert mailer.subscription_status("p@example.com") == PENDING
    mailer.unsubscribe("p@example.com")


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
        down.subscription_status("a@example.com")
    assert not err.value.permanent


def test_subject_rules():
    assert sns_subject("Zoë\nline") == "Zoe line"
    assert len(sns_subject("y" * 500)) == 99
