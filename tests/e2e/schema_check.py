"""Every JSON response the e2e tests see must match the shape the OpenAPI description documents."""

from __future__ import annotations

import functools
import re

import httpx
from pydantic import TypeAdapter

from skillsession.http.app import PRIVATE_ROUTERS, PUBLIC_ROUTERS
from skillsession.http.schemas import shape_of


@functools.cache
def _adapter(shape: type) -> TypeAdapter:
    return TypeAdapter(shape)


def _documented() -> list[tuple[str, re.Pattern, dict[int, TypeAdapter]]]:
    table = []
    for router in PUBLIC_ROUTERS + PRIVATE_ROUTERS:
        for route in router.routes:
            models = {
                int(status): _adapter(shape)
                for status, spec in (route.responses or {}).items()
                if (shape := shape_of(spec)) is not None
            }
            pattern = re.compile("^" + re.sub(r"\{[^}]+\}", ".+", route.path) + "$")
            for method in route.methods:
                table.append((method, pattern, models))
    return table


DOCUMENTED = _documented()


def check(response: httpx.Response) -> httpx.Response:
    if not response.headers.get("content-type", "").startswith("application/json"):
        return response
    for method, pattern, models in DOCUMENTED:
        if method == response.request.method and pattern.match(response.request.url.path):
            model = models.get(response.status_code)
            assert model is not None, (
                f"{method} {response.request.url.path} answered an undocumented "
                f"{response.status_code}: {response.text[:300]}"
            )
            model.validate_python(response.json())
            return response
    return response
