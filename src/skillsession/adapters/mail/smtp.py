"""Mailer over SMTP (stdlib smtplib), one connection per message.

URL: `smtp://[user:pass@]host[:port]?starttls=true|false&timeout=10&from=...&tls_verify=false`
or `smtps://...` for implicit TLS. `smtp://` defaults to port 587, which implies STARTTLS;
any other port goes without TLS unless `starttls=true`. `smtps://` defaults to port 465.

Failure mapping (`MailError.permanent`): a 5xx answer to *this message* (MAIL FROM, RCPT TO,
DATA) is permanent; everything about reaching or setting up the server — refused connection,
timeouts, TLS and login problems, 4xx answers — is temporary, so the outbox retries once the
server or the configuration is fixed.
"""

from __future__ import annotations

import copy
import email.errors
import ipaddress
import logging
import smtplib
import socket
import ssl
from email.message import EmailMessage
from urllib.parse import parse_qsl, unquote, urlsplit

from skillsession.ports import MailError

log = logging.getLogger(__name__)

_QUERY_KEYS = frozenset({"starttls", "timeout", "from", "tls_verify", "local_hostname"})
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
# 530 "authentication required" at MAIL FROM is a configuration problem, not this message's.
_TEMPORARY_5XX = frozenset({530})


class SmtpMailer:
    backend_name = "smtp"

    def __init__(
        self,
        host: str,
        port: int | None = None,
        *,
        implicit_tls: bool = False,
        starttls: bool | None = None,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 10.0,
        tls_verify: bool = True,
        ssl_context: ssl.SSLContext | None = None,
        envelope_from: str | None = None,
        local_hostname: str | None = None,
    ):
        if not host:
            raise ValueError("SMTP host is required")
        if port is None:
            port = 465 if implicit_tls else 587
        if starttls is None:
            starttls = not implicit_tls and port == 587
        if starttls and implicit_tls:
            raise ValueError("starttls and implicit TLS (smtps://) are mutually exclusive")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if (username is None) != (password is None):
            raise ValueError("SMTP username and password go together")
        self.host = host
        self.port = port
        self.implicit_tls = implicit_tls
        self.starttls = starttls
        self.username = username
        self._password = password
        self.timeout = timeout
        self.tls_verify = tls_verify
        self._ssl_context = ssl_context
        self.envelope_from = envelope_from
        self._local_hostname = local_hostname
        if username is not None and not (implicit_tls or starttls) and not _is_loopback(host):
            log.warning("SMTP credentials for %s:%s will be sent without TLS", host, port)

    @classmethod
    def from_url(cls, url: str) -> SmtpMailer:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("smtp", "smtps"):
            raise ValueError(f"not an smtp:// or smtps:// URL: {_redact(url)!r}")
        if not parts.hostname:
            raise ValueError(f"SMTP URL without a host: {_redact(url)!r}")
        try:
            port = parts.port
        except ValueError as exc:
            raise ValueError(f"bad port in SMTP URL {_redact(url)!r}") from exc
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        unknown = set(query) - _QUERY_KEYS
        if unknown:
            raise ValueError(
                f"unknown SMTP URL option(s) {sorted(unknown)}; allowed: {sorted(_QUERY_KEYS)}"
            )
        starttls = _parse_bool("starttls", query["starttls"]) if "starttls" in query else None
        try:
            timeout = float(query.get("timeout", "10"))
        except ValueError as exc:
            raise ValueError(f"bad SMTP timeout {query['timeout']!r}") from exc
        return cls(
            parts.hostname,
            port,
            implicit_tls=scheme == "smtps",
            starttls=starttls,
            username=unquote(parts.username) if parts.username is not None else None,
            password=unquote(parts.password) if parts.password is not None else None,
            timeout=timeout,
            tls_verify=_parse_bool("tls_verify", query.get("tls_verify", "true")),
            envelope_from=query.get("from") or None,
            local_hostname=query.get("local_hostname") or None,
        )

    def __repr__(self) -> str:
        scheme = "smtps" if self.implicit_tls else "smtp"
        user = f"{self.username}:***@" if self.username is not None else ""
        return f"SmtpMailer({scheme}://{user}{self.host}:{self.port}, starttls={self.starttls})"

    def send(self, message: EmailMessage) -> None:
        message = self._with_sender(message)
        message_id = message.get("Message-ID", "")
        smtp = self._open()  # raises MailError(permanent=False)
        try:
            refused = smtp.send_message(message, from_addr=self.envelope_from)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            permanent = all(_is_permanent(code) for code in codes)  # no recipient at all too
            detail = "; ".join(
                f"{rcpt}: {code} {_text(text)}" for rcpt, (code, text) in exc.recipients.items()
            )
            raise MailError(
                f"recipients refused: {detail or 'no recipients'}", permanent=permanent
            ) from exc
        except smtplib.SMTPResponseException as exc:  # sender refused, data error, ...
            raise MailError(
                f"SMTP server answered {exc.smtp_code} {_text(exc.smtp_error)}",
                permanent=_is_permanent(exc.smtp_code),
            ) from exc
        except smtplib.SMTPNotSupportedError as exc:  # e.g. needs SMTPUTF8 the server lacks
            raise MailError(f"SMTP server cannot take this message: {exc}", permanent=True) from exc
        except (ValueError, LookupError, email.errors.MessageError) as exc:  # cannot serialise
            raise MailError(f"cannot send malformed message: {exc}", permanent=True) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise MailError(f"SMTP delivery to {self.host}:{self.port} failed: {exc}") from exc
        finally:
            _quit_quietly(smtp)
        if refused:
            # Delivered to the others; retrying would duplicate their copy, so only log.
            log.warning("SMTP message %s partly refused: %s", message_id, refused)
        log.debug("SMTP message %s sent via %s:%s", message_id, self.host, self.port)

    # -- internals ------------------------------------------------------------------------
    def _with_sender(self, message: EmailMessage) -> EmailMessage:
        if "From" in message or "Sender" in message:
            return message
        if self.envelope_from is None:
            raise MailError("message has no From header and no default sender", permanent=True)
        message = copy.deepcopy(message)
        message["From"] = self.envelope_from
        return message

    def _context(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            context = ssl.create_default_context()
            if not self.tls_verify:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            self._ssl_context = context
        return self._ssl_context

    def _open(self) -> smtplib.SMTP:
        """Connect, greet, secure and log in; any failure here is temporary."""
        if self._local_hostname is None:
            self._local_hostname = socket.getfqdn()
        try:
            if self.implicit_tls:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host,
                    self.port,
                    local_hostname=self._local_hostname,
                    timeout=self.timeout,
                    context=self._context(),
                )
            else:
                smtp = smtplib.SMTP(
                    self.host, self.port, local_hostname=self._local_hostname, timeout=self.timeout
                )
        except (smtplib.SMTPException, OSError) as exc:
            raise MailError(
                f"cannot connect to SMTP server {self.host}:{self.port}: {exc}"
            ) from exc
        try:
            smtp.ehlo()
            if self.starttls:
                smtp.starttls(context=self._context())
                smtp.ehlo()
            if self.username is not None and self._password is not None:
                smtp.login(self.username, self._password)
        except smtplib.SMTPAuthenticationError as exc:
            _quit_quietly(smtp)
            raise MailError(
                f"SMTP login as {self.username!r} at {self.host}:{self.port} failed: "
                f"{exc.smtp_code} {_text(exc.smtp_error)}"
            ) from None  # the exception chain carries nothing useful; keep credentials out
        except UnicodeEncodeError:
            _quit_quietly(smtp)
            raise MailError(
                f"SMTP login as {self.username!r}: smtplib supports only ASCII credentials"
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            _quit_quietly(smtp)
            raise MailError(
                f"SMTP session setup with {self.host}:{self.port} failed: {exc}"
            ) from exc
        return smtp


def _is_permanent(code: int) -> bool:
    return 500 <= code < 600 and code not in _TEMPORARY_5XX


def _quit_quietly(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        pass
    finally:
        smtp.close()


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _parse_bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"SMTP URL option {name}={value!r} is not a boolean")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _redact(url: str) -> str:
    """The URL without its password, for error messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rpartition("@")[2]
    user = parts.username or ""
    return parts._replace(netloc=f"{user}:***@{netloc}").geturl()
