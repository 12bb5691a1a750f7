from __future__ import annotations

import pytest

from e2e.api_client import Api, Mailbox
from e2e.server import Server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("server")).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def anon(server) -> Api:
    return Api(server.base_url, Mailbox(server.data_dir / "mail"))


@pytest.fixture(scope="module")
def tutor(anon) -> Api:
    return anon.as_new_user(
        "tutor", "tutor", teaching_skills="Python, Linear  algebra", time_zone="Europe/Berlin"
    )


@pytest.fixture(scope="module")
def student(anon) -> Api:
    return anon.as_new_user("student", "student", time_zone="America/Halifax")
