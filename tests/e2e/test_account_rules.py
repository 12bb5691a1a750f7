"""Issue 14's account rules on the real server over HTTP (SQLite, mail to .eml files): the
squatting sequence ends with the mailbox owner's password working, and a password reset or
change refuses the tokens issued before it, on the thin path and the FastAPI path alike; resets
racing with one code through two worker processes use it once."""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from api_client import Mailbox, client_from
from server import Server

OWNER_PASSWORD = "the owner's own password"
STRANGER_PASSWORD = "the squatter's password"
NEW_PASSWORD = "a brand new password"
OWNER, STRANGER = "127.0.0.1", "127.0.0.2"
# a thin-path route (http/fast.py) and a FastAPI one: both check the token the same way
AUTHENTICATED = ("/get-student-bookings", "/get-profile-img-url")

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("recovery"), workers=2).start()
    yield srv
    srv.stop()


def codes(server, to: str, subject: str) -> list[str]:
    found = Mailbox(server.data_dir / "mail").messages(to)
    subjects = [str(m["Subject"]) for m in found if subject.lower() in str(m["Subject"]).lower()]
    return [re.search(r"\b(\d{6})\b", s).group(1) for s in subjects]


def new_code(server, to: str, subject: str, known: list[str]) -> str:
    """The code of a mail not seen before (mail is written by the outbox, shortly after)."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        fresh = [c for c in codes(server, to, subject) if c not in known]
        if fresh:
            return fresh[-1]
        time.sleep(0.05)
    raise AssertionError(f"no new {subject!r} mail to {to}")


def statuses(client: httpx.Client, token: str) -> list[int]:
    headers = {"Authorization": f"Bearer {token}"}
    return [client.get(path, headers=headers).status_code for path in AUTHENTICATED]


def login(client: httpx.Client, email: str, password: str) -> httpx.Response:
    return client.post("/auth/login", json={"email": email, "password": password})


def test_the_squatting_sequence_ends_with_the_owners_password_working(server):
    email = "squatted@example.test"
    with client_from(STRANGER, server.base_url) as stranger:
        first = {"email": email, "password": STRANGER_PASSWORD}
        assert stranger.post("/auth/signup", json=first).status_code == 201
    squatters_code = new_code(server, email, "code", [])
    with client_from(OWNER, server.base_url) as owner:
        mine = {"email": email, "password": OWNER_PASSWORD}
        signed = owner.post("/auth/signup", json=mine)
        assert signed.status_code == 201, signed.text  # not a 409
        code = new_code(server, email, "code", [squatters_code])
        assert owner.post("/auth/confirm", json={"email": email, "code": code}).status_code == 200
        assert login(owner, email, OWNER_PASSWORD).status_code == 200
    with client_from(STRANGER, server.base_url) as stranger:
        assert login(stranger, email, STRANGER_PASSWORD).status_code == 401
        again = stranger.post("/auth/signup", json=first)  # confirmed now: taken
        assert again.status_code == 409 and again.json()["error"]["code"] == "email_taken"


def test_a_reset_refuses_the_tokens_issued_before_it(server):
    email = "reset@example.test"
    with client_from(OWNER, server.base_url) as me:
        assert me.post("/auth/signup", json={"email": email, "password": OWNER_PASSWORD}).is_success
        code = new_code(server, email, "code", [])
        assert me.post("/auth/confirm", json={"email": email, "code": code}).is_success
        old = login(me, email, OWNER_PASSWORD).json()["access_token"]
        assert 401 not in statuses(me, old)
        asked = me.post("/auth/forgot-password", json={"email": email})
        assert asked.status_code == 202
        unknown = me.post("/auth/forgot-password", json={"email": "nobody@example.test"})
        assert unknown.status_code == 202 and unknown.json() == asked.json()
        reset_code = new_code(server, email, "reset code", [code])
        body = {"email": email, "code": reset_code, "new_password": NEW_PASSWORD}
        reset = me.post("/auth/reset-password", json=body)
        assert reset.status_code == 200, reset.text
        assert statuses(me, old) == [401, 401]
        assert login(me, email, OWNER_PASSWORD).status_code == 401
        fresh = login(me, email, NEW_PASSWORD).json()["access_token"]
        assert 401 not in statuses(me, fresh)
        assert me.post("/auth/reset-password", json=body).status_code == 400  # spent


def test_a_change_refuses_the_tokens_issued_before_it(server):
    email = "change@example.test"
    with client_from(OWNER, server.base_url) as me:
        assert me.post("/auth/signup", json={"email": email, "password": OWNER_PASSWORD}).is_success
        code = new_code(server, email, "code", [])
        assert me.post("/auth/confirm", json={"email": email, "code": code}).is_success
        token = login(me, email, OWNER_PASSWORD).json()["access_token"]
        other = login(me, email, OWNER_PASSWORD).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        body = {"current_password": "not my password", "new_password": NEW_PASSWORD}
        wrong = me.post("/auth/change-password", json=body, headers=auth)
        assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "wrong_password"
        body["current_password"] = OWNER_PASSWORD
        assert me.post("/auth/change-password", json=body).status_code == 401  # no token
        changed = me.post("/auth/change-password", json=body, headers=auth)
        assert changed.status_code == 200, changed.text
        answer = changed.json()
        assert (answer["status"], answer["token_type"]) == ("password_changed", "bearer")
        assert answer["expires_in"] > 0
        assert statuses(me, token) == statuses(me, other) == [401, 401]
        assert 401 not in statuses(me, answer["access_token"])  # the caller's fresh token
        assert login(me, email, NEW_PASSWORD).status_code == 200


def test_resets_racing_with_one_code_use_it_once(server):
    """Each reset checks the code, then hashes the new password (argon2, a tenth of a second):
    without the store consuming the code atomically, every racer passed the check."""
    email = "raced-reset@example.test"
    racers = [f"racer number {i} password" for i in range(6)]
    with client_from(OWNER, server.base_url) as me:
        assert me.post("/auth/signup", json={"email": email, "password": OWNER_PASSWORD}).is_success
        code = new_code(server, email, "code", [])
        assert me.post("/auth/confirm", json={"email": email, "code": code}).is_success
        assert me.post("/auth/forgot-password", json={"email": email}).status_code == 202
        reset_code = new_code(server, email, "reset code", [code])

    def reset(password: str) -> httpx.Response:
        with client_from(OWNER, server.base_url) as racer:
            body = {"email": email, "code": reset_code, "new_password": password}
            return racer.post("/auth/reset-password", json=body)

    with ThreadPoolExecutor(len(racers)) as pool:
        answers = list(pool.map(reset, racers))
    statuses_seen = sorted(a.status_code for a in answers)
    assert statuses_seen == [200] + [400] * (len(racers) - 1), [a.text for a in answers]
    assert {a.json()["error"]["code"] for a in answers if a.status_code == 400} == {"invalid_code"}
    winner = racers[[a.status_code for a in answers].index(200)]
    losers = [p for p in racers if p != winner]
    with client_from(OWNER, server.base_url) as me:  # the winner first: failures are limited
        assert login(me, email, winner).status_code == 200
        assert [login(me, email, p).status_code for p in losers[:3]] == [401] * 3
