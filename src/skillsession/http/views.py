"""How entities look in responses: UTC instants plus local fields for people."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from skillsession.domain import time as tz_time
from skillsession.domain.model import Availability, Booking, Profile, Slot, SlotStatus
from skillsession.domain.profiles import EDITABLE_FIELDS, ROLE_FIELDS
from skillsession.ports import SignedUrl

PROFILE_FIELDS = ("user_id", "email", "role", *EDITABLE_FIELDS)


def profile(p: Profile, show_mobile: bool = True) -> dict[str, Any]:
    hidden = {f for role, fields in ROLE_FIELDS.items() if role != p.role for f in fields}
    if not show_mobile:
        hidden.add("mobile_number")
    out = {f: getattr(p, f) for f in PROFILE_FIELDS if f not in hidden}
    out["role"] = p.role.value
    out["has_profile_image"] = p.has_profile_image
    out["created_at"] = tz_time.iso(p.created_at) if p.created_at else None
    out["updated_at"] = tz_time.iso(p.updated_at) if p.updated_at else None
    return out


def tutor_card(p: Profile) -> dict[str, Any]:
    out = profile(p, show_mobile=False)
    out["skills"] = list(p.teaching_skills or [])
    return out


def person(p: Profile | None) -> dict[str, Any] | None:
    if p is None:
        return None
    return {"user_id": p.user_id, "name": p.display_name, "email": p.email}


def slot(s: Slot, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "slot_id": s.slot_id,
        "tutor_id": s.tutor_id,
        "availability_id": s.availability_id,
        "start": tz_time.iso(s.start),
        "end": tz_time.iso(s.end),
        **tz_time.local_fields(s.start, s.end, tz),
        "slot_status": s.slot_status.value,
    }


def availability(a: Availability) -> dict[str, Any]:
    tz = tz_time.zone(a.time_zone)
    return {
        "availability_id": a.availability_id,
        "tutor_id": a.tutor_id,
        "start": tz_time.iso(a.start),
        "end": tz_time.iso(a.end),
        **tz_time.local_fields(a.start, a.end, tz),
        "slot_minutes": a.slot_minutes,
    }


def booking(b: Booking, tz: ZoneInfo) -> dict[str, Any]:
    local = tz_time.local_fields(b.start, b.end, tz)
    return {
        "booking_id": b.booking_id,
        "slot_id": b.slot_id,
        "tutor_id": b.tutor_id,
        "student_id": b.student_id,
        "booking_status": b.booking_status.value,
        "request_created_at": tz_time.iso(b.request_created_at),
        "updated_at": tz_time.iso(b.updated_at),
        "booking_date": local["date"],
        "start": tz_time.iso(b.start),
        "end": tz_time.iso(b.end),
        "start_time": local["start_time"],
        "end_time": local["end_time"],
        "time_zone": local["time_zone"],
        "message": b.message,
        "reason": b.reason,
    }


SLOT_STATUS_OF_BOOKING = {
    "pending": SlotStatus.PENDING,
    "accepted": SlotStatus.BOOKED,
    "completed": SlotStatus.BOOKED,
    "expired": SlotStatus.EXPIRED,
}


def booking_with_parties(b: Booking, tz: ZoneInfo, profiles: dict[str, Profile]) -> dict[str, Any]:
    out = booking(b, tz)
    local = tz_time.local_fields(b.start, b.end, tz)
    status = SLOT_STATUS_OF_BOOKING.get(b.booking_status.value)
    out["slot"] = {
        "slot_id": b.slot_id,
        "tutor_id": b.tutor_id,
        "start": out["start"],
        "end": out["end"],
        **local,
        # a live booking fixes its slot's state; after reject/cancel the slot lives on its own
        "slot_status": status.value if status else None,
    }
    out["student"] = person(profiles.get(b.student_id))
    out["tutor"] = person(profiles.get(b.tutor_id))
    return out


def signed_url(url: SignedUrl, base_url: str = "") -> dict[str, Any]:
    full = url.url if url.url.startswith("http") else f"{base_url}{url.url}"
    return {"url": full, "expires_at": tz_time.iso(url.expires_at)}
