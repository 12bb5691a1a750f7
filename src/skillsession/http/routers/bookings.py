"""Booking requests, answers, cancellations and lists."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from skillsession.domain.bookings import MAX_MESSAGE_LENGTH, MAX_REASON_LENGTH
from skillsession.domain.ids import MAX_ID_LENGTH
from skillsession.domain.model import MAX_STATUS_LENGTH, Role
from skillsession.http import list_cache, views
from skillsession.http import schemas as S
from skillsession.http.fast import FastRoute
from skillsession.http.responses import OrjsonResponse
from skillsession.http.schemas import documented
from skillsession.http.security import AUTHENTICATED, AppDeps, CurrentUser
from skillsession.ports import Identity
from skillsession.service import bookings as service
from skillsession.service import paging
from skillsession.service.deps import Deps

router = APIRouter(tags=["bookings"], dependencies=AUTHENTICATED)


def _one(answer: service.BookingAnswer) -> dict:
    return {"booking": views.booking(answer.booking, answer.time_zone)}


class BookingRequestBody(BaseModel):
    slot_id: str = Field(max_length=MAX_ID_LENGTH)
    message: S.free_text(MAX_MESSAGE_LENGTH) | None = None


def create_booking_request(
    deps: Deps, identity: Identity, body: BookingRequestBody, idempotency_key: str | None
) -> dict:
    return _one(service.request(deps, identity, body.slot_id, body.message, idempotency_key))


# the routes declared as FastRoute are served by the thin dispatch on their happy path
# (http/fast.py)
CREATE_BOOKING_REQUEST = FastRoute(
    "POST",
    "/create-booking-request",
    create_booking_request,
    operation_id="createBookingRequest",
    description="The slot becomes `pending` and the tutor is notified. 409 `slot_unavailable` "
    "if it is taken, pending, expired or started; 404 for an unknown slot. With an "
    "`Idempotency-Key`, a retry answers the first result again (422 "
    "`idempotency_key_reused` if the key was used for another slot).",
    summary="Request a slot (students only)",
    doc=documented(S.BookingEnvelope, 201),
    body=BookingRequestBody,
    status=201,
    idempotency_key=True,
)
CREATE_BOOKING_REQUEST.add_to(router)


class ResponseBody(BaseModel):
    booking_id: str = Field(max_length=MAX_ID_LENGTH)
    action: Literal["accept", "reject"]
    reason: S.free_text(MAX_REASON_LENGTH) | None = None


@router.post(
    "/process-booking-response",
    operation_id="processBookingResponse",
    description="`accept` books the slot; `reject` frees it. The student is notified. 409 "
    "`booking_not_pending` once answered; 403 for another tutor's booking.",
    summary="Accept or reject a request (its tutor only)",
    **documented(S.BookingEnvelope),
)
async def process_booking_response(body: ResponseBody, deps: AppDeps, identity: CurrentUser):
    return OrjsonResponse(
        _one(service.respond(deps, identity, body.booking_id, body.action, body.reason))
    )


class CancelBody(BaseModel):
    booking_id: str = Field(max_length=MAX_ID_LENGTH)
    reason: S.free_text(MAX_REASON_LENGTH) | None = None


@router.post(
    "/cancel-booking",
    operation_id="cancelBooking",
    description="A student may withdraw a pending request or cancel an accepted booking, a "
    "tutor may cancel an accepted booking; both only before the slot starts. The slot is free "
    "again and the other party is notified. 409 otherwise.",
    summary="Cancel a booking or withdraw a request (either party)",
    **documented(S.BookingEnvelope),
)
async def cancel_booking(body: CancelBody, deps: AppDeps, identity: CurrentUser):
    return OrjsonResponse(_one(service.cancel(deps, identity, body.booking_id, body.reason)))


class PageQuery(BaseModel):
    limit: int | None = Field(None, ge=1, le=paging.MAX_LIMIT)
    cursor: str | None = Field(None, max_length=paging.MAX_CURSOR_LENGTH)


class ListQuery(BaseModel):
    status: str | None = Field(None, max_length=MAX_STATUS_LENGTH)
    from_date: S.Day | None = Field(None, description=S.DAY_NOTE)
    to_date: S.Day | None = Field(None, description=S.DAY_NOTE)
    limit: int | None = Field(None, ge=1, le=paging.MAX_LIMIT)
    cursor: str | None = Field(None, max_length=paging.MAX_CURSOR_LENGTH)


def get_pending_booking_slots(deps: Deps, identity: Identity, query: PageQuery) -> bytes:
    return list_cache.pending_json(deps, identity, query.limit, query.cursor)


def _list_route(role: Role):
    def handler(deps: Deps, identity: Identity, q: ListQuery) -> bytes:
        query = service.BookingQuery(q.status, q.from_date, q.to_date, q.limit, q.cursor)
        return list_cache.bookings_json(deps, identity, role, query)

    return handler


GET_PENDING_BOOKING_SLOTS = FastRoute(
    "GET",
    "/get-pending-booking-slots",
    get_pending_booking_slots,
    operation_id="getPendingBookingSlots",
    summary="Pending requests (tutor: to me; student: mine)",
    doc=documented(S.BookingList),
    query=PageQuery,
)
GET_TEACHER_BOOKINGS = FastRoute(
    "GET",
    "/get-teacher-bookings",
    _list_route(Role.TUTOR),
    operation_id="getTeacherBookings",
    description="Filtered by `status` and the slot's date (`from_date`, `to_date`), ordered by "
    "slot start, paged.",
    summary="The tutor's bookings, by slot start",
    doc=documented(S.BookingList),
    query=ListQuery,
)
GET_STUDENT_BOOKINGS = FastRoute(
    "GET",
    "/get-student-bookings",
    _list_route(Role.STUDENT),
    operation_id="getStudentBookings",
    description="Filtered by `status` and the slot's date (`from_date`, `to_date`), ordered by "
    "slot start, paged.",
    summary="The student's bookings, by slot start",
    doc=documented(S.BookingList),
    query=ListQuery,
)
for _route in (GET_PENDING_BOOKING_SLOTS, GET_TEACHER_BOOKINGS, GET_STUDENT_BOOKINGS):
    _route.add_to(router)
FAST_ROUTES = (
    CREATE_BOOKING_REQUEST,
    GET_PENDING_BOOKING_SLOTS,
    GET_TEACHER_BOOKINGS,
    GET_STUDENT_BOOKINGS,
)
