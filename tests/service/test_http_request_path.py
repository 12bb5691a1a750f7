"""The cheap request path keeps the old behaviour: exact-path dispatch, the one-step bearer
dependency, the OpenAPI bearer scheme, the pieces `serve` hands uvicorn (the fair asyncio loop,
TCP_NODELAY); their effect on a real server: tests/e2e/test_serve_options.py."""

from __future__ import annotations

import asyncio
import os
import socket

import httpx
import pytest

from skillsession import cli
from skillsession.domain.errors import Unauthorized
from skillsession.http.app import StaticPaths, create_app
from skillsession.ports import Identity


class Verifier:
    def __init__(self):
        self.seen: list[str] = []

    def verify(self, token: str) -> Identity:
        self.seen.append(token)
        if token != "good":
            raise Unauthorized("invalid token", code="invalid_token")
        return Identity(user_id="u1", email="u1@example.test")


class Deps:
    """Just what the routes below touch before the service layer."""

    def __init__(self):
        self.verifier = Verifier()


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.setenv("SKILLSESSION_DATA_DIR", str(tmp_path))
    app = create_app(run_jobs=False)
    app.state.deps = Deps()
    return app


def request(app, method: str, path: str, **kwargs) -> httpx.Response:
    async def go():  # ASGITransport does not run the lifespan (which would build real adapters)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.request(method, path, **kwargs)

    return asyncio.run(go())


def test_every_static_route_is_in_the_table_and_nothing_else(app):
    assert isinstance(app.router.middleware_stack, StaticPaths)
    table = app.router.middleware_stack.table
    static = {
        (method, route.path)
        for route in app.router.routes
        if hasattr(route, "methods") and "{" not in route.path
        for method in route.methods
    }
    assert set(table) == static
    assert ("POST", "/get-teacher-slots") in table and ("GET", "/health") in table
    assert not any("{" in path for _, path in table)


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/get-teacher-slots", 405, "method_not_allowed"),  # known path, other method
        ("DELETE", "/health", 405, "method_not_allowed"),
        ("GET", "/nope", 404, "not_found"),
    ],
)
def test_misses_fall_through_to_the_router(app, method, path, status, code):
    r = request(app, method, path)
    assert r.status_code == status
    assert r.json()["error"]["code"] == code
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["x-request-id"]


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer ", "Bearer    ", "Basic good", " good", "Token good", "good"],
)
def test_without_a_bearer_token_the_answer_is_401_missing_token(app, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    r = request(app, "GET", "/get-student-bookings", headers=headers)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "missing_token"
    assert r.headers["www-authenticate"] == "Bearer"
    assert app.state.deps.verifier.seen == []


@pytest.mark.parametrize("authorization", ["Bearer bad", "bearer bad", "BEARER   bad  "])
def test_the_token_after_the_scheme_is_verified(app, authorization):
    r = request(app, "GET", "/get-student-bookings", headers={"Authorization": authorization})
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_token"
    assert app.state.deps.verifier.seen == ["bad"]  # once per request, stripped


def test_openapi_keeps_the_bearer_scheme(app):
    schema = app.openapi()
    assert schema["components"]["securitySchemes"] == {
        "HTTPBearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "JWT from /auth/login (or Cognito)",
        }
    }
    assert schema["paths"]["/get-teacher-slots"]["post"]["security"] == [{"HTTPBearer": []}]
    assert "security" not in schema["paths"]["/health"]["get"]


def test_the_worker_id_header_only_when_asked(app, tmp_path, monkeypatch):
    # what `serve` does with its options is seen on a real server: tests/e2e/test_serve_options.py
    assert "x-worker-id" not in request(app, "GET", "/nope").headers
    monkeypatch.setenv("SKILLSESSION_WORKER_ID_HEADER", "true")
    asked = create_app(run_jobs=False)
    assert request(asked, "GET", "/nope").headers["x-worker-id"] == str(os.getpid())


def test_default_workers_is_bounded(monkeypatch):
    monkeypatch.setattr(cli.os, "sched_getaffinity", lambda pid: set(range(64)))
    assert cli.default_workers() == cli.MAX_DEFAULT_WORKERS
    monkeypatch.setattr(cli.os, "sched_getaffinity", lambda pid: {0})
    assert cli.default_workers() == 1


def test_fair_loop_takes_one_connection_per_turn_and_serves_them_all(monkeypatch):
    from uvicorn.importer import import_from_string

    assert import_from_string("skillsession.cli:AsyncioFairAccept") is cli.AsyncioFairAccept
    bursts = []
    stdlib_accept = asyncio.SelectorEventLoop._accept_connection

    def recording(self, protocol_factory, sock, sslcontext=None, server=None, backlog=100, *a):
        bursts.append(backlog)
        return stdlib_accept(self, protocol_factory, sock, sslcontext, server, backlog, *a)

    monkeypatch.setattr(asyncio.SelectorEventLoop, "_accept_connection", recording)

    async def echo(reader, writer):
        writer.write(await reader.readexactly(1))
        await writer.drain()
        writer.close()

    async def main():
        server = await asyncio.start_server(echo, "127.0.0.1", 0, backlog=2048)
        port = server.sockets[0].getsockname()[1]
        clients = [await asyncio.open_connection("127.0.0.1", port) for _ in range(3)]
        for _, writer in clients:
            writer.write(b"x")
        answers = [await asyncio.wait_for(reader.read(), 5) for reader, _ in clients]
        server.close()
        return answers

    loop = cli.AsyncioFairAccept()
    try:
        assert loop.run_until_complete(main()) == [b"x"] * 3
    finally:
        loop.close()
    assert bursts and set(bursts) == {1}


def test_connections_get_tcp_nodelay(monkeypatch):
    from uvicorn.importer import import_from_string
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    from skillsession.http.transport import LimitedHttpTools

    protocol_class = import_from_string("skillsession.cli:HttpToolsNoDelay")
    assert issubclass(protocol_class, HttpToolsProtocol)
    monkeypatch.setattr(LimitedHttpTools, "connection_made", lambda self, transport: None)

    class Transport:
        def __init__(self, sock):
            self.sock = sock

        def get_extra_info(self, name, default=None):
            return self.sock if name == "socket" else default

    # proto 0, as uvicorn binds the socket it shares between workers: asyncio skips those
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
        protocol_class.__new__(protocol_class).connection_made(Transport(sock))
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
