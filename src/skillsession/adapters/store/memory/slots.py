"""Tutors' availability windows in memory, and the slots cut from them."""

from __future__ import annotations

import copy
from datetime import datetime

from skillsession.adapters.store.memory.state import StateRole, atomic
from skillsession.domain.errors import Conflict, NotFound
from skillsession.domain.model import Availability, Profile, Slot, SlotStatus


class MemorySlots(StateRole):
    @atomic
    def get_profile_for_availability(self, user_id: str) -> Profile | None:
        return self.state.profiles.get(user_id)

    @atomic
    def create_availability(self, windows: list[Availability], slots: list[Slot]) -> None:
        accepted: list[Availability] = []
        for window in windows:
            for other in [*self.state.windows.values(), *accepted]:
                overlaps = other.start < window.end and other.end > window.start
                if other.tutor_id == window.tutor_id and overlaps:
                    raise Conflict(
                        "the window overlaps one of your existing windows",
                        code="availability_overlap",
                        details={"availability_id": other.availability_id},
                    )
            accepted.append(window)
        for window in windows:
            self.state.windows[window.availability_id] = copy.deepcopy(window)
        for slot in slots:
            self.state.slots[slot.slot_id] = copy.deepcopy(slot)
        self.state.bump_slots([*(w.tutor_id for w in windows), *(s.tutor_id for s in slots)])

    @atomic
    def get_availability(self, availability_id: str) -> Availability | None:
        return self.state.windows.get(availability_id)

    @atomic
    def delete_availability(self, availability_id: str) -> None:
        """Free slots go; slots with booking history stay, `expired` (as on every backend)."""
        if availability_id not in self.state.windows:
            raise NotFound("no such availability", code="availability_not_found")
        mine = [s for s in self.state.slots.values() if s.availability_id == availability_id]
        if any(s.slot_status in (SlotStatus.PENDING, SlotStatus.BOOKED) for s in mine):
            raise Conflict("a slot of this window is pending or booked", code="availability_in_use")
        with_history = {b.slot_id for b in self.state.bookings.values()}
        for slot in mine:
            if slot.slot_id in with_history:
                slot.slot_status = SlotStatus.EXPIRED
            else:
                del self.state.slots[slot.slot_id]
        self.state.bump_slots([self.state.windows.pop(availability_id).tutor_id])

    @atomic
    def delete_tutor_availability(self, tutor_id: str) -> None:
        state = self.state
        with_history = {b.slot_id for b in state.bookings.values() if b.tutor_id == tutor_id}
        for slot in [s for s in state.slots.values() if s.tutor_id == tutor_id]:
            if slot.slot_id not in with_history:
                del state.slots[slot.slot_id]
            elif slot.slot_status == SlotStatus.AVAILABLE:
                slot.slot_status = SlotStatus.EXPIRED
        for window in [w for w in state.windows.values() if w.tutor_id == tutor_id]:
            del state.windows[window.availability_id]
        state.bump_slots([tutor_id])

    @atomic
    def slots_for_tutor(
        self,
        tutor_id: str,
        start_from: datetime,
        start_before: datetime,
        status: SlotStatus | None,
        limit: int | None = None,
    ) -> list[Slot]:
        found = [
            s
            for s in self.state.slots.values()
            if s.tutor_id == tutor_id
            and start_from <= s.start < start_before
            and (status is None or s.slot_status == status)
        ]
        return sorted(found, key=lambda s: (s.start, s.slot_id))[:limit]
