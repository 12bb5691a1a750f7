"""The Store port in memory: the readable reference implementation, and the fake for tests.

Plain dicts behind one re-entrant lock held for each whole method, so every method is atomic.
Entities are copied on the way in and out: callers never share objects with the store. Each
method checks everything before it changes anything, so an error leaves no partial write."""

from __future__ import annotations

import copy
import functools
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from skillsession.domain.bookings import PendingLimits, check_pending
from skillsession.domain.errors import Conflict, NotFound, SlotUnavailable
from skillsession.domain.model import (
    LIVE_BOOKING_STATUSES,
    AccountStatus,
    Availability,
    Booking,
    BookingStatus,
    DeliveryOutcome,
    ExpiryResult,
    Notification,
    OutboxSummary,
    Profile,
    Slot,
    SlotStatus,
    Subscription,
    SubscriptionStatus,
    User,
    VerificationCode,
)
from skillsession.domain.rate_limits import Admission, admit
from skillsession.domain.skills import skill_key
from skillsession.ports.storage import Stores


def _atomic(method):
    @functools.wraps(method)
    def locked(self, *args, **kwargs):
        with self._lock:
            return copy.deepcopy(method(self, *args, **kwargs))

    return locked


PROFILES = ""  # the list-version owner that stands for every profile (no user id is empty)


def _skill_keys(profile: Profile) -> set[str]:
    return {skill_key(s) for s in profile.teaching_skills or []} - {""}


