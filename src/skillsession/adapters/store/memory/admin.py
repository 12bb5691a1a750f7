"""The memory store as an operator sees it: nothing to migrate or keep up, the bulk path, and
the consistency scan that feeds the booking invariants of `domain.invariants`."""

from __future__ import annotations

import copy

from skillsession.adapters.store.memory.state import PROFILES, StateRole, atomic
from skillsession.domain.errors import Conflict
from skillsession.domain.invariants import deleted_user_problems, orphan_problem, slot_problems
from skillsession.domain.model import (
    LIVE_BOOKING_STATUSES,
    Availability,
    BookingStatus,
    Profile,
    Slot,
    SlotStatus,
    User,
)


class MemoryAdmin(StateRole):
    backend_name = "memory"

    def migrate(self) -> None:
        pass

    def upkeep_job(self) -> None:
        return None

    def close(self) -> None:
        pass

    @atomic
    def bulk_insert(
        self,
        users: list[User],
        profiles: list[Profile],
        availabilities: list[Availability],
        slots: list[Slot],
    ) -> None:
        state = self.state
        emails = [u.email for u in users] + [u.email for u in state.users.values()]
        if len(set(emails)) != len(emails) or any(u.user_id in state.users for u in users):
            raise Conflict("bulk insert rejected: duplicate user", code="bulk_conflict")
        for table, items, key in (
            (state.users, users, "user_id"),
            (state.profiles, profiles, "user_id"),
            (state.windows, availabilities, "availability_id"),
            (state.slots, slots, "slot_id"),
        ):
            table.update({getattr(item, key): copy.deepcopy(item) for item in items})
        state.bump_slots([*(a.tutor_id for a in availabilities), *(s.tutor_id for s in slots)])
        if profiles:
            state.bump_lists([PROFILES])

    @atomic
    def check_consistency(self) -> list[str]:
        """Every booking whose slot is gone, then every slot with the bookings that name it, then
        what a deleted user left live."""
        problems = []
        by_slot: dict[str, list[tuple[str, BookingStatus]]] = {}
        for b in self.state.bookings.values():
            if b.slot_id in self.state.slots:
                by_slot.setdefault(b.slot_id, []).append((b.booking_id, b.booking_status))
            else:
                problems.append(orphan_problem(b.booking_id))
        for slot in self.state.slots.values():
            problems += slot_problems(slot.slot_id, slot.slot_status, by_slot.get(slot.slot_id, []))
        live = [
            (b.booking_id, b.tutor_id, b.student_id)
            for b in self.state.bookings.values()
            if b.booking_status in LIVE_BOOKING_STATUSES
        ]
        free = [
            (s.slot_id, s.tutor_id)
            for s in self.state.slots.values()
            if s.slot_status == SlotStatus.AVAILABLE
        ]
        return problems + deleted_user_problems(live, free, self.state.deleted_users)
