"""The `store` fixture: every Store contract test runs once per adapter in STORE_FACTORIES."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from factories import STORE_FACTORIES

from skillsession.ports.storage import Stores


@pytest.fixture(params=list(STORE_FACTORIES))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Stores]:
    store = STORE_FACTORIES[request.param](tmp_path)
    store.admin.migrate()
    yield store
    store.admin.close()
