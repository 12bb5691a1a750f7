"""Opaque cursors: base64 of the sort key of the last item returned."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any, TypeVar

import orjson

from skillsession.domain.errors import ValidationFailed

T = TypeVar("T")
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_CURSOR_LENGTH = 500  # a `next_cursor` given back, at most


def check_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(f"limit must be 1..{MAX_LIMIT}", details={"limit": limit})
    return limit


def encode(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(key)).decode().rstrip("=")


def decode(cursor: str, size: int) -> list[Any]:
    try:
        key = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except Exception as exc:
        raise ValidationFailed("invalid cursor", details={"cursor": "invalid"}) from exc
    if not isinstance(key, list) or len(key) != size or not all(isinstance(k, str) for k in key):
        raise ValidationFailed("invalid cursor", details={"cursor": "invalid"})
    return key


def page(items: list[T], limit: int, key: Callable[[T], list[Any]]) -> tuple[list[T], str | None]:
    """`items` was fetched with limit + 1: trim it and make the cursor if there is more."""
    if len(items) > limit:
        items = items[:limit]
        return items, encode(key(items[-1]))
    return items, None
