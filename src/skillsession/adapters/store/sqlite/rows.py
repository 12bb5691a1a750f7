"""Rows <-> entities for the SQLite store, and the statements that insert them (shared by the
roles and the bulk path). Instants are unix seconds."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from operator import itemgetter

import orjson

from skillsession.domain.model import (
    AccountStatus,
    Availability,
    Booking,
    BookingStatus,
    Notification,
    Profile,
    Role,
    Slot,
    SlotStatus,
    Subscription,
    SubscriptionStatus,
    User,
    VerificationCode,
)
from skillsession.domain.profiles import EDITABLE_FIELDS
from skillsession.domain.skills import skill_key

PROFILE_DOC_FIELDS = EDITABLE_FIELDS  # kept as one JSON document
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ts(instant: datetime | None) -> int | None:
    """Unix seconds (sub-second precision is dropped: flooring keeps `<=` comparisons exact)."""
    if instant is None:
        return None
    if instant.tzinfo is None:
        raise ValueError(f"naive datetime {instant!r}: the store takes aware UTC instants")
    return math.floor(instant.timestamp())


def dt(seconds: int | None) -> datetime | None:
    return None if seconds is None else _utc(seconds)


# Lists read the same instants over and over (slot starts on the hour, a page re-read): one shared
# datetime per second value, from a bounded cache, spares `fromtimestamp` (0.25 µs) and lets the
# views' caches hash each instant once (a datetime caches its hash; a fresh one costs 0.4 µs).
# Full, it holds ~3 MiB.
@lru_cache(maxsize=1 << 14)
def _utc(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


_ROLE = {r.value: r for r in Role}
_SLOT_STATUS = {s.value: s for s in SlotStatus}
_BOOKING_STATUS = {s.value: s for s in BookingStatus}


USER_COLUMNS = "user_id, email, password_hash, status, created_at, tokens_valid_after"


def micros(instant: datetime | None) -> int | None:
    """Unix microseconds: `tokens_valid_after` is compared with tokens' sub-second `iat`."""
    if instant is None:
        return None
    delta = instant - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(value: int | None) -> datetime | None:
    return None if value is None else EPOCH + timedelta(microseconds=value)


def user_params(u: User) -> tuple:
    return (
        u.user_id,
        u.email,
        u.password_hash,
        u.status.value,
        ts(u.created_at),
        micros(u.tokens_valid_after),
    )


def user(row) -> User:
    return User(row[0], row[1], row[2], AccountStatus(row[3]), dt(row[4]), from_micros(row[5]))


CODE_COLUMNS = "user_id, code_hash, expires_at, failed_attempts"


def code_params(c: VerificationCode) -> tuple:
    return (c.user_id, c.code_hash, ts(c.expires_at), c.failed_attempts)


def code(row) -> VerificationCode:
    return VerificationCode(row[0], row[1], dt(row[2]), row[3])


def profile_params(p: Profile) -> tuple:
    doc = orjson.dumps({f: getattr(p, f) for f in PROFILE_DOC_FIELDS}).decode()
    return (p.user_id, p.email, p.role.value, doc, p.image_key, ts(p.created_at), ts(p.updated_at))


PROFILE_COLUMNS = "user_id, email, role, doc, image_key, created_at, updated_at"


# Profile's fields are (user_id, email, role, *PROFILE_DOC_FIELDS, image_key, created_at,
# updated_at) -- tests/unit/test_sqlite_rows.py pins it: rows are built positionally, which is
# several times faster than 18 keyword arguments.
PROFILE_POSITIONAL = (
    "user_id",
    "email",
    "role",
    *PROFILE_DOC_FIELDS,
    "image_key",
    "created_at",
    "updated_at",
)
_doc_values = itemgetter(*PROFILE_DOC_FIELDS)


def profile(row) -> Profile:
    doc = orjson.loads(row[3])
    try:
        values = _doc_values(doc)
    except KeyError:  # a document written before a field existed: that field keeps its default
        return Profile(
            user_id=row[0],
            email=row[1],
            role=_ROLE[row[2]],
            image_key=row[4],
            created_at=dt(row[5]),
            updated_at=dt(row[6]),
            **doc,
        )
    return Profile(row[0], row[1], _ROLE[row[2]], *values, row[4], dt(row[5]), dt(row[6]))


AVAILABILITY_COLUMNS = (
    'availability_id, tutor_id, start, "end", time_zone, slot_minutes, created_at'
)


def availability_params(a: Availability) -> tuple:
    return (
        a.availability_id,
        a.tutor_id,
        ts(a.start),
        ts(a.end),
        a.time_zone,
        a.slot_minutes,
        ts(a.created_at),
    )


def availability(row) -> Availability:
    return Availability(row[0], row[1], dt(row[2]), dt(row[3]), row[4], row[5], dt(row[6]))


SLOT_COLUMNS = 'slot_id, tutor_id, availability_id, start, "end", slot_status, time_zone'


