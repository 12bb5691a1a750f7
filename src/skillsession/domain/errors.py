"""Domain errors. Each carries a stable machine `code`; the HTTP layer maps classes to statuses."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "error"

    def __init__(
        self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None
    ):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details or {}


class BadRequest(DomainError):
    code = "bad_request"


class Unauthorized(DomainError):
    code = "unauthorized"


class Forbidden(DomainError):
    code = "forbidden"


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    code = "conflict"


class PayloadTooLarge(DomainError):
    code = "payload_too_large"


class UnsupportedMediaType(DomainError):
    code = "unsupported_media_type"


class ValidationFailed(DomainError):
    code = "validation_error"


class RateLimited(DomainError):
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.retry_after = max(1, int(retry_after))


class Busy(DomainError):
    """The service is at its bound for this kind of work (503): try again after `retry_after`."""

    code = "busy"

    def __init__(self, message: str, *, retry_after: int, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.retry_after = max(1, int(retry_after))


class Unavailable(Busy):
    """A backend is overloaded or did not answer in time, even after retries (503). Nothing is
    half written: the change was not made, or (`details["outcome"] == "unknown"`) it was made
    whole or not at all; repeating the request (with its Idempotency-Key) is safe."""

    code = "unavailable"

    def __init__(self, message: str, *, retry_after: int = 1, **kwargs: Any):
        super().__init__(message, retry_after=retry_after, **kwargs)


class SlotUnavailable(Conflict):
    code = "slot_unavailable"


class BookingNotPending(Conflict):
    code = "booking_not_pending"


class TooManyPending(Conflict):
    code = "too_many_pending"
