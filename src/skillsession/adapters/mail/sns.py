"""Mailer on Amazon SNS, faithful to the original SkillSession: one topic, one e-mail subscription
per user with the filter policy `{"recipient": [email]}`, and each message published to the topic
with the message attribute `recipient` = the recipient's address, so only that user's
subscription delivers it.

URL: `sns://TOPIC_ARN?region=eu-west-1&endpoint_url=http://127.0.0.1:5000`.

What SNS e-mail cannot carry: the From header (SNS sends from no-reply@sns.amazonaws.com),
HTML parts and attachments (the `.ics` of booking mails) are dropped — only the plain-text body
is published; the subject is folded to printable ASCII and cut to 99 characters (SNS rules).
SNS allows ~200 filter policies per topic by default: use `ses://` beyond a small pilot.

Subscription management (ports.SubscriptionKeeper, called by the service): `subscribe`,
`subscription_status` and `unsubscribe`, each given the subscription ARN kept in our store with
the user's subscription (`ref`) and answering the ref to keep, so that none of them grows with
the number of subscribers on the topic (no ListSubscriptionsByTopic, except once for a
subscription kept before the ARN was). Statuses are "pending_confirmation" and "confirmed".
SNS itself mails the confirmation link, and mails it again when Subscribe is called while the
subscription is pending; a pending subscription cannot be deleted (SNS drops it after 48 hours
unconfirmed).
"""

from __future__ import annotations

import json
import unicodedata
from email.message import EmailMessage
from email.utils import getaddresses
from typing import Any
from urllib.parse import parse_qs, unquote

from skillsession.adapters import aws_clients
from skillsession.ports import KeptSubscription, MailError

