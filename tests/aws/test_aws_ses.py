"""SesMailer failure mapping and wiring (delivery itself is in the Mailer contract suite)."""

from __future__ import annotations

import pytest
from moto_server import REGION, endpoint_url

from skillsession.adapters.mail.ses import SesMailer
from skillsession.ports import MailError
from skillsession.service.mail_message import build_message


def _message(sender: str = "no-reply@skillsession.localhost", to: str = "zoe@example.com"):
    return build_message(to=to, sender=sender, subject="Hi", text="Body", message_id="ses-1")


def test_from_url():
    mailer = SesMailer.from_url(
        "ses://no-reply@example.com?region=eu-west-1&endpoint_url=http://h:1"
    )
    assert (mailer.sender, mailer.region, mailer.endpoint_url) == (
        "no-reply@example.com",
        "eu-west-1",
        "http://h:1",
    )
    with pytest.raises(ValueError):
        SesMailer.from_url("ses://not-an-address")


def test_unverified_sender_is_a_permanent_failure():
    mailer = SesMailer.from_url(
        f"ses://nobody@unverified.example?region={REGION}&endpoint_url={endpoint_url()}"
    )
    with pytest.raises(MailError) as err:
        mailer.send(_message(sender="nobody@unverified.example"))
    assert err.value.permanent


def test_unreachable_endpoint_is_transient():
    mailer = SesMailer.from_url(
        f"ses://no-reply@example.com?region={REGION}&endpoint_url=http://127.0.0.1:9"
    )
    with pytest.raises(MailError) as err:
        mailer.send(_message())
    assert not err.value.permanent


def test_message_without_recipients_is_permanent():
    mailer = SesMailer("no-reply@example.com", region=REGION, endpoint_url=endpoint_url())
    message = _message()
    del message["To"]
    with pytest.raises(MailError) as err:
        mailer.send(message)
    assert err.value.permanent


def test_bootstrap_builds_ses_mailer(monkeypatch, tmp_path):
    from skillsession.bootstrap import build_mailer
    from skillsession.settings import Settings

    monkeypatch.setenv("SKILLSESSION_MAIL", "ses://no-reply@example.com?region=eu-west-1")
    monkeypatch.setenv("SKILLSESSION_DATA_DIR", str(tmp_path))
    assert build_mailer(Settings()).backend_name == "ses"
