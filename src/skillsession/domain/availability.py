"""Availability windows and how they are cut into slots. Pure rules, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from skillsession.domain import local_time
from skillsession.domain.errors import ValidationFailed
from skillsession.domain.ids import new_id
from skillsession.domain.model import Availability, Slot, SlotStatus

MIN_SLOT_MINUTES = 15
MAX_SLOT_MINUTES = 240
DEFAULT_SLOT_MINUTES = 60
MAX_WINDOW = timedelta(hours=24)
MAX_AHEAD = timedelta(days=365)
MAX_WINDOWS_PER_REQUEST = 100
# Slots one request may publish: a month of a tutor's 8-hour days in quarter-hours fits; 100
# all-day windows of quarter-hours (9,600 slots, written in one transaction, on the worker's
# event loop) take ten requests. A tutor's windows on one day are bounded by the rules already:
# they do not overlap and each holds a slot of 15 minutes at least (96 a day at most).
MAX_SLOTS_PER_REQUEST = 1000


@dataclass(frozen=True)
class WindowRequest:
    """A window as a tutor writes it: local date and wall times in an IANA zone."""

    date: str
    start_time: str
    end_time: str
    time_zone: str | None = None  # None: the tutor's own zone
    slot_minutes: int = DEFAULT_SLOT_MINUTES
    end_date: str | None = None  # for windows that run past midnight


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    time_zone: str
    slot_minutes: int


def resolve_window(request: WindowRequest, now: datetime, prefix: str = "") -> Window:
    """Turn a local window into UTC instants and check every rule of API.md."""
    tz = local_time.zone(request.time_zone or "UTC", f"{prefix}time_zone")
    day: date = local_time.parse_date(request.date, f"{prefix}date")
    end_day = (
        local_time.parse_date(request.end_date, f"{prefix}end_date") if request.end_date else day
    )
    start = local_time.local_to_utc(
        day,
        local_time.parse_clock(request.start_time, f"{prefix}start_time"),
        tz,
        f"{prefix}start_time",
    )
    end = local_time.local_to_utc(
        end_day,
        local_time.parse_clock(request.end_time, f"{prefix}end_time"),
        tz,
        f"{prefix}end_time",
    )
    minutes = request.slot_minutes
    if not MIN_SLOT_MINUTES <= minutes <= MAX_SLOT_MINUTES:
        raise ValidationFailed(
            f"slot_minutes must be {MIN_SLOT_MINUTES}..{MAX_SLOT_MINUTES}",
            details={f"{prefix}slot_minutes": minutes},
        )
    if end <= start:
        raise ValidationFailed("end must be after start", details={f"{prefix}end_time": "<= start"})
    if end - start > MAX_WINDOW:
        raise ValidationFailed(
            "a window is at most 24 hours", details={f"{prefix}end_time": "> 24 h"}
        )
    if start < now:
        raise ValidationFailed(
            "a window cannot start in the past", details={f"{prefix}date": "past"}
        )
    if start > now + MAX_AHEAD:
        raise ValidationFailed(
            "a window is at most 365 days ahead", details={f"{prefix}date": "> 365 days ahead"}
        )
    if end - start < timedelta(minutes=minutes):
        raise ValidationFailed(
            "the window is shorter than one slot", details={f"{prefix}slot_minutes": minutes}
        )
    return Window(start=start, end=end, time_zone=tz.key, slot_minutes=minutes)


def split(window: Window) -> list[tuple[datetime, datetime]]:
    """Back-to-back slots of true length (UTC arithmetic, so DST changes are honoured);
    a tail shorter than one slot is dropped."""
    step = timedelta(minutes=window.slot_minutes)
    slots = []
    start = window.start
    while start + step <= window.end:
        slots.append((start, start + step))
        start += step
    return slots


def check_size(windows: list[Window]) -> None:
    """At most MAX_SLOTS_PER_REQUEST slots from one request (counted, not made)."""
    count = sum((w.end - w.start) // timedelta(minutes=w.slot_minutes) for w in windows)
    if count > MAX_SLOTS_PER_REQUEST:
        raise ValidationFailed(
            f"at most {MAX_SLOTS_PER_REQUEST} slots per request; publish them in parts",
            code="too_many_slots",
            details={"windows": f"{count} slots"},
        )


def check_no_overlap(windows: list[Window]) -> None:
    """Windows of one request must not overlap each other."""
    ordered = sorted(enumerate(windows), key=lambda pair: pair[1].start)
    for (_, a), (j, b) in zip(ordered, ordered[1:], strict=False):
        if b.start < a.end:
            raise ValidationFailed(
                "windows in one request overlap each other", details={f"windows[{j}]": "overlaps"}
            )


def build(
    tutor_id: str, windows: list[Window], now: datetime
) -> tuple[list[Availability], list[Slot]]:
    """Entities for validated windows: one Availability each, and its slots."""
    check_size(windows)
    check_no_overlap(windows)
    availabilities: list[Availability] = []
    slots: list[Slot] = []
    for window in windows:
        availability = Availability(
            availability_id=new_id(),
            tutor_id=tutor_id,
            start=window.start,
            end=window.end,
            time_zone=window.time_zone,
            slot_minutes=window.slot_minutes,
            created_at=now,
        )
        availabilities.append(availability)
        slots.extend(
            Slot(
                slot_id=new_id(),
                tutor_id=tutor_id,
                availability_id=availability.availability_id,
                start=start,
                end=end,
                slot_status=SlotStatus.AVAILABLE,
                time_zone=window.time_zone,
            )
            for start, end in split(window)
        )
    return availabilities, slots
