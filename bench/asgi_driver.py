"""Calling an ASGI app in-process, as a client on a socket would (no server, no socket), for the
in-process measurements (inproc.py, compare.py, list_cache_inproc.py).

A request is a spec: {"method", "path" (with its query string), "body" (JSON-able or None),
"token" (a name in `tokens`, or None)}."""

from __future__ import annotations

import asyncio

import orjson


def scope_for(spec: dict, tokens: dict[str, str]) -> tuple[dict, bytes]:
    """The HTTP scope and body of a request spec."""
    path, _, query_string = spec["path"].partition("?")
    body = orjson.dumps(spec["body"]) if spec["body"] is not None else b""
    headers = [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"bench")]
    if body:
        headers += [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
    if spec["token"]:
        headers.append((b"authorization", f"Bearer {tokens[spec['token']]}".encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": spec["method"],
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query_string.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    return scope, body


async def call(app, scope: dict, body: bytes) -> tuple[int, int]:
    """One request through `app`: (status, bytes of the body answered)."""
    state = {"status": 0, "bytes": 0, "sent": False}

    async def receive():
        if state["sent"]:
            await asyncio.sleep(3600)  # a client that stays connected
        state["sent"] = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        if message["type"] == "http.response.start":
            state["status"] = message["status"]
        elif message["type"] == "http.response.body":
            state["bytes"] += len(message.get("body", b""))

    await app(dict(scope, state={}), receive, send)
    return state["status"], state["bytes"]
