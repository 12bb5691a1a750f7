from __future__ import annotations

import logging
import socket
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from skillsession.adapters.mail.smtp import SmtpMailer
from skillsession.ports import MailError
from skillsession.service.mail_message import build_message
from smtp_server import (
    CertificateUnavailable,
    SelfSignedCertificate,
    SmtpTestServer,
    self_signed_certificate,
)

pytestmark = [
    # aiosmtpd 1.4 warns on its own deprecated Session.login_data and on plain-text AUTH.
    pytest.mark.filterwarnings("ignore:Session.login_data is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning"),
]

PASSWORD = "s3cr:et@p/ss w%rd"


def _msg(to: str = "zoe@example.com", message_id: str = "n1"):
    return build_message(
        to=to,
        sender="SkillSession <no-reply@skillsession.localhost>",
        subject="Café – Zoë",
        text="Hallo Zoë\n",
        message_id=message_id,
    )


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> SelfSignedCertificate:
    try:
        return self_signed_certificate(tmp_path_factory.mktemp("tls"))
    except CertificateUnavailable as exc:
        pytest.skip(f"STARTTLS/implicit TLS tests need a test certificate: {exc}")


@pytest.fixture
def auth_server() -> Iterator[SmtpTestServer]:
    with SmtpTestServer(credentials={"mailer": PASSWORD}) as server:
        yield server


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- URL parsing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "port", "starttls", "implicit_tls"),
    [
        ("smtp://mail.example.com", 587, True, False),
        ("smtp://mail.example.com:587", 587, True, False),
        ("smtp://mail.example.com:587?starttls=false", 587, False, False),
        ("smtp://mail.example.com:25", 25, False, False),
        ("smtp://mail.example.com:2525?starttls=true", 2525, True, False),
        ("smtps://mail.example.com", 465, False, True),
        ("smtps://mail.example.com:2465", 2465, False, True),
    ],
)
def test_from_url_ports_and_tls(url, port, starttls, implicit_tls):
    mailer = SmtpMailer.from_url(url)
    assert (mailer.host, mailer.port) == ("mail.example.com", port)
    assert mailer.starttls is starttls
    assert mailer.implicit_tls is implicit_tls
    assert mailer.tls_verify is True
    assert mailer.username is None
    assert mailer.backend_name == "smtp"


def test_from_url_options_and_decoded_credentials():
    mailer = SmtpMailer.from_url(
        "smtp://us%40er:s3cr%3Aet%40p%2Fss%20w%25rd@127.0.0.1:2525"
        "?timeout=2.5&from=bounces%40example.com&tls_verify=false&local_hostname=client.test"
    )
    assert mailer.username == "us@er"
    assert mailer._password == PASSWORD
    assert mailer.timeout == 2.5
    assert mailer.envelope_from == "bounces@example.com"
    assert mailer.tls_verify is False
    assert PASSWORD not in repr(mailer) and "s3cr" not in repr(mailer)


@pytest.mark.parametrize(
    "url",
    [
        "http://host",
        "smtp://",
        "smtp://host:notaport",
        "smtps://host?starttls=true",
        "smtp://host?starttls=maybe",
        "smtp://host?timeout=soon",
        "smtp://host?timeout=0",
        "smtp://host?verify=false",
        "smtp://user@host",
    ],
)
def test_from_url_rejects_bad_urls(url):
    with pytest.raises(ValueError):
        SmtpMailer.from_url(url)


def test_url_errors_do_not_show_the_password():
    with pytest.raises(ValueError) as info:
        SmtpMailer.from_url("smtp://user:hunter2hunter2@host?bogus=1")
    assert "hunter2" not in str(info.value)
    with pytest.raises(ValueError) as info:
        SmtpMailer.from_url("ftp://user:hunter2hunter2@host")
    assert "hunter2" not in str(info.value)


# -- delivery ----------------------------------------------------------------------------------


def test_plain_delivery_envelope(smtp_test_server: SmtpTestServer):
    SmtpMailer.from_url(smtp_test_server.url()).send(_msg())
    [mail] = smtp_test_server.wait_for(1)
    assert mail.mail_from == "no-reply@skillsession.localhost"
    assert mail.rcpt_tos == ("zoe@example.com",)
    assert (mail.tls, mail.login) == (False, None)
    assert mail.message["Subject"] == "Café – Zoë"


def test_from_option_sets_the_envelope_sender(smtp_test_server: SmtpTestServer):
    SmtpMailer.from_url(smtp_test_server.url(**{"from": "bounces@example.com"})).send(_msg())
    [mail] = smtp_test_server.wait_for(1)
    assert mail.mail_from == "bounces@example.com"
    assert mail.message["From"].addresses[0].addr_spec == "no-reply@skillsession.localhost"


