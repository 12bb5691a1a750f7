"""Service tests: the use cases over the in-memory store, a fake clock and a recording mailer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from skillsession.adapters.auth.local import LocalTokens, PasswordHasher
from skillsession.adapters.media.disk import DiskMediaStore
from skillsession.adapters.store.memory import MemoryStore
from skillsession.ports import Identity, MailError
from skillsession.service import profiles
from skillsession.service.deps import Deps
from skillsession.settings import Settings

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


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def deps(tmp_path, clock) -> Deps:
    tokens = LocalTokens(b"k" * 32)  # real time: PyJWT checks iat against the wall clock
    return Deps(
        settings=Settings(data_dir=tmp_path, _env_file=None),
        store=MemoryStore(),
        media=DiskMediaStore(tmp_path / "media", b"m" * 32),
        mailer=RecordingMailer(),
        verifier=tokens,
        issuer=tokens,
        passwords=PasswordHasher(time_cost=1, memory_cost=8, parallelism=1),
        code_secret=b"c" * 32,
        clock=clock,
    )


def person(deps: Deps, name: str, role: str, **fields) -> Identity:
    identity = Identity(user_id=f"id-{name}", email=f"{name}@example.test")
    profiles.save(deps, identity, role, {"first_name": name.title(), **fields})
    return identity


@pytest.fixture
def tutor(deps) -> Identity:
    return person(deps, "tutor", "tutor", teaching_skills="Python", time_zone="Europe/Berlin")


@pytest.fixture
def student(deps) -> Identity:
    return person(deps, "student", "student", time_zone="America/Halifax")
