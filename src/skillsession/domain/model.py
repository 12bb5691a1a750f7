"""Entities of the tutoring marketplace. Plain dataclasses: no I/O, no framework.

All instants are timezone-aware datetimes in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    STUDENT = "student"
    TUTOR = "tutor"


class AccountStatus(StrEnum):
    UNCONFIRMED = "unconfirmed"
    CONFIRMED = "confirmed"


class SlotStatus(StrEnum):
    AVAILABLE = "available"
    PENDING = "pending"
    BOOKED = "booked"
    EXPIRED = "expired"


class BookingStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    COMPLETED = "completed"


LIVE_BOOKING_STATUSES = frozenset({BookingStatus.PENDING, BookingStatus.ACCEPTED})
MAX_STATUS_LENGTH = 20  # a status a query names (one of the statuses above, or "all")


class SubscriptionStatus(StrEnum):
    PENDING_CONFIRMATION = "pending_confirmation"
    CONFIRMED = "confirmed"
    UNSUBSCRIBED = "unsubscribed"


@dataclass
class User:
    user_id: str
    email: str  # normalised (lower case)
    password_hash: str
    status: AccountStatus
    created_at: datetime
    # tokens issued before this instant are refused (set by a password reset or change)
    tokens_valid_after: datetime | None = None


@dataclass
class VerificationCode:
    user_id: str
    code_hash: str
    expires_at: datetime
    failed_attempts: int = 0


@dataclass
class Profile:
    user_id: str
    email: str
    role: Role
    first_name: str | None = None
    last_name: str | None = None
    mobile_number: str | None = None
    time_zone: str = "UTC"
    # student
    university_name: str | None = None
    program_name: str | None = None
    enrolled_courses: list[str] | None = None
    start_year: int | None = None
    end_year: int | None = None
    # tutor
    teaching_skills: list[str] | None = None
    experience_years: int | None = None
    experience_description: str | None = None
    image_key: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def has_profile_image(self) -> bool:
        return self.image_key is not None

    @property
    def display_name(self) -> str:
        first, last = self.first_name, self.last_name
        if first and last:
            return f"{first} {last}"
        return first or last or self.email


@dataclass
class Availability:
    availability_id: str
    tutor_id: str
    start: datetime
    end: datetime
    time_zone: str
    slot_minutes: int
    created_at: datetime


@dataclass
class Slot:
    slot_id: str
    tutor_id: str
    availability_id: str
    start: datetime
    end: datetime
    slot_status: SlotStatus
    time_zone: str  # the zone the tutor published the window in


@dataclass
class Booking:
    booking_id: str
    slot_id: str
    tutor_id: str
    student_id: str
    booking_status: BookingStatus
    request_created_at: datetime
    updated_at: datetime
    start: datetime
    end: datetime
    message: str | None = None
    reason: str | None = None


@dataclass
class Subscription:
    user_id: str
    email: str
    status: SubscriptionStatus
    token: str  # opaque, the unsubscribe link's (never changes: old unsubscribe links work)
    created_at: datetime
    # opaque, the confirmation link's: made when a subscription is asked for, dropped when it
    # ends, so an old confirmation link cannot subscribe again an address that unsubscribed
    confirm_token: str | None = None
    # where a mailer keeps the subscriptions itself (SNS), its own id for this one (the
    # subscription ARN), so that its state is read with one call, never by listing them all
    provider_ref: str | None = None


@dataclass
class Notification:
    """An outbox entry: written in the same transaction as the change that causes it.

    `kind` names the event (`verification_code`, `subscription_confirmation`,
    `booking_requested`, `booking_accepted`, ...); `payload` holds what rendering needs that
    cannot be looked up later (e.g. the code itself, the reason).
    """

    notification_id: str
    kind: str
    recipient_id: str
    payload: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
    attempts: int = 0
    next_attempt_at: datetime | None = None
    status: str = "pending"  # pending | sent | failed | skipped
    last_error: str | None = None


@dataclass(frozen=True)
class DeliveryOutcome:
    """What became of one claimed notification: `sent`, `failed`, `skipped`, or `pending`
    again until `next_attempt_at`; `error`: why it failed or is retried."""

    notification_id: str
    status: str
    next_attempt_at: datetime | None = None
    error: str | None = None


@dataclass
class OutboxSummary:
    """How the outbox stands at one instant: `due` (pending, due now), `waiting` (pending, due
    later: retries in backoff or under a lease), `failed` (given up), and a few of the most
    recent failed ones (with their `last_error`), newest first."""

    due: int = 0
    waiting: int = 0
    failed: int = 0
    recent_failures: list[Notification] = field(default_factory=list)


@dataclass
class Page:
    items: list[Any]
    next_cursor: str | None


@dataclass
class ExpiryResult:
    slots_expired: int = 0
    bookings_expired: int = 0
    bookings_completed: int = 0
    accounts_deleted: int = 0  # unconfirmed for 7 days
