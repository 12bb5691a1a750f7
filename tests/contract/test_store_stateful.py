"""Random sequences of request / accept / reject / cancel / expire / time passing on a handful of
slots, run against every Store adapter and checked step by step against a small model: a slot
never has two live bookings, the store's consistency check stays empty, and a slot version (where
the store keeps one) never names two different states of the tutor's slots, nor a booking list
version two different states of a user's bookings."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from factories import STORE_FACTORIES, at, make_booking, make_notification, make_window
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import store_peek
from skillsession.domain.errors import SlotUnavailable
from skillsession.domain.model import LIVE_BOOKING_STATUSES, Booking, BookingStatus, SlotStatus

B = BookingStatus
SLOTS = 4
STUDENTS = ("s1", "s2", "s3")
KEYS = (None, "k1", "k2")
EXPIRY_LIMIT = 2


@dataclass
class Model:
    """What the store must hold: slot and booking statuses, remembered idempotency keys."""

    slots: dict[str, SlotStatus] = field(default_factory=dict)
    starts: dict[str, datetime] = field(default_factory=dict)
    bookings: dict[str, Booking] = field(default_factory=dict)
    keys: dict[tuple[str, str], str] = field(default_factory=dict)

    def live(self, slot_id: str) -> list[Booking]:
        return [
            b
            for b in self.bookings.values()
            if b.slot_id == slot_id and b.booking_status in LIVE_BOOKING_STATUSES
        ]


class BookingMachine(RuleBasedStateMachine):
    backend = "memory"

    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.mkdtemp(prefix="store-machine-")
        self.store = STORE_FACTORIES[self.backend](Path(self.dir))
        self.store.admin.migrate()
        self.now = at()
        window, slots = make_window("tutor", at(minutes=30), at(minutes=30 + 30 * SLOTS), 30)
        self.store.slots.create_availability([window], slots)
        self.slot_list = slots
        self.model = Model()
        self.versions: dict[int, tuple] = {}  # slot version -> the slot statuses it was seen with
        self.list_versions: dict[tuple[str, int], tuple] = {}  # (user, list version) -> bookings
        for slot in slots:
            self.model.slots[slot.slot_id] = SlotStatus.AVAILABLE
            self.model.starts[slot.slot_id] = slot.start

    def teardown(self) -> None:
        self.store.admin.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- rules ------------------------------------------------------------------------------
    @rule(
        slot=st.integers(0, SLOTS - 1),
        student=st.sampled_from(STUDENTS),
        key=st.sampled_from(KEYS),
    )
    def request(self, slot: int, student: str, key: str | None) -> None:
        target = self.slot_list[slot]
        booking = make_booking(target, student, self.now)
        note = make_notification("tutor", "booking_requested", self.now)
        model = self.model
        earlier = model.keys.get((student, key)) if key else None
        free = model.slots[target.slot_id] == SlotStatus.AVAILABLE
        expect_ok = earlier is not None or (free and model.starts[target.slot_id] > self.now)
        try:
            stored = self.store.bookings.request_booking(booking, note, self.now, key)
        except SlotUnavailable:
            assert not expect_ok, "an available slot was refused"
            return
        assert expect_ok, "an unavailable slot was booked"
        if earlier is not None:
            assert stored.booking_id == earlier
            return
        assert stored.booking_status == B.PENDING
        model.bookings[stored.booking_id] = stored
        model.slots[target.slot_id] = SlotStatus.PENDING
        if key:
            model.keys[student, key] = stored.booking_id

    def _transition(self, data, allowed, to_status, slot_status, require_not_started):
        booking_id = data.draw(st.sampled_from(sorted(self.model.bookings)))
        booking = self.model.bookings[booking_id]
        expect_ok = booking.booking_status in allowed and (
            not require_not_started or booking.start > self.now
        )
        result = self.store.bookings.transition_booking(
            booking_id,
            frozenset(allowed),
            to_status,
            slot_status,
            self.now,
            None,
            make_notification(booking.student_id),
            require_not_started,
        )
        assert (result is not None) == expect_ok, (booking, to_status, self.now)
        if result is not None:
            assert result.booking_status == to_status
            booking.booking_status = to_status
            self.model.slots[booking.slot_id] = slot_status

    @precondition(lambda self: self.model.bookings)
    @rule(data=st.data())
    def accept(self, data) -> None:
        self._transition(data, {B.PENDING}, B.ACCEPTED, SlotStatus.BOOKED, True)

    @precondition(lambda self: self.model.bookings)
    @rule(data=st.data())
    def reject(self, data) -> None:
        self._transition(data, {B.PENDING}, B.REJECTED, SlotStatus.AVAILABLE, False)

    @precondition(lambda self: self.model.bookings)
    @rule(data=st.data(), by_student=st.booleans())
    def cancel(self, data, by_student: bool) -> None:
        allowed = {B.PENDING, B.ACCEPTED} if by_student else {B.ACCEPTED}
        self._transition(data, allowed, B.CANCELLED, SlotStatus.AVAILABLE, True)

    @rule(minutes=st.integers(1, 45))
    def time_passes(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)

    @rule()
    def expire(self) -> None:
        model, now = self.model, self.now
        due_slots = sorted(
            (model.starts[s], s)
            for s, status in model.slots.items()
            if status == SlotStatus.AVAILABLE and model.starts[s] <= now
        )[:EXPIRY_LIMIT]
        due_pending = sorted(
            (
                b
                for b in model.bookings.values()
                if b.booking_status == B.PENDING and b.start <= now
            ),
            key=lambda b: b.start,
        )[:EXPIRY_LIMIT]
        due_accepted = sorted(
            (b for b in model.bookings.values() if b.booking_status == B.ACCEPTED and b.end <= now),
            key=lambda b: b.end,
        )[:EXPIRY_LIMIT]
        notified: list[str] = []

        def notify(booking: Booking):
            notified.append(booking.booking_id)
            return make_notification(booking.student_id, "booking_expired", now)

        result = self.store.bookings.expire(now, EXPIRY_LIMIT, notify)
        assert (result.slots_expired, result.bookings_expired, result.bookings_completed) == (
            len(due_slots),
            len(due_pending),
            len(due_accepted),
        )
        assert sorted(notified) == sorted(b.booking_id for b in due_pending)
        for _, slot_id in due_slots:
            model.slots[slot_id] = SlotStatus.EXPIRED
        for booking in due_pending:
            booking.booking_status = B.EXPIRED
            model.slots[booking.slot_id] = SlotStatus.EXPIRED
        for booking in due_accepted:
            booking.booking_status = B.COMPLETED

    # -- invariants -------------------------------------------------------------------------
    @invariant()
    def store_is_consistent(self) -> None:
        assert self.store.admin.check_consistency() == []

    @invariant()
    def store_agrees_with_the_model(self) -> None:
        for slot_id, status in self.model.slots.items():
            assert store_peek.get_slot(self.store, slot_id).slot_status == status
            assert len(self.model.live(slot_id)) <= 1
        stored = self.store.bookings.bookings_for_tutor("tutor", None, None, None, 1000, None)
        assert {b.booking_id: b.booking_status for b in stored} == {
            b.booking_id: b.booking_status for b in self.model.bookings.values()
        }
        live_slots = [b.slot_id for b in stored if b.booking_status in LIVE_BOOKING_STATUSES]
        assert len(live_slots) == len(set(live_slots))

    @invariant()
    def one_slot_version_one_state(self) -> None:
        """What cached slot answers rely on: an equal version means equal slots."""
        if self.store.versions is None:
            return  # no versions kept: slot answers are never remembered
        version = self.store.versions.slot_version("tutor")
        state = tuple(sorted(self.model.slots.items()))
        assert self.versions.setdefault(version, state) == state, version

    @invariant()
    def one_list_version_one_state(self) -> None:
        """What cached booking lists rely on: for each user, an equal list version means equal
        bookings of theirs (as tutor or student)."""
        if self.store.versions is None:
            return  # no versions kept: booking lists are never remembered
        for user in ("tutor", *STUDENTS):
            version = self.store.versions.booking_list_version(user)
            theirs = tuple(
                sorted(
                    (b.booking_id, b.booking_status)
                    for b in self.model.bookings.values()
                    if user in (b.tutor_id, b.student_id)
                )
            )
            assert self.list_versions.setdefault((user, version), theirs) == theirs, user


def _machine_test(backend: str):
    machine = type(f"BookingMachine_{backend}", (BookingMachine,), {"backend": backend})
    test_case = machine.TestCase
    test_case.settings = settings(
        # each step is an HTTP round trip to the emulator on DynamoDB: fewer examples there
        max_examples=25 if backend == "dynamodb" else 200,
        stateful_step_count=40,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    return test_case


for _backend in STORE_FACTORIES:
    globals()[f"TestBookingMachine_{_backend}"] = _machine_test(_backend)
