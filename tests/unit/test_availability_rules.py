"""Slot splitting, window validation and time zones: pure, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skillsession.domain import availability as rules
from skillsession.domain.errors import ValidationFailed
from skillsession.domain.local_time import iso

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def window(date, start, end, tz="Europe/Berlin", minutes=60, end_date=None, now=NOW):
    return rules.resolve_window(
        rules.WindowRequest(date, start, end, tz, minutes, end_date=end_date), now
    )


def slots(w):
    return [(iso(a), iso(b)) for a, b in rules.split(w)]


def test_splits_back_to_back_and_drops_short_tail():
    w = window("2026-12-01", "09:00", "11:30", minutes=60)
    assert slots(w) == [
        ("2026-12-01T08:00:00Z", "2026-12-01T09:00:00Z"),
        ("2026-12-01T09:00:00Z", "2026-12-01T10:00:00Z"),
    ]


@pytest.mark.parametrize(
    ("tz", "day", "start", "end", "expected_hours"),
    [
        ("Europe/Berlin", "2026-03-29", "01:00", "04:00", 2),  # spring forward: 2 real hours
        ("Europe/Berlin", "2026-10-25", "01:00", "04:00", 4),  # fall back: 4 real hours
        ("America/New_York", "2026-03-08", "01:00", "04:00", 2),
        ("America/New_York", "2026-11-01", "00:00", "03:00", 4),
    ],
)
def test_windows_across_dst_changes_yield_slots_of_true_length(tz, day, start, end, expected_hours):
    w = window(day, start, end, tz=tz)
    cut = rules.split(w)
    assert len(cut) == expected_hours
    assert all(b - a == timedelta(hours=1) for a, b in cut)
    assert all(cut[i][1] == cut[i + 1][0] for i in range(len(cut) - 1))


@pytest.mark.parametrize(
    ("tz", "day", "clock"),
    [
        ("Europe/Berlin", "2026-03-29", "02:30"),
        ("Europe/Berlin", "2026-03-29", "02:00"),
        ("America/New_York", "2026-03-08", "02:15"),
    ],
)
def test_local_time_in_a_dst_gap_is_refused(tz, day, clock):
    with pytest.raises(ValidationFailed) as err:
        window(day, clock, "05:00", tz=tz)
    assert err.value.code == "nonexistent_local_time"
    assert "start_time" in err.value.details


def test_ambiguous_local_time_means_its_first_occurrence():
    w = window("2026-10-25", "02:30", "03:30", tz="Europe/Berlin", minutes=30)
    # 02:30 CEST (UTC+2) first, then 02:30 CET, then 03:00 CET ... 03:30 CET = 02:30 UTC
    assert iso(w.start) == "2026-10-25T00:30:00Z"
    assert iso(w.end) == "2026-10-25T02:30:00Z"
    assert len(rules.split(w)) == 4


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"date": "2026-12-01", "start": "10:00", "end": "10:00"}, "end_time"),
        ({"date": "2026-12-01", "start": "10:00", "end": "09:00"}, "end_time"),
        ({"date": "2025-12-01", "start": "10:00", "end": "11:00"}, "date"),
        ({"date": "2027-06-01", "start": "10:00", "end": "11:00"}, "date"),
        ({"date": "2026-12-01", "start": "10:00", "end": "10:30"}, "slot_minutes"),
        ({"date": "2026-12-01", "start": "10:00", "end": "11:00", "minutes": 10}, "slot_minutes"),
        ({"date": "2026-12-01", "start": "10:00", "end": "11:00", "minutes": 241}, "slot_minutes"),
        ({"date": "2026-12-01", "start": "9:00", "end": "11:00"}, "start_time"),
        ({"date": "2026-12-01", "start": "09:00", "end": "24:30"}, "end_time"),
        ({"date": "2026-13-01", "start": "09:00", "end": "11:00"}, "date"),
        ({"date": "2026-12-01", "start": "09:00", "end": "11:00", "tz": "Mars/Base"}, "time_zone"),
        (
            {"date": "2026-12-01", "start": "09:00", "end": "11:00", "tz": "../etc/passwd"},
            "time_zone",
        ),
        (
            {"date": "2026-12-01", "start": "09:00", "end": "10:00", "end_date": "2026-12-02"},
            "end_time",
        ),
    ],
)
def test_invalid_windows_name_the_field(kwargs, field):
    with pytest.raises(ValidationFailed) as err:
        window(
            kwargs["date"],
            kwargs["start"],
            kwargs["end"],
            tz=kwargs.get("tz", "Europe/Berlin"),
            minutes=kwargs.get("minutes", 60),
            end_date=kwargs.get("end_date"),
        )
    assert field in err.value.details


def test_overnight_window_and_24_00():
    w = window("2026-12-01", "22:00", "02:00", end_date="2026-12-02", tz="UTC")
    assert len(rules.split(w)) == 4
    assert iso(window("2026-12-01", "23:00", "24:00", tz="UTC").end) == "2026-12-02T00:00:00Z"


def test_windows_of_one_request_may_not_overlap_but_may_touch():
    a = window("2026-12-01", "09:00", "10:00")
    b = window("2026-12-01", "10:00", "11:00")
    rules.check_no_overlap([a, b])
    c = window("2026-12-01", "09:30", "10:30")
    with pytest.raises(ValidationFailed):
        rules.check_no_overlap([a, b, c])


def test_build_makes_slots_that_belong_to_their_window():
    a = window("2026-12-01", "09:00", "11:00")
    availabilities, made = rules.build("tutor-1", [a], NOW)
    assert len(availabilities) == 1 and len(made) == 2
    assert {s.availability_id for s in made} == {availabilities[0].availability_id}
    assert all(s.slot_status == "available" and s.time_zone == "Europe/Berlin" for s in made)


@given(
    offset_minutes=st.integers(0, 364 * 24 * 60),
    length_minutes=st.integers(15, 24 * 60),
    slot_minutes=st.integers(15, 240),
)
def test_splitting_properties(offset_minutes, length_minutes, slot_minutes):
    start = NOW + timedelta(minutes=offset_minutes)
    w = rules.Window(start, start + timedelta(minutes=length_minutes), "UTC", slot_minutes)
    cut = rules.split(w)
    assert len(cut) == length_minutes // slot_minutes
    assert all(b - a == timedelta(minutes=slot_minutes) for a, b in cut)
    assert all(w.start <= a and b <= w.end for a, b in cut)
