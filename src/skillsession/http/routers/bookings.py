"""Booking requests, answers, cancellations and lists."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query
from pydantic import BaseModel, Field

from skillsession.domain.model import Role
from skillsession.http import schemas as S
from skillsession.http import views
from skillsession.http.responses import OrjsonResponse
from skillsession.http.schemas import documented
from skillsession.http.security import AUTHENTICATED, AppDeps, CurrentUser
from skillsession.service import bookings as service
from skillsession.service import paging

router = APIRouter(tags=["bookings"], dependencies=AUTHENTICATED)


def _one(answer: service.BookingAnswer) -> dict:
    return {"booking": views.booking(answer.booking, answer.time_zone)}


class BookingRequestBody(BaseModel):
    slot_id: str = Field(max_length=64)
    message: str | None = Field(None, max_length=2000)


@router.post(
    "/create-booking-request",
    status_code=201,
    summary="Request a slot (students only)",
    **documented(S.BookingEnvelope, 201),
)
async def create_booking_request(
    body: BookingRequestBody,
    deps: AppDeps,
    identity: CurrentUser,
    idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
):
    answer = service.request(deps, identity, body.slot_id, body.message, idempotency_key)
    return OrjsonResponse(_one(answer), status_code=201)


class ResponseBody(BaseModel):
    booking_id: str = Field(max_length=64)
    action: Literal["accept", "reject"]
    reason: str | None = Field(None, max_length=1000)


@router.post(
    "/process-booking-response",
    summary="Accept or reject a request (its tutor only)",
    **documented(S.BookingEnvelope),
)
async def process_booking_response(body: ResponseBody, deps: AppDeps, identity: CurrentUser):
    return OrjsonResponse(
        _one(service.respond(deps, identity, body.booking_id, body.action, body.reason))
    )


class CancelBody(BaseModel):
    booking_id: str = Field(max_length=64)
    reason: str | None = Field(None, max_length=1000)


@router.post(
    "/cancel-booking",
    summary="Cancel a booking or withdraw a request (either party)",
    **documented(S.BookingEnvelope),
)
async def cancel_booking(body: CancelBody, deps: AppDeps, identity: CurrentUser):
    return OrjsonResponse(_one(service.cancel(deps, identity, body.booking_id, body.reason)))


Limit = Annotated[int | None, Query(ge=1, le=paging.MAX_LIMIT)]
Cursor = Annotated[str | None, Query(max_length=500)]
DateQ = Annotated[str | None, Query(pattern=S.DATE, description="YYYY-MM-DD")]


def _render(found: service.BookingList) -> dict:
    tz = found.time_zone
    return {
        "bookings": [views.booking_with_parties(b, tz, found.profiles) for b in found.bookings],
        "next_cursor": found.next_cursor,
    }


@router.get(
    "/get-pending-booking-slots",
    summary="Pending requests (tutor: to me; student: mine)",
    **documented(S.BookingList),
)
async def get_pending_booking_slots(
    deps: AppDeps, identity: CurrentUser, limit: Limit = None, cursor: Cursor = None
):
    return OrjsonResponse(_render(service.pending(deps, identity, limit, cursor)))


def _list_route(role: Role):
    async def handler(
        deps: AppDeps,
        identity: CurrentUser,
        status: Annotated[str | None, Query(max_length=20)] = None,
        from_date: DateQ = None,
        to_date: DateQ = None,
        limit: Limit = None,
        cursor: Cursor = None,
    ):
        query = service.BookingQuery(status, from_date, to_date, limit, cursor)
        return OrjsonResponse(_render(service.for_role(deps, identity, role, query)))

    return handler


router.add_api_route(
    "/get-teacher-bookings",
    _list_route(Role.TUTOR),
    methods=["GET"],
    summary="The tutor's bookings, by slot start",
    **documented(S.BookingList),
)
router.add_api_route(
    "/get-student-bookings",
    _list_route(Role.STUDENT),
    methods=["GET"],
    summary="The student's bookings, by slot start",
    **documented(S.BookingList),
)