class MemoryStore:
    backend_name = "memory"

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.users: dict[str, User] = {}
        self.codes: dict[str, VerificationCode] = {}
        self.rate_limits: dict[str, tuple[int, ...]] = {}  # key -> admitted attempts (unix s)
        self.profiles: dict[str, Profile] = {}
        self.windows: dict[str, Availability] = {}
        self.slots: dict[str, Slot] = {}
        self.bookings: dict[str, Booking] = {}
        self.idempotency: dict[tuple[str, str], str] = {}  # (student_id, key) -> booking_id
        self.notifications: dict[str, Notification] = {}
        self.subscriptions: dict[str, Subscription] = {}
        self.slot_versions: dict[str, int] = {}  # tutor_id -> bumped with each slot write
        # booking list versions: user_id (or PROFILES, for every profile) -> a value of the
        # counter, which goes up with each write that bumps any of them (see booking_list_version)
        self.list_versions: dict[str, int] = {}
        self.list_version_counter = 0

    def migrate(self) -> None:
        pass

    def upkeep_job(self) -> None:
        return None

    def roles(self) -> Stores:
        """This store in every role (until each role is a module of its own)."""
        return Stores(self, self, self, self, self, self, versions=self)

    def close(self) -> None:
        pass

    # -- accounts ---------------------------------------------------------------------------
    @_atomic
    def create_user(self, user: User, code: VerificationCode, notification: Notification) -> None:
        if user.user_id in self.users or self.get_user_by_email(user.email):
            raise Conflict("email already registered", code="email_taken")
        self.users[user.user_id] = copy.deepcopy(user)
        self.codes[user.user_id] = copy.deepcopy(code)
        self._notify(notification)

    @_atomic
    def get_user(self, user_id: str) -> User | None:
        return self.users.get(user_id)

    @_atomic
    def get_user_by_email(self, email: str) -> User | None:
        return next((u for u in self.users.values() if u.email == email), None)

    @_atomic
    def replace_verification_code(self, code: VerificationCode, notification: Notification) -> None:
        self.codes[code.user_id] = copy.deepcopy(code)
        self._notify(notification)

    @_atomic
    def get_verification_code(self, user_id: str) -> VerificationCode | None:
        return self.codes.get(user_id)

    @_atomic
    def get_user_and_code_by_email(self, email: str) -> tuple[User | None, VerificationCode | None]:
        user = self.get_user_by_email(email)
        return user, self.codes.get(user.user_id) if user else None

    @_atomic
    def record_code_failure(self, user_id: str) -> int:
        code = self.codes.get(user_id)
        if code is None:
            return 0
        code.failed_attempts += 1
        return code.failed_attempts

    @_atomic
    def confirm_user(self, user_id: str) -> None:
        if user_id in self.users:
            self.users[user_id].status = AccountStatus.CONFIRMED
        self.codes.pop(user_id, None)

    @_atomic
    def hit_rate_limit(self, key: str, now: datetime, window_seconds: int, limit: int) -> Admission:
        admission = admit(
            self.rate_limits.get(key, ()), int(now.timestamp()), window_seconds, limit
        )
        self.rate_limits[key] = admission.hits
        return admission

    @_atomic
    def clear_rate_limit(self, key: str) -> None:
        self.rate_limits.pop(key, None)

    # -- profiles ---------------------------------------------------------------------------
    @_atomic
    def get_profile(self, user_id: str) -> Profile | None:
        return self.profiles.get(user_id)

    def get_profile_for_availability(self, user_id: str) -> Profile | None:
        return self.get_profile(user_id)

    @_atomic
    def get_profile_and_slot(
        self, user_id: str, slot_id: str
    ) -> tuple[Profile | None, Slot | None]:
        return self.profiles.get(user_id), self.slots.get(slot_id)

    @_atomic
    def get_profile_by_email(self, email: str) -> Profile | None:
        return next((p for p in self.profiles.values() if p.email == email), None)

    @_atomic
    def get_profiles(self, user_ids: list[str]) -> dict[str, Profile]:
        return {i: self.profiles[i] for i in user_ids if i in self.profiles}

    @_atomic
    def save_profile(self, profile: Profile) -> None:
        """An existing profile keeps its `created_at` and `image_key` (see SqliteStore)."""
        stored = copy.deepcopy(profile)
        existing = self.profiles.get(profile.user_id)
        if existing is not None:
            stored.created_at, stored.image_key = existing.created_at, existing.image_key
        self.profiles[profile.user_id] = stored
        self._bump_lists([PROFILES])

    @_atomic
    def set_profile_image(self, user_id: str, image_key: str | None) -> str | None:
        profile = self.profiles.get(user_id)
        if profile is None:
            raise NotFound("no such profile", code="profile_not_found")
        previous, profile.image_key = profile.image_key, image_key
        self._bump_lists([PROFILES])
        return previous

    @_atomic
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
        for user_id in sorted(self.profiles):
            profile = self.profiles[user_id]
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
            for s in self.slots.values()
            if start <= s.start < before
        )

    # -- availability and slots ------------------------------------------------------------
    @_atomic
    def create_availability(self, windows: list[Availability], slots: list[Slot]) -> None:
        accepted: list[Availability] = []
        for window in windows:
            for other in [*self.windows.values(), *accepted]:
                overlaps = other.start < window.end and other.end > window.start
                if other.tutor_id == window.tutor_id and overlaps:
                    raise Conflict(
                        "the window overlaps one of your existing windows",
                        code="availability_overlap",
                        details={"availability_id": other.availability_id},
                    )
            accepted.append(window)
        for window in windows:
            self.windows[window.availability_id] = copy.deepcopy(window)
        for slot in slots:
            self.slots[slot.slot_id] = copy.deepcopy(slot)
        self._bump([*(w.tutor_id for w in windows), *(s.tutor_id for s in slots)])

    @_atomic
    def get_availability(self, availability_id: str) -> Availability | None:
        return self.windows.get(availability_id)

    @_atomic
    def delete_availability(self, availability_id: str) -> None:
        """Free slots go; slots with booking history stay, `expired` (see SqliteStore)."""
        if availability_id not in self.windows:
            raise NotFound("no such availability", code="availability_not_found")
        mine = [s for s in self.slots.values() if s.availability_id == availability_id]
        if any(s.slot_status in (SlotStatus.PENDING, SlotStatus.BOOKED) for s in mine):
            raise Conflict("a slot of this window is pending or booked", code="availability_in_use")
        with_history = {b.slot_id for b in self.bookings.values()}
        for slot in mine:
            if slot.slot_id in with_history:
                slot.slot_status = SlotStatus.EXPIRED
            else:
                del self.slots[slot.slot_id]
        self._bump([self.windows.pop(availability_id).tutor_id])

    @_atomic
    def get_slot(self, slot_id: str) -> Slot | None:
        return self.slots.get(slot_id)

    @_atomic
    def slot_version(self, tutor_id: str) -> int | None:
        return self.slot_versions.get(tutor_id, 0)

    @_atomic
    def slot_answer_versions(self, tutor_id: str) -> tuple[int | None, int | None]:
        return self.list_versions.get(PROFILES, 0), self.slot_versions.get(tutor_id, 0)

    def _bump(self, tutor_ids) -> None:
        """A new slot version for each tutor (called inside the method that writes the slots)."""
        for tutor_id in set(tutor_ids):
            self.slot_versions[tutor_id] = self.slot_versions.get(tutor_id, 0) + 1

    @_atomic
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
            for s in self.slots.values()
            if s.tutor_id == tutor_id
            and start_from <= s.start < start_before
            and (status is None or s.slot_status == status)
        ]
        return sorted(found, key=lambda s: (s.start, s.slot_id))[:limit]

    # -- bookings ---------------------------------------------------------------------------
    @_atomic
    def booking_list_version(self, user_id: str) -> int | None:
        """The later of the user's own version and the profiles' one: both come from one
        counter that every bump raises, so any bump of either makes this a number it never was."""
        return max(self.list_versions.get(user_id, 0), self.list_versions.get(PROFILES, 0))

    @_atomic
    def profiles_version(self) -> int | None:
        return self.list_versions.get(PROFILES, 0)

    def _bump_lists(self, owners) -> None:
        """A new list version for each owner (user ids, or PROFILES), inside the writing method."""
        self.list_version_counter += 1
        for owner in owners:
            self.list_versions[owner] = self.list_version_counter

    @_atomic
    def request_booking(
        self,
        booking: Booking,
        notification: Notification,
        now: datetime,
        idempotency_key: str | None = None,
        limits: PendingLimits | None = None,
    ) -> Booking:
        if idempotency_key is not None:
            earlier = self.idempotency.get((booking.student_id, idempotency_key))
            if earlier is not None:
                return self.bookings[earlier]
        slot = self.slots.get(booking.slot_id)
        if slot is None:
            raise NotFound("slot not found", code="slot_not_found")
        if slot.slot_status != SlotStatus.AVAILABLE or slot.start <= now:
            raise SlotUnavailable(
                "slot is not available", details={"slot_status": slot.slot_status.value}
            )
        pending = [
            b
            for b in self.bookings.values()
            if b.student_id == booking.student_id and b.booking_status == BookingStatus.PENDING
        ]
        with_tutor = sum(b.tutor_id == slot.tutor_id for b in pending)
        check_pending(limits, with_tutor, len(pending))
        slot.slot_status = SlotStatus.PENDING
        self._bump([slot.tutor_id])
        stored = replace(
            copy.deepcopy(booking),
            tutor_id=slot.tutor_id,
            start=slot.start,
            end=slot.end,
            booking_status=BookingStatus.PENDING,
        )
        self.bookings[stored.booking_id] = stored
        self._bump_lists([stored.tutor_id, stored.student_id])
        self._notify(notification)
        if idempotency_key is not None:
            self.idempotency[stored.student_id, idempotency_key] = stored.booking_id
        return stored

    @_atomic
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
        booking = self.bookings.get(booking_id)
        if booking is None or booking.booking_status not in from_statuses:
            return None
        if require_not_started and booking.start <= now:
            return None
        booking.booking_status, booking.updated_at = to_status, now
        if reason is not None:
            booking.reason = reason
        if booking.slot_id in self.slots:
            slot = self.slots[booking.slot_id]
            slot.slot_status = slot_status
            self._bump([slot.tutor_id])
        self._bump_lists([booking.tutor_id, booking.student_id])
        if notification is not None:
            self._notify(notification)
        return booking

    @_atomic
    def get_booking(self, booking_id: str) -> Booking | None:
        return self.bookings.get(booking_id)

    @_atomic
    def has_accepted_booking(self, tutor_id: str, student_id: str) -> bool:
        return any(
            b.tutor_id == tutor_id
            and b.student_id == student_id
            and b.booking_status == BookingStatus.ACCEPTED
            for b in self.bookings.values()
        )

    def _bookings(self, party: str, party_id, status, start_from, start_before, limit, after):
        found = sorted(
            (
                b
                for b in self.bookings.values()
                if getattr(b, party) == party_id
                and (status is None or b.booking_status == status)
                and (start_from is None or b.start >= start_from)
                and (start_before is None or b.start < start_before)
                and (after is None or (b.start, b.booking_id) > after)
            ),
            key=lambda b: (b.start, b.booking_id),
        )
        return found[:limit]

    @_atomic
    def bookings_for_tutor(
        self,
        tutor_id: str,
        status: BookingStatus | None,
        start_from: datetime | None,
        start_before: datetime | None,
        limit: int,
        after: tuple[datetime, str] | None,
    ) -> list[Booking]:
        return self._bookings("tutor_id", tutor_id, status, start_from, start_before, limit, after)

    @_atomic
    def bookings_for_student(
        self,
        student_id: str,
        status: BookingStatus | None,
        start_from: datetime | None,
        start_before: datetime | None,
        limit: int,
        after: tuple[datetime, str] | None,
    ) -> list[Booking]:
        return self._bookings(
            "student_id", student_id, status, start_from, start_before, limit, after
        )

    @_atomic
    def expire(
        self, now: datetime, limit: int, notify_expired: Callable[[Booking], Notification]
    ) -> ExpiryResult:
        result = ExpiryResult()
        due_slots = [
            s
            for s in self.slots.values()
            if s.slot_status == SlotStatus.AVAILABLE and s.start <= now
        ]
        for slot in sorted(due_slots, key=lambda s: s.start)[:limit]:
            slot.slot_status = SlotStatus.EXPIRED
            self._bump([slot.tutor_id])
            result.slots_expired += 1
        for booking in self._due(BookingStatus.PENDING, lambda b: b.start, now, limit):
            booking.booking_status, booking.updated_at = BookingStatus.EXPIRED, now
            self.slots[booking.slot_id].slot_status = SlotStatus.EXPIRED
            self._bump([booking.tutor_id])
            self._bump_lists([booking.tutor_id, booking.student_id])
            self._notify(notify_expired(copy.deepcopy(booking)))
            result.bookings_expired += 1
        for booking in self._due(BookingStatus.ACCEPTED, lambda b: b.end, now, limit):
            booking.booking_status, booking.updated_at = BookingStatus.COMPLETED, now
            self._bump_lists([booking.tutor_id, booking.student_id])
            result.bookings_completed += 1
        return result

    def _due(self, status: BookingStatus, when, now: datetime, limit: int) -> list[Booking]:
        due = [b for b in self.bookings.values() if b.booking_status == status and when(b) <= now]
        return sorted(due, key=when)[:limit]

    # -- notifications (outbox) and subscriptions ------------------------------------------
    def _notify(self, notification: Notification) -> None:
        stored = copy.deepcopy(notification)
        stored.created_at = stored.created_at or datetime.now(UTC)
        stored.next_attempt_at = stored.next_attempt_at or stored.created_at
        self.notifications[stored.notification_id] = stored

    @_atomic
    def add_notifications(self, notifications: list[Notification]) -> None:
        for notification in notifications:
            self._notify(notification)

    @_atomic
    def claim_notifications(
        self, now: datetime, limit: int, lease_seconds: int
    ) -> list[Notification]:
        due = [
            n
            for n in self.notifications.values()
            if n.status == "pending" and n.next_attempt_at is not None and n.next_attempt_at <= now
        ]
        claimed = sorted(due, key=lambda n: n.next_attempt_at)[:limit]
        for notification in claimed:
            notification.next_attempt_at = now + timedelta(seconds=lease_seconds)
            notification.attempts += 1
        return claimed

    @_atomic
    def finish_notifications(self, outcomes: list[DeliveryOutcome]) -> None:
        for outcome in outcomes:
            notification = self.notifications.get(outcome.notification_id)
            if notification is None:
                continue
            notification.status = outcome.status
            notification.next_attempt_at = outcome.next_attempt_at
            notification.last_error = outcome.error
            if notification.kind == "verification_code" and outcome.status != "pending":
                notification.payload = {}  # the code is not kept once it will not be sent

    @_atomic
    def get_notification(self, notification_id: str) -> Notification | None:
        return self.notifications.get(notification_id)

    @_atomic
    def outbox_summary(self, now: datetime, recent_failures: int) -> OutboxSummary:
        summary = OutboxSummary()
        failed = []
        for n in self.notifications.values():
            if n.status == "failed":
                failed.append(n)
            elif n.status == "pending" and n.next_attempt_at is not None:
                if n.next_attempt_at <= now:
                    summary.due += 1
                else:
                    summary.waiting += 1
        summary.failed = len(failed)
        failed.sort(key=lambda n: n.notification_id, reverse=True)
        summary.recent_failures = [copy.deepcopy(n) for n in failed[:recent_failures]]
        return summary

    @_atomic
    def outbox_backlog(self, limit: int) -> tuple[int, datetime | None]:
        waiting = [n for n in self.notifications.values() if n.status == "pending"][:limit]
        return len(waiting), min((n.created_at for n in waiting if n.created_at), default=None)

    @_atomic
    def get_subscription(self, user_id: str) -> Subscription | None:
        return self.subscriptions.get(user_id)

    @_atomic
    def get_subscription_by_token(self, token: str) -> Subscription | None:
        return next((s for s in self.subscriptions.values() if s.token == token), None)

    @_atomic
    def save_subscription(
        self, subscription: Subscription, notification: Notification | None
    ) -> None:
        self.subscriptions[subscription.user_id] = copy.deepcopy(subscription)
        if notification is not None:
            self._notify(notification)

    @_atomic
    def confirm_subscription(self, user_id: str, confirm_token: str) -> Subscription | None:
        found = self.subscriptions.get(user_id)
        if (
            found is None
            or found.confirm_token is None
            or found.confirm_token != confirm_token
            or found.status == SubscriptionStatus.UNSUBSCRIBED
        ):
            return None
        found.status = SubscriptionStatus.CONFIRMED
        return copy.deepcopy(found)

    @_atomic
    def end_subscription(self, user_id: str) -> Subscription | None:
        found = self.subscriptions.get(user_id)
        if found is None:
            return None
        found.status, found.confirm_token = SubscriptionStatus.UNSUBSCRIBED, None
        return copy.deepcopy(found)

    # -- bulk path and consistency check ----------------------------------------------------
    @_atomic
    def bulk_insert(
        self,
        users: list[User],
        profiles: list[Profile],
        availabilities: list[Availability],
        slots: list[Slot],
    ) -> None:
        emails = [u.email for u in users] + [u.email for u in self.users.values()]
        if len(set(emails)) != len(emails) or any(u.user_id in self.users for u in users):
            raise Conflict("bulk insert rejected: duplicate user", code="bulk_conflict")
        for table, items, key in (
            (self.users, users, "user_id"),
            (self.profiles, profiles, "user_id"),
            (self.windows, availabilities, "availability_id"),
            (self.slots, slots, "slot_id"),
        ):
            table.update({getattr(item, key): copy.deepcopy(item) for item in items})
        self._bump([*(a.tutor_id for a in availabilities), *(s.tutor_id for s in slots)])
        if profiles:
            self._bump_lists([PROFILES])

    @_atomic
    def check_consistency(self) -> list[str]:
        problems = []
        live: dict[str, list[Booking]] = {}
        for b in self.bookings.values():
            slot = self.slots.get(b.slot_id)
            if slot is None:
                problems.append(f"booking whose slot is missing: {b.booking_id}")
                continue
            if b.booking_status in LIVE_BOOKING_STATUSES:
                live.setdefault(b.slot_id, []).append(b)
            wanted = {BookingStatus.PENDING: "pending", BookingStatus.ACCEPTED: "booked"}
            if b.booking_status in wanted and slot.slot_status != wanted[b.booking_status]:
                problems.append(
                    f"{b.booking_status.value} booking whose slot is not "
                    f"{wanted[b.booking_status]}: {b.booking_id}"
                )
        for slot_id, bookings in live.items():
            if len(bookings) > 1:
                problems.append(f"slot with more than one live booking: {slot_id}")
        statuses: dict[str, set[BookingStatus]] = {}
        for b in self.bookings.values():
            statuses.setdefault(b.slot_id, set()).add(b.booking_status)
        done = {BookingStatus.ACCEPTED, BookingStatus.COMPLETED}
        for slot in self.slots.values():
            mine = statuses.get(slot.slot_id, set())
            if slot.slot_status == SlotStatus.PENDING and BookingStatus.PENDING not in mine:
                problems.append(f"pending slot without a pending booking: {slot.slot_id}")
            if slot.slot_status == SlotStatus.BOOKED and not mine & done:
                problems.append(
                    f"booked slot without an accepted or completed booking: {slot.slot_id}"
                )
        return problems
