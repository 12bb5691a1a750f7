"""schemathesis against the served OpenAPI, bounded here (`make soak` runs it longer):
no 5xx, every response matches its documented schema, invalid input is refused."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "soak"))

from fuzz import fuzz  # noqa: E402


def test_generated_requests_never_break_the_contract(tmp_path):
    ok, report = fuzz(tmp_path, examples=10)
    assert ok, report[-4000:]
    assert report.count("passed") >= 2
