"""Transport limits of the served process, tested on raw sockets the way an attacker meets them:
a chunked body over the limit answers 413 on every route, a head (request line and headers)
over `SKILLSESSION_MAX_HEADER_BYTES` answers 431, and a head that does not arrive within
`SKILLSESSION_HEADER_TIMEOUT_SECONDS` (half a header, or nothing at all) is answered 408 and
the connection closed, not before that timeout, and an idle kept-alive connection is closed.
The watchdog's bounds, look by look: tests/service/test_transport.py."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import pytest

from e2e.server import Server

MAX_BODY = 8 * 1024 * 1024  # the default SKILLSESSION_MAX_BODY_BYTES
HEAD_TIMEOUT = 1.0  # seconds, the server's SKILLSESSION_HEADER_TIMEOUT_SECONDS
WAIT = 20.0  # seconds a socket read may block: far beyond the server's head timeout


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    server = Server(
        tmp_path_factory.mktemp("transport"),
        SKILLSESSION_HEADER_TIMEOUT_SECONDS=str(HEAD_TIMEOUT),
        SKILLSESSION_MAX_HEADER_BYTES="16384",
    ).start()
    yield server
    server.stop()


def connect(srv) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", srv.port))
    sock.settimeout(WAIT)
    return sock


def read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (or WAIT passes)."""
    data = b""
    with contextlib.suppress(ConnectionResetError):
        while chunk := sock.recv(65536):
            data += chunk
    return data


def status_of(response: bytes) -> int:
    assert response.startswith(b"HTTP/1.1 "), response[:200]
    return int(response.split(b" ", 2)[1])


def json_error(response: bytes) -> bytes:
    head, _, body = response.partition(b"\r\n\r\n")
    assert b"content-type: application/json" in head.lower(), head
    assert body.startswith(b'{"error":{"code":'), body[:200]
    return body


def send_in_background(sock: socket.socket, parts) -> threading.Thread:
    """Send `parts` (an iterable of bytes) while the test reads: the server may answer (and
    stop reading) before all of it is sent."""

    def run():
        with contextlib.suppress(OSError):
            for part in parts:
                sock.sendall(part)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def response_head(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, data
        data += chunk
    return data


def chunked(total: int, size: int = 256 * 1024):
    sent = 0
    while sent < total:
        n = min(size, total - sent)
        yield b"%x\r\n" % n + b" " * n + b"\r\n"
        sent += n
    yield b"0\r\n\r\n"


@pytest.mark.parametrize("path", ["/save-user-details", "/get-teacher-slots", "/auth/login"])
def test_a_chunked_body_over_the_limit_is_413_on_every_route(srv, path):
    sock = connect(srv)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    ).encode()
    sender = send_in_background(sock, [head, *chunked(10 * 1024 * 1024)])
    response = response_head(sock)
    assert status_of(response) == 413, response[:300]
    sock.close()
    sender.join(WAIT)


def test_a_chunked_body_under_the_limit_is_read(srv):
    sock = connect(srv)
    body = b'{"email": "nobody@example.test", "password": "not the right one"}'
    sock.sendall(
        b"POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        + b"%x\r\n" % len(body)
        + body
        + b"\r\n0\r\n\r\n"
    )
    response = read_all(sock)
    assert status_of(response) == 401, response[:300]


def test_a_huge_header_is_431(srv):
    sock = connect(srv)
    parts = [b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: "]
    parts += [b"a" * (1024 * 1024)] * 64  # 64 MiB of one header
    sender = send_in_background(sock, parts)
    response = read_all(sock)
    assert status_of(response) == 431, response[:300]
    json_error(response)
    sock.close()
    sender.join(WAIT)


def test_headers_within_the_limit_are_served(srv):
    sock = connect(srv)
    sock.sendall(
        b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Fill: "
        + b"a" * 12000
        + b"\r\n\r\n"
    )
    assert status_of(read_all(sock)) == 200


def test_a_body_larger_than_the_header_limit_is_not_counted_as_head(srv):
    body = b'{"email": "nobody@example.test", "password": "' + b"x" * 500_000 + b'"}'
    sock = connect(srv)
    sock.sendall(
        b"POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    )
    assert status_of(read_all(sock)) == 422  # the password is too long: read and validated


def test_half_a_header_is_timed_out(srv):
    began = time.monotonic()  # before the server sees the connection
    sock = connect(srv)
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Half: ")
    response = read_all(sock)  # returns when the server closes; WAIT if it never does
    assert status_of(response) == 408, response[:300]
    json_error(response)
    # not before the timeout (a lower bound, which load can only make later; 1 ms for clocks)
    assert time.monotonic() - began >= HEAD_TIMEOUT - 0.001


def test_a_silent_connection_is_closed(srv):
    sock = connect(srv)
    assert read_all(sock) == b""  # closed without a word (nothing was asked)


def test_a_slow_second_request_on_a_kept_alive_connection_is_timed_out(srv):
    sock = connect(srv)
    began = time.monotonic()  # before the first exchange ends, when the second head is due
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status_of(response_head(sock)) == 200
    sock.sendall(b"GET /health HTTP/1.1\r\nHo")  # then nothing: the keep-alive timer is off
    response = read_all(sock)
    assert b"HTTP/1.1 408 " in response, response[-300:]
    assert time.monotonic() - began >= HEAD_TIMEOUT - 0.001


def test_an_idle_kept_alive_connection_is_closed_without_a_word(srv):
    sock = connect(srv)
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    response = read_all(sock)  # the answer, then nothing until the server closes
    assert status_of(response) == 200
    assert response.count(b"HTTP/1.1 ") == 1, response
