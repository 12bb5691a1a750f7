"""Every sample event in events/ through the Lambda handler in-process (store: SQLite in a tmp
dir, media: S3 on moto, auth: Cognito settings; private routes carry authorizer claims)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from moto_server import REGION, endpoint_url

EVENTS = Path(__file__).resolve().parents[2] / "events"
EXPECTED = {
    "health.json": 200,
    "openapi.json": 200,
    "get-teacher-bookings.json": 403,  # authenticated (claims trusted), no profile yet
    "get-pending-booking-slots.json": 403,
    "get-teacher-bookings-unauthenticated.json": 401,
}


@pytest.fixture(scope="module")
def handler(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    data = tmp_path_factory.mktemp("lambda")
    mp.setenv("SKILLSESSION_DATA_DIR", str(data))
    mp.setenv("SKILLSESSION_STORE", f"sqlite:///{data / 'db.sqlite'}")
    bucket = "lambda-media"
    mp.setenv(
        "SKILLSESSION_MEDIA", f"s3://{bucket}/m?region={REGION}&endpoint_url={endpoint_url()}"
    )
    mp.setenv("SKILLSESSION_AUTH", f"cognito://{REGION}/eu-west-1_SAMPLE?client_id=sampleclientid")
    from skillsession.adapters.media.s3 import S3MediaStore

    S3MediaStore(bucket, region=REGION, endpoint_url=endpoint_url()).ensure_bucket()
    from skillsession.aws import lambda_handler

    lambda_handler._handler = None
    yield lambda_handler.handler
    lambda_handler._handler = None
    mp.undo()


def test_every_event_has_an_expectation():
    assert {p.name for p in EVENTS.glob("*.json")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_event(handler, name):
    event = json.loads((EVENTS / name).read_text())
    response = handler(event, None)
    assert response["statusCode"] == EXPECTED[name], response.get("body")


def test_module_import_is_lean():
    code = (
        "import sys, skillsession.aws.lambda_handler; "
        "print(any(m in sys.modules for m in ('fastapi', 'boto3', 'botocore', 'mangum')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_expiry_handler_runs_once_and_returns_counts(tmp_path, monkeypatch):
    monkeypatch.setenv("SKILLSESSION_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SKILLSESSION_STORE", f"sqlite:///{tmp_path / 'db.sqlite'}")
    from skillsession.adapters.store.sqlite import SqliteStore
    from skillsession.aws import expiry_handler

    SqliteStore.from_url(f"sqlite:///{tmp_path / 'db.sqlite'}").migrate()  # what deploy does
    monkeypatch.setattr(expiry_handler, "_deps", None)
    counts = expiry_handler.handler({"source": "aws.scheduler"}, None)
    assert set(counts) >= {"slots_expired", "bookings_expired", "mail_sent"}
    assert all(isinstance(v, int) for v in counts.values())
    expiry_handler._deps = None


def test_bootstrap_wires_cognito(tmp_path, monkeypatch):
    from skillsession.adapters.auth.cognito import CognitoVerifier
    from skillsession.bootstrap import build
    from skillsession.settings import Settings

    monkeypatch.setenv("SKILLSESSION_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SKILLSESSION_AUTH", "cognito://eu-west-1/eu-west-1_X?client_id=c")
    deps = build(Settings())
    assert isinstance(deps.verifier, CognitoVerifier)
    assert deps.issuer is None and deps.passwords is None
    deps.store.close()
