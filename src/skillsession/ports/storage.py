"""Storage ports, one per role (DESIGN.md: accounts, profiles, slots, bookings, outbox, answer
versions, store admin), bundled per backend in `Stores`.

Every method is one access pattern and, where it changes state, one atomic unit on every backend
(a transaction in SQLite, a TransactWriteItems in DynamoDB). Callers never do read-check-write
across two calls for a state change. Methods raise only `skillsession.domain.errors` exceptions.
A role's methods may read or write what another role owns where an access pattern needs it in
one step (a booking request reads the student's profile and the slot together; every state
change queues its notification in its own transaction).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from skillsession.domain.bookings import PendingLimits
from skillsession.domain.model import (
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
    User,
    VerificationCode,
)
from skillsession.domain.rate_limits import Admission


class AccountStore(Protocol):
    """Accounts: users and their verification codes."""

    def create_user(self, user: User, code: VerificationCode, notification: Notification) -> None:
        """Insert the user, its verification code and the code e-mail atomically.

        Raises `Conflict(code="email_taken")` if `user.email` (already normalised) exists."""

    def get_user(self, user_id: str) -> User | None:
        """The account (what the token check reads, through a short per-process cache)."""

    def get_user_by_email(self, email: str) -> User | None: ...

    def replace_unconfirmed_user(
        self, user: User, code: VerificationCode, notification: Notification
    ) -> None:
        """A sign-up again for an unconfirmed account: atomically, if the account `user.user_id`
        with `user.email` is still unconfirmed, set its password hash and `created_at` from
        `user`, replace its code with `code` and queue `notification`. Otherwise (confirmed
        meanwhile, or gone) raise `Conflict(code="email_taken")` and write nothing."""

    def set_password(
        self,
        user_id: str,
        password_hash: str,
        tokens_valid_after: datetime,
        code_hash: str | None = None,
    ) -> None:
        """A password reset or change, atomically: the new hash, the account confirmed, its
        code deleted, and `tokens_valid_after` stored (tokens issued before it are refused).
        Raises `NotFound(code="user_not_found")` if the account is gone. With `code_hash` (a
        reset): only while the account's stored code still has that hash, so that a code is
        used once even by two resets at the same moment; else `BadRequest(code=
        "invalid_code")` and nothing written."""

    def delete_unconfirmed_users(self, created_before: datetime, limit: int) -> int:
        """Delete at most `limit` accounts still unconfirmed that were created (or signed up
        again) before `created_before`, with their codes; return how many. Index-driven: the
        cost follows what is deleted, not the number of accounts."""

    def get_user_and_code_by_email(self, email: str) -> tuple[User | None, VerificationCode | None]:
        """The account whose (normalised) e-mail is `email` and its verification code (None
        for what does not exist): what confirming a code reads, in one read where the store
        can."""

    def replace_verification_code(self, code: VerificationCode, notification: Notification) -> None:
        """Store a fresh code for `code.user_id` (replacing any) and queue its e-mail, atomically."""

    def record_code_failure(self, user_id: str) -> int:
        """Atomically add one failed attempt to the user's code; return the new count (0 if no code)."""

    def confirm_user(self, user_id: str) -> None:
        """Mark the account confirmed and delete its code."""

    def delete_account(self, user_id: str) -> None:
        """Atomically delete what is the user's own: the profile (with its skill index
        entries), the e-mail subscription, the verification code and the account (with its
        e-mail guard, so the e-mail can sign up again), and remember the id as deleted (nothing
        else of the user: what the consistency scan checks, `domain.invariants.
        deleted_user_problems`). What does not exist is skipped: idempotent. Bookings, slots and the outbox are left alone (the caller ends the live
        ones first, `service.account_data.delete`); the user's answer versions change."""


class RateLimitStore(Protocol):
    """The attempt counts behind the `/auth/*` limits that hold service-wide (failed logins,
    code tries, code mails, sign-ups per address), by key."""

    def hit(self, key: str, now: datetime, window_seconds: int, limit: int) -> Admission:
        """One attempt for `key` at `now`, admitted or not by `domain.rate_limits.admit` over the
        key's earlier admitted attempts, and kept if admitted: one atomic step."""

    def clear(self, key: str) -> None:
        """Forget the key's attempts (a successful login clears its failures)."""


