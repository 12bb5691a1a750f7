"""`serve` binds its socket itself: `--port 0` is a free port, named in its first line, and an
unset SKILLSESSION_PUBLIC_URL follows the address bound (for the workers too, through the
environment they inherit). The server is not run here; tests/e2e/test_public_url.py runs it."""

from __future__ import annotations

import os
import re
import socket

import pytest
import uvicorn
from typer.testing import CliRunner
from uvicorn.supervisors import Multiprocess

from skillsession import cli


@pytest.fixture
def served(monkeypatch, tmp_path):
    """Invoke `serve` with these arguments; returns (output, what the workers would read)."""
    monkeypatch.setenv("SKILLSESSION_PUBLIC_URL", "")  # restored (unset) after the test
    monkeypatch.delenv("SKILLSESSION_PUBLIC_URL")
    bound: list[socket.socket] = []

    def record(runner, *_, sockets=(), **__):
        bound.extend(sockets)
        runner.started = True

    monkeypatch.setattr(uvicorn.Server, "run", record)
    monkeypatch.setattr(
        Multiprocess, "__init__", lambda self, config, sockets: record(self, sockets=sockets)
    )
    monkeypatch.setattr(Multiprocess, "run", lambda self: None)

    def invoke(*args: str) -> tuple[str, str | None, int]:
        result = CliRunner().invoke(cli.app, ["serve", "--data-dir", str(tmp_path), *args])
        assert result.exit_code == 0, result.output
        port = bound[-1].getsockname()[1]
        for sock in bound:
            sock.close()
        return result.output, os.environ.get("SKILLSESSION_PUBLIC_URL"), port

    return invoke


@pytest.mark.parametrize("workers", ["1", "2"])
def test_port_zero_binds_a_free_port_and_names_it(served, workers):
    output, public, port = served("--port", "0", "--workers", workers)
    assert port != 0
    first = output.splitlines()[0]
    assert re.match(rf"SkillSession API on http://127\.0\.0\.1:{port}\b", first), first
    assert public == f"http://127.0.0.1:{port}"
    assert f"public URL http://127.0.0.1:{port} " in output


def test_a_wildcard_bind_links_to_loopback(served):
    output, public, port = served("--host", "0.0.0.0", "--port", "0", "--workers", "1")
    assert public == f"http://127.0.0.1:{port}"


def test_a_public_url_that_is_set_is_kept(served, monkeypatch):
    monkeypatch.setenv("SKILLSESSION_PUBLIC_URL", "https://tutoring.example.test")
    output, public, _ = served("--port", "0", "--workers", "1")
    assert public == "https://tutoring.example.test"
    assert "public URL https://tutoring.example.test  (" in output
    assert "from SKILLSESSION_PUBLIC_URL" in output


def test_urls_of_ipv6_hosts_are_bracketed():
    assert cli.http_url("::1", 9000) == "http://[::1]:9000"
    assert cli.http_url(cli.link_host("::"), 9000) == "http://[::1]:9000"
    assert cli.http_url("localhost", 9000) == "http://localhost:9000"
