"""The soak, bounded for CI: kills, a mail outage, racing students; nothing lost or broken."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

SOAK = Path(__file__).resolve().parents[2] / "soak" / "run.py"


def test_bounded_soak():
    result = subprocess.run(
        [
            sys.executable,
            str(SOAK),
            "--seconds",
            "20",
            "--kills",
            "3",
            "--students",
            "16",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert result.returncode == 0, (summary, result.stderr[-3000:])
    assert summary["kills"] == 3, summary
    assert summary["acknowledged"] > 0 and summary["mails_sent"] > 0
    for key in (
        "violations",
        "5xx",
        "durability_violations",
        "state_violations",
        "mails_lost",
        "mails_still_pending",
        "mails_failed",
    ):
        assert summary.get(key, 0) == 0, (key, summary)
    assert "state_violations" in summary and "mails_failed" in summary  # both were counted


def soak_module():
    spec = importlib.util.spec_from_file_location("soak_run", SOAK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_soak_sees_an_acknowledged_change_undone():
    undone = soak_module().undone
    assert not undone({"pending", "accepted"}, "accepted")
    assert not undone({"accepted", "pending"}, "completed")  # answers may come in any order
    assert not undone({"pending"}, "expired")
    assert undone({"pending", "accepted"}, "pending")  # an accept reverted
    assert undone({"accepted"}, "rejected")
    assert undone({"cancelled"}, "accepted")