PENDING = "pending_confirmation"
CONFIRMED = "confirmed"
GONE = "gone"  # the ref kept for a subscription SNS no longer has, found by listing (see below)
_PERMANENT = {"InvalidParameter", "InvalidParameterValue", "NotFound", "AuthorizationError"}
_SUBJECT_MAX = 99
_PUNCTUATION = str.maketrans(
    {"–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "…": "..."}
)


class SnsMailer:
    backend_name = "sns"

    def __init__(
        self, topic_arn: str, *, region: str | None = None, endpoint_url: str | None = None
    ):
        if not topic_arn.startswith("arn:"):
            raise ValueError(f"not an SNS topic ARN: {topic_arn!r}")
        self.topic_arn = topic_arn
        self.region = region or topic_arn.split(":")[3] or None
        self.endpoint_url = endpoint_url
        self._client: Any = None

    @classmethod
    def from_url(cls, url: str) -> SnsMailer:
        if not url.startswith("sns://"):
            raise ValueError(f"not an sns:// mail URL: {url}")
        rest, _, query_string = url[len("sns://") :].partition("?")
        query = {k: v[-1] for k, v in parse_qs(query_string).items()}
        return cls(
            unquote(rest), region=query.get("region"), endpoint_url=query.get("endpoint_url")
        )

    @property
    def client(self) -> Any:
        if self._client is None:
            from botocore.config import Config

            self._client = aws_clients.client(
                "sns",
                region_name=self.region,
                endpoint_url=self.endpoint_url,
                config=Config(retries={"mode": "standard"}, connect_timeout=5, read_timeout=20),
            )
        return self._client

    # -- Mailer -----------------------------------------------------------------------------
    def send(self, message: EmailMessage) -> None:
        recipients = [
            addr.lower()
            for _, addr in getaddresses(
                [str(v) for h in ("To", "Cc", "Bcc") for v in message.get_all(h, [])]
            )
            if addr
        ]
        if not recipients:
            raise MailError("message has no recipients", permanent=True)
        subject = sns_subject(str(message.get("Subject", "")))
        body = plain_text(message)
        for recipient in dict.fromkeys(recipients):
            kwargs: dict[str, Any] = {
                "TopicArn": self.topic_arn,
                "Message": body,
                "MessageAttributes": {
                    "recipient": {"DataType": "String", "StringValue": recipient}
                },
            }
            if subject:
                kwargs["Subject"] = subject
            self._call("publish", **kwargs)

    def ensure_topic(self) -> None:
        """Create the topic named by the ARN if it does not exist (CreateTopic is idempotent).
        Refuses an ARN of another account or region than the credentials reach."""
        name = self.topic_arn.rsplit(":", 1)[-1]
        created = str(self._call("create_topic", Name=name).get("TopicArn", ""))
        if created != self.topic_arn:
            raise ValueError(
                f"SKILLSESSION_MAIL names {self.topic_arn}, but these credentials and region "
                f"reach {created}"
            )

    # -- subscriptions ----------------------------------------------------------------------
    def subscribe(self, email: str, ref: str | None) -> KeptSubscription:
        """Subscribe (ReturnSubscriptionArn: SNS answers the ARN even while the subscription is
        pending) and read the state it is in. SNS mails its confirmation link again when
        Subscribe is called for a pending subscription, so only a confirmed one is left
        alone: 1 call when confirmed, else 2 (new, or no ARN kept yet) or 3."""
        email = email.lower()
        if _is_arn(ref):
            status = self._status(ref)
            if status == CONFIRMED:
                return KeptSubscription(CONFIRMED, ref)
        answer = self._call(
            "subscribe",
            TopicArn=self.topic_arn,
            Protocol="email",
            Endpoint=email,
            Attributes={"FilterPolicy": json.dumps({"recipient": [email]})},
            ReturnSubscriptionArn=True,
        )
        arn = str(answer.get("SubscriptionArn", ""))
        if not _is_arn(arn):  # not what SNS does when asked for the ARN: assume the usual
            return KeptSubscription(PENDING, None)
        return KeptSubscription(self._status(arn) or PENDING, arn)

    def subscription_status(self, email: str, ref: str | None) -> KeptSubscription:
        """One GetSubscriptionAttributes by the kept ARN (NotFound: gone, lapsed unconfirmed or
        ended by SNS's own unsubscribe link). Without one (kept before ARNs were), one listing
        of the topic finds it and answers the ARN to keep; a pending one shows no ARN there,
        so it is listed again on the next read, until SNS drops it (48 hours) or it is
        confirmed; one that is gone answers GONE to keep, so it is never listed again."""
        if _is_arn(ref):
            return KeptSubscription(self._status(ref), ref)
        if ref == GONE:
            return KeptSubscription(None, GONE)
        arns = self._subscription_arns(email)
        confirmed = next((a for a in arns if _is_arn(a)), None)
        if confirmed is not None:
            return KeptSubscription(CONFIRMED, confirmed)
        return KeptSubscription(PENDING, None) if arns else KeptSubscription(None, GONE)

    def unsubscribe(self, email: str, ref: str | None) -> None:
        """Unsubscribe by the kept ARN when SNS says it is confirmed (a pending subscription
        cannot be deleted: SNS drops it after 48 hours unconfirmed)."""
        if _is_arn(ref):
            if self._status(ref) == CONFIRMED:
                self._call("unsubscribe", SubscriptionArn=ref)
            return
        if ref == GONE:
            return
        for arn in self._subscription_arns(email):
            if _is_arn(arn):
                self._call("unsubscribe", SubscriptionArn=arn)

    def _status(self, arn: str) -> str | None:
        """The subscription's state by its ARN, in one call (None: SNS has it no more)."""
        answer = self._call("get_subscription_attributes", absent_ok=True, SubscriptionArn=arn)
        if answer is None:
            return None
        pending = str(answer.get("Attributes", {}).get("PendingConfirmation", "false"))
        return PENDING if pending.lower() == "true" else CONFIRMED

    def _subscription_arns(self, email: str) -> list[str]:
        """Every e-mail subscription of `email` on the topic, by listing the topic: what reads
        did before the ARN was kept; grows with the subscribers, so only for those."""
        email = email.lower()
        arns: list[str] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"TopicArn": self.topic_arn}
            if token:
                kwargs["NextToken"] = token
            page = self._call("list_subscriptions_by_topic", **kwargs)
            for sub in page.get("Subscriptions", []):
                if sub.get("Protocol") == "email" and str(sub.get("Endpoint", "")).lower() == email:
                    arns.append(str(sub.get("SubscriptionArn", "")))
            token = page.get("NextToken")
            if not token:
                return arns

    def _call(self, operation: str, *, absent_ok: bool = False, **kwargs: Any) -> Any:
        """One SNS call; errors as MailError (None instead for NotFound when `absent_ok`)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client, operation)(**kwargs)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            if absent_ok and code == "NotFound":
                return None
            raise MailError(
                f"SNS {operation} failed: {code} {error.get('Message', '')}",
                permanent=code in _PERMANENT,
            ) from exc
        except BotoCoreError as exc:
            raise MailError(f"SNS unreachable: {exc}") from exc


def _is_arn(ref: str | None) -> bool:
    return bool(ref) and str(ref).startswith("arn:")


def sns_subject(subject: str) -> str:
    """SNS subjects: printable ASCII, no line breaks, under 100 characters."""
    ascii_text = (
        unicodedata.normalize("NFKD", subject.translate(_PUNCTUATION))
        .encode("ascii", "ignore")
        .decode()
    )
    cleaned = " ".join("".join(c if c.isprintable() else " " for c in ascii_text).split())
    return cleaned[:_SUBJECT_MAX].rstrip()


def plain_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    if part is None:
        return ""
    return str(part.get_content())
