"""Service tests: the use cases over the in-memory store, a fake clock and a recording mailer."""

from __future__ import annotations

import pytest
from service_fakes import FakeClock, RecordingMailer, person

from skillsession.adapters.auth.local import LocalTokens, PasswordHasher
from skillsession.adapters.media.disk import DiskMediaStore
from skillsession.adapters.store import memory
from skillsession.adapters.store.sqlite import open_file
from skillsession.ports import Identity
from skillsession.service.deps import Deps
from skillsession.settings import Settings


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def deps(tmp_path, clock) -> Deps:
    tokens = LocalTokens(b"k" * 32)  # real time: PyJWT checks iat against the wall clock
    return Deps(
        settings=Settings(data_dir=tmp_path, _env_file=None),
        stores=memory.open_store(),
        media=DiskMediaStore(tmp_path / "media", b"m" * 32),
        mailer=RecordingMailer(),
        verifier=tokens,
        issuer=tokens,
        passwords=PasswordHasher(time_cost=1, memory_cost=8, parallelism=1),
        code_secret=b"c" * 32,
        clock=clock,
    )


@pytest.fixture
def tutor(deps) -> Identity:
    return person(deps, "tutor", "tutor", teaching_skills="Python", time_zone="Europe/Berlin")


@pytest.fixture
def student(deps) -> Identity:
    return person(deps, "student", "student", time_zone="America/Halifax")


@pytest.fixture(params=["memory", "sqlite"])
def real_store(request, tmp_path):
    """Each store that keeps versions (what the answer caches rely on), migrated."""
    store = memory.open_store() if request.param == "memory" else open_file(tmp_path / "store.db")
    store.admin.migrate()
    yield store
    store.admin.close()
