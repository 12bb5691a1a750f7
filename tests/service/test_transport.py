"""The head limits' watchdog (http/transport.py), driven look by look: a connection's state is
looked at once a period, so its timeouts hold in numbers of looks, without a clock. The same
limits on a real server, over sockets: tests/e2e/test_transport_limits.py."""

from __future__ import annotations

import asyncio
import hashlib
import inspect

import pytest
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from skillsession.http import transport
from skillsession.http.transport import LimitedHttpTools

MAX_HEAD = 1024
HEAD = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"


class Transport:
    def __init__(self):
        self.written = b""
        self.closing = False

    def write(self, data: bytes) -> None:
        assert not self.closing, "written after close"
        self.written += data

    def close(self) -> None:
        self.closing = True

    def is_closing(self) -> bool:
        return self.closing

    def can_write_eof(self) -> bool:
        return False

    def get_extra_info(self, name, default=None):
        return default

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


class App:
    """Answers 200 once `release` is set (at once unless `hold`)."""

    def __init__(self):
        self.release = asyncio.Event()
        self.release.set()

    async def __call__(self, scope, receive, send):
        await self.release.wait()
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]}
        )
        await send({"type": "http.response.body", "body": b"ok"})


# (keep-alive timeout K, head timeout T): K < T as served (uvicorn's 5 s, the setting's 10 s),
# and the other way round
TIMEOUTS = [(5.0, 10.0), (3.0, 1.0), (7.0, 7.0)]


@pytest.fixture(params=TIMEOUTS, ids=lambda t: f"K{t[0]:g}-T{t[1]:g}")
def timeouts(request, monkeypatch):
    monkeypatch.setattr(transport, "limits", lambda: (MAX_HEAD, request.param[1]))
    return request.param


def run(test):
    """Runs `test(app)` in a loop; the watchdog's own timer (a period of seconds) never fires
    within a test: its looks are called by hand."""

    async def main():
        return await test(App())

    return asyncio.run(main())


class Connection:
    def __init__(self, app: App, keep_alive: float):
        config = Config(app=app, timeout_keep_alive=keep_alive, lifespan="off", access_log=False)
        self.protocol = LimitedHttpTools(config=config, server_state=ServerState(), app_state={})
        self.transport = Transport()
        self.protocol.connection_made(self.transport)

    @property
    def period(self) -> float:
        return self.protocol.period

    async def exchange(self) -> None:
        self.protocol.data_received(HEAD)
        for _ in range(10):
            await asyncio.sleep(0)
        assert self.transport.written.endswith(b"ok"), self.transport.written

    def looks_until_closed(self, most: int = 100) -> int:
        """Looks until the connection is closed or refused (a refused one lingers a while)."""
        for n in range(1, most + 1):
            self.protocol._look()
            if self.transport.closing or self.protocol.refused:
                return n
        raise AssertionError(f"still open after {most} looks")


def within(looks: int, period: float, timeout: float, first_look_at_start: bool = False) -> bool:
    """Whether closing at the `looks`-th look keeps to [T, 1.5 T] after the wait began: the
    first look is at most a period after (at, for a new connection, where opening counts)."""
    waited_at_least = (looks - 1) * period if not first_look_at_start else looks * period
    waited_at_most = looks * period
    return timeout <= waited_at_least + 1e-9 and waited_at_most <= 1.5 * timeout + 1e-9


def test_half_a_head_after_an_exchange_is_answered_408_within_t_to_1_5t(timeouts):
    keep_alive, head_timeout = timeouts

    async def test(app):
        conn = Connection(app, keep_alive)
        await conn.exchange()
        answered = len(conn.transport.written)
        conn.protocol.data_received(b"GET /health HTTP/1.1\r\nHo")
        looks = conn.looks_until_closed()
        assert within(looks, conn.period, head_timeout)
        assert conn.transport.written[answered:].startswith(b"HTTP/1.1 408 ")

    run(test)


def test_a_new_connection_that_sends_half_a_head_is_answered_408(timeouts):
    _, head_timeout = timeouts

    async def test(app):
        conn = Connection(app, timeouts[0])
        conn.protocol.data_received(b"GET /health HTTP/1.1\r\nHo")
        # its opening was the first look
        looks = conn.looks_until_closed()
        assert within(looks, conn.period, head_timeout, first_look_at_start=True)
        assert conn.transport.written.startswith(b"HTTP/1.1 408 ")

    run(test)