def test_from_option_fills_a_missing_from_header(smtp_test_server: SmtpTestServer):
    message = _msg()
    del message["From"]
    SmtpMailer.from_url(smtp_test_server.url(**{"from": "bounces@example.com"})).send(message)
    assert smtp_test_server.wait_for(1)[0].message["From"] == "bounces@example.com"
    assert "From" not in message  # the caller's message is left alone


def test_message_without_any_sender_is_permanent(smtp_test_server: SmtpTestServer):
    message = _msg()
    del message["From"]
    with pytest.raises(MailError) as info:
        SmtpMailer.from_url(smtp_test_server.url()).send(message)
    assert info.value.permanent is True


def test_one_connection_per_message(smtp_test_server: SmtpTestServer):
    mailer = SmtpMailer.from_url(smtp_test_server.url())
    for i in range(3):
        mailer.send(_msg(message_id=f"n{i}"))
    assert [m.message["Message-ID"] for m in smtp_test_server.wait_for(3)] == [
        "<n0@skillsession>",
        "<n1@skillsession>",
        "<n2@skillsession>",
    ]


# -- AUTH --------------------------------------------------------------------------------------


def _our_log(caplog) -> str:
    return "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("skillsession"))


def test_auth_login_with_url_encoded_credentials(auth_server: SmtpTestServer, caplog):
    caplog.set_level(logging.DEBUG, logger="skillsession")
    url = auth_server.url(username="mailer", password=PASSWORD)
    assert PASSWORD not in url  # it is percent-encoded in the URL
    SmtpMailer.from_url(url).send(_msg())
    [mail] = auth_server.wait_for(1)
    assert mail.login == "mailer"
    assert "sent via" in _our_log(caplog)
    assert PASSWORD not in _our_log(caplog)


def test_wrong_password_is_temporary_and_not_revealed(auth_server: SmtpTestServer, caplog):
    caplog.set_level(logging.DEBUG, logger="skillsession")
    mailer = SmtpMailer.from_url(auth_server.url(username="mailer", password="wrong-password-42"))
    with pytest.raises(MailError) as info:
        mailer.send(_msg())
    # A login problem is configuration, not this message: keep it for a retry.
    assert info.value.permanent is False
    assert "535" in str(info.value)
    assert "wrong-password-42" not in str(info.value)
    assert "wrong-password-42" not in _our_log(caplog)
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert auth_server.received == []


def test_non_ascii_password_is_a_clear_mail_error(auth_server: SmtpTestServer):
    mailer = SmtpMailer.from_url(auth_server.url(username="mailer", password="pässwörd"))
    with pytest.raises(MailError) as info:
        mailer.send(_msg())
    assert "ASCII" in str(info.value)
    assert "pässwörd" not in str(info.value)


def test_missing_credentials_are_refused_but_temporary(auth_server: SmtpTestServer):
    with pytest.raises(MailError) as info:
        SmtpMailer.from_url(auth_server.url()).send(_msg())
    assert "530" in str(info.value)
    assert info.value.permanent is False
    assert auth_server.received == []


# -- TLS ---------------------------------------------------------------------------------------


def test_starttls_with_verification_disabled(certificate: SelfSignedCertificate):
    with SmtpTestServer(starttls_context=certificate.server_context()) as server:
        mailer = SmtpMailer.from_url(server.url())  # starttls=true&tls_verify=false
        assert mailer.starttls and not mailer.tls_verify
        mailer.send(_msg())
        assert server.wait_for(1)[0].tls is True


def test_starttls_verifies_certificates_by_default(certificate: SelfSignedCertificate):
    with SmtpTestServer(starttls_context=certificate.server_context()) as server:
        mailer = SmtpMailer.from_url(server.url(tls_verify="true"))
        with pytest.raises(MailError) as info:
            mailer.send(_msg())
        assert info.value.permanent is False
        assert "certificate" in str(info.value).lower()

        trusting = SmtpMailer(
            server.host, server.port, starttls=True, ssl_context=certificate.client_context()
        )
        trusting.send(_msg())
        assert server.wait_for(1)[0].tls is True


def test_auth_over_starttls(certificate: SelfSignedCertificate):
    # aiosmtpd's default: AUTH only after TLS.
    with SmtpTestServer(
        starttls_context=certificate.server_context(),
        require_starttls=True,
        credentials={"mailer": PASSWORD},
    ) as server:
        SmtpMailer.from_url(server.url(username="mailer", password=PASSWORD)).send(_msg())
        [mail] = server.wait_for(1)
        assert (mail.tls, mail.login) == (True, "mailer")