class TokenFloorStore(Protocol):
    """Token floors of accounts an identity provider keeps (the AWS shape: Cognito has the
    accounts, this store only what revokes their tokens). Embedded accounts keep theirs on the
    account row (`AccountStore.set_password`). Read through a short per-process cache
    (adapters/auth/floors.py), never per request."""

    def revoke_tokens(self, user_id: str, valid_after: datetime) -> None:
        """Refuse the user's tokens issued before `valid_after` (a floor never goes back: an
        earlier instant than the stored one changes nothing). One atomic write."""

    def token_floor(self, user_id: str) -> tuple[bool, datetime | None]:
        """(False, None) for a deleted account (`AccountStore.delete_account` remembers the
        id); else (True, the floor stored, None when none was: most users). One point read."""


class ProfileStore(Protocol):
    """Profiles and the skill index behind tutor search."""

    def get_profile(self, user_id: str) -> Profile | None: ...

    def get_profile_by_email(self, email: str) -> Profile | None:
        """The profile whose (normalised) e-mail is `email`."""

    def get_profiles(self, user_ids: list[str]) -> dict[str, Profile]:
        """Profiles by id (missing ids are simply absent)."""

    def save_profile(self, profile: Profile) -> None:
        """Insert or replace the profile and, in the same transaction, the skill index entries
        (one per `skill_key(s)` of `profile.teaching_skills`)."""

    def set_profile_image(self, user_id: str, image_key: str | None) -> str | None:
        """Set the profile's image key; return the previous key (None if none)."""

    def search_tutors(
        self,
        skill_keys: list[str],
        available_between: tuple[datetime, datetime] | None,
        limit: int,
        after_user_id: str | None,
    ) -> list[Profile]:
        """Tutors having every skill key, ordered by user_id, strictly after `after_user_id`,
        at most `limit`. With `available_between=(a, b)`: only tutors with an `available` slot
        whose start is in [a, b)."""


class SlotStore(Protocol):
    """Tutors' availability windows and the slots cut from them."""

    def get_profile_for_availability(self, user_id: str) -> Profile | None:
        """`get_profile`, for a tutor about to `create_availability`: a store may read in the
        same call what that create checks first (DynamoDB: the tutor's window lock)."""

    def create_availability(self, windows: list[Availability], slots: list[Slot]) -> None:
        """Insert windows and their slots atomically. Raises `Conflict(code="availability_overlap")`
        if a window overlaps (half-open) an existing window of the same tutor."""

    def get_availability(self, availability_id: str) -> Availability | None: ...

    def delete_availability(self, availability_id: str) -> None:
        """Remove the window and its free slots atomically (slots with booking history stay,
        expired, so the history keeps its slot). Raises `NotFound` if it does not exist,
        `Conflict(code="availability_in_use")` if any of its slots is pending or booked."""

    def delete_tutor_availability(self, tutor_id: str) -> None:
        """Atomically remove every availability window of the tutor and every slot of theirs
        that no booking names; a slot with booking history stays (an `available` one becomes
        `expired`, so nobody can request it again), and the slots of live bookings are left as
        they are. Idempotent (deleting an account: `service.account_data`)."""

    def slots_for_tutor(
        self,
        tutor_id: str,
        start_from: datetime,
        start_before: datetime,
        status: SlotStatus | None,
        limit: int | None = None,
    ) -> list[Slot]:
        """The tutor's slots with start in [start_from, start_before), optionally of one status,
        ordered by (start, slot_id); the first `limit` of them (None: all)."""