def slot_params(s: Slot) -> tuple:
    return (
        s.slot_id,
        s.tutor_id,
        s.availability_id,
        ts(s.start),
        ts(s.end),
        s.slot_status.value,
        s.time_zone,
    )


def slot(row) -> Slot:
    return Slot(row[0], row[1], row[2], _utc(row[3]), _utc(row[4]), _SLOT_STATUS[row[5]], row[6])


# A tutor's slot list reads neither the tutor (the query's own) nor, when it filters on one, the
# status back from every row: each text column costs ~0.1 µs a row in sqlite3, and the list is the
# hottest read. Without a status filter, slot_status follows these columns.
TUTOR_SLOT_COLUMNS = 'slot_id, availability_id, start, "end", time_zone'


def tutor_slots(found, tutor_id: str, status: SlotStatus | None) -> list[Slot]:
    utc = _utc
    if status is None:
        return [
            Slot(r[0], tutor_id, r[1], utc(r[2]), utc(r[3]), _SLOT_STATUS[r[5]], r[4])
            for r in found
        ]
    return [Slot(r[0], tutor_id, r[1], utc(r[2]), utc(r[3]), status, r[4]) for r in found]


BOOKING_COLUMNS = (
    "booking_id, slot_id, tutor_id, student_id, booking_status, request_created_at, "
    'updated_at, start, "end", message, reason'
)


def booking_params(b: Booking) -> tuple:
    return (
        b.booking_id,
        b.slot_id,
        b.tutor_id,
        b.student_id,
        b.booking_status.value,
        ts(b.request_created_at),
        ts(b.updated_at),
        ts(b.start),
        ts(b.end),
        b.message,
        b.reason,
    )


def booking(row) -> Booking:
    # positional, in the order of BOOKING_COLUMNS and of Booking's fields
    return Booking(
        row[0],
        row[1],
        row[2],
        row[3],
        _BOOKING_STATUS[row[4]],
        _utc(row[5]),
        _utc(row[6]),
        _utc(row[7]),
        _utc(row[8]),
        row[9],
        row[10],
    )


NOTIFICATION_COLUMNS = (
    "notification_id, kind, recipient_id, payload, created_at, attempts, next_attempt_at, "
    "status, last_error"
)


def notification_params(n: Notification) -> tuple:
    created = n.created_at or datetime.now(UTC)
    return (
        n.notification_id,
        n.kind,
        n.recipient_id,
        orjson.dumps(n.payload).decode(),
        ts(created),
        n.attempts,
        ts(n.next_attempt_at or created),
        n.status,
        n.last_error,
    )


def notification(row) -> Notification:
    return Notification(
        notification_id=row[0],
        kind=row[1],
        recipient_id=row[2],
        payload=orjson.loads(row[3]),
        created_at=dt(row[4]),
        attempts=row[5],
        next_attempt_at=dt(row[6]),
        status=row[7],
        last_error=row[8],
    )


SUBSCRIPTION_COLUMNS = "user_id, email, status, token, created_at, confirm_token, provider_ref"


def subscription_params(s: Subscription) -> tuple:
    return (
        s.user_id,
        s.email,
        s.status.value,
        s.token,
        ts(s.created_at),
        s.confirm_token,
        s.provider_ref,
    )


def subscription(row) -> Subscription:
    return Subscription(
        row[0], row[1], SubscriptionStatus(row[2]), row[3], dt(row[4]), row[5], row[6]
    )


def insert_sql(table: str, columns: str, verb: str = "INSERT") -> str:
    """`INSERT INTO table (columns) VALUES (?, ...)` with one placeholder per column."""
    marks = ", ".join("?" * len(columns.split(",")))
    return f"{verb} INTO {table} ({columns}) VALUES ({marks})"


INSERT_USER = insert_sql("users", USER_COLUMNS)
INSERT_CODE = insert_sql("verification_codes", CODE_COLUMNS, "INSERT OR REPLACE")
INSERT_PROFILE = insert_sql("profiles", PROFILE_COLUMNS)
INSERT_AVAILABILITY = insert_sql("availability", AVAILABILITY_COLUMNS)
INSERT_SLOT = insert_sql("slots", SLOT_COLUMNS)
INSERT_BOOKING = insert_sql("bookings", BOOKING_COLUMNS)
INSERT_NOTIFICATION = insert_sql("notifications", NOTIFICATION_COLUMNS)
INSERT_SKILL = "INSERT OR IGNORE INTO tutor_skills (skill_key, tutor_id) VALUES (?, ?)"
SELECT_PROFILE = f"SELECT {PROFILE_COLUMNS} FROM profiles WHERE user_id = ?"
SELECT_SLOT = f"SELECT {SLOT_COLUMNS} FROM slots WHERE slot_id = ?"


def skill_rows(p: Profile) -> list[tuple[str, str]]:
    """The skill index rows of a profile: one per distinct skill key of its teaching skills."""
    keys = dict.fromkeys(skill_key(s) for s in p.teaching_skills or [])
    return [(key, p.user_id) for key in keys if key]
