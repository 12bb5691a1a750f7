"""Token floors in memory: of accounts an identity provider keeps (`TokenFloorStore`)."""

from __future__ import annotations

from datetime import datetime

from skillsession.adapters.store.memory.state import StateRole, atomic


class MemoryRevocations(StateRole):
    @atomic
    def revoke_tokens(self, user_id: str, valid_after: datetime) -> None:
        floors = self.state.token_floors
        if user_id not in floors or floors[user_id] < valid_after:
            floors[user_id] = valid_after

    @atomic
    def token_floor(self, user_id: str) -> tuple[bool, datetime | None]:
        if user_id in self.state.deleted_users:
            return False, None
        return True, self.state.token_floors.get(user_id)
