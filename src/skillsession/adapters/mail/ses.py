"""Mailer on Amazon SES: each EmailMessage goes out as raw MIME (`SendRawEmail`), so HTML parts,
`.ics` attachments, Message-ID and extra headers survive exactly as built.

URL: `ses://FROM_ADDRESS?region=eu-west-1&endpoint_url=http://127.0.0.1:5000`. FROM_ADDRESS
(a verified SES identity) is the envelope sender and the From header when the message has none.

Failure mapping (`MailError.permanent`): `MessageRejected`, `MailFromDomainNotVerified`,
`ConfigurationSetDoesNotExist`, `InvalidParameterValue` (and a message without recipients) are
permanent — retrying the same message cannot help; throttling, 5xx answers and connection errors
are transient, so the outbox retries them with backoff.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import getaddresses
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from skillsession.adapters import aws_clients
from skillsession.ports import MailError

_PERMANENT = {
    "MessageRejected",
    "MailFromDomainNotVerified",
    "MailFromDomainNotVerifiedException",
    "ConfigurationSetDoesNotExist",
    "InvalidParameterValue",
    "AccountSendingPausedException",
}


class SesMailer:
    backend_name = "ses"

    def __init__(self, sender: str, *, region: str | None = None, endpoint_url: str | None = None):
        if not sender or "@" not in sender:
            raise ValueError("SesMailer needs a sender address")
        self.sender = sender
        self.region = region
        self.endpoint_url = endpoint_url
        self._client: Any = None

    @classmethod
    def from_url(cls, url: str) -> SesMailer:
        parts = urlsplit(url)
        if parts.scheme != "ses":
            raise ValueError(f"not an ses:// mail URL: {url}")
        sender = unquote(f"{parts.username}@{parts.hostname}" if parts.username else parts.netloc)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        return cls(sender, region=query.get("region"), endpoint_url=query.get("endpoint_url"))

    @property
    def client(self) -> Any:
        if self._client is None:
            from botocore.config import Config

            self._client = aws_clients.client(
                "ses",
                region_name=self.region,
                endpoint_url=self.endpoint_url,
                config=Config(retries={"mode": "standard"}, connect_timeout=5, read_timeout=20),
            )
        return self._client

    def send(self, message: EmailMessage) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        if message["From"] is None:
            message = _copy(message)
            message["From"] = self.sender
        recipients = [
            addr
            for _, addr in getaddresses(
                [str(v) for h in ("To", "Cc", "Bcc") for v in message.get_all(h, [])]
            )
            if addr
        ]
        if not recipients:
            raise MailError("message has no recipients", permanent=True)
        raw = _copy(message)
        del raw["Bcc"]
        try:
            data = raw.as_bytes()
        except (ValueError, TypeError, UnicodeError) as exc:
            raise MailError(f"cannot send malformed message: {exc}", permanent=True) from exc
        try:
            self.client.send_raw_email(
                Source=self.sender, Destinations=recipients, RawMessage={"Data": data}
            )
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
            permanent = code in _PERMANENT or (400 <= status < 500 and not _throttled(code))
            raise MailError(
                f"SES refused the message: {code} {error.get('Message', '')}", permanent=permanent
            ) from exc
        except BotoCoreError as exc:
            raise MailError(f"SES unreachable: {exc}") from exc


def _throttled(code: str) -> bool:
    return "Throttl" in code or code in {"RequestLimitExceeded", "TooManyRequestsException"}


def _copy(message: EmailMessage) -> EmailMessage:
    """A copy through bytes, parsed back with the message's own policy: the builder's keeps
    `List-Unsubscribe` raw (the default policy would re-encode it as RFC 2047 words)."""
    from email import message_from_bytes

    own = message.policy
    copy = message_from_bytes(message.as_bytes(policy=own.clone(linesep="\r\n")), policy=own)
    assert isinstance(copy, EmailMessage)
    return copy
