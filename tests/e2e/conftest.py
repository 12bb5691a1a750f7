"""The `server` fixture: the real server process, once per shape.

Every test that uses it (directly or through `anon`, `tutor`, `student`) runs twice: on the
embedded shape (`[sqlite]`: SQLite, disk media) and on the AWS shape's storage (`[dynamodb]`:
DynamoDB and S3 on moto; accounts and mail stay embedded). A module may narrow that with its
own `SHAPES`; the tests in SQLITE_ONLY run on the embedded shape only, for the reason given.
"""

from __future__ import annotations

import pytest

from e2e.api_client import Api, Mailbox
from e2e.server import shape_server

SHAPES = ("sqlite", "dynamodb")
SQLITE_ONLY = {
    # asserts `"store": "sqlite"` in /health; tests/e2e/test_dynamodb_s3_shape.py checks the AWS shape's
    "test_journey.py::test_health_is_public",
    # fetches the service's own signed /media URLs and tampers with their `signature=`; S3 URLs
    # are presigned by S3 (the AWS shape's images: tests/e2e/test_dynamodb_s3_shape.py)
    "test_errors.py::test_profile_images",
}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "shape" not in metafunc.fixturenames:
        return
    name = f"{metafunc.definition.path.name}::{metafunc.definition.originalname}"
    shapes = ["sqlite"] if name in SQLITE_ONLY else list(getattr(metafunc.module, "SHAPES", SHAPES))
    metafunc.parametrize("shape", shapes, indirect=True, scope="module")


@pytest.fixture(scope="module")
def shape(request) -> str:
    return getattr(request, "param", "sqlite")


@pytest.fixture(scope="module")
def server(shape, tmp_path_factory):
    srv = shape_server(tmp_path_factory.mktemp(f"server-{shape}"), shape).start()
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
