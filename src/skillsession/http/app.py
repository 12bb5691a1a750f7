"""The ASGI application factory."""

from __future__ import annotations

import contextlib

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.routing import Route

from skillsession import logs
from skillsession.http import docs, errors, web
from skillsession.http.background import running_jobs
from skillsession.http.fast import FastDispatch, FastRoutes
from skillsession.http.middleware import GuardMiddleware
from skillsession.http.responses import OrjsonResponse
from skillsession.http.routers import (
    account_data,
    accounts,
    availability,
    bookings,
    health,
    images,
    profiles,
    subscriptions,
)
from skillsession.service.deps import Deps
from skillsession.settings import Settings

DESCRIPTION = """Backend of a tutoring marketplace. Tutors publish when they can teach and the
service cuts that into bookable slots; students find tutors by skill and request a slot; the tutor
accepts or rejects; both are told by e-mail; a job expires what is past.

## Conventions

- JSON in and out (`application/json`), except the image upload and the media files.
- Every operation needs `Authorization: Bearer <token>` (from `POST /auth/login`, or a Cognito
  token in the AWS shape) except `/health`, the docs, `/auth/*`, `/confirm-subscription`,
  `/unsubscribe` and signed `/media/...` URLs. The caller is who the token says, never the body.
- Instants are ISO 8601 in UTC with `Z` (`2026-12-01T08:00:00Z`). Where a person reads a time,
  answers also give the local `date`, `start_time`/`end_time` (`HH:MM`) and the IANA `time_zone`
  they are in (the viewer's where one is known, else the tutor's).
- Ids are opaque strings. A user has one `user_id`; a tutor's `tutor_id` and a student's
  `student_id` are that id.
- Lists are ordered and paged: `limit` (default 50, at most 200) and an opaque `cursor`; answers
  carry `next_cursor` (null on the last page).
- `POST /create-booking-request` takes an `Idempotency-Key` header: the same key from the same
  user answers the first result again.
- Slots go `available -> pending -> booked`, back to `available` on reject or cancel, `expired`
  once past. Bookings go `pending -> accepted | rejected | cancelled | expired`, then
  `accepted -> cancelled | completed`. A slot has at most one live booking at any moment.
- Errors always have the body `{"error": {"code", "message", "details"}}` (`code` is stable, for
  programs; `message` is for people) and the status that says what went wrong: 400 malformed
  JSON, 401 missing or bad token, 403 not allowed, 404 unknown, 409 state conflict (taken slot,
  overlap, wrong booking state, duplicate), 413 too large, 415 wrong content type, 422 invalid
  (field errors in `details`), 429 rate limited (with `Retry-After`)."""

PUBLIC_ROUTERS = (health.router, accounts.router, subscriptions.public, images.public)
PRIVATE_ROUTERS = (
    profiles.router,
    images.router,
    availability.router,
    bookings.router,
    subscriptions.router,
    account_data.router,
)
# served by the thin dispatch on their happy path (http/fast.py); FastAPI answers the rest
FAST_ROUTES = profiles.FAST_ROUTES + availability.FAST_ROUTES + bookings.FAST_ROUTES


def create_app(deps: Deps | None = None, *, run_jobs: bool = True) -> FastAPI:
    """The app. Without `deps`, the adapters are built from settings when the app starts."""
    settings = deps.settings if deps is not None else Settings()
    logs.configure(settings.log_level)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        if getattr(app.state, "deps", None) is None:
            from skillsession import bootstrap

            app.state.deps = bootstrap.build(settings)
            app.state.deps.stores.admin.migrate()
        if run_jobs:
            async with running_jobs(app.state.deps):
                yield
        else:
            yield
        app.state.deps.stores.admin.close()

    app = FastAPI(
        title="SkillSession",
        version="1.0.0",
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        default_response_class=OrjsonResponse,
        lifespan=lifespan,
        # no OpenTelemetry here: FastAPI's native telemetry checked the global providers on
        # every request (~4 µs) to find nothing configured
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.deps = deps
    for router in PUBLIC_ROUTERS + PRIVATE_ROUTERS:
        # the routes themselves, not `include_router`: FastAPI 0.163 keeps an included router
        # as one nested route, matched (twice) by walking its routes with per-route context
        # bookkeeping; 30-40 µs per request for the later routers. Same routes, same OpenAPI
        # (the routers carry no prefix or dependencies that an include would add).
        app.router.routes.extend(router.routes)
    docs.install(app)
    web.install(app, settings.media_url)
    app.router.middleware_stack = StaticPaths(app.router)
    errors.install(app)
    # the thin dispatch sits right inside CORS and GuardMiddleware (added later, so outside it)
    cors = bool(settings.cors_origins)
    app.state.fast_routes = {
        (spec.method, spec.path): FastDispatch(spec, cors)
        for spec in (FAST_ROUTES if settings.fast_routes else ())
    }
    app.add_middleware(FastRoutes, dispatches=app.state.fast_routes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
        )
    app.add_middleware(
        GuardMiddleware,
        max_body_bytes=settings.max_body_bytes,
        worker_id_header=settings.worker_id_header,
    )
    return app


class StaticPaths:
    """Hands a request whose path has no parameters straight to its route (one dict look-up)
    instead of trying each route's pattern in turn. Anything not in the table (path
    parameters, mounts, unknown paths, wrong methods, a root_path) goes to the router as before,
    so 404, 405 and redirects do not change. (The `fast` routes' happy path never gets here:
    see `FastRoutes` in http/fast.py.)"""

    def __init__(self, router):
        self.router = router
        self.fallback = router.middleware_stack
        self.table = {
            (method, route.path): route
            for route in router.routes
            if isinstance(route, Route) and "{" not in route.path
            for method in route.methods or ()
        }

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and not scope.get("root_path"):
            key = (scope["method"], scope["path"])
            route = self.table.get(key)
            if route is not None:
                scope.setdefault("router", self.router)
                scope["endpoint"] = route.endpoint
                scope["path_params"] = {}
                scope["route"] = route
                await route.handle(scope, receive, send)
                return
        await self.fallback(scope, receive, send)
