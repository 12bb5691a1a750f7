"""Profiles in memory, and tutor search over them (by skill key, optionally with a free slot)."""

from __future__ import annotations

import copy
from datetime import datetime

from skillsession.adapters.store.memory.state import PROFILES, StateRole, atomic
from skillsession.domain.errors import NotFound
from skillsession.domain.model import Profile, SlotStatus
from skillsession.domain.skills import skill_key


class MemoryProfiles(StateRole):
    @atomic
    def get_profile(self, user_id: str) -> Profile | None:
        return self.state.profiles.get(user_id)

    @atomic
    def get_profile_by_email(self, email: str) -> Profile | None:
        return next((p for p in self.state.profiles.values() if p.email == email), None)

    @atomic
    def get_profiles(self, user_ids: list[str]) -> dict[str, Profile]:
        return {i: self.state.profiles[i] for i in user_ids if i in self.state.profiles}

    @atomic
    def save_profile(self, profile: Profile) -> None:
        """An existing profile keeps its `created_at` and `image_key` (as on every backend)."""
        stored = copy.deepcopy(profile)
        existing = self.state.profiles.get(profile.user_id)
        if existing is not None:
            stored.created_at, stored.image_key = existing.created_at, existing.image_key
        self.state.profiles[profile.user_id] = stored
        self.state.bump_lists([PROFILES])

    @atomic
    def set_profile_image(self, user_id: str, image_key: str | None) -> str | None:
        profile = self.state.profiles.get(user_id)
        if profile is None:
            raise NotFound("no such profile", code="profile_not_found")
        previous, profile.image_key = profile.image_key, image_key
        self.state.bump_lists([PROFILES])
        return previous

    @atomic
    def search_tutors(
        self,
        skill_keys: list[str],
        available_between: tuple[datetime, datetime] | None,
        limit: int,
        after_user_id: str | None,
    ) -> list[Profile]:
        wanted = {skill_key(k) for k in skill_keys}
        if not wanted:
            return []
        found = []
        for user_id in sorted(self.state.profiles):
            profile = self.state.profiles[user_id]
            if len(found) >= limit:
                break
            if after_user_id is not None and user_id <= after_user_id:
                continue
            if not wanted <= _skill_keys(profile):
                continue
            if available_between and not self._has_available_slot(user_id, *available_between):
                continue
            found.append(profile)
        return found

    def _has_available_slot(self, tutor_id: str, start: datetime, before: datetime) -> bool:
        return any(
            s.tutor_id == tutor_id and s.slot_status == SlotStatus.AVAILABLE
            for s in self.state.slots.values()
            if start <= s.start < before
        )


def _skill_keys(profile: Profile) -> set[str]:
    return {skill_key(s) for s in profile.teaching_skills or []} - {""}
