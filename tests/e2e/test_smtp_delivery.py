"""The server delivering through a real SMTP server on loopback: codes arrive, an outage loses
nothing and fails no request, a refused address does not block the others."""

from __future__ import annotations

import contextlib
import re
import sqlite3
import time

import httpx
import pytest

from e2e.api_client import PASSWORD
from e2e.server import ReservedPort, Server
from smtp_server import SmtpTestServer

CREDENTIALS = {"mailer": "s3cret-pass"}
REFUSED = "refused@example.test"


@pytest.fixture(scope="module")
def smtp():
    server = SmtpTestServer(
        credentials=CREDENTIALS,
        auth_require_tls=False,
        rcpt_replies={REFUSED: "550 5.1.1 No such user"},
    ).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def smtp_app(tmp_path_factory, smtp):
    url = smtp.url(username="mailer", password=CREDENTIALS["mailer"])
    srv = Server(tmp_path_factory.mktemp("smtp"), SKILLSESSION_MAIL=url).start()
    yield srv
    srv.stop()


def code_in(messages, to):
    for message in messages:
        if to in str(message["To"]):
            return re.search(r"\b(\d{6})\b", str(message["Subject"])).group(1)
    return None


def wait_code(smtp, to, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        code = code_in(smtp.messages, to)
        if code:
            return code
        time.sleep(0.05)
    raise AssertionError(f"no code mailed to {to}")


def wait_outbox(srv, address, done, timeout=30.0) -> tuple[int, str, str | None]:
    """(attempts, status, last_error) of the newest notification to `address`, read from the
    server's store once `done(row)` holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.closing(sqlite3.connect(srv.data_dir / "skillsession.db")) as db:
            row = db.execute(
                "SELECT n.attempts, n.status, n.last_error FROM notifications n "
                "JOIN users u ON u.user_id = n.recipient_id WHERE u.email = ? "
                "ORDER BY n.created_at DESC, n.notification_id DESC LIMIT 1",
                (address,),
            ).fetchone()
        if row is not None and done(row):
            return row
        time.sleep(0.05)
    raise AssertionError(f"the outbox row for {address} stayed {row}")


def test_signup_code_arrives_over_smtp(smtp, smtp_app):
    base = smtp_app.base_url
    assert httpx.get(f"{base}/health").json()["backends"]["mail"] == "smtp"
    address = "smtp-user@example.test"
    assert (
        httpx.post(f"{base}/auth/signup", json={"email": address, "password": PASSWORD}).status_code
        == 201
    )
    code = wait_code(smtp, address)
    assert (
        httpx.post(f"{base}/auth/confirm", json={"email": address, "code": code}).status_code == 200
    )
    assert (
        httpx.post(f"{base}/auth/login", json={"email": address, "password": PASSWORD}).status_code
        == 200
    )
    assert "mailer" in {m.login for m in smtp.received if m.login}


def test_a_refused_address_does_not_block_the_others(smtp, smtp_app):
    base = smtp_app.base_url
    assert (
        httpx.post(f"{base}/auth/signup", json={"email": REFUSED, "password": PASSWORD}).status_code
        == 201
    )
    after = "next-in-line@example.test"
    assert (
        httpx.post(f"{base}/auth/signup", json={"email": after, "password": PASSWORD}).status_code
        == 201
    )
    wait_code(smtp, after)
    assert code_in(smtp.messages, REFUSED) is None
    attempts, status, last_error = wait_outbox(smtp_app, REFUSED, lambda row: row[1] != "pending")
    assert (attempts, status) == (1, "failed") and "550" in last_error  # given up at once


def test_mail_outage_loses_nothing(tmp_path):
    # the mail server is down when the request comes: delivery fails and is retried later
    reserved = ReservedPort()  # refused until `outage` listens on it; no other process takes it
    dead_port = reserved.port
    srv = Server(tmp_path, SKILLSESSION_MAIL=f"smtp://127.0.0.1:{dead_port}?timeout=2").start()
    outage = SmtpTestServer(port=dead_port)
    try:
        address = "during-outage@example.test"
        r = httpx.post(f"{srv.base_url}/auth/signup", json={"email": address, "password": PASSWORD})
        assert r.status_code == 201  # the request never fails because of mail
        # a claimed row counts its attempt before the send; its error comes once it failed
        attempts, status, _ = wait_outbox(srv, address, lambda row: row[2] is not None)
        assert attempts >= 1 and status == "pending"  # tried, failed, kept for a retry
        outage.start()
        code = wait_code(outage, address, timeout=30)
        assert len(code) == 6
        assert [str(m["To"]) for m in outage.messages].count(address) == 1
    finally:
        outage.stop()
        srv.stop()
        reserved.release()
