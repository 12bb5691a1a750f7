"""`skillsession serve`'s options, seen on the real server: how many worker processes answer,
which event loop and HTTP parser they run (the shared libraries mapped into them), and that
every accepted connection has TCP_NODELAY (read from the worker's own socket, duplicated with
pidfd_getfd). Linux only, as the rest of the e2e suite."""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import os
import socket
from pathlib import Path

import httpx
import pytest

from e2e import server as served
from e2e.server import Server
from e2e.workers import WORKER_ID_ON, from_every_worker
from skillsession import cli

SYS_PIDFD_GETFD = 438  # the same number on x86-64 and arm64


def library(module: str) -> str:
    """The path of an extension module's shared library, as /proc/PID/maps names it."""
    return str(Path(importlib.import_module(module).__file__).resolve())


UVLOOP, HTTPTOOLS = library("uvloop.loop"), library("httptools.parser.parser")


def worker_socket(pid: int, client_port: int) -> socket.socket:
    """A duplicate of the socket in process `pid` whose peer is our `client_port`."""
    inode = None
    for line in Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        # the live one (a closed connection that used the port before waits with inode 0)
        if int(fields[2].split(":")[1], 16) == client_port and fields[9] != "0":
            inode = fields[9]
    assert inode is not None, f"no connection from port {client_port} in {pid}"
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]":
                break
    else:
        raise AssertionError(f"process {pid} holds no socket {inode}")
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd = os.pidfd_open(pid)
    try:
        copy = libc.syscall(SYS_PIDFD_GETFD, pidfd, int(fd), 0)
    finally:
        os.close(pidfd)
    if copy < 0:
        pytest.skip(f"pidfd_getfd: {os.strerror(ctypes.get_errno())}")
    return socket.socket(fileno=copy)


def look_at_workers(srv: Server, workers: int) -> dict[int, dict]:
    """Per answering worker pid: its parent, TCP_NODELAY on our connection, mapped libraries."""
    found: dict[int, dict] = {}
    clients: list[httpx.Client] = []

    def ask() -> httpx.Response:
        client = httpx.Client(base_url=srv.base_url)  # a new connection each time
        clients.append(client)
        r = client.get("/health")
        pid = int(r.headers["x-worker-id"])
        if pid not in found:
            port = r.extensions["network_stream"].get_extra_info("socket").getsockname()[1]
            with worker_socket(pid, port) as theirs:
                nodelay = theirs.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
            found[pid] = {
                "parent": int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]),
                "nodelay": nodelay,
                "maps": Path(f"/proc/{pid}/maps").read_text(),
            }
        return r

    try:
        from_every_worker(ask, workers)
    finally:
        for client in clients:
            client.close()
    return found


@pytest.fixture
def serve_with(tmp_path, monkeypatch):
    """A server started as `skillsession serve` with these options instead of `--workers N`."""
    started: list[Server] = []

    def start(*options: str) -> Server:
        wrapper = tmp_path / "serve-with-options"
        wrapper.write_text(
            "#!/bin/sh\n"
            "# the test server's command, its --workers N replaced by the options under test\n"
            'skip=0\nfor a in "$@"; do\n  shift\n'
            "  if [ $skip = 1 ]; then skip=0; continue; fi\n"
            '  if [ "$a" = "--workers" ]; then skip=1; continue; fi\n'
            '  set -- "$@" "$a"\ndone\n'
            f'exec {served.BIN} "$@" {" ".join(options)}\n'
        )
        wrapper.chmod(0o755)
        monkeypatch.setattr(served, "BIN", wrapper)
        srv = Server(tmp_path / f"data-{len(started)}", **WORKER_ID_ON)
        started.append(srv)
        return srv.start()

    yield start
    for srv in started:
        srv.stop()


def test_by_default_a_worker_per_core_on_the_fair_asyncio_loop(serve_with):
    srv = serve_with()
    workers = look_at_workers(srv, cli.default_workers())
    assert len(workers) == cli.default_workers()
    for pid, seen in workers.items():
        assert seen["nodelay"] == 1, pid
        assert HTTPTOOLS in seen["maps"] and UVLOOP not in seen["maps"]
        if cli.default_workers() > 1:
            assert seen["parent"] == srv.process.pid  # worker processes of the server


def test_one_worker_is_the_server_process_itself(serve_with):
    srv = serve_with("--workers", "1")
    [(pid, seen)] = look_at_workers(srv, 1).items()
    assert pid == srv.process.pid
    assert seen["nodelay"] == 1
    assert HTTPTOOLS in seen["maps"] and UVLOOP not in seen["maps"]


def test_the_uvloop_option_runs_uvloop_in_every_worker(serve_with):
    srv = serve_with("--workers", "2", "--loop", "uvloop")
    workers = look_at_workers(srv, 2)
    assert len(workers) == 2
    for pid, seen in workers.items():
        assert seen["parent"] == srv.process.pid
        assert seen["nodelay"] == 1, pid
        assert UVLOOP in seen["maps"], pid
