"""The in-memory store's data: plain dicts behind one lock, shared by every role.

A role method that reads or writes the data is `@atomic`: it holds the lock for its whole run
and hands back a deep copy of what it returns, so every method is one atomic unit and callers
never share objects with the store. What a role stores it copies on the way in. Each method
checks everything before it changes anything, so an error leaves no partial write.

The helpers below (`notify`, `bump_slots`, `bump_lists`) are what several roles do inside
their atomic methods: queue a notification, and raise the answer versions of what they wrote
(read by `versions.MemoryVersions`)."""

from __future__ import annotations

import copy
import functools
import threading
from datetime import UTC, datetime

from skillsession.domain.model import (
    Availability,
    Booking,
    Notification,
    Profile,
    Slot,
    Subscription,
    User,
    VerificationCode,
)

PROFILES = ""  # the list-version owner that stands for every profile (no user id is empty)


class MemoryState:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.users: dict[str, User] = {}
        self.codes: dict[str, VerificationCode] = {}  # user_id -> the user's one code
        self.rate_limits: dict[str, tuple[int, ...]] = {}  # key -> admitted attempts (unix s)
        self.profiles: dict[str, Profile] = {}
        self.windows: dict[str, Availability] = {}
        self.slots: dict[str, Slot] = {}
        self.bookings: dict[str, Booking] = {}
        self.idempotency: dict[tuple[str, str], str] = {}  # (student_id, key) -> booking_id
        self.notifications: dict[str, Notification] = {}
        self.subscriptions: dict[str, Subscription] = {}  # user_id -> the user's subscription
        self.deleted_users: set[str] = set()  # ids of deleted accounts (nothing else of them)
        # user_id -> tokens issued before are refused (accounts an identity provider keeps)
        self.token_floors: dict[str, datetime] = {}
        self.slot_versions: dict[str, int] = {}  # tutor_id -> bumped with each slot write
        # booking list versions: user_id (or PROFILES, for every profile) -> a value of the
        # counter, which goes up with each write that bumps any of them (see booking_list_version)
        self.list_versions: dict[str, int] = {}
        self.list_version_counter = 0

    def user_by_email(self, email: str) -> User | None:
        return next((u for u in self.users.values() if u.email == email), None)

    def notify(self, notification: Notification) -> None:
        """Queue a copy of the notification in the outbox, due when it was created."""
        stored = copy.deepcopy(notification)
        stored.created_at = stored.created_at or datetime.now(UTC)
        stored.next_attempt_at = stored.next_attempt_at or stored.created_at
        self.notifications[stored.notification_id] = stored

    def bump_slots(self, tutor_ids) -> None:
        """A new slot version for each tutor whose slots the calling method writes."""
        for tutor_id in set(tutor_ids):
            self.slot_versions[tutor_id] = self.slot_versions.get(tutor_id, 0) + 1

    def bump_lists(self, owners) -> None:
        """A new list version for each owner (user ids, or PROFILES) the calling method writes."""
        self.list_version_counter += 1
        for owner in owners:
            self.list_versions[owner] = self.list_version_counter


class StateRole:
    """A role of the memory store: a view of the one shared `MemoryState`."""

    def __init__(self, state: MemoryState) -> None:
        self.state = state


def atomic(method):
    """Run a role method under the state's lock and return a deep copy of its answer."""

    @functools.wraps(method)
    def locked(self: StateRole, *args, **kwargs):
        with self.state.lock:
            return copy.deepcopy(method(self, *args, **kwargs))

    return locked
