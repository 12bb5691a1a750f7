"""Hot routes served outside FastAPI's per-request machinery, declared once.

A `FastRoute` is one endpoint: method, path, body or query model, status, summary, operationId,
response doc and a plain handler `(deps, identity, params) -> payload` (a dict rendered with
orjson, or JSON already encoded to bytes). From that one declaration come both the FastAPI route
(OpenAPI, the pinned route table, the authorization matrix, every error) and the thin dispatch
that serves the happy path (`FastDispatch`, called by the `FastRoutes` middleware, which
`http/app.py` puts right inside the same GuardMiddleware and CORS middleware, before FastAPI's
exception middleware and router): they cannot drift.

FastAPI's per-request work (dependency solving, the body's content type parsed through
`email.message`, one validation per parameter, the response class) costs 120-170 µs of worker
CPU for these route shapes; the thin path does the same checks in ~15 µs
(bench/analysis.md, 7).

The thin path serves only requests it can answer exactly as FastAPI would, checking in
FastAPI's order: the body's JSON, then the token, then validation. On anything unusual before
the service call (no content type or another than plain JSON, a body that is not JSON, a missing
or malformed `Authorization` header, a validation error, an over-long `Idempotency-Key`, a
repeated header, an `Origin` while CORS is on, duplicated or blank query parameters) it
replays the body it already read into the FastAPI route, which answers with the canonical
error. A token the (cached) verifier refuses raises the verifier's error right there, as the
FastAPI dependency would (so a bad token is verified once per request). A domain error (the
verifier's, or the service's) is answered with the same response as the app's exception handler
gives it (`errors.domain_error_response`); anything unexpected propagates to the app's 500
handler, as from a FastAPI route. Switch it off with `SKILLSESSION_FAST_ROUTES=false`.
"""

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import parse_qsl

import orjson
from fastapi import APIRouter, Body, Header, Query
from pydantic import BaseModel, ValidationError

from skillsession.domain.errors import DomainError
from skillsession.http.errors import domain_error_response
from skillsession.http.responses import JsonBytesResponse, OrjsonResponse
from skillsession.http.security import AppDeps, CurrentUser, bearer_token
from skillsession.service.bookings import MAX_IDEMPOTENCY_KEY

# content types FastAPI reads as JSON and orjson decodes alike (it reads only UTF-8 bodies)
JSON_TYPES = frozenset(
    {b"application/json", b"application/json; charset=utf-8", b"application/json;charset=utf-8"}
)
WANTED = (b"authorization", b"content-type", b"idempotency-key", b"origin")
CONTENT_TYPE = OrjsonResponse.media_type.encode()  # the FastAPI route's, byte for byte


@dataclass(frozen=True, eq=False)
class FastRoute:
    """One hot endpoint. `handler(deps, identity, params)` gets the validated body or query
    model (None for an absent optional body), plus `idempotency_key` (str | None) when
    `idempotency_key` is set, and returns a dict or JSON bytes; it raises domain errors."""

    method: str
    path: str
    handler: Callable[..., dict[str, Any] | bytes]
    summary: str
    doc: dict[str, Any]  # `schemas.documented(...)`
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    optional_body: bool = False
    status: int = 200
    idempotency_key: bool = False  # the `Idempotency-Key` header (at most 255 characters)
    name: str | None = None  # the FastAPI endpoint's name, default the handler's
    operation_id: str | None = None  # the OpenAPI operationId (lowerCamelCase; every route has one)
    description: str | None = None  # the operation's prose in the OpenAPI document

    def add_to(self, router: APIRouter) -> None:
        """Adds the FastAPI route: the same endpoint as a hand-written one with these
        parameters would be (signature, name, status, docs)."""
        extra = {"status_code": self.status} if self.status != 200 else {}
        router.add_api_route(
            self.path,
            self.endpoint(),
            methods=[self.method],
            summary=self.summary,
            name=self.name or self.handler.__name__,
            operation_id=self.operation_id,
            description=self.description,
            **extra,
            **self.doc,
        )

    def endpoint(self):
        kw = inspect.Parameter.KEYWORD_ONLY
        params = [
            inspect.Parameter("deps", kw, annotation=AppDeps),
            inspect.Parameter("identity", kw, annotation=CurrentUser),
        ]
        if self.body is not None and self.optional_body:
            body = Annotated[self.body | None, Body()]
            params.append(inspect.Parameter("body", kw, annotation=body, default=None))
        elif self.body is not None:
            params.append(inspect.Parameter("body", kw, annotation=self.body))
        elif self.query is not None:
            params.append(inspect.Parameter("query", kw, annotation=Annotated[self.query, Query()]))
        if self.idempotency_key:
            header = Annotated[str | None, Header(max_length=MAX_IDEMPOTENCY_KEY)]
            params.append(inspect.Parameter("idempotency_key", kw, annotation=header, default=None))
        handler, status = self.handler, self.status
        with_key = self.idempotency_key

        async def endpoint(deps, identity, body=None, query=None, idempotency_key=None):
            params = query if body is None else body
            if with_key:
                payload = handler(deps, identity, params, idempotency_key)
            else:
                payload = handler(deps, identity, params)
            if isinstance(payload, bytes):
                return JsonBytesResponse(payload, status_code=status)
            return OrjsonResponse(payload, status_code=status)

        endpoint.__signature__ = inspect.Signature(params)
        endpoint.__name__ = endpoint.__qualname__ = self.name or self.handler.__name__
        return endpoint


