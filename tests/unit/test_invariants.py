"""The booking invariants and the bookable rule, written once in the domain (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from skillsession.domain.invariants import bookable, orphan_problem, slot_problems
from skillsession.domain.model import BookingStatus as B
from skillsession.domain.model import SlotStatus as S

NOW = datetime(2030, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "start", "expected"),
    [
        (S.AVAILABLE, NOW + timedelta(seconds=1), True),
        (S.AVAILABLE, NOW, False),  # starting now: started
        (S.AVAILABLE, NOW - timedelta(minutes=1), False),
        (S.PENDING, NOW + timedelta(days=1), False),
        (S.BOOKED, NOW + timedelta(days=1), False),
        (S.EXPIRED, NOW + timedelta(days=1), False),
    ],
)
def test_bookable_means_available_and_not_started(status, start, expected):
    assert bookable(status, start, NOW) is expected


@pytest.mark.parametrize(
    ("slot", "bookings"),
    [
        (S.AVAILABLE, []),
        (S.AVAILABLE, [("b1", B.REJECTED), ("b2", B.CANCELLED), ("b3", B.EXPIRED)]),
        (S.PENDING, [("b1", B.CANCELLED), ("b2", B.PENDING)]),
        (S.BOOKED, [("b1", B.ACCEPTED)]),
        (S.BOOKED, [("b1", B.COMPLETED)]),
        (S.EXPIRED, [("b1", B.EXPIRED), ("b2", B.COMPLETED)]),
    ],
)
def test_consistent_slots_have_no_problem(slot, bookings):
    assert slot_problems("s", slot, bookings) == []


@pytest.mark.parametrize(
    ("slot", "bookings", "problems"),
    [
        (
            S.PENDING,
            [("b1", B.PENDING), ("b2", B.PENDING)],
            ["slot with more than one live booking: s"],
        ),
        (
            S.BOOKED,
            [("b1", B.ACCEPTED), ("b2", B.PENDING)],
            [
                "pending booking whose slot is not pending: b2",
                "slot with more than one live booking: s",
            ],
        ),
        (
            S.AVAILABLE,
            [("b1", B.ACCEPTED)],
            ["accepted booking whose slot is not booked: b1"],
        ),
        (S.PENDING, [("b1", B.REJECTED)], ["pending slot without a pending booking: s"]),
        (
            S.BOOKED,
            [("b1", B.CANCELLED)],
            ["booked slot without an accepted or completed booking: s"],
        ),
    ],
)
def test_each_kind_of_damage_is_named(slot, bookings, problems):
    assert slot_problems("s", slot, bookings) == problems


def test_a_booking_without_its_slot_is_named():
    assert orphan_problem("b1") == "booking whose slot is missing: b1"
