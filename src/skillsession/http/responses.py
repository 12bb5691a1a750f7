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
    return {"error": {"code": code, "message": message, "details": _encodable(details or {})}}


def _encodable(value: Any) -> Any:
    """`value` as orjson can always write it: an error may quote what the client sent (an
    integer beyond 64 bits, say), and its answer must never fail to encode."""
    if value is None or isinstance(value, str | bool | float):
        return value
    if isinstance(value, int):
        return value if -(2**63) <= value < 2**64 else str(value)
    if isinstance(value, dict):
        return {str(k): _encodable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encodable(v) for v in value]
    return str(value)


def error_response(
    status: int, code: str, message: str, details: dict[str, Any] | None = None, headers=None
) -> OrjsonResponse:
    return OrjsonResponse(error_body(code, message, details), status_code=status, headers=headers)
