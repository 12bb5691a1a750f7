"""One pure-ASGI middleware for every request: request id, body limits, JSON content type,
security headers. Pure ASGI (not BaseHTTPMiddleware) so it costs microseconds."""

from __future__ import annotations

import os
import time

import orjson

from skillsession.http.responses import error_body
from skillsession.logs import access

RAW_BODY_PATHS = frozenset({"/save-profile-img"})
# the e-mail links' pages (http/pages.py: their own CSP); their buttons and RFC 8058 one-click
# post forms (`List-Unsubscribe=One-Click`), which the routes do not read
LINK_PAGES = ("/confirm-subscription", "/unsubscribe")
FORM = b"application/x-www-form-urlencoded"
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
API_ONLY_HEADERS = [
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"cache-control", b"no-store"),
]
# the docs (their own scripts and styles), the media files, the mail links' pages and the web
# client (`/` and `/app/`, with their own CSP: http/web.py) do without the API-only headers
PAGE_PREFIXES = ("/docs", "/media/", "/app/", *LINK_PAGES)
API_HEADERS = SECURITY_HEADERS + API_ONLY_HEADERS


class BodyTooLarge(Exception):
    pass


class GuardMiddleware:
    def __init__(self, app, max_body_bytes: int, worker_id_header: bool = False):
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.worker_id_header = worker_id_header

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        # 32 random hex digits, as uuid4().hex gave, at a quarter of its cost
        request_id = headers.get(b"x-request-id", b"")[:64] or os.urandom(16).hex().encode()
        scope.setdefault("state", {})["request_id"] = request_id.decode("latin-1")
        path = scope["path"]
        page = path == "/" or path.startswith(PAGE_PREFIXES)
        extra = (SECURITY_HEADERS if page else API_HEADERS) + [(b"x-request-id", request_id)]
        if self.worker_id_header:  # per request: the process that answers, after any fork
            extra.append((b"x-worker-id", str(os.getpid()).encode()))
        started = False
        status = 0
        began = time.perf_counter()

        async def send_with_headers(message):
            nonlocal started, status
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        async def reject(status: int, code: str, text: str):
            body = orjson.dumps(error_body(code, text))
            await send_with_headers(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})

        length = headers.get(b"content-length")
        if length is not None:
            if not length.isdigit():
                return await reject(400, "bad_request", "invalid Content-Length")
            if int(length) > self.max_body_bytes:
                return await reject(413, "payload_too_large", "the request body is too large")
        has_body = (length is not None and length != b"0") or b"transfer-encoding" in headers
        if (
            has_body
            and scope["method"] in ("POST", "PUT", "PATCH", "DELETE")
            and path not in RAW_BODY_PATHS
        ):
            content_type = headers.get(b"content-type", b"application/json").split(b";")[0].strip()
            json_body = content_type == b"application/json" or content_type.endswith(b"+json")
            if not json_body and not (content_type == FORM and path in LINK_PAGES):
                return await reject(415, "unsupported_media_type", "send application/json")

        if length is None and b"transfer-encoding" in headers:
            # a chunked body has no length to check up front: read it here, within the limit,
            # so that every route (FastAPI's, which would turn an error while reading into a
            # 400, and the thin ones) sees either the whole body or a 413 from here
            try:
                body = await _read_at_most(receive, self.max_body_bytes)
            except BodyTooLarge:
                return await reject(413, "payload_too_large", "the request body is too large")
            if body is None:  # the client left
                return None
            receive = _replay(body, receive)

        received = 0

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLarge()
            return message

        try:
            await self.app(scope, limited_receive, send_with_headers)
        except BodyTooLarge:
            if not started:
                await reject(413, "payload_too_large", "the request body is too large")
        finally:
            if access.isEnabledFor(20):  # INFO
                access.info(
                    "request",
                    extra={
                        "request_id": scope["state"]["request_id"],
                        "method": scope["method"],
                        "path": path,  # never the query string: it may hold tokens
                        "status": status,
                        "ms": round((time.perf_counter() - began) * 1000, 2),
                    },
                )


async def _read_at_most(receive, limit: int) -> bytes | None:
    """The whole request body (None if the client left); `BodyTooLarge` past `limit` bytes."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge()
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive):
    """A `receive` that gives `body` as one message, then whatever `receive` gives."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed():
        return pending.pop() if pending else await receive()

    return replayed
