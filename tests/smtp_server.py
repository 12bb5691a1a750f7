"""A real SMTP server on a free loopback port, for tests (aiosmtpd in a background thread).

Usable on its own, without pytest fixtures:

    with SmtpTestServer() as server:
        mailer = SmtpMailer.from_url(server.url())
        mailer.send(message)
        [received] = server.wait_for(1)
        received.message["Subject"]

Options: per-recipient replies (`rcpt_replies={"gone@example.com": "550 5.1.1 No such user"}`),
a reply for DATA (`data_reply="451 4.3.0 Try later"`), AUTH (`credentials={"user": "pass"}`;
AUTH then becomes required), STARTTLS (`starttls_context=`) or implicit TLS
(`implicit_tls_context=`); `self_signed_certificate()` makes a key and certificate for those.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import shutil
import ssl
import subprocess
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    login: str | None  # the AUTH user, if the client logged in
    tls: bool  # whether the session was encrypted (STARTTLS or implicit TLS)

    @property
    def message(self) -> EmailMessage:
        """The message parsed, with SMTP's CRLF line ends turned into LF (as a mail store
        would), so text parts read back exactly as they were written."""
        data = self.data.replace(b"\r\n", b"\n")
        parsed = email.message_from_bytes(data, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


class CertificateUnavailable(RuntimeError):
    """Neither the `cryptography` package nor the `openssl` command is available."""


@dataclass(frozen=True)
class SelfSignedCertificate:
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts exactly this certificate (hostname checked)."""
        return ssl.create_default_context(cafile=str(self.cert_file))


def self_signed_certificate(directory: Path, host: str = LOOPBACK) -> SelfSignedCertificate:
    """A key and a certificate for `host` (an IP SAN plus `localhost`), written to `directory`.

    Uses the `cryptography` package when installed, else the `openssl` command; raises
    `CertificateUnavailable` when neither is there."""
    directory.mkdir(parents=True, exist_ok=True)
    cert = SelfSignedCertificate(directory / "cert.pem", directory / "key.pem")
    try:
        _certificate_with_cryptography(cert, host)
    except ImportError:
        openssl = shutil.which("openssl")
        if openssl is None:
            raise CertificateUnavailable(
                "no `cryptography` package and no `openssl` command to make a test certificate"
            ) from None
        subprocess.run(
            [
                openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-subj", "/CN=localhost",
                "-addext", f"subjectAltName=IP:{host},DNS:localhost",
                "-keyout", str(cert.key_file), "-out", str(cert.cert_file),
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )  # fmt: skip
    return cert


def _certificate_with_cryptography(cert: SelfSignedCertificate, host: str) -> None:
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address(host)), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert.key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert.cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))


class _Handler:
    def __init__(self, server: SmtpTestServer):
        self._server = server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        reply = self._server._rcpt_reply(address)
        if reply is not None and not reply.startswith("2"):
            return reply
        envelope.rcpt_tos.append(address)
        return reply or "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        reply = self._server._data_reply
        if reply is not None and not reply.startswith("2"):
            return reply
        login = session.auth_data if isinstance(session.auth_data, str) else None
        self._server._record(
            ReceivedMail(
                mail_from=envelope.mail_from,
                rcpt_tos=tuple(envelope.rcpt_tos),
                data=bytes(envelope.original_content or envelope.content or b""),
                login=login,
                tls=_is_tls(server, session),
            )
        )
        return reply or "250 Message accepted for delivery"


def _is_tls(server: Any, session: Any) -> bool:
    # aiosmtpd sets `session.ssl` after STARTTLS only; implicit TLS shows on the transport.
    transport = server.transport
    return session.ssl is not None or (
        transport is not None and transport.get_extra_info("ssl_object") is not None
    )


class _FreePortController(Controller):
    """Binds port 0 and learns the real port before the readiness probe (no port race)."""

    def _create_server(self):
        return self._bind()

    async def _bind(self) -> asyncio.AbstractServer:
        server = await self.loop.create_server(
            self._factory_invoker, host=self.hostname, port=self.port, ssl=self.ssl_context
        )
        self.port = server.sockets[0].getsockname()[1]
        return server


