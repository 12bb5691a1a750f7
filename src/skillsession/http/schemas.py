"""Response shapes, for the OpenAPI description (documentation only: views build the JSON).

FastAPI never sees these shapes. A `"model"` in a route's `responses` makes FastAPI build a
validator (a Pydantic `TypeAdapter`) per route and status when the route is declared, for the
OpenAPI document only: with the error body on every route that was 214 of them, a third of
the Lambda import. So `documented` gives FastAPI a `$ref` to the shape's name instead and keeps
the shape in `SHAPES`, and `docs.install` adds the shapes' JSON Schema to the document, which
comes out the same. For the same reason the shapes are `TypedDict`s, not Pydantic models:
nothing is built when they are declared (25 models took ~10 ms to declare, even deferred),
Pydantic makes their schema when the document is first asked for, or a validator when
something checks a response against them (the e2e tests). A key that may be absent is
`NotRequired`; a key that is always there but may be null is `X | None`.
"""

from __future__ import annotations

from typing import (
    Annotated,
    Any,
    Literal,
    NotRequired,  # Pydantic's TypedDict before 3.12
)

from pydantic import AfterValidator, Field
from typing_extensions import TypedDict

from skillsession.domain import local_time, text
from skillsession.domain.accounts import MAX_EMAIL_LENGTH, email_address
from skillsession.domain.errors import ValidationFailed

REF_TEMPLATE = "#/components/schemas/{model}"  # where FastAPI puts the models it sees
SHAPES: dict[str, type] = {}  # by name: the shapes the routes document

DATE = r"^\d{4}-\d{2}-\d{2}$"
CLOCK = r"^\d{2}:\d{2}$"
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


def _day(text: str) -> str:
    try:
        local_time.parse_date(text, "date")
    except ValidationFailed as exc:
        raise ValueError(exc.message) from None
    return text


DAY_NOTE = f"YYYY-MM-DD, {local_time.DAY_RANGE}"

# A date in a request: `YYYY-MM-DD` within the service's range (`domain.local_time.DAY_RANGE`), checked
# as the request is parsed (FastAPI's routes and the thin path in http/fast.py alike), so that no
# use case meets the calendar's edges (9999-12-31 + 1 day, 0001-01-01 east of UTC).
Day = Annotated[
    str,
    Field(pattern=DATE, description=DAY_NOTE),
    AfterValidator(_day),
]

Text = str | None

# Request fields: the domain's rules, applied while the body is parsed (422 with the field named)
Email = Annotated[
    str,
    Field(max_length=MAX_EMAIL_LENGTH, pattern=EMAIL, description="one bare e-mail address"),
    AfterValidator(email_address),
]


def line(max_length: int, **field: Any) -> Any:
    """A one-line text field: no control characters (it may reach an e-mail header)."""
    return Annotated[str, Field(max_length=max_length, **field), AfterValidator(text.check_line)]


def free_text(max_length: int, **field: Any) -> Any:
    """A free-text field: line breaks and tabs allowed, no other control characters."""
    return Annotated[str, Field(max_length=max_length, **field), AfterValidator(text.check_text)]


class ErrorBody(TypedDict):
    code: Annotated[str, Field(examples=["slot_unavailable"])]
    message: str
    details: dict[str, Any]


class ErrorOut(TypedDict):
    error: ErrorBody


class HealthOut(TypedDict):
    status: Annotated[str, Field(examples=["ok"])]
    backends: dict[str, str]


class SignupOut(TypedDict):
    user_id: str
    email: str
    status: Annotated[str, Field(examples=["unconfirmed"])]


class StatusOut(TypedDict):
    status: str


class TokenOut(TypedDict):
    access_token: str
    token_type: Annotated[str, Field(examples=["bearer"])]
    expires_in: int


class PasswordChangedOut(TypedDict):
    """The caller's fresh token: the one of the call is refused from now on."""

    status: Annotated[str, Field(examples=["password_changed"])]
    access_token: str
    token_type: Annotated[str, Field(examples=["bearer"])]
    expires_in: int


class ProfileOut(TypedDict):
    user_id: str
    email: str
    role: Annotated[str, Field(examples=["tutor"])]
    first_name: NotRequired[Text]
    last_name: NotRequired[Text]
    mobile_number: NotRequired[
        Annotated[
            Text,
            Field(description="only for its owner and the other party of an accepted booking"),
        ]
    ]
    time_zone: str
    university_name: NotRequired[Text]
    program_name: NotRequired[Text]
    enrolled_courses: NotRequired[list[str] | None]
    start_year: NotRequired[int | None]
    end_year: NotRequired[int | None]
    teaching_skills: NotRequired[list[str] | None]
    experience_years: NotRequired[int | None]
    experience_description: NotRequired[Text]
    has_profile_image: bool
    created_at: NotRequired[Text]
    updated_at: NotRequired[Text]


class ProfileEnvelope(TypedDict):
    profile: ProfileOut


class TutorCard(ProfileOut):
    skills: list[str]


