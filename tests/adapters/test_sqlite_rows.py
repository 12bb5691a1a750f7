"""The SQLite store's row conversions (positional, with cached instants) build the same entities
as the keyword-argument form they replace."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime

import orjson
from hypothesis import given
from hypothesis import strategies as st

from skillsession.adapters.store.sqlite import rows
from skillsession.domain.model import Booking, BookingStatus, Profile, Role, Slot, SlotStatus

SECONDS = st.integers(946_684_800, 4_102_444_800)  # 2000 .. 2100


def test_profile_fields_are_in_the_order_rows_build_them():
    assert tuple(f.name for f in fields(Profile)) == rows.PROFILE_POSITIONAL


def _profile_row(doc: dict, created: int | None, updated: int | None):
    return ("u1", "a@b.c", "tutor", orjson.dumps(doc).decode(), "img/1", created, updated)


def test_profile_row_is_the_keyword_built_profile():
    full = Profile(
        "u1",
        "a@b.c",
        Role.TUTOR,
        first_name="Ada",
        last_name=None,
        mobile_number="+1",
        time_zone="Asia/Kolkata",
        teaching_skills=["Python", "Go"],
        experience_years=3,
        experience_description="x",
        image_key="img/1",
        created_at=datetime(2026, 11, 29, 9, 0, tzinfo=UTC),
        updated_at=datetime(2026, 11, 29, 9, 0, 1, tzinfo=UTC),
    )
    doc = {f: getattr(full, f) for f in rows.PROFILE_DOC_FIELDS}
    assert (
        rows.profile(_profile_row(doc, rows.ts(full.created_at), rows.ts(full.updated_at))) == full
    )
    assert rows.profile(rows.profile_params(full)) == full


def test_a_document_without_a_newer_field_keeps_its_default():
    doc = {f: None for f in rows.PROFILE_DOC_FIELDS if f != "experience_description"}
    doc["time_zone"] = "UTC"
    made = rows.profile(_profile_row(doc, None, None))
    assert made.experience_description is None
    assert made.role is Role.TUTOR and made.created_at is None


@given(SECONDS, st.integers(60, 86400), st.sampled_from(list(SlotStatus)))
def test_slot_rows_round_trip(start, length, status):
    slot = Slot("s1", "t1", "a1", rows.dt(start), rows.dt(start + length), status, "Europe/Berlin")
    assert rows.slot(rows.slot_params(slot)) == slot
    assert rows.slot(rows.slot_params(slot)).slot_status is status
    assert rows.dt(start) == datetime.fromtimestamp(start, UTC)
    assert rows.dt(start).tzinfo is UTC


@given(SECONDS, SECONDS, st.sampled_from(list(BookingStatus)))
def test_booking_rows_round_trip(created, start, status):
    booking = Booking(
        "b1",
        "s1",
        "t1",
        "u1",
        status,
        datetime.fromtimestamp(created, UTC),
        datetime.fromtimestamp(created + 5, UTC),
        datetime.fromtimestamp(start, UTC),
        datetime.fromtimestamp(start + 3600, UTC),
        "hello",
        None,
    )
    assert rows.booking(rows.booking_params(booking)) == booking
    assert rows.dt(None) is None
