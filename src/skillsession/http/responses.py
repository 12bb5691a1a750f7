"""JSON responses rendered with orjson."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse, Response


class OrjsonResponse(JSONResponse):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


class JsonBytesResponse(Response):
    """JSON already rendered to bytes: the same headers as `OrjsonResponse`."""

    media_type = OrjsonResponse.media_type


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def error_response(
    status: int, code: str, message: str, details: dict[str, Any] | None = None, headers=None
) -> OrjsonResponse:
    return OrjsonResponse(error_body(code, message, details), status_code=status, headers=headers)
