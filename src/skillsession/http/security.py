"""The auth dependency: every route needs a bearer token unless it is explicitly public."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from skillsession.domain.errors import Unauthorized
from skillsession.ports import Identity
from skillsession.service.deps import Deps

_bearer = HTTPBearer(auto_error=False, description="JWT from /auth/login (or Cognito)")


async def get_deps(request: Request) -> Deps:
    return request.app.state.deps


async def current_identity(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Identity:
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise Unauthorized("missing bearer token", code="missing_token")
    return request.app.state.deps.verifier.verify(credentials.credentials)


AppDeps = Annotated[Deps, Depends(get_deps)]
CurrentUser = Annotated[Identity, Depends(current_identity)]
AUTHENTICATED = [Depends(current_identity)]