class SmtpTestServer:
    def __init__(
        self,
        *,
        host: str = LOOPBACK,
        port: int = 0,
        rcpt_replies: Mapping[str, str] | None = None,
        data_reply: str | None = None,
        credentials: Mapping[str, str] | None = None,
        auth_require_tls: bool | None = None,
        starttls_context: ssl.SSLContext | None = None,
        require_starttls: bool = False,
        implicit_tls_context: ssl.SSLContext | None = None,
    ):
        self.host = host
        self._port = port
        self._lock = threading.Condition()
        self._received: list[ReceivedMail] = []
        self._rcpt_replies = {k.lower(): v for k, v in (rcpt_replies or {}).items()}
        self._data_reply = data_reply
        self.credentials = dict(credentials or {})
        self.implicit_tls = implicit_tls_context is not None
        self.starttls = starttls_context is not None
        smtp_kwargs: dict[str, Any] = {}
        if self.credentials:
            smtp_kwargs.update(
                authenticator=self._authenticate,
                auth_required=True,
                # aiosmtpd refuses AUTH on a plain connection by default; allow it when the
                # server offers no TLS at all, so plain-text AUTH can be tested.
                auth_require_tls=(
                    auth_require_tls
                    if auth_require_tls is not None
                    else self.starttls or self.implicit_tls
                ),
            )
        if starttls_context is not None:
            smtp_kwargs.update(tls_context=starttls_context, require_starttls=require_starttls)
        self._controller = _FreePortController(
            _Handler(self),
            hostname=host,
            port=port,
            ssl_context=implicit_tls_context,
            server_hostname="localhost",
            ready_timeout=10.0,
            **smtp_kwargs,
        )
        self._running = False

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> SmtpTestServer:
        self._controller.start()
        self._running = True
        return self

    def stop(self) -> None:
        if self._running:
            self._controller.stop()
            self._running = False

    def __enter__(self) -> SmtpTestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._controller.port

    def url(self, *, username: str | None = None, password: str | None = None, **query: str) -> str:
        """An `smtp://` (or `smtps://`) URL for this server; `query` adds URL options.

        STARTTLS is off unless the server offers it (then on, with `tls_verify=false` unless
        the caller passes its own `tls_verify`)."""
        scheme = "smtps" if self.implicit_tls else "smtp"
        options = {"starttls": "true" if self.starttls else "false"}
        if self.implicit_tls:
            del options["starttls"]
        if self.starttls or self.implicit_tls:
            options["tls_verify"] = "false"
        options.update(query)
        userinfo = ""
        if username is not None:
            userinfo = quote(username, safe="")
            if password is not None:
                userinfo += ":" + quote(password, safe="")
            userinfo += "@"
        return f"{scheme}://{userinfo}{self.host}:{self.port}?{urlencode(options)}"

    # -- behaviour -------------------------------------------------------------------------
    def set_rcpt_reply(self, address: str, reply: str | None) -> None:
        """Answer RCPT TO for `address` with `reply` (e.g. "550 5.1.1 No such user").

        None goes back to accepting it."""
        with self._lock:
            if reply is None:
                self._rcpt_replies.pop(address.lower(), None)
            else:
                self._rcpt_replies[address.lower()] = reply

    def set_data_reply(self, reply: str | None) -> None:
        """Answer DATA with `reply` instead of accepting (e.g. "451 4.3.0 Try later")."""
        with self._lock:
            self._data_reply = reply

    # -- what arrived ----------------------------------------------------------------------
    @property
    def received(self) -> list[ReceivedMail]:
        with self._lock:
            return list(self._received)

    @property
    def messages(self) -> list[EmailMessage]:
        return [r.message for r in self.received]

    def clear(self) -> None:
        with self._lock:
            self._received.clear()

    def wait_for(self, count: int = 1, timeout: float = 10.0) -> list[ReceivedMail]:
        """Block until at least `count` messages have arrived; return them all."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self._received) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"expected {count} message(s) within {timeout}s, got {len(self._received)}"
                    )
                self._lock.wait(remaining)
            return list(self._received)

    # -- called from the server thread -----------------------------------------------------
    def _rcpt_reply(self, address: str) -> str | None:
        with self._lock:
            return self._rcpt_replies.get(address.lower())

    def _record(self, mail: ReceivedMail) -> None:
        with self._lock:
            self._received.append(mail)
            self._lock.notify_all()

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode("utf-8", "replace")
        password = auth_data.password.decode("utf-8", "replace")
        if self.credentials.get(login) == password:
            return AuthResult(success=True, auth_data=login)
        return AuthResult(success=False, handled=False)
