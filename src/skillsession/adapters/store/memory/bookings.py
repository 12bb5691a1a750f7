"""Bookings in memory: the state changes that move a slot and a booking together (request,
transition, expire), each with its notification, and the booking lists."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from skillsession.adapters.store.memory.state import StateRole, atomic
from skillsession.domain.bookings import PendingLimits, check_pending
from skillsession.domain.errors import NotFound, SlotUnavailable
from skillsession.domain.invariants import bookable
from skillsession.domain.model import (
    Booking,
    BookingStatus,
    ExpiryResult,
    Notification,
    Profile,
    Slot,
    SlotStatus,
)


class MemoryBookings(StateRole):
    @atomic
    def get_profile_and_slot(
        self, user_id: str, slot_id: str
    ) -> tuple[Profile | None, Slot | None]:
        return self.state.profiles.get(user_id), self.state.slots.get(slot_id)

    @atomic
    def request_booking(
        self,
        booking: Booking,
        notification: Notification,
        now: datetime,
        idempotency_key: str | None = None,
        limits: PendingLimits | None = None,
    ) -> Booking:
        state = self.state
        if idempotency_key is not None:
            earlier = state.idempotency.get((booking.student_id, idempotency_key))
            if earlier is not None:
                return state.bookings[earlier]
        slot = state.slots.get(booking.slot_id)
        if slot is None:
            raise NotFound("slot not found", code="slot_not_found")
        if not bookable(slot.slot_status, slot.start, now):
            raise SlotUnavailable(
                "slot is not available", details={"slot_status": slot.slot_status.value}
            )
        pending = [
            b
            for b in state.bookings.values()
            if b.student_id == booking.student_id and b.booking_status == BookingStatus.PENDING
        ]
        with_tutor = sum(b.tutor_id == slot.tutor_id for b in pending)
        check_pending(limits, with_tutor, len(pending))
        slot.slot_status = SlotStatus.PENDING
        state.bump_slots([slot.tutor_id])
        stored = replace(
            copy.deepcopy(booking),
            tutor_id=slot.tutor_id,
            start=slot.start,
            end=slot.end,
            booking_status=BookingStatus.PENDING,
        )
        state.bookings[stored.booking_id] = stored
        state.bump_lists([stored.tutor_id, stored.student_id])
        state.notify(notification)
        if idempotency_key is not None:
            state.idempotency[stored.student_id, idempotency_key] = stored.booking_id
        return stored

    @atomic
    def transition_booking(
        self,
        booking_id: str,
        from_statuses: frozenset[BookingStatus],
        to_status: BookingStatus,
        slot_status: SlotStatus,
        now: datetime,
        reason: str | None,
        notification: Notification | None,
        require_not_started: bool,
    ) -> Booking | None:
        state = self.state
        booking = state.bookings.get(booking_id)
        if booking is None or booking.booking_status not in from_statuses:
            return None
        if require_not_started and booking.start <= now:
            return None
        booking.booking_status, booking.updated_at = to_status, now
        if reason is not None:
            booking.reason = reason
        slot = state.slots.get(booking.slot_id)
        if slot is not None:
            slot.slot_status = slot_status
            state.bump_slots([slot.tutor_id])
        state.bump_lists([booking.tutor_id, booking.student_id])
        if notification is not None:
            state.notify(notification)
        return booking

    @atomic
    def get_booking(self, booking_id: str) -> Booking | None:
        return self.state.bookings.get(booking_id)

    @atomic
    def has_accepted_booking(self, tutor_id: str, student_id: str) -> bool:
        return any(
            b.tutor_id == tutor_id
            and b.student_id == student_id
            and b.booking_status == BookingStatus.ACCEPTED
            for b in self.state.bookings.values()
        )

    @atomic
    def bookings_for_tutor(
        self,
        tutor_id: str,
        status: BookingStatus | None,
        start_from: datetime | None,
        start_before: datetime | None,
        limit: int,
        after: tuple[datetime, str] | None,
    ) -> list[Booking]:
        return self._page("tutor_id", tutor_id, status, start_from, start_before, limit, after)

    @atomic
    def bookings_for_student(
        self,
        student_id: str,
        status: BookingStatus | None,
        start_from: datetime | None,
        start_before: datetime | None,
        limit: int,
        after: tuple[datetime, str] | None,
    ) -> list[Booking]:
        return self._page("student_id", student_id, status, start_from, start_before, limit, after)

    def _page(self, party: str, party_id, status, start_from, start_before, limit, after):
        """One page of a party's bookings, ordered by (start, booking_id)."""
        found = sorted(
            (
                b
                for b in self.state.bookings.values()
                if getattr(b, party) == party_id
                and (status is None or b.booking_status == status)
                and (start_from is None or b.start >= start_from)
                and (start_before is None or b.start < start_before)
                and (after is None or (b.start, b.booking_id) > after)
            ),
            key=lambda b: (b.start, b.booking_id),
        )
        return found[:limit]

    @atomic
    def expire(
        self, now: datetime, limit: int, notify_expired: Callable[[Booking], Notification]
    ) -> ExpiryResult:
        state = self.state
        result = ExpiryResult()
        due_slots = [
            s
            for s in state.slots.values()
            if s.slot_status == SlotStatus.AVAILABLE and s.start <= now
        ]
        for slot in sorted(due_slots, key=lambda s: s.start)[:limit]:
            slot.slot_status = SlotStatus.EXPIRED
            state.bump_slots([slot.tutor_id])
            result.slots_expired += 1
        for booking in self._due(BookingStatus.PENDING, lambda b: b.start, now, limit):
            booking.booking_status, booking.updated_at = BookingStatus.EXPIRED, now
            state.slots[booking.slot_id].slot_status = SlotStatus.EXPIRED
            state.bump_slots([booking.tutor_id])
            state.bump_lists([booking.tutor_id, booking.student_id])
            state.notify(notify_expired(copy.deepcopy(booking)))
            result.bookings_expired += 1
        for booking in self._due(BookingStatus.ACCEPTED, lambda b: b.end, now, limit):
            booking.booking_status, booking.updated_at = BookingStatus.COMPLETED, now
            state.bump_lists([booking.tutor_id, booking.student_id])
            result.bookings_completed += 1
        return result

    def _due(self, status: BookingStatus, when, now: datetime, limit: int) -> list[Booking]:
        """The first `limit` bookings in `status` whose `when(booking)` is at or before `now`."""
        due = [
            b for b in self.state.bookings.values() if b.booking_status == status and when(b) <= now
        ]
        return sorted(due, key=when)[:limit]