class BookingStore(Protocol):
    """Bookings: the state changes that move a slot and a booking together, and the lists."""

    def get_profile_and_slot(
        self, user_id: str, slot_id: str
    ) -> tuple[Profile | None, Slot | None]:
        """`get_profile(user_id)` and `get_slot(slot_id)` (what requesting a booking reads), in
        one read where the store can."""

    def request_booking(
        self,
        booking: Booking,
        notification: Notification,
        now: datetime,
        idempotency_key: str | None = None,
        limits: PendingLimits | None = None,
    ) -> Booking:
        """Atomically: if `idempotency_key` was used before by `booking.student_id`, return that
        booking and change nothing. Else the slot must exist (`NotFound(code="slot_not_found")`)
        and be `available` with start > now (`SlotUnavailable`), and the student's pending
        bookings (with the slot's tutor, and in all) must pass `domain.bookings.check_pending`
        with `limits` (`TooManyPending`; None: no limit); the slot becomes `pending`, the booking
        and the notification are inserted and the key is remembered. Returns the stored booking.
        Under any concurrency a student never holds more pending bookings than `limits` allow
        (each a `request_booking` made with those limits)."""

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
        """Atomically move a booking from one of `from_statuses` to `to_status` and its slot to
        `slot_status`, queueing `notification`. If the booking's status is not in
        `from_statuses`, or `require_not_started` and the slot start <= now, change nothing and
        return None. Returns the updated booking."""

    def get_booking(self, booking_id: str) -> Booking | None: ...

    def has_accepted_booking(self, tutor_id: str, student_id: str) -> bool:
        """Whether the two have a booking in state `accepted` (for the mobile-number rule)."""

    def bookings_for_tutor(
        self,
        tutor_id: str,
        status: BookingStatus | None,
        start_from: datetime | None,
        start_before: datetime | None,
        limit: int,
        after: tuple[datetime, str] | None,
    ) -> list[Booking]:
        """The tutor's bookings ordered by (start, booking_id), strictly after `after`."""

    def bookings_for_student(
        self,
        student_id: str,
        status: BookingStatus | None,
        start_from: datetime | None,
        start_before: datetime | None,
        limit: int,
        after: tuple[datetime, str] | None,
    ) -> list[Booking]: ...

    def expire(
        self, now: datetime, limit: int, notify_expired: Callable[[Booking], Notification]
    ) -> ExpiryResult:
        """One bounded batch of the expiry job, each change atomic with its notification:
        available slots with start <= now become `expired`; pending bookings whose slot start
        <= now become `expired` (slot `expired`, notification from `notify_expired`); accepted
        bookings whose end <= now become `completed`. At most `limit` of each kind; found by
        index, not by scanning. Safe to run concurrently with itself."""


class OutboxStore(Protocol):
    """The notification outbox (written by the other roles in their own transactions, delivered from
    here) and the e-mail subscriptions it is delivered to."""

    def claim_notifications(
        self, now: datetime, limit: int, lease_seconds: int
    ) -> list[Notification]:
        """Atomically take up to `limit` pending notifications due at `now` (ordered by due
        time), pushing their due time `lease_seconds` ahead and counting one attempt, so that
        concurrent workers never claim the same one within a lease."""

    def finish_notifications(self, outcomes: list[DeliveryOutcome]) -> None:
        """Record delivery outcomes (one transaction where the backend has them; each outcome
        atomic on its own everywhere). Once a verification code will not be sent any more, its
        copy in the outbox is dropped (payload `{}`). Unknown ids are ignored."""

    def outbox_summary(self, now: datetime, recent_failures: int) -> OutboxSummary:
        """Counts of pending (due at `now`, and due later) and failed notifications, with up to
        `recent_failures` of the newest failed ones. Index-driven (an operator's view: the
        `check` and `deliver-mail` commands), never a scan of the table."""

    def outbox_backlog(self, limit: int) -> tuple[int, datetime | None]:
        """How many notifications wait for delivery (counted up to `limit`) and when the
        oldest of them was created (None when none waits); read from the outbox's index."""

    def get_subscription(self, user_id: str) -> Subscription | None: ...

    def get_subscription_by_token(self, token: str) -> Subscription | None: ...

    def save_subscription(
        self, subscription: Subscription, notification: Notification | None
    ) -> None:
        """Insert or replace the user's subscription, queueing `notification`, atomically."""

    def confirm_subscription(self, user_id: str, confirm_token: str) -> Subscription | None:
        """Atomically: if the user's subscription is pending (or confirmed already) and its
        `confirm_token` is this one, it becomes confirmed; returns it. Else changes nothing and
        returns None."""

    def end_subscription(self, user_id: str) -> Subscription | None:
        """Atomically mark the user's subscription unsubscribed and drop its confirm token
        (None if there is none)."""

    def keep_subscription_ref(self, user_id: str, email: str, provider_ref: str) -> None:
        """Atomically set `provider_ref` on the user's subscription if it is there, for this
        e-mail, with no `provider_ref` yet; else change nothing."""


