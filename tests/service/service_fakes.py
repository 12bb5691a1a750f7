"""Fakes and helpers for the service tests."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime, timedelta

from skillsession.ports import Identity, MailError
from skillsession.ports.storage import Stores
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


class Counts:
    """Calls of some store methods, by name of count: `counting(stores,
    slot_reads=("slots_for_tutor",))` then `.slot_reads` (what a cache hit must not call)."""

    def __init__(self, counted: dict[str, tuple[str, ...]]):
        self.__dict__.update(dict.fromkeys(counted, 0))
        self.count_of = {method: name for name, methods in counted.items() for method in methods}


class _CountingRole:
    """A store role whose counted methods add one to their count; everything else is the role's."""

    def __init__(self, role, counts: Counts):
        self.inner, self.counts = role, counts

    def __getattr__(self, name):
        attribute = getattr(self.inner, name)
        count = self.counts.count_of.get(name)
        if count is None:
            return attribute

        def counting(*args, **kwargs):
            setattr(self.counts, count, getattr(self.counts, count) + 1)
            return attribute(*args, **kwargs)

        return counting


def counting(stores: Stores, **counted: tuple[str, ...]) -> tuple[Stores, Counts]:
    """`stores` with the named methods counted, and the counts."""
    counts = Counts(counted)
    roles = {
        f.name: None
        if getattr(stores, f.name) is None
        else _CountingRole(getattr(stores, f.name), counts)
        for f in fields(Stores)
    }
    return Stores(**roles), counts