def test_implicit_tls(certificate: SelfSignedCertificate):
    with SmtpTestServer(implicit_tls_context=certificate.server_context()) as server:
        url = server.url()
        assert url.startswith("smtps://")
        SmtpMailer.from_url(url).send(_msg())
        assert server.wait_for(1)[0].tls is True


def test_starttls_required_but_not_offered_is_temporary(smtp_test_server: SmtpTestServer):
    mailer = SmtpMailer.from_url(smtp_test_server.url(starttls="true"))
    with pytest.raises(MailError) as info:
        mailer.send(_msg())
    assert info.value.permanent is False
    assert "STARTTLS" in str(info.value)


# -- failures ----------------------------------------------------------------------------------


def test_refused_recipient_is_permanent(smtp_test_server: SmtpTestServer):
    smtp_test_server.set_rcpt_reply("gone@example.com", "550 5.1.1 No such user")
    with pytest.raises(MailError) as info:
        SmtpMailer.from_url(smtp_test_server.url()).send(_msg(to="gone@example.com"))
    assert info.value.permanent is True
    assert "550" in str(info.value) and "gone@example.com" in str(info.value)
    assert smtp_test_server.received == []


def test_message_without_recipients_is_permanent(smtp_test_server: SmtpTestServer):
    message = _msg()
    del message["To"]
    with pytest.raises(MailError) as info:
        SmtpMailer.from_url(smtp_test_server.url()).send(message)
    assert info.value.permanent is True


def test_temporarily_refused_recipient_is_not_permanent(smtp_test_server: SmtpTestServer):
    smtp_test_server.set_rcpt_reply("busy@example.com", "451 4.3.0 Mailbox busy, try later")
    with pytest.raises(MailError) as info:
        SmtpMailer.from_url(smtp_test_server.url()).send(_msg(to="busy@example.com"))
    assert info.value.permanent is False


def test_partly_refused_recipients_deliver_to_the_rest(smtp_test_server: SmtpTestServer, caplog):
    smtp_test_server.set_rcpt_reply("gone@example.com", "550 5.1.1 No such user")
    message = _msg(to="zoe@example.com, gone@example.com")
    SmtpMailer.from_url(smtp_test_server.url()).send(message)  # no error: retrying would duplicate
    assert smtp_test_server.wait_for(1)[0].rcpt_tos == ("zoe@example.com",)
    assert "gone@example.com" in caplog.text


@pytest.mark.parametrize(
    ("reply", "permanent"), [("451 4.3.0 Try later", False), ("554 5.6.0 Rejected", True)]
)
def test_data_replies(smtp_test_server: SmtpTestServer, reply, permanent):
    smtp_test_server.set_data_reply(reply)
    with pytest.raises(MailError) as info:
        SmtpMailer.from_url(smtp_test_server.url()).send(_msg())
    assert info.value.permanent is permanent
    assert reply.split()[0] in str(info.value)


def test_server_down_is_temporary():
    mailer = SmtpMailer("127.0.0.1", _closed_port(), timeout=2)
    with pytest.raises(MailError) as info:
        mailer.send(_msg())
    assert info.value.permanent is False


def test_stopped_server_is_temporary():
    server = SmtpTestServer().start()
    mailer = SmtpMailer.from_url(server.url())
    mailer.send(_msg())
    server.stop()
    with pytest.raises(MailError) as info:
        mailer.send(_msg())
    assert info.value.permanent is False


def test_silent_server_times_out_as_temporary():
    with socket.socket() as listener:  # accepts TCP (backlog) but never greets
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        mailer = SmtpMailer("127.0.0.1", listener.getsockname()[1], timeout=0.5)
        started = time.monotonic()
        with pytest.raises(MailError) as info:
            mailer.send(_msg())
        assert time.monotonic() - started < 5
    assert info.value.permanent is False


def test_custom_ssl_context_is_used(certificate: SelfSignedCertificate):
    context = ssl.create_default_context()  # trusts nothing of ours: must fail
    with SmtpTestServer(implicit_tls_context=certificate.server_context()) as server:
        mailer = SmtpMailer(server.host, server.port, implicit_tls=True, ssl_context=context)
        with pytest.raises(MailError):
            mailer.send(_msg())
        assert server.received == []


def test_test_server_helpers_work_standalone(tmp_path: Path):
    with SmtpTestServer() as server:
        assert server.port > 0
        with pytest.raises(TimeoutError):
            server.wait_for(1, timeout=0.1)
        SmtpMailer.from_url(server.url()).send(_msg())
        assert len(server.messages) == 1
        server.clear()
        assert server.received == []
