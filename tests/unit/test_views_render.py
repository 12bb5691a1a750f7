"""The response renderers (http/views.py) give, key for key and in the same order, what their
straightforward definitions give: one `astimezone` + `strftime` per field, profile fields by role."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from skillsession.domain.model import Booking, BookingStatus, Profile, Role, Slot, SlotStatus
from skillsession.domain.profiles import EDITABLE_FIELDS, ROLE_FIELDS
from skillsession.http import views

ZONES = ["UTC", "Europe/Berlin", "America/Santiago", "Asia/Kolkata", "Australia/Lord_Howe"]


def ref_iso(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ref_local(start: datetime, end: datetime, tz: ZoneInfo) -> dict:
    return {
        "date": start.astimezone(tz).date().isoformat(),
        "start_time": start.astimezone(tz).strftime("%H:%M"),
        "end_time": end.astimezone(tz).strftime("%H:%M"),
        "time_zone": tz.key,
    }


def ref_profile(p: Profile, show_mobile: bool = True) -> dict:
    hidden = {f for role, fields in ROLE_FIELDS.items() if role != p.role for f in fields}
    if not show_mobile:
        hidden.add("mobile_number")
    fields = ("user_id", "email", "role", *EDITABLE_FIELDS)
    out = {f: getattr(p, f) for f in fields if f not in hidden}
    out["role"] = p.role.value
    out["has_profile_image"] = p.image_key is not None
    out["created_at"] = ref_iso(p.created_at) if p.created_at else None
    out["updated_at"] = ref_iso(p.updated_at) if p.updated_at else None
    return out


def ref_booking(b: Booking, tz: ZoneInfo) -> dict:
    local = ref_local(b.start, b.end, tz)
    return {
        "booking_id": b.booking_id,
        "slot_id": b.slot_id,
        "tutor_id": b.tutor_id,
        "student_id": b.student_id,
        "booking_status": b.booking_status.value,
        "request_created_at": ref_iso(b.request_created_at),
        "updated_at": ref_iso(b.updated_at),
        "booking_date": local["date"],
        "start": ref_iso(b.start),
        "end": ref_iso(b.end),
        "start_time": local["start_time"],
        "end_time": local["end_time"],
        "time_zone": local["time_zone"],
        "message": b.message,
        "reason": b.reason,
    }


def ref_person(p: Profile | None, user_id: str = "") -> dict:
    if p is None:  # the party deleted the account
        return {"user_id": user_id, "name": "Deleted user", "email": None}
    name = " ".join(part for part in (p.first_name, p.last_name) if part)
    return {"user_id": p.user_id, "name": name or p.email, "email": p.email}


seconds = st.integers(946_684_800, 4_102_444_800)
instants = st.one_of(
    seconds.map(lambda s: datetime.fromtimestamp(s, UTC)),
    seconds.map(lambda s: datetime.fromtimestamp(s, ZoneInfo("Europe/Berlin"))),
    seconds.map(lambda s: datetime.fromtimestamp(s, UTC) + timedelta(microseconds=5)),
)
zones = st.sampled_from(ZONES).map(ZoneInfo)
texts = st.one_of(st.none(), st.just(""), st.text(max_size=8))
profiles = st.builds(
    Profile,
    user_id=st.sampled_from(["u1", "u2"]),
    email=st.just("a@b.c"),
    role=st.sampled_from(list(Role)),
    first_name=texts,
    last_name=texts,
    mobile_number=texts,
    time_zone=st.sampled_from(ZONES),
    university_name=texts,
    enrolled_courses=st.one_of(st.none(), st.lists(st.text(max_size=5), max_size=3)),
    start_year=st.one_of(st.none(), st.integers(2000, 2030)),
    teaching_skills=st.one_of(st.none(), st.lists(st.text(max_size=5), max_size=3)),
    experience_years=st.one_of(st.none(), st.integers(0, 50)),
    image_key=st.one_of(st.none(), st.just("k")),
    created_at=st.one_of(st.none(), instants),
    updated_at=st.one_of(st.none(), instants),
)


@given(profiles, st.booleans())
def test_profile_and_tutor_card(p, show_mobile):
    assert list(views.profile(p, show_mobile).items()) == list(ref_profile(p, show_mobile).items())
    card = ref_profile(p, show_mobile=False)
    card["skills"] = list(p.teaching_skills or [])
    assert list(views.tutor_card(p).items()) == list(card.items())
    assert views.person(p, p.user_id) == ref_person(p)
    assert views.person(None, p.user_id) == ref_person(None, p.user_id)


@given(seconds, st.integers(60, 86400), st.sampled_from(list(SlotStatus)), zones)
def test_slot(start, length, status, tz):
    s = Slot(
        "s1",
        "t1",
        "a1",
        datetime.fromtimestamp(start, UTC),
        datetime.fromtimestamp(start + length, UTC),
        status,
        "Europe/Berlin",
    )
    expected = {
        "slot_id": "s1",
        "tutor_id": "t1",
        "availability_id": "a1",
        "start": ref_iso(s.start),
        "end": ref_iso(s.end),
        **ref_local(s.start, s.end, tz),
        "slot_status": status.value,
    }
    assert list(views.slot(s, tz).items()) == list(expected.items())


@given(instants, instants, seconds, st.sampled_from(list(BookingStatus)), zones, profiles)
def test_booking_and_booking_with_parties(created, updated, start, status, tz, student):
    b = Booking(
        "b1",
        "s1",
        "t1",
        student.user_id,
        status,
        created,
        updated,
        datetime.fromtimestamp(start, UTC),
        datetime.fromtimestamp(start + 3600, UTC),
        "hi",
        None,
    )
    assert list(views.booking(b, tz).items()) == list(ref_booking(b, tz).items())
    expected = ref_booking(b, tz)
    slot_status = views.SLOT_STATUS_OF_BOOKING.get(status.value)
    expected["slot"] = {
        "slot_id": "s1",
        "tutor_id": "t1",
        "start": expected["start"],
        "end": expected["end"],
        **ref_local(b.start, b.end, tz),
        "slot_status": slot_status.value if slot_status else None,
    }
    expected["student"] = ref_person(student)
    expected["tutor"] = ref_person(None, "t1")
    got = views.booking_with_parties(b, tz, {student.user_id: student})
    assert list(got.items()) == list(expected.items())
    assert list(got["slot"].items()) == list(expected["slot"].items())