class AnswerVersions(Protocol):
    """Version numbers that let the layers above remember answers (service/answer_cache.py): each
    changes in the same transaction as any write that could change what an answer shows. A backend
    that cannot keep them cheaply (DynamoDB) does not implement this role, and answers are then
    never remembered."""

    def profiles_version(self) -> int:
        """A number that changes whenever any profile (or a tutor's skills) may have changed:
        every method that writes a profile (`save_profile`, `set_profile_image`,
        `bulk_insert`) changes it in the same transaction. So `search_tutors` without
        `available_between` answers the same while it does not change. Never reused. One point
        read."""

    def slot_version(self, tutor_id: str) -> int:
        """A number that changes whenever anything a listing of the tutor's slots shows may
        have changed: every method that writes one of the tutor's slots (`create_availability`,
        `delete_availability`, `request_booking`, `transition_booking`, `expire`, `bulk_insert`)
        changes it in the same transaction as the write. Never reused for another state of the
        tutor's slots. One point read."""

    def slot_answer_versions(self, tutor_id: str) -> tuple[int, int]:
        """(`profiles_version()`, `slot_version(tutor_id)`) read at one instant, in one read:
        what a remembered get-teacher-slots answer is checked against."""

    def booking_list_version(self, user_id: str) -> int:
        """A number that changes whenever anything a list of the user's bookings shows may have
        changed: every method that writes a booking (`request_booking`, `transition_booking`,
        `expire`) changes the versions of both its tutor and its student, and every method that
        writes a profile (`save_profile`, `set_profile_image`, `bulk_insert`) changes every
        user's version (lists show the other party's name and e-mail), each in the same
        transaction as the write. Never reused for another state of what the user's lists
        show. One point read."""


class StoreAdmin(Protocol):
    """The store as an operator sees it: its schema, its housekeeping, bulk loading and the
    consistency scan."""

    backend_name: str

    def upkeep_job(self) -> Callable[[], None] | None:
        """The store's housekeeping, for a serving process to run every few tenths of a second
        off the request path (in a thread). Asking for it hands that work over to the caller:
        SQLite's commits then leave checkpointing the write-ahead log to the job (up to a
        safety limit), so no request waits for a checkpoint's writes and fsyncs. None: nothing
        to do."""

    def migrate(self) -> None:
        """Create or upgrade the schema / table. Idempotent."""

    def close(self) -> None: ...

    def bulk_insert(
        self,
        users: list[User],
        profiles: list[Profile],
        availabilities: list[Availability],
        slots: list[Slot],
    ) -> None:
        """Fast path for demo data: insert in one batch, no per-row checks beyond constraints."""

    def check_consistency(self) -> list[str]:
        """Violations of the booking invariants and of `deleted_user_problems` (no live booking
        and no available slot of a deleted user), human readable (empty: consistent)."""


@dataclass(frozen=True)
class Stores:
    """One backend's roles, as bootstrap hands them to the service layer. `versions` is None for
    a backend that keeps no answer versions."""

    accounts: AccountStore
    rate_limits: RateLimitStore
    profiles: ProfileStore
    slots: SlotStore
    bookings: BookingStore
    outbox: OutboxStore
    admin: StoreAdmin
    revocations: TokenFloorStore
    versions: AnswerVersions | None = None

    @property
    def backend_name(self) -> str:
        return self.admin.backend_name
