"""Accounts in memory: users, their verification codes, the rate limits of `/auth/*`."""

from __future__ import annotations

import copy
from datetime import datetime

from skillsession.adapters.store.memory.state import PROFILES, StateRole, atomic
from skillsession.domain.accounts import invalid_code
from skillsession.domain.errors import Conflict, NotFound
from skillsession.domain.model import AccountStatus, Notification, User, VerificationCode


class MemoryAccounts(StateRole):
    @atomic
    def create_user(self, user: User, code: VerificationCode, notification: Notification) -> None:
        if user.user_id in self.state.users or self.state.user_by_email(user.email):
            raise Conflict("email already registered", code="email_taken")
        self.state.users[user.user_id] = copy.deepcopy(user)
        self.state.codes[user.user_id] = copy.deepcopy(code)
        self.state.notify(notification)

    @atomic
    def get_user(self, user_id: str) -> User | None:
        return self.state.users.get(user_id)

    @atomic
    def get_user_by_email(self, email: str) -> User | None:
        return self.state.user_by_email(email)

    @atomic
    def replace_unconfirmed_user(
        self, user: User, code: VerificationCode, notification: Notification
    ) -> None:
        found = self.state.users.get(user.user_id)
        if found is None or found.email != user.email or found.status != AccountStatus.UNCONFIRMED:
            raise Conflict("email already registered", code="email_taken")
        found.password_hash = user.password_hash
        found.created_at = user.created_at
        self.state.codes[user.user_id] = copy.deepcopy(code)
        self.state.notify(notification)

    @atomic
    def set_password(
        self,
        user_id: str,
        password_hash: str,
        tokens_valid_after: datetime,
        code_hash: str | None = None,
    ) -> None:
        found = self.state.users.get(user_id)
        if found is None:
            raise NotFound("no such account", code="user_not_found")
        stored = self.state.codes.get(user_id)
        if code_hash is not None and (stored is None or stored.code_hash != code_hash):
            raise invalid_code()
        found.password_hash = password_hash
        found.status = AccountStatus.CONFIRMED
        found.tokens_valid_after = tokens_valid_after
        self.state.codes.pop(user_id, None)

    @atomic
    def delete_unconfirmed_users(self, created_before: datetime, limit: int) -> int:
        # a scan: the memory store is for tests and demos (the others use an index)
        due = [
            u.user_id
            for u in self.state.users.values()
            if u.status == AccountStatus.UNCONFIRMED and u.created_at < created_before
        ][:limit]
        for user_id in due:
            del self.state.users[user_id]
            self.state.codes.pop(user_id, None)
        return len(due)

    @atomic
    def get_user_and_code_by_email(self, email: str) -> tuple[User | None, VerificationCode | None]:
        user = self.state.user_by_email(email)
        return user, self.state.codes.get(user.user_id) if user else None

    @atomic
    def replace_verification_code(self, code: VerificationCode, notification: Notification) -> None:
        self.state.codes[code.user_id] = copy.deepcopy(code)
        self.state.notify(notification)

    @atomic
    def record_code_failure(self, user_id: str) -> int:
        code = self.state.codes.get(user_id)
        if code is None:
            return 0
        code.failed_attempts += 1
        return code.failed_attempts

    @atomic
    def confirm_user(self, user_id: str) -> None:
        if user_id in self.state.users:
            self.state.users[user_id].status = AccountStatus.CONFIRMED
        self.state.codes.pop(user_id, None)

    @atomic
    def delete_account(self, user_id: str) -> None:
        state = self.state
        had_profile = state.profiles.pop(user_id, None) is not None
        state.subscriptions.pop(user_id, None)
        state.codes.pop(user_id, None)
        state.users.pop(user_id, None)
        state.deleted_users.add(user_id)
        if had_profile:  # lists and search showed the profile
            state.bump_lists([PROFILES, user_id])
