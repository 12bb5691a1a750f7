"""What a connection may make the server hold or wait for before a request exists.

uvicorn's httptools protocol keeps no bound on a request's head (the request line and the
headers: httptools buffers a header until it ends, so a 64 MiB header was read, held and
served) and no timer while a head arrives (its keep-alive timer stops at the first byte, and a
new connection has none: half a header, or nothing, held a connection open for good).
`LimitedHttpTools` adds both, from the settings `max_header_bytes` and
`header_timeout_seconds`:

- a head larger than `max_header_bytes` is answered 431 and the connection closed (checked after
  each read that leaves a head incomplete: httptools holds at most the limit plus two reads);
- a head that has not fully arrived `header_timeout_seconds` (T) after the connection opened, or
  after the previous exchange ended, is answered 408 and the connection closed (a connection
  that sent nothing is closed without an answer): within [T, 1.5 T], by a watchdog.

What it costs per request: nothing beyond uvicorn's own protocol, and less. A request's parser
callbacks are uvicorn's own; the two methods replaced (`data_received`, `on_response_complete`)
do uvicorn's work minus its keep-alive timer, a timer made after every response and cancelled at
the next request's first byte (15 Python calls a request; ~3 µs of worker CPU at 1 worker).
Instead each connection has one watchdog timer, firing every half of the shorter of the two
timeouts, that looks at the state uvicorn keeps anyway (the current request's cycle, the scope a
new head fills): a connection between exchanges whose state has not moved for long enough is
closed, idle after uvicorn's keep-alive timeout (within 1.5 times it; a body still arriving
after its request was answered early, say 413, counts as idle), mid-head after the head
timeout. After a read, one comparison says whether a head is still incomplete; only then are
its bytes counted.

A refused connection is closed after a short linger (its input read and dropped), so that the
client, possibly still sending, reads the answer instead of a connection reset. Bodies are
limited by `http/middleware.py` (GuardMiddleware), after the head.
"""

from __future__ import annotations

import functools
import math

import httptools
import orjson
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from skillsession.http.responses import error_body

LINGER_SECONDS = 2.0  # how long a refused connection's input is still read (and dropped)


@functools.cache
def limits() -> tuple[int, float]:
    """(max_header_bytes, header_timeout_seconds) of this process's settings."""
    from skillsession.settings import Settings

    settings = Settings()
    return settings.max_header_bytes, settings.header_timeout_seconds


class _Dropped:
    """The parser of a refused connection: its input is read and dropped."""

    @staticmethod
    def feed_data(data: bytes) -> None:
        pass


class LimitedHttpTools(HttpToolsProtocol):
    """uvicorn's httptools protocol with a bounded head size and a head-read timeout."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.max_head_bytes, head_timeout = limits()
        idle_timeout = min(max(self.timeout_keep_alive, 0), head_timeout)
        # the watchdog looks every `period` seconds; a connection is closed at the look that
        # finds it waiting (unchanged) for `idle_looks` (nothing sent after an exchange) or
        # `head_looks` (a head begun, or a new connection) periods since the wait was first seen
        self.period = max(idle_timeout, 0.01) / 2
        self.idle_looks = math.ceil(idle_timeout / self.period - 1e-9)
        self.head_looks = math.ceil(head_timeout / self.period - 1e-9)
        self.watchdog = None
        self.waiting_on = None  # the exchange (cycle) the wait follows, as last looked at
        self.looks = 0  # consecutive looks that found the connection waiting after it
        self.head_scope = None  # the scope of the incomplete head counted in head_bytes
        self.head_bytes = 0
        self.refused = False

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self.looks = 1  # the opening is the first look: the first head is due from now
        self.watchdog = self.loop.call_later(self.period, self._look)

    def connection_lost(self, exc) -> None:
        self._stop_watchdog()
        super().connection_lost(exc)

    def handle_websocket_upgrade(self) -> None:
        self._stop_watchdog()  # the connection is the WebSocket protocol's now
        super().handle_websocket_upgrade()

    def _stop_watchdog(self) -> None:
        if self.watchdog is not None:
            self.watchdog.cancel()
            self.watchdog = None

    # -- per request: uvicorn's code without its keep-alive timer ---------------------------------
    # (tests/service/test_transport.py pins the uvicorn methods these replace)
    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            msg = "Invalid HTTP request received."
            self.logger.warning(msg)
            self.send_400_response(msg)
            return
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        cycle = self.cycle
        # a head completed makes a cycle holding the scope its first byte began: otherwise a head
        # is incomplete (or, on a new connection, not begun)
        if cycle is None or cycle.scope is not self.scope:
            self._head_incomplete(len(data))

    def on_response_complete(self) -> None:
        # Callback for pipelined HTTP requests to be started.
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        self.flow.resume_reading()
        if self.pipeline:
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)

    # -- the head size ----------------------------------------------------------------------------
    def _head_incomplete(self, size: int) -> None:
        """After a read of `size` bytes, a head is still incomplete."""
        if self.refused:
            return
        if self.scope is self.head_scope:
            self.head_bytes += size
        else:  # this read began the head; after an exchange it may also hold the previous body
            self.head_scope = self.scope
            self.head_bytes = size if self.cycle is None else 0
        if self.head_bytes > self.max_head_bytes and not self.transport.is_closing():
            self._refuse(431, "headers_too_large", "the request head is too large")

    # -- the watchdog -----------------------------------------------------------------------------
    def _look(self) -> None:
        self.watchdog = None
        if self.transport.is_closing() or self.refused:
            return
        self.watchdog = self.loop.call_later(self.period, self._look)
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            return  # a request is being served: nothing is due from the client
        if cycle is not self.waiting_on:  # a new wait: after this exchange
            self.waiting_on, self.looks = cycle, 1
            return
        self.looks += 1
        # what the client owes since `cycle` ended (or the connection opened): a head
        head_begun = self.scope is not None and (cycle is None or self.scope is not cycle.scope)
        if head_begun or cycle is None:
            if self.looks > self.head_looks:
                if head_begun:
                    self._refuse(408, "request_timeout", "the request head did not arrive in time")
                else:
                    self.transport.close()  # nothing was asked: nothing to answer
        elif self.looks > self.idle_looks:
            self.transport.close()  # idle after an exchange: uvicorn's keep-alive timeout

    # -- refusing ---------------------------------------------------------------------------------
    def eof_received(self) -> bool | None:
        if self.refused:
            self.transport.close()
        return super().eof_received()

    def _refuse(self, status: int, code: str, message: str) -> None:
        """Answer `status` with the error body and close: after the answer, the input is read
        and dropped for `LINGER_SECONDS` (or until the client closes). A response still being
        written (a pipelined head refused) is not interrupted by another: the connection is
        closed instead."""
        self.refused = True
        self.parser = _Dropped()
        self._stop_watchdog()
        if self.cycle is not None and not self.cycle.response_complete:
            self.transport.close()
            return
        body = orjson.dumps(error_body(code, message))
        self.transport.write(
            b"".join(
                [
                    STATUS_LINE[status],
                    b"content-type: application/json\r\n",
                    b"content-length: %d\r\n" % len(body),
                    b"connection: close\r\n\r\n",
                    body,
                ]
            )
        )
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)
