"""Tutors publish availability; anyone reads a tutor's slots."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field, model_validator

from skillsession.domain import local_time
from skillsession.domain.availability import (
    DEFAULT_SLOT_MINUTES,
    MAX_SLOT_MINUTES,
    MAX_SLOTS_PER_REQUEST,
    MAX_WINDOWS_PER_REQUEST,
    MIN_SLOT_MINUTES,
    WindowRequest,
)
from skillsession.domain.ids import MAX_ID_LENGTH
from skillsession.domain.local_time import MAX_ZONE_LENGTH
from skillsession.domain.model import MAX_STATUS_LENGTH
from skillsession.http import schemas as S
from skillsession.http import views
from skillsession.http.fast import FastRoute
from skillsession.http.responses import OrjsonResponse
from skillsession.http.schemas import documented
from skillsession.http.security import AUTHENTICATED, AppDeps, CurrentUser
from skillsession.http.slot_cache import teacher_slots_json
from skillsession.ports import Identity
from skillsession.service import availability as service
from skillsession.service import paging
from skillsession.service.deps import Deps

router = APIRouter(tags=["availability and slots"], dependencies=AUTHENTICATED)

SlotMinutes = Annotated[
    int, Field(ge=MIN_SLOT_MINUTES, le=MAX_SLOT_MINUTES, description="minutes per slot")
]


class WindowBody(BaseModel):
    date: S.Day = Field(description=f"local date, {S.DAY_NOTE}")
    start_time: str = Field(pattern=S.CLOCK, description="local HH:MM")
    end_time: str = Field(pattern=S.CLOCK, description="local HH:MM (24:00 allowed)")
    end_date: S.Day | None = Field(None, description=f"for windows past midnight; {S.DAY_NOTE}")
    time_zone: str | None = Field(
        None, max_length=MAX_ZONE_LENGTH, description="default: the tutor's zone"
    )
    slot_minutes: SlotMinutes = DEFAULT_SLOT_MINUTES

    def to_request(self) -> WindowRequest:
        return WindowRequest(
            date=self.date,
            start_time=self.start_time,
            end_time=self.end_time,
            end_date=self.end_date,
            time_zone=self.time_zone,
            slot_minutes=self.slot_minutes,
        )


class AvailabilityBody(BaseModel):
    """One window, or `windows`: a list of them (all or nothing)."""

    windows: list[WindowBody] | None = Field(None, max_length=MAX_WINDOWS_PER_REQUEST)
    date: S.Day | None = Field(None, description=S.DAY_NOTE)
    start_time: str | None = Field(None, pattern=S.CLOCK)
    end_time: str | None = Field(None, pattern=S.CLOCK)
    end_date: S.Day | None = Field(None, description=S.DAY_NOTE)
    time_zone: str | None = Field(None, max_length=MAX_ZONE_LENGTH)
    slot_minutes: SlotMinutes = DEFAULT_SLOT_MINUTES

    @model_validator(mode="after")
    def _one_shape(self):
        if self.windows is None:
            missing = [f for f in ("date", "start_time", "end_time") if getattr(self, f) is None]
            if missing:
                raise ValueError(
                    f"give windows, or date, start_time and end_time ({missing} missing)"
                )
        return self

    def requests(self) -> list[WindowRequest]:
        if self.windows is not None:
            return [w.to_request() for w in self.windows]
        return [
            WindowRequest(
                date=self.date,
                start_time=self.start_time,
                end_time=self.end_time,
                end_date=self.end_date,
                time_zone=self.time_zone,
                slot_minutes=self.slot_minutes,
            )
        ]


@router.post(
    "/create-availability",
    operation_id="createAvailability",
    description="One window (`date`, `start_time`, `end_time`, optional `time_zone`, "
    "`slot_minutes`) or `windows`: a list of them, all or nothing. Each window is cut into "
    "back-to-back slots of `slot_minutes` (15..240, default 60); a tail shorter than a slot is "
    "dropped. `time_zone` defaults to the tutor's. 409 if a window overlaps one of the tutor's "
    "windows; 422 if it ends before it starts, starts in the past, is longer than 24 hours, "
    "yields no slot, lies more than 365 days ahead or its local time does not exist, and "
    f"(`too_many_slots`) if the request would publish more than {MAX_SLOTS_PER_REQUEST} slots.",
    status_code=201,
    summary="Publish windows (tutors only)",
    **documented(S.CreatedAvailabilityOut, 201),
)
async def create_availability(body: AvailabilityBody, deps: AppDeps, identity: CurrentUser):
    availabilities, slots = service.create(deps, identity, body.requests())
    by_zone = {a.availability_id: a.time_zone for a in availabilities}
    return OrjsonResponse(
        {
            "availability": [views.availability(a) for a in availabilities],
            "slots": [views.slot(s, local_time.zone(by_zone[s.availability_id])) for s in slots],
        },
        status_code=201,
    )


class DeleteBody(BaseModel):
    availability_id: str = Field(max_length=MAX_ID_LENGTH)


@router.post(
    "/delete-availability",
    operation_id="deleteAvailability",
    description="Removes the window and its free slots; 409 while any of its slots is pending "
    "or booked.",
    summary="Remove a window and its free slots (tutors only)",
    **documented(S.DeletedOut),
)
async def delete_availability(body: DeleteBody, deps: AppDeps, identity: CurrentUser):
    service.delete(deps, identity, body.availability_id)
    return OrjsonResponse({"deleted": body.availability_id})


class SlotsBody(BaseModel):
    tutor_id: str | None = Field(None, max_length=MAX_ID_LENGTH)
    tutor_email: S.Email | None = None
    from_date: S.Day | None = Field(None, description=S.DAY_NOTE)
    to_date: S.Day | None = Field(None, description=S.DAY_NOTE)
    status: str | None = Field(
        None, max_length=MAX_STATUS_LENGTH, description="available (default); own: all"
    )
    time_zone: str | None = Field(None, max_length=MAX_ZONE_LENGTH)
    limit: int | None = Field(
        None,
        ge=1,
        le=service.MAX_SLOTS_PER_ANSWER,
        description=f"slots per page (default and most: {service.MAX_SLOTS_PER_ANSWER})",
    )
    cursor: str | None = Field(
        None, max_length=paging.MAX_CURSOR_LENGTH, description="`next_cursor` of a page"
    )

    def query(self) -> service.SlotQuery:
        return service.SlotQuery(
            self.tutor_id,
            self.tutor_email,
            self.from_date,
            self.to_date,
            self.status,
            self.time_zone,
            self.limit,
            self.cursor,
        )


def get_teacher_slots(deps: Deps, identity: Identity, body: SlotsBody) -> bytes:
    return teacher_slots_json(deps, identity, body.query())


# served by the thin dispatch on its happy path (http/fast.py)
GET_TEACHER_SLOTS = FastRoute(
    "POST",
    "/get-teacher-slots",
    get_teacher_slots,
    operation_id="getTeacherSlots",
    description="`tutor_id` or `tutor_email`; `from_date`..`to_date` (default today and the "
    "next 30 days, at most 92 days); `status` `available` (default: only slots that have not "
    "started) or, for tutors asking for their own, `all`; `time_zone` for the local fields. "
    f"At most {service.MAX_SLOTS_PER_ANSWER} slots an answer (`limit`, default and most): "
    "`next_cursor` (null on the last page) is the `cursor` of the next page.",
    summary="A tutor's slots in a date range, ordered by start",
    doc=documented(S.SlotsOut),
    body=SlotsBody,
)
GET_TEACHER_SLOTS.add_to(router)
FAST_ROUTES = (GET_TEACHER_SLOTS,)
