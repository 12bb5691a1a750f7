"""A small client for the end-to-end tests: talks HTTP like an app would."""

from __future__ import annotations

import email
import email.policy
import itertools
import re
import time
from pathlib import Path

import httpx

from e2e.schema_check import check

PASSWORD = "correct horse battery"


def client_from(address: str, base_url: str) -> httpx.Client:
    """An HTTP client whose socket is bound to `address` (loopback has many: 127.0.0.x), so
    that the server sees it as that client address."""
    return httpx.Client(
        base_url=base_url, timeout=30, transport=httpx.HTTPTransport(local_address=address)
    )


_counter = itertools.count(1)


class Mailbox:
    """The `.eml` files the default mail backend writes."""

    def __init__(self, directory: Path):
        self.directory = directory

    def messages(self, to: str | None = None) -> list[email.message.EmailMessage]:
        found = []
        for path in sorted(self.directory.glob("*.eml")) if self.directory.exists() else []:
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if to is None or to.lower() in str(message["To"]).lower():
                found.append(message)
        return found

    def wait_for(self, to: str, subject_contains: str, timeout: float = 15.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in self.messages(to):
                if subject_contains.lower() in str(message["Subject"]).lower():
                    return message
            time.sleep(0.05)
        raise AssertionError(f"no mail to {to} with {subject_contains!r}")

    def code_for(self, to: str) -> str:
        message = self.wait_for(to, "code")
        return re.search(r"\b(\d{6})\b", str(message["Subject"])).group(1)


class Api:
    def __init__(self, base_url: str, mailbox: Mailbox, token: str | None = None):
        self.base_url = base_url
        self.mailbox = mailbox
        self.token = token
        self.http = httpx.Client(base_url=base_url, timeout=30)
        self.email: str | None = None
        self.user_id: str | None = None

    def headers(self, extra=None):
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        headers.update(extra or {})
        return headers

    def get(self, path, **kwargs):
        headers = self.headers(kwargs.pop("headers", None))
        return check(self.http.get(path, headers=headers, **kwargs))

    def post(self, path, json=None, **kwargs):
        headers = self.headers(kwargs.pop("headers", None))
        return check(self.http.post(path, json=json, headers=headers, **kwargs))

    def put(self, path, **kwargs):
        headers = self.headers(kwargs.pop("headers", None))
        return check(self.http.put(path, headers=headers, **kwargs))

    def delete(self, path, json=None, **kwargs):
        headers = self.headers(kwargs.pop("headers", None))
        return check(self.http.request("DELETE", path, json=json, headers=headers, **kwargs))

    def as_new_user(self, role: str | None = None, prefix: str = "user", **profile) -> Api:
        """A fresh client: signed up, confirmed through the mailed code, logged in, profiled."""
        api = Api(self.base_url, self.mailbox)
        address = f"{prefix}-{next(_counter)}-{time.monotonic_ns()}@example.test"
        assert api.post("/auth/signup", {"email": address, "password": PASSWORD}).status_code == 201
        code = self.mailbox.code_for(address)
        assert api.post("/auth/confirm", {"email": address, "code": code}).status_code == 200
        r = api.post("/auth/login", {"email": address, "password": PASSWORD})
        assert r.status_code == 200, r.text
        api.token, api.email = r.json()["access_token"], address
        if role:
            body = {"role": role, "first_name": prefix.title(), "last_name": "Tester", **profile}
            r = api.post("/save-user-details", body)
            assert r.status_code == 201, r.text
            api.user_id = r.json()["profile"]["user_id"]
        return api

    def subscribe(self) -> None:
        assert self.get("/subscribe-email-notifications").status_code == 200
        message = self.mailbox.wait_for(self.email, "confirm your subscription")
        text = message.get_body(("plain",)).get_content()
        link = re.search(r"(/confirm-subscription\?token=\S+)", text).group(1)
        assert "<form" in self.http.get(link).text  # the page; its button posts back
        r = self.http.post(link)
        assert r.json()["subscription_status"] == "confirmed", r.text
