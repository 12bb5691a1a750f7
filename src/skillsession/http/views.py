"""How entities look in responses: UTC instants plus local fields for people."""

from __future__ import annotations

from operator import attrgetter
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from skillsession.domain import local_time
from skillsession.domain.model import (
    Availability,
    Booking,
    BookingStatus,
    Profile,
    Role,
    Slot,
    SlotStatus,
)
from skillsession.domain.profiles import EDITABLE_FIELDS, ROLE_FIELDS
from skillsession.ports import SignedUrl
from skillsession.service.account_data import DELETED_USER

if TYPE_CHECKING:
    from skillsession.service.bookings import BookingList

PROFILE_FIELDS = ("user_id", "email", "role", *EDITABLE_FIELDS)


def _visible(role: Role, show_mobile: bool) -> tuple[tuple[str, ...], attrgetter, str]:
    """The fields shown of a `role`'s profile (no other role's fields), their getter, and the
    role as text."""
    hidden = {f for other, fields in ROLE_FIELDS.items() if other != role for f in fields}
    if not show_mobile:
        hidden.add("mobile_number")
    fields = tuple(f for f in PROFILE_FIELDS if f not in hidden)
    return fields, attrgetter(*fields), role.value


_VISIBLE = {(role, show): _visible(role, show) for role in Role for show in (True, False)}


def profile(p: Profile, show_mobile: bool = True) -> dict[str, Any]:
    fields, values, role = _VISIBLE[p.role, bool(show_mobile)]
    out = dict(zip(fields, values(p), strict=False))  # same fields, by construction
    out["role"] = role
    out["has_profile_image"] = p.has_profile_image
    created, updated = p.created_at, p.updated_at
    out["created_at"] = local_time.iso(created) if created else None
    out["updated_at"] = local_time.iso(updated) if updated else None
    return out


def tutor_card(p: Profile) -> dict[str, Any]:
    out = profile(p, show_mobile=False)
    out["skills"] = list(p.teaching_skills or [])
    return out


def person(p: Profile | None, user_id: str) -> dict[str, Any]:
    """A booking's party; one without a profile deleted the account."""
    if p is None:
        return {"user_id": user_id, "name": DELETED_USER, "email": None}
    return {"user_id": p.user_id, "name": p.display_name, "email": p.email}


def slot(s: Slot, tz: ZoneInfo) -> dict[str, Any]:
    start, end, day, start_time, end_time = local_time.span_text(s.start, s.end, tz)
    return {
        "slot_id": s.slot_id,
        "tutor_id": s.tutor_id,
        "availability_id": s.availability_id,
        "start": start,
        "end": end,
        "date": day,
        "start_time": start_time,
        "end_time": end_time,
        "time_zone": tz.key,
        "slot_status": s.slot_status.value,
    }


def availability(a: Availability) -> dict[str, Any]:
    tz = local_time.zone(a.time_zone)
    return {
        "availability_id": a.availability_id,
        "tutor_id": a.tutor_id,
        "start": local_time.iso(a.start),
        "end": local_time.iso(a.end),
        **local_time.local_fields(a.start, a.end, tz),
        "slot_minutes": a.slot_minutes,
    }


def booking(b: Booking, tz: ZoneInfo) -> dict[str, Any]:
    return _booking(b, tz, local_time.span_text(b.start, b.end, tz))


def _booking(b: Booking, tz: ZoneInfo, span: tuple[str, str, str, str, str]) -> dict[str, Any]:
    start, end, day, start_time, end_time = span
    return {
        "booking_id": b.booking_id,
        "slot_id": b.slot_id,
        "tutor_id": b.tutor_id,
        "student_id": b.student_id,
        "booking_status": b.booking_status.value,
        "request_created_at": local_time.iso(b.request_created_at),
        "updated_at": local_time.iso(b.updated_at),
        "booking_date": day,
        "start": start,
        "end": end,
        "start_time": start_time,
        "end_time": end_time,
        "time_zone": tz.key,
        "message": b.message,
        "reason": b.reason,
    }


SLOT_STATUS_OF_BOOKING = {
    "pending": SlotStatus.PENDING,
    "accepted": SlotStatus.BOOKED,
    "completed": SlotStatus.BOOKED,
    "expired": SlotStatus.EXPIRED,
}
_SLOT_STATUS_TEXT = {BookingStatus(k): v.value for k, v in SLOT_STATUS_OF_BOOKING.items()}


def booking_with_parties(b: Booking, tz: ZoneInfo, profiles: dict[str, Profile]) -> dict[str, Any]:
    span = local_time.span_text(b.start, b.end, tz)
    out = _booking(b, tz, span)
    start, end, day, start_time, end_time = span
    out["slot"] = {
        "slot_id": b.slot_id,
        "tutor_id": b.tutor_id,
        "start": start,
        "end": end,
        "date": day,
        "start_time": start_time,
        "end_time": end_time,
        "time_zone": tz.key,
        # a live booking fixes its slot's state; after reject/cancel the slot lives on its own
        "slot_status": _SLOT_STATUS_TEXT.get(b.booking_status),
    }
    out["student"] = person(profiles.get(b.student_id), b.student_id)
    out["tutor"] = person(profiles.get(b.tutor_id), b.tutor_id)
    return out


def booking_list(found: BookingList) -> dict[str, Any]:
    """A page of bookings with their parties, in the caller's zone."""
    tz, profiles = found.time_zone, found.profiles
    return {
        "bookings": [booking_with_parties(b, tz, profiles) for b in found.bookings],
        "next_cursor": found.next_cursor,
    }


def signed_url(url: SignedUrl, base_url: str = "") -> dict[str, Any]:
    full = url.url if url.url.startswith("http") else f"{base_url}{url.url}"
    return {"url": full, "expires_at": local_time.iso(url.expires_at)}
