"""What a connection may make the server hold or wait for before a request exists.

uvicorn's httptools protocol keeps no bound on a request's head (the request line and the
headers: httptools buffers a header until it ends, so a 64 MiB header was read, held and
served) and no timer while a head arrives (its keep-alive timer stops at the first byte, and a
new connection has none: half a header, or nothing, held a connection open for good).
`LimitedHttpTools` adds both, from the settings `max_header_bytes` and
`header_timeout_seconds`:

- a head larger than `max_header_bytes` is answered 431 and the connection closed;
- a head that has not fully arrived `header_timeout_seconds` after the connection opened, or
  after the previous exchange ended, is answered 408 and the connection closed (a connection
  that sent nothing is closed without an answer).

A refused connection is closed after a short linger (its input read and dropped), so that the
client, possibly still sending, reads the answer instead of a connection reset. Bodies are
limited by `http/middleware.py` (GuardMiddleware), after the head.
"""

from __future__ import annotations

import functools

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


class LimitedHttpTools(HttpToolsProtocol):
    """uvicorn's httptools protocol with a bounded head size and a head-read timeout."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.max_head_bytes, self.head_timeout = limits()
        self.awaiting_head = True  # a head is due: the connection is new or between requests
        self.head_bytes = 0  # bytes received while awaiting it
        self.head_timer = None
        self.head_deadline = 0.0
        self.message_done = False  # the current request's body has been read
        self.refused = False
        # the protocol is made for its connection, which is handed over in the same loop turn
        self._await_head()

    # -- the head timer -----------------------------------------------------------------------
    # One timer per connection at most, re-armed only when it fires early: a request costs a
    # clock read, not a timer made and cancelled.
    def connection_lost(self, exc) -> None:
        self._stop_timer()
        super().connection_lost(exc)

    def _await_head(self) -> None:
        self.awaiting_head, self.head_bytes = True, 0
        self.head_deadline = self.loop.time() + self.head_timeout
        if self.head_timer is None:
            self.head_timer = self.loop.call_at(self.head_deadline, self._head_timer_fired)

    def _stop_timer(self) -> None:
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None

    def _head_timer_fired(self) -> None:
        self.head_timer = None
        if not self.awaiting_head or self.transport.is_closing():
            return  # re-armed when the next head is due
        if self.loop.time() < self.head_deadline:  # a later head is due: wait for its deadline
            self.head_timer = self.loop.call_at(self.head_deadline, self._head_timer_fired)
            return
        if self.head_bytes == 0:
            self.transport.close()  # nothing was asked: nothing to answer
            return
        self._refuse(408, "request_timeout", "the request head did not arrive in time")

    # -- parser callbacks -----------------------------------------------------------------------
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.message_done = False
        if not self.awaiting_head:  # a pipelined request begins: its head is due now
            self._await_head()

    def on_headers_complete(self) -> None:
        self.awaiting_head, self.head_bytes = False, 0
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self.message_done = True
        if self.cycle is not None and self.cycle.response_complete:
            self._await_head()  # answered early (e.g. 413), body now read: the next head is due

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.message_done and not self.awaiting_head and not self.transport.is_closing():
            self._await_head()

    # -- input ------------------------------------------------------------------------------------
    def data_received(self, data: bytes) -> None:
        if self.refused:
            return  # lingering: read and dropped
        if self.awaiting_head:
            self.head_bytes += len(data)
        super().data_received(data)
        # still inside a head after this data (a complete one resets the count): httptools holds
        # at most the limit plus one read
        if (
            self.awaiting_head
            and self.head_bytes > self.max_head_bytes
            and not self.transport.is_closing()
        ):
            self._refuse(431, "headers_too_large", "the request head is too large")

    def eof_received(self) -> bool | None:
        if self.refused:
            self.transport.close()
        return super().eof_received()

    def _refuse(self, status: int, code: str, message: str) -> None:
        """Answer `status` with the error body and close: after the answer, the input is read
        and dropped for `LINGER_SECONDS` (or until the client closes)."""
        self.refused = True
        self._stop_timer()
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