def test_a_new_connection_that_sends_nothing_is_closed_without_a_word(timeouts):
    _, head_timeout = timeouts

    async def test(app):
        conn = Connection(app, timeouts[0])
        looks = conn.looks_until_closed()
        assert within(looks, conn.period, head_timeout, first_look_at_start=True)
        assert conn.transport.written == b""

    run(test)


def test_an_idle_connection_after_an_exchange_is_closed_after_the_keep_alive_timeout(timeouts):
    keep_alive, head_timeout = timeouts

    async def test(app):
        conn = Connection(app, keep_alive)
        await conn.exchange()
        answered = conn.transport.written
        looks = conn.looks_until_closed()
        assert within(looks, conn.period, min(keep_alive, head_timeout))
        assert conn.transport.written == answered  # closed without a word

    run(test)


def test_a_request_being_served_is_never_timed_out_and_the_next_wait_starts_after_it(timeouts):
    keep_alive, head_timeout = timeouts

    async def test(app):
        conn = Connection(app, keep_alive)
        app.release.clear()
        conn.protocol.data_received(HEAD)
        await asyncio.sleep(0)
        for _ in range(100):  # far beyond any timeout
            conn.protocol._look()
        assert not conn.transport.closing
        app.release.set()
        for _ in range(10):
            await asyncio.sleep(0)
        assert conn.transport.written.endswith(b"ok")
        conn.protocol.data_received(b"GET /health HTTP/1.1\r\nHo")
        looks = conn.looks_until_closed()
        assert within(looks, conn.period, head_timeout)  # counted from the answer, not before

    run(test)


def test_a_head_spread_over_reads_is_counted_and_refused_431(monkeypatch):
    monkeypatch.setattr(transport, "limits", lambda: (MAX_HEAD, 10.0))

    async def test(app):
        conn = Connection(app, 5.0)
        conn.protocol.data_received(b"GET /health HTTP/1.1\r\nX-Big: ")
        for _ in range(MAX_HEAD // 100):
            conn.protocol.data_received(b"a" * 100)
            assert not conn.transport.closing
        conn.protocol.data_received(b"a" * 100)
        assert conn.transport.written.startswith(b"HTTP/1.1 431 ")
        # while it lingers, what follows is read and dropped: the head's end, another request
        conn.protocol.data_received(b"a" * 100_000 + b"\r\n\r\n" + HEAD)
        for _ in range(10):
            await asyncio.sleep(0)
        assert conn.transport.written.count(b"HTTP/1.1") == 1

    run(test)


def test_a_pipelined_head_too_large_while_an_answer_is_written_closes_without_a_second_answer(
    monkeypatch,
):
    monkeypatch.setattr(transport, "limits", lambda: (MAX_HEAD, 10.0))

    async def test(app):
        conn = Connection(app, 5.0)
        app.release.clear()
        conn.protocol.data_received(HEAD)
        await asyncio.sleep(0)
        conn.protocol.data_received(b"GET /health HTTP/1.1\r\nX-Big: ")
        conn.protocol.data_received(b"a" * (2 * MAX_HEAD))
        assert conn.transport.closing
        assert conn.transport.written == b""  # no 431 in the middle of the first answer

    run(test)


# uvicorn's methods that LimitedHttpTools replaces (without their keep-alive timer), as they are
# in the pinned uvicorn: when an upgrade changes them, transport.py needs another look
REPLACED = {
    "data_received": "010a7ae59a5d",
    "on_response_complete": "64e254f28e38",
}


@pytest.mark.parametrize("name", sorted(REPLACED))
def test_the_replaced_uvicorn_methods_are_as_pinned(name):
    source = inspect.getsource(getattr(HttpToolsProtocol, name))
    assert hashlib.sha256(source.encode()).hexdigest()[:12] == REPLACED[name], (
        f"uvicorn's HttpToolsProtocol.{name} changed: bring LimitedHttpTools.{name} in step"
    )