class Fallback(Exception):
    """The thin path cannot answer this request exactly as FastAPI would."""


class FastRoutes:
    """ASGI middleware: a request for a `FastRoute` (method and path, one dict look-up) goes to
    its `FastDispatch`; anything else, and whatever the dispatch hands back, goes on to `app`
    (FastAPI's exception middleware and router). `dispatches`: by (method, path)."""

    def __init__(self, app, dispatches: dict[tuple[str, str], "FastDispatch"]):
        self.app = app
        self.dispatches = dispatches

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and not scope.get("root_path"):
            thin = self.dispatches.get((scope["method"], scope["path"]))
            if thin is not None:
                await thin(scope, receive, send, self.app)
                return
        await self.app(scope, receive, send)


class FastDispatch:
    """Serves one `FastRoute`'s happy path; hands anything else to the app behind it (which
    routes it to the FastAPI route) with the body replayed."""

    def __init__(self, spec: FastRoute, cors: bool):
        self.spec = spec
        self.cors = cors
        self.handler = spec.handler
        self.status = spec.status
        self.needs_body = spec.body is not None
        self.model = spec.body or spec.query

    async def __call__(self, scope, receive, send, app) -> None:
        body = b""
        if self.needs_body:
            chunks = []
            while True:
                message = await receive()
                if message["type"] != "http.request":  # the client left: nothing to answer
                    return
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    break
            body = b"".join(chunks)
        try:
            payload = self.serve(scope, body)
        except Fallback:
            await self.fall_back(app, scope, receive, send, body)
            return
        except DomainError as exc:
            await domain_error_response(exc)(scope, receive, send)
            return
        if payload.__class__ is not bytes:
            payload = orjson.dumps(payload)
        await send(
            {
                "type": "http.response.start",
                "status": self.status,
                "headers": [
                    (b"content-length", str(len(payload)).encode()),
                    (b"content-type", CONTENT_TYPE),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    def serve(self, scope, body: bytes):
        """The payload, or `Fallback` on any problem before the handler runs, in FastAPI's
        order: the body's JSON, then the token, then validation. A token the verifier refuses
        raises its error here as it would in FastAPI (so it is verified once); errors the
        handler raises propagate."""
        seen: dict[bytes, bytes] = {}
        for name, value in scope["headers"]:
            if name in WANTED:
                if name in seen:
                    raise Fallback  # which one counts is FastAPI's business
                seen[name] = value
        if self.cors and b"origin" in seen:
            raise Fallback
        data = self.parse_json(seen.get(b"content-type"), body) if self.needs_body else None
        deps = scope["app"].state.deps
        identity = self.identify(deps, seen.get(b"authorization"))
        query = scope["query_string"]
        params = self.validate(data) if self.needs_body else self.parse_query(query)
        if self.spec.idempotency_key:
            key = seen.get(b"idempotency-key")
            if key is not None:
                key = key.decode("latin-1")
                if len(key) > MAX_IDEMPOTENCY_KEY:
                    raise Fallback
            return self.handler(deps, identity, params, key)
        return self.handler(deps, identity, params)

    def parse_json(self, content_type: bytes | None, body: bytes):
        if not body:
            if self.spec.optional_body:
                return None
            raise Fallback  # a missing body is FastAPI's 422
        if content_type is None or content_type.lower() not in JSON_TYPES:
            raise Fallback  # without one, FastAPI validates the bytes as they are
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            raise Fallback from None

    def validate(self, data):
        if data is None and self.spec.optional_body:
            return None
        if data.__class__ is not dict:
            raise Fallback
        try:
            return self.model.model_validate(data)
        except ValidationError:
            raise Fallback from None

    def parse_query(self, query_string: bytes):
        if not query_string:
            values = {}
        else:
            pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
            values = dict(pairs)
            if len(values) != len(pairs) or "" in values.values():
                raise Fallback
        try:
            return self.model.model_validate(values)
        except ValidationError:
            raise Fallback from None

    @staticmethod
    def identify(deps, authorization: bytes | None):
        """As `security.BearerIdentity`, through the same (cached) verifier; a header that is
        not `Bearer <token>` falls back (FastAPI's 401 missing_token)."""
        token = bearer_token(authorization.decode("latin-1") if authorization else None)
        if token is None:
            raise Fallback
        return deps.verifier.verify(token)

    async def fall_back(self, app, scope, receive, send, body: bytes) -> None:
        replayed = not self.needs_body

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await app(scope, replay, send)
