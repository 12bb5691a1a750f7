"""Answer versions in memory: counters that the writing roles raise with `state.bump_slots` and
`state.bump_lists` inside the same atomic method as their write."""

from __future__ import annotations

from skillsession.adapters.store.memory.state import PROFILES, StateRole, atomic


class MemoryVersions(StateRole):
    @atomic
    def profiles_version(self) -> int:
        return self.state.list_versions.get(PROFILES, 0)

    @atomic
    def slot_version(self, tutor_id: str) -> int:
        return self.state.slot_versions.get(tutor_id, 0)

    @atomic
    def slot_answer_versions(self, tutor_id: str) -> tuple[int, int]:
        state = self.state
        return state.list_versions.get(PROFILES, 0), state.slot_versions.get(tutor_id, 0)

    @atomic
    def booking_list_version(self, user_id: str) -> int:
        """The later of the user's own version and the profiles' one: both come from one
        counter that every bump raises, so any bump of either makes this a number it never was."""
        versions = self.state.list_versions
        return max(versions.get(user_id, 0), versions.get(PROFILES, 0))
