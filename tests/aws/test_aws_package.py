"""The Lambda package: what `make build-ApiFunction` installs (tools/lambda_requirements.py,
derived from pyproject.toml) holds everything the Lambda entries import, and none of what only
the embedded shape uses.

The package is rebuilt here from this environment's installed distributions: the requirement
set and everything it requires (markers and extras followed, as pip resolves it), each
distribution's files linked into one directory. A fresh interpreter, isolated (`-I -S`: no
site-packages, no PYTHONPATH), with only that directory and `src/` on its path, then runs Lambda's
init phase and events through the API handler and one run of the scheduled job against moto."""

from __future__ import annotations

import importlib.metadata as metadata
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from lambda_requirements import lambda_requirements, name_of
from moto.core import DEFAULT_ACCOUNT_ID
from moto_server import REGION, endpoint_url, table_name
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]

EMBEDDED_ONLY_MODULES = (
    "uvicorn",
    "uvloop",
    "watchfiles",
    "websockets",
    "typer",
    "rich",
    "pygments",
    "argon2",
)


def closure(requirements: list[str]) -> dict[str, metadata.Distribution]:
    """The installed distributions that pip would install for `requirements` (the versions are
    this environment's: the test extras may hold newer ones than the pins)."""
    found: dict[str, metadata.Distribution] = {}
    todo = [Requirement(r) for r in requirements]
    seen: set[tuple[str, frozenset[str]]] = set()
    while todo:
        requirement = todo.pop()
        key = (name_of(requirement.name), frozenset(requirement.extras))
        if key in seen:
            continue
        seen.add(key)
        dist = metadata.distribution(requirement.name)
        found[key[0]] = dist
        for line in dist.requires or []:
            needed = Requirement(line)
            extras = requirement.extras or {""}
            if needed.marker is None or any(needed.marker.evaluate({"extra": e}) for e in extras):
                todo.append(needed)
    return found


def build_package(target: Path) -> set[str]:
    dists = closure(lambda_requirements())
    for dist in dists.values():
        for file in dist.files or []:
            if ".." in file.parts:
                continue  # scripts outside site-packages
            source = Path(dist.locate_file(file))
            if source.is_file():
                link = target / file
                link.parent.mkdir(parents=True, exist_ok=True)
                if not link.exists():
                    link.symlink_to(source)
    return set(dists)


def test_the_requirement_set_comes_from_pyproject_without_the_embedded_shape():
    requirements = lambda_requirements()
    names = {name_of(r) for r in requirements}
    assert {"fastapi", "mangum", "boto3", "pillow", "icalendar", "pyjwt", "cryptography"} <= names
    assert not names & {"uvicorn", "typer", "rich", "argon2-cffi"}
    assert all(re.search(r"==\d", r) for r in requirements)  # the pins, as pyproject has them
    assert set(closure(["skillsession"])) - {"skillsession"} >= set(closure(requirements)) - {
        "boto3",
        "botocore",
        "s3transfer",
        "jmespath",
        "python-dateutil",
        "six",
        "mangum",
        "cryptography",
        "cffi",
        "pycparser",
        "urllib3",
    }, "every distribution of the Lambda set is one `pip install .[aws]` installs too"


PROBE = r"""
import json, sys
sys.path[:0] = [TARGET, SRC]
events = EVENTS
from skillsession.aws import lambda_handler, expiry_handler
statuses = {}
for name in events:
    with open(EVENT_DIR + "/" + name) as file:
        statuses[name] = lambda_handler.handler(json.load(file), None)["statusCode"]
counts = expiry_handler.handler({"source": "aws.scheduler"}, None)
from datetime import datetime, timedelta, timezone
from skillsession.service.mail_message import booking_ics
start = datetime(2030, 1, 1, tzinfo=timezone.utc)
ics = booking_ics(uid="u", start=start, end=start + timedelta(hours=1), summary="s",
    description="d", organizer_email="t@example.com", attendee_emails=["s@example.com"],
    method="REQUEST", status="CONFIRMED")
loaded = sorted({name.split(".")[0] for name in sys.modules})
outside = sorted({
    name.split(".")[0] for name, module in list(sys.modules.items())
    if (path := getattr(module, "__file__", None)) and "site-packages" in path
})
print(json.dumps({"statuses": statuses, "job": sorted(counts), "ics": ics.startswith(b"BEGIN:VCALENDAR"),
                  "loaded": loaded, "outside": outside}))
"""

EVENTS = [
    "health.json",
    "openapi.json",
    "docs.json",
    "web-client.json",  # the web client's page and a file: package data, not modules
    "web-client-asset.json",
    "save-user-details-tutor.json",
    "save-profile-img.json",  # Pillow
    "get-user-profiles-and-teacher-search-skill.json",
    "get-profile-img-url.json",
]


@pytest.mark.timeout(600)
def test_the_lambda_runs_with_only_its_requirement_set(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from skillsession import cli

    target = tmp_path / "package"
    installed = build_package(target)
    assert not installed & {"uvicorn", "typer", "rich", "argon2-cffi", "uvloop", "watchfiles"}
    for module in EMBEDDED_ONLY_MODULES:
        assert not (target / module).exists(), module

    aws = f"region={REGION}&endpoint_url={endpoint_url()}"
    topic = f"arn:aws:sns:{REGION}:{DEFAULT_ACCOUNT_ID}:{table_name('package-mail')}"
    env = {
        "SKILLSESSION_DATA_DIR": str(tmp_path / "data"),
        "SKILLSESSION_STORE": f"dynamodb://{table_name('package')}?{aws}",
        "SKILLSESSION_MEDIA": f"s3://{table_name('package-media')}/media?{aws}",
        "SKILLSESSION_MAIL": f"sns://{topic}?{aws}",
        "SKILLSESSION_AUTH": f"cognito://{REGION}/{REGION}_SAMPLE?client_id=sampleclientid",  # the events' claims
        "SKILLSESSION_METRICS": f"cloudwatch://SkillSession?stack=package&{aws}",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    migrated = CliRunner().invoke(cli.app, ["migrate"])  # what a deploy has done
    assert migrated.exit_code == 0, migrated.output

    clean = {k: v for k, v in os.environ.items() if not k.startswith("SKILLSESSION_")}
    code = (
        PROBE.replace("TARGET", repr(str(target)))
        .replace("SRC", repr(str(ROOT / "src")))
        .replace("EVENT_DIR", repr(str(ROOT / "events")))
        .replace("EVENTS", repr(EVENTS))
    )
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code],
        env={**clean, **env, "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["outside"] == []  # nothing came from a site-packages directory
    assert all(status < 300 for status in result["statuses"].values()), result["statuses"]
    assert "outbox_pending" in result["job"] and result["ics"]
    assert {"PIL", "icalendar", "boto3", "mangum", "fastapi"} <= set(result["loaded"])
    assert not set(result["loaded"]) & set(EMBEDDED_ONLY_MODULES)
