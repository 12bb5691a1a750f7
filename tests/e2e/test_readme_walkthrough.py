"""The README's curl walk-through, run as written (bash and curl) against a served demo data
set, twice in a row: both runs end with their own accepted booking. A step whose answer lacks the
field it needs prints that answer, not a Python traceback."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from e2e.server import Server, run_cli

README = Path(__file__).resolve().parents[2] / "README.md"

pytestmark = pytest.mark.skipif(
    not (shutil.which("bash") and shutil.which("curl")), reason="needs bash and curl"
)


def walkthrough() -> str:
    section = README.read_text().split("## A booking, with curl", 1)[1]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)


def bash(script: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-eo", "pipefail", "-c", script],
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("readme")
    srv = Server(data_dir)
    run_cli(data_dir, "demo-data", "--tutors", "2", "--students", "2", "--days", "1", env=srv.env)
    srv.start()
    yield srv
    srv.stop()


def test_the_walkthrough_runs_twice(demo_server):
    script = walkthrough() + 'echo; echo "BOOKING=$BOOKING"\n'
    booked = []
    for run in (1, 2):
        result = bash(script, API=demo_server.base_url)
        output = result.stdout + result.stderr
        assert result.returncode == 0, f"run {run}:\n{output}"
        assert "Traceback" not in output and "unexpected answer" not in output, output
        booking_id = re.search(r"^BOOKING=(\S+)$", result.stdout, re.M).group(1)
        last = result.stdout.split("\nBOOKING=")[0]  # the last answer: the accepted bookings
        accepted = json.loads(last[last.rindex('{"bookings"') :])["bookings"]
        assert booking_id in {
            b["booking_id"] for b in accepted if b["booking_status"] == "accepted"
        }
        booked.append(booking_id)
    assert booked[0] != booked[1]


def test_a_step_without_its_field_prints_the_answer(demo_server):
    block = walkthrough()
    helper = block[block.index("field() {") : block.index('"$@"; }') + len('"$@"; }')]
    answer = '{"error": {"code": "slot_unavailable", "message": "slot is not available"}}'
    result = bash(f"{helper}\necho '{answer}' | field booking booking_id")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "unexpected answer" in result.stderr and "slot_unavailable" in result.stderr
    ok = bash(
        f'{helper}\necho \'{{"slots": [{{"slot_id": "a"}}, {{"slot_id": "b"}}]}}\' | field slots -1 slot_id'
    )
    assert ok.returncode == 0 and ok.stdout.strip() == "b"
