"""The /auth/* abuse limits on the real server, by client address: loopback has many addresses,
so each client here binds its socket to its own (127.0.0.1 is the owner, 127.0.0.2 a stranger,
127.0.0.3 a proxy)."""

from __future__ import annotations

import pytest
from api_client import Mailbox, client_from
from server import Server

PASSWORD = "owner's long password"
OWNER, STRANGER, PROXY = "127.0.0.1", "127.0.0.2", "127.0.0.3"

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Server(
        tmp_path_factory.mktemp("abuse"),
        SKILLSESSION_LOGIN_MAX_FAILURES="5",
        SKILLSESSION_AUTH_CALLS_PER_ADDRESS="12",
        SKILLSESSION_SIGNUPS_PER_ADDRESS="3",
        SKILLSESSION_TRUSTED_PROXIES=f'["{PROXY}"]',
    ).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def owner(server) -> str:
    email = "owner@example.test"
    with client_from(OWNER, server.base_url) as owner:
        assert owner.post("/auth/signup", json={"email": email, "password": PASSWORD}).is_success
        code = Mailbox(server.data_dir / "mail").code_for(email)
        assert owner.post("/auth/confirm", json={"email": email, "code": code}).is_success
    return email


def test_a_stranger_failing_for_the_owners_email_does_not_lock_the_owner_out(server, owner):
    wrong = {"email": owner, "password": "guessing, guessing"}
    with client_from(STRANGER, server.base_url) as stranger:
        answers = [stranger.post("/auth/login", json=wrong).status_code for _ in range(6)]
        assert answers == [401] * 5 + [429]
        locked = stranger.post("/auth/login", json={"email": owner, "password": PASSWORD})
        assert locked.status_code == 429 and int(locked.headers["Retry-After"]) >= 1
        assert locked.json()["error"]["code"] == "rate_limited"
    with client_from(OWNER, server.base_url) as me:
        answer = me.post("/auth/login", json={"email": owner, "password": PASSWORD})
    assert answer.status_code == 200, answer.text


def test_a_proxys_clients_are_told_apart_by_x_forwarded_for(server, owner):
    """Behind a trusted proxy each forwarded address has its own count; a client that is not a
    proxy cannot pick its address by sending the header."""
    wrong = {"email": owner, "password": "guessing, guessing"}
    with client_from(PROXY, server.base_url) as proxy:
        for _ in range(5):
            forwarded = {"X-Forwarded-For": "203.0.113.9"}
            assert proxy.post("/auth/login", json=wrong, headers=forwarded).status_code == 401
        assert proxy.post("/auth/login", json=wrong, headers=forwarded).status_code == 429
        other = {"X-Forwarded-For": "1.2.3.4, 203.0.113.10"}  # the client wrote 1.2.3.4 itself
        assert proxy.post("/auth/login", json=wrong, headers=other).status_code == 401
    with client_from("127.0.0.7", server.base_url) as spoofer:  # not a proxy: header ignored
        statuses = [
            spoofer.post(
                "/auth/login", json=wrong, headers={"X-Forwarded-For": f"203.0.113.{i}"}
            ).status_code
            for i in range(100, 106)
        ]
    assert statuses == [401] * 5 + [429]  # all counted for 127.0.0.7


def test_a_sign_up_flood_from_one_address_is_refused_early(server):
    with client_from("127.0.0.4", server.base_url) as flooder:
        statuses = [
            flooder.post(
                "/auth/signup", json={"email": f"victim{i}@example.test", "password": PASSWORD}
            ).status_code
            for i in range(6)
        ]
        assert statuses == [201] * 3 + [429] * 3
    mailbox = Mailbox(server.data_dir / "mail")
    for i in range(3):
        mailbox.code_for(f"victim{i}@example.test")  # waits for its delivery
    assert not any(mailbox.messages(f"victim{i}@example.test") for i in (3, 4, 5))


def test_every_auth_call_is_limited_per_address(server):
    """12 calls per address in the window (each e-mail here fails once: no login limit)."""
    with client_from("127.0.0.5", server.base_url) as caller:
        statuses = [
            caller.post(
                "/auth/login", json={"email": f"nobody{i}@example.test", "password": PASSWORD}
            ).status_code
            for i in range(13)
        ]
    assert statuses == [401] * 12 + [429]
    with client_from("127.0.0.6", server.base_url) as other:
        body = {"email": "nobody@example.test", "password": PASSWORD}
        assert other.post("/auth/login", json=body).status_code == 401
