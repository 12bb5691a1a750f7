"""Fakes and helpers for the service tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from skillsession.ports import Identity, MailError
from skillsession.service import profiles
from skillsession.service.deps import Deps

START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, now: datetime = START):
        self.current = now

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta) -> None:
        self.current += timedelta(**delta)


class RecordingMailer:
    backend_name = "recording"

    def __init__(self):
        self.sent = []
        self.failure: MailError | None = None

    def send(self, message) -> None:
        if self.failure is not None:
            raise self.failure
        self.sent.append(message)


def person(deps: Deps, name: str, role: str, **fields) -> Identity:
    identity = Identity(user_id=f"id-{name}", email=f"{name}@example.test")
    profiles.save(deps, identity, role, {"first_name": name.title(), **fields})
    return identity
