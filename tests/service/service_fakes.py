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


class CountingStore:
    """A store counting the calls of some of its methods, by name of count:
    `CountingStore(store, slot_reads=("slots_for_tutor",))` then `.slot_reads` (what a cache
    hit must not call). Everything else is the store's."""

    def __init__(self, store, **counted: tuple[str, ...]):
        self.inner = store
        self.counts = dict.fromkeys(counted, 0)
        self.count_of = {method: name for name, methods in counted.items() for method in methods}

    def __getattr__(self, name):
        if name in self.counts:
            return self.counts[name]
        attribute = getattr(self.inner, name)
        count = self.count_of.get(name)
        if count is None:
            return attribute

        def counting(*args, **kwargs):
            self.counts[count] += 1
            return attribute(*args, **kwargs)

        return counting
