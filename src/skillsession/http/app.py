"""The ASGI application factory."""

from __future__ import annotations

import contextlib

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from skillsession import logs
from skillsession.http import docs, errors
from skillsession.http.background import running_jobs
from skillsession.http.middleware import GuardMiddleware
from skillsession.http.responses import OrjsonResponse
from skillsession.http.routers import (
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

DESCRIPTION = """Backend of a tutoring marketplace. Tutors publish availability, the service cuts
it into slots, students request slots, tutors accept or reject, everyone is told by e-mail.

Every endpoint needs `Authorization: Bearer <token>` except `/health`, the docs, `/auth/*`,
`/confirm-subscription`, `/unsubscribe` and signed `/media/...` URLs. Errors always have the body
`{"error": {"code", "message", "details"}}`."""

PUBLIC_ROUTERS = (health.router, accounts.router, subscriptions.public, images.public)
PRIVATE_ROUTERS = (
    profiles.router,
    images.router,
    availability.router,
    bookings.router,
    subscriptions.router,
)


def create_app(deps: Deps | None = None, *, run_jobs: bool = True) -> FastAPI:
    """The app. Without `deps`, the adapters are built from settings when the app starts."""
    settings = deps.settings if deps is not None else Settings()
    logs.configure(settings.log_level)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        if getattr(app.state, "deps", None) is None:
            from skillsession import bootstrap

            app.state.deps = bootstrap.build(settings)
            app.state.deps.store.migrate()
        if run_jobs:
            async with running_jobs(app.state.deps):
                yield
        else:
            yield
        app.state.deps.store.close()

    app = FastAPI(
        title="SkillSession",
        version="1.0.0",
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        default_response_class=OrjsonResponse,
        lifespan=lifespan,
    )
    app.state.deps = deps
    for router in PUBLIC_ROUTERS + PRIVATE_ROUTERS:
        app.include_router(router)
    docs.install(app)
    errors.install(app)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
        )
    app.add_middleware(GuardMiddleware, max_body_bytes=settings.max_body_bytes)
    return app