class LookupOrSearchOut(TypedDict):
    """`profile` for a look-up; `tutors` and `next_cursor` for a search."""

    profile: NotRequired[ProfileOut | None]
    tutors: NotRequired[list[TutorCard] | None]
    next_cursor: NotRequired[Text]


class LocalTimes(TypedDict):
    start: Annotated[str, Field(examples=["2026-12-01T08:00:00Z"])]
    end: Annotated[str, Field(examples=["2026-12-01T09:00:00Z"])]
    date: Annotated[str, Field(examples=["2026-12-01"])]
    start_time: Annotated[str, Field(examples=["09:00"])]
    end_time: Annotated[str, Field(examples=["10:00"])]
    time_zone: Annotated[str, Field(examples=["Europe/Berlin"])]


class SlotOut(LocalTimes):
    slot_id: str
    tutor_id: str
    availability_id: str
    slot_status: Annotated[str, Field(examples=["available"])]


class SlotsOut(TypedDict):
    slots: list[SlotOut]
    next_cursor: Annotated[Text, Field(description="null on the last page")]


class AvailabilityOut(LocalTimes):
    availability_id: str
    tutor_id: str
    slot_minutes: int


class CreatedAvailabilityOut(TypedDict):
    availability: list[AvailabilityOut]
    slots: list[SlotOut]


class DeletedOut(TypedDict):
    deleted: str


class BookingOut(TypedDict):
    booking_id: str
    slot_id: str
    tutor_id: str
    student_id: str
    booking_status: Annotated[str, Field(examples=["pending"])]
    request_created_at: str
    updated_at: str
    booking_date: str
    start: str
    end: str
    start_time: str
    end_time: str
    time_zone: str
    message: NotRequired[Text]
    reason: NotRequired[Text]


class BookingEnvelope(TypedDict):
    booking: BookingOut


class BookingSlot(LocalTimes):
    slot_id: str
    tutor_id: str
    slot_status: Text


class Party(TypedDict):
    user_id: str
    name: Annotated[str, Field(description='"Deleted user" once the person deleted the account')]
    email: Annotated[Text, Field(description="null once the person deleted the account")]


class BookingWithParties(BookingOut):
    slot: BookingSlot
    student: Party | None
    tutor: Party | None


class BookingList(TypedDict):
    bookings: list[BookingWithParties]
    next_cursor: Text


class SignedUrlOut(TypedDict):
    url: str
    expires_at: str


# a request body, documented here because its route reads the raw body itself (routers/images.py)
class ImageUpload(TypedDict):
    """A profile image as JSON (what API Gateway clients send)."""

    image_base64: Annotated[str, Field(description="the image file, base64 (a data: URL too)")]
    content_type: Literal["image/jpeg", "image/png", "image/webp"]


class SubscriptionOut(TypedDict):
    email: str
    subscription_status: Annotated[str, Field(examples=["pending_confirmation"])]


class SubscriptionStateOut(TypedDict):
    """The caller's e-mail subscription as it stands ("none": never asked for)."""

    email: Annotated[str, Field(description="the address booking e-mails go (or would go) to")]
    subscription_status: Literal["none", "pending_confirmation", "confirmed", "unsubscribed"]


class AccountOut(TypedDict):
    user_id: str
    email: str
    status: NotRequired[Annotated[str, Field(examples=["confirmed"])]]
    created_at: NotRequired[str]


class ExportBooking(BookingOut):
    role: Annotated[str, Field(description="the caller's part in it: tutor or student")]
    other_party_name: Annotated[str, Field(description='"Deleted user" for a deleted account')]


class ExportOut(TypedDict):
    """Everything the service holds about the caller."""

    account: AccountOut
    profile: ProfileOut | None
    profile_image: SignedUrlOut | None
    bookings: list[ExportBooking]
    subscription: SubscriptionOut | None
    reviews: Annotated[list[dict[str, Any]], Field(description="always empty: no reviews yet")]
    messages: Annotated[list[dict[str, Any]], Field(description="always empty: no messages yet")]
    notifications: Annotated[
        list[dict[str, Any]], Field(description="always empty: no in-app notifications yet")
    ]


def content(shape: type) -> dict[str, Any]:
    """A response's `content`: JSON of that shape (what FastAPI writes for a `"model"`)."""
    if SHAPES.setdefault(shape.__name__, shape) is not shape:
        raise ValueError(f"two response shapes are called {shape.__name__}")
    return {"application/json": {"schema": {"$ref": REF_TEMPLATE.format(model=shape.__name__)}}}


def shape_of(response: dict[str, Any]) -> type | None:
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


BUSY = {
    503: {
        "description": "busy: too much of this work at once (see Retry-After)",
        "content": content(ErrorOut),
    }
}


def documented(model: type, *statuses: int) -> dict[str, Any]:
    """Route kwargs that document a response shape (for each success status, default 200)
    and the error body, without validating responses at run time."""
    success = {status: {"content": content(model)} for status in statuses or (200,)}
    return {"responses": {**success, **ERRORS}}
