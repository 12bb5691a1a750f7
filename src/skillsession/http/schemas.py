"""Response shapes, for the OpenAPI description (documentation only: views build the JSON).

FastAPI never sees these models. A `"model"` in a route's `responses` makes FastAPI build a
validator (a Pydantic `TypeAdapter`) per route and status when the route is declared, for the
OpenAPI document only: with the error body on every route that was 230 of them, a third of
the Lambda import. So `documented` gives FastAPI a `$ref` to the shape's name instead and keeps
the shape in `SHAPES`, and `docs.install` adds the shapes' JSON Schema to the document, which
comes out the same. For the same reason a shape is built (`defer_build`) only when the document
is first asked for, or when something validates against it (the e2e tests).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

REF_TEMPLATE = "#/components/schemas/{model}"  # where FastAPI puts the models it sees


class Shape(BaseModel):
    model_config = ConfigDict(defer_build=True)


SHAPES: dict[str, type[Shape]] = {}  # by name: the shapes the routes document

DATE = r"^\d{4}-\d{2}-\d{2}$"
CLOCK = r"^\d{2}:\d{2}$"
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class ErrorBody(Shape):
    code: str = Field(examples=["slot_unavailable"])
    message: str
    details: dict[str, Any]


class ErrorOut(Shape):
    error: ErrorBody


class HealthOut(Shape):
    status: str = Field(examples=["ok"])
    backends: dict[str, str]


class SignupOut(Shape):
    user_id: str
    email: str
    status: str = Field(examples=["unconfirmed"])


class StatusOut(Shape):
    status: str


class TokenOut(Shape):
    access_token: str
    token_type: str = Field(examples=["bearer"])
    expires_in: int


class ProfileOut(Shape):
    user_id: str
    email: str
    role: str = Field(examples=["tutor"])
    first_name: str | None = None
    last_name: str | None = None
    mobile_number: str | None = Field(
        None, description="only for its owner and the other party of an accepted booking"
    )
    time_zone: str
    university_name: str | None = None
    program_name: str | None = None
    enrolled_courses: list[str] | None = None
    start_year: int | None = None
    end_year: int | None = None
    teaching_skills: list[str] | None = None
    experience_years: int | None = None
    experience_description: str | None = None
    has_profile_image: bool
    created_at: str | None = None
    updated_at: str | None = None


class ProfileEnvelope(Shape):
    profile: ProfileOut


class TutorCard(ProfileOut):
    skills: list[str]


class LookupOrSearchOut(Shape):
    """`profile` for a look-up; `tutors` and `next_cursor` for a search."""

    profile: ProfileOut | None = None
    tutors: list[TutorCard] | None = None
    next_cursor: str | None = None


class LocalTimes(Shape):
    start: str = Field(examples=["2026-12-01T08:00:00Z"])
    end: str = Field(examples=["2026-12-01T09:00:00Z"])
    date: str = Field(examples=["2026-12-01"])
    start_time: str = Field(examples=["09:00"])
    end_time: str = Field(examples=["10:00"])
    time_zone: str = Field(examples=["Europe/Berlin"])


class SlotOut(LocalTimes):
    slot_id: str
    tutor_id: str
    availability_id: str
    slot_status: str = Field(examples=["available"])


class SlotsOut(Shape):
    slots: list[SlotOut]


class AvailabilityOut(LocalTimes):
    availability_id: str
    tutor_id: str
    slot_minutes: int


class CreatedAvailabilityOut(Shape):
    availability: list[AvailabilityOut]
    slots: list[SlotOut]


class DeletedOut(Shape):
    deleted: str


class BookingOut(Shape):
    booking_id: str
    slot_id: str
    tutor_id: str
    student_id: str
    booking_status: str = Field(examples=["pending"])
    request_created_at: str
    updated_at: str
    booking_date: str
    start: str
    end: str
    start_time: str
    end_time: str
    time_zone: str
    message: str | None = None
    reason: str | None = None


class BookingEnvelope(Shape):
    booking: BookingOut


class BookingSlot(LocalTimes):
    slot_id: str
    tutor_id: str
    slot_status: str | None


class Party(Shape):
    user_id: str
    name: str
    email: str


class BookingWithParties(BookingOut):
    slot: BookingSlot
    student: Party | None
    tutor: Party | None


class BookingList(Shape):
    bookings: list[BookingWithParties]
    next_cursor: str | None


class SignedUrlOut(Shape):
    url: str
    expires_at: str


class SubscriptionOut(Shape):
    email: str
    subscription_status: str = Field(examples=["pending_confirmation"])


def content(shape: type[Shape]) -> dict[str, Any]:
    """A response's `content`: JSON of that shape (what FastAPI writes for a `"model"`)."""
    if SHAPES.setdefault(shape.__name__, shape) is not shape:
        raise ValueError(f"two response shapes are called {shape.__name__}")
    return {"application/json": {"schema": {"$ref": REF_TEMPLATE.format(model=shape.__name__)}}}


def shape_of(response: dict[str, Any]) -> type[Shape] | None:
    """The shape a route's response documents (None for other content)."""
    ref = response.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
    return SHAPES.get(ref.rsplit("/", 1)[-1]) if ref else None


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"description": description, "content": content(ErrorOut)}
    for status, description in {
        400: "malformed JSON or a bad request",
        401: "missing, invalid or expired token",
        403: "not allowed",
        404: "unknown resource",
        409: "state conflict",
        413: "too large",
        415: "wrong content type",
        422: "validation error (field errors in details)",
        429: "rate limited (see Retry-After)",
    }.items()
}


def documented(model: type[Shape], *statuses: int) -> dict[str, Any]:
    """Route kwargs that document a response shape (for each success status, default 200)
    and the error body, without validating responses at run time."""
    success = {status: {"content": content(model)} for status in statuses or (200,)}
    return {"responses": {**success, **ERRORS}}
