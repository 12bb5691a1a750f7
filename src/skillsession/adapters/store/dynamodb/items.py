"""Items <-> entities for the DynamoDB store, keys, and the low-level attribute-value format.

Items are built as plain dicts of Python values (str, int, bool, list, dict; None means
"no attribute") and converted with `encode` / `decode` at the client boundary. Instants are
unix seconds (sub-second precision dropped, as in SQLite). See schema.py for the layout."""

from __future__ import annotations

import math
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from skillsession.adapters.store.dynamodb.schema import SHARDS, TTL_ATTRIBUTE
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

Item = dict[str, Any]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CODE_TTL_SECONDS = 7 * 86400  # a code stays readable a week past its expiry, then TTL drops it
RATE_TTL_SECONDS = 3600
SLOT_INDEX_KEYS = ("GSI3PK", "GSI3SK", "GSI4PK", "GSI4SK")  # present only while available
DUE_KEYS = ("GSI3PK", "GSI3SK")


# -- attribute values -----------------------------------------------------------------------
def encode_value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int):
        return {"N": str(value)}
    if isinstance(value, str):
        return {"S": value}
    if value is None:
        return {"NULL": True}
    if isinstance(value, list | tuple):
        return {"L": [encode_value(v) for v in value]}
    if isinstance(value, dict):
        return {"M": encode(value)}
    raise TypeError(f"cannot store {type(value).__name__} in DynamoDB: {value!r}")


def encode(item: Item) -> dict[str, Any]:
    """A Python item as DynamoDB attribute values; None-valued attributes are left out."""
    return {k: encode_value(v) for k, v in item.items() if v is not None}


def decode_value(value: dict[str, Any]) -> Any:
    ((kind, raw),) = value.items()
    if kind == "S":
        return raw
    if kind == "N":
        return int(raw) if raw.lstrip("-").isdigit() else float(raw)
    if kind in ("BOOL", "NULL"):
        return raw if kind == "BOOL" else None
    if kind == "L":
        return [decode_value(v) for v in raw]
    if kind == "M":
        return decode(raw)
    raise TypeError(f"unexpected DynamoDB type {kind}")


def decode(item: dict[str, Any] | None) -> Item | None:
    return None if item is None else {k: decode_value(v) for k, v in item.items()}


# -- instants and keys ------------------------------------------------------------------------
def ts(instant: datetime | None) -> int | None:
    if instant is None:
        return None
    if instant.tzinfo is None:
        raise ValueError(f"naive datetime {instant!r}: the store takes aware UTC instants")
    return math.floor(instant.timestamp())


def dt(seconds: int | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


def pad(seconds: int) -> str:
    """An instant as a sort-key prefix: fixed width, so string order is time order."""
    return f"{seconds:012d}"


def order_key(instant: datetime, ident: str) -> str:
    return f"{pad(ts(instant))}#{ident}"


def shard(ident: str) -> int:
    return zlib.crc32(ident.encode()) % SHARDS


def key(pk: str, sk: str) -> Item:
    return {"PK": pk, "SK": sk}


def user_key(user_id: str) -> Item:
    return key(f"USER#{user_id}", "USER")


def email_key(email: str) -> Item:
    return key(f"EMAIL#{email}", "EMAIL")


def code_key(email: str) -> Item:
    """A verification code lives beside the e-mail guard: confirming reads both at once."""
    return key(f"EMAIL#{email}", "CODE")


def legacy_code_key(user_id: str) -> Item:
    """Where codes were kept before (and where a code of a user id without an account goes)."""
    return key(f"USER#{user_id}", "CODE")


def rate_key(name: str) -> Item:
    return key(f"RATE#{name}", "RATE")


def profile_key(user_id: str) -> Item:
    return key(f"USER#{user_id}", "PROFILE")


def skill_item_key(skill: str, tutor_id: str) -> Item:
    return key(f"SKILL#{skill}", f"TUTOR#{tutor_id}")


def lock_key(tutor_id: str) -> Item:
    return key(f"TUTOR#{tutor_id}", "LOCK")


def window_key(availability_id: str) -> Item:
    return key(f"AVAIL#{availability_id}", "AVAIL")


def window_index_key(tutor_id: str, start: datetime, availability_id: str) -> Item:
    return key(f"TUTOR#{tutor_id}", f"AVAIL#{order_key(start, availability_id)}")


def slot_key(slot_id: str) -> Item:
    return key(f"SLOT#{slot_id}", "SLOT")


def booking_key(booking_id: str) -> Item:
    return key(f"BOOKING#{booking_id}", "BOOKING")


def idempotency_key(student_id: str, name: str) -> Item:
    return key(f"IDEM#{student_id}#{name}", "IDEM")


def pair_key(tutor_id: str, student_id: str) -> Item:
    return key(f"PAIR#{tutor_id}#{student_id}", "PAIR")


def pending_key(student_id: str) -> Item:
    return key(f"PENDING#{student_id}", "PENDING")


def note_key(notification_id: str) -> Item:
    return key(f"NOTE#{notification_id}", "NOTE")


def deleted_key(user_id: str) -> Item:
    """The mark that the user deleted the account (nothing else of them is in it)."""
    return key(f"USER#{user_id}", "DELETED")


def tokens_key(user_id: str) -> Item:
    """The token floor of an account an identity provider keeps, and its deleted mark."""
    return key(f"USER#{user_id}", "TOKENS")


def subscription_key(user_id: str) -> Item:
    return key(f"USER#{user_id}", "SUB")


# -- index keys that follow the state -------------------------------------------------------
def free_slot_keys(slot_id: str, tutor_id: str, start: datetime) -> Item:
    """The expiry and free-slot index keys an `available` slot carries (and no other)."""
    sort = order_key(start, slot_id)
    return {
        "GSI3PK": f"DUESLOT#{shard(slot_id)}",
        "GSI3SK": sort,
        "GSI4PK": f"FREE#{tutor_id}",
        "GSI4SK": sort,
    }


def booking_due_keys(booking_id: str, status: BookingStatus, start: datetime, end: datetime):
    """Pending bookings are due at their start, accepted ones at their end; others never."""
    if status == BookingStatus.PENDING:
        return {
            "GSI3PK": f"DUEPENDING#{shard(booking_id)}",
            "GSI3SK": order_key(start, booking_id),
        }
    if status == BookingStatus.ACCEPTED:
        return {
            "GSI3PK": f"DUEACCEPTED#{shard(booking_id)}",
            "GSI3SK": order_key(end, booking_id),
        }
    return {}


def outbox_keys(notification_id: str, status: str, next_attempt_at: int | None) -> Item:
    if status == "failed":  # kept findable for the operator (`outbox_summary`), newest last
        return {"GSI3PK": f"OUTBOXFAILED#{shard(notification_id)}", "GSI3SK": notification_id}
    if status != "pending" or next_attempt_at is None:
        return {}
    return {
        "GSI3PK": f"OUTBOX#{shard(notification_id)}",
        "GSI3SK": f"{pad(next_attempt_at)}#{notification_id}",
    }


# -- entities -------------------------------------------------------------------------------
UNCONFIRMED_KEYS = ("GSI3PK", "GSI3SK")


def unconfirmed_keys(user_id: str, created_at: datetime) -> Item:
    """The sparse expiry entry an unconfirmed account carries (on its USER item only): the
    7-day deletion reads GSI3 `UNCONFIRMED#<shard>` oldest first."""
    return {"GSI3PK": f"UNCONFIRMED#{shard(user_id)}", "GSI3SK": order_key(created_at, user_id)}


def micros(instant: datetime) -> int:
    delta = instant - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _account(u: User) -> Item:
    item = {
        "user_id": u.user_id,
        "email": u.email,
        "password_hash": u.password_hash,
        "status": u.status.value,
        "created_at": ts(u.created_at),
    }
    if u.tokens_valid_after is not None:  # unix microseconds (tokens' iat is sub-second)
        item["tokens_valid_after"] = micros(u.tokens_valid_after)
    return item


def user_item(u: User) -> Item:
    item = {**user_key(u.user_id), **_account(u)}
    if u.status == AccountStatus.UNCONFIRMED:
        item.update(unconfirmed_keys(u.user_id, u.created_at))
    return item


def email_guard_item(u: User) -> Item:
    """The unique-email guard, holding a copy of the account: a look-up by e-mail is one GetItem.
    `confirm_user` changes the status of both in one transaction."""
    return {**email_key(u.email), **_account(u)}


def has_user_copy(guard: Item) -> bool:
    """False for the guards of older tables, which hold only the user id."""
    return "password_hash" in guard and "status" in guard


def user(i: Item) -> User:
    return User(
        i["user_id"],
        i["email"],
        i["password_hash"],
        AccountStatus(i["status"]),
        dt(i.get("created_at")),
        None
        if i.get("tokens_valid_after") is None
        else EPOCH + timedelta(microseconds=int(i["tokens_valid_after"])),
    )


def code_item(c: VerificationCode, where: Item) -> Item:
    """The code's item under the key `where` (`code_key`, or `legacy_code_key`)."""
    expires = ts(c.expires_at)
    return {
        **where,
        "user_id": c.user_id,
        "code_hash": c.code_hash,
        "expires_at": expires,
        "failed_attempts": c.failed_attempts,
        TTL_ATTRIBUTE: None if expires is None else expires + CODE_TTL_SECONDS,
    }


def code(i: Item) -> VerificationCode:
    return VerificationCode(
        i["user_id"], i["code_hash"], dt(i.get("expires_at")), i["failed_attempts"]
    )


def skill_keys(p: Profile) -> list[str]:
    """The profile's skill keys, de-duplicated, in order."""
    return [k for k in dict.fromkeys(skill_key(s) for s in p.teaching_skills or []) if k]


def profile_fields(p: Profile) -> Item:
    """What `save_profile` writes (not image_key, which only `set_profile_image` changes)."""
    return {
        "user_id": p.user_id,
        "email": p.email,
        "role": p.role.value,
        **{f: getattr(p, f) for f in EDITABLE_FIELDS},
        "updated_at": ts(p.updated_at),
        "skill_keys": skill_keys(p),
        "GSI2PK": f"PEMAIL#{p.email}",
        "GSI2SK": "PROFILE",
    }


def profile_item(p: Profile, version: int = 1) -> Item:
    return {
        **profile_key(p.user_id),
        **profile_fields(p),
        "image_key": p.image_key,
        "created_at": ts(p.created_at),
        "version": version,
    }


def profile(i: Item) -> Profile:
    return Profile(
        user_id=i["user_id"],
        email=i["email"],
        role=Role(i["role"]),
        image_key=i.get("image_key"),
        created_at=dt(i.get("created_at")),
        updated_at=dt(i.get("updated_at")),
        **{f: i[f] for f in EDITABLE_FIELDS if f in i},
    )


def skill_item(skill: str, p: Profile) -> Item:
    return {**skill_item_key(skill, p.user_id), "tutor_id": p.user_id, "skill_keys": skill_keys(p)}


def window_item(a: Availability, slot_ids: list[str]) -> Item:
    return {
        **window_key(a.availability_id),
        "availability_id": a.availability_id,
        "tutor_id": a.tutor_id,
        "start": ts(a.start),
        "end": ts(a.end),
        "time_zone": a.time_zone,
        "slot_minutes": a.slot_minutes,
        "created_at": ts(a.created_at),
        "slot_ids": slot_ids,
    }


def window_index_item(a: Availability) -> Item:
    return {
        **window_index_key(a.tutor_id, a.start, a.availability_id),
        "availability_id": a.availability_id,
        "start": ts(a.start),
        "end": ts(a.end),
    }


def availability(i: Item) -> Availability:
    return Availability(
        i["availability_id"],
        i["tutor_id"],
        dt(i["start"]),
        dt(i["end"]),
        i["time_zone"],
        i["slot_minutes"],
        dt(i.get("created_at")),
    )


def slot_item(s: Slot) -> Item:
    item = {
        **slot_key(s.slot_id),
        "slot_id": s.slot_id,
        "tutor_id": s.tutor_id,
        "availability_id": s.availability_id,
        "start": ts(s.start),
        "end": ts(s.end),
        "slot_status": s.slot_status.value,
        "time_zone": s.time_zone,
        "GSI1PK": f"SLOTS#{s.tutor_id}",
        "GSI1SK": order_key(s.start, s.slot_id),
    }
    if s.slot_status == SlotStatus.AVAILABLE:
        item.update(free_slot_keys(s.slot_id, s.tutor_id, s.start))
    return item


def slot(i: Item) -> Slot:
    return Slot(
        i["slot_id"],
        i["tutor_id"],
        i["availability_id"],
        dt(i["start"]),
        dt(i["end"]),
        SlotStatus(i["slot_status"]),
        i["time_zone"],
    )


def booking_item(b: Booking) -> Item:
    return {
        **booking_key(b.booking_id),
        "booking_id": b.booking_id,
        "slot_id": b.slot_id,
        "tutor_id": b.tutor_id,
        "student_id": b.student_id,
        "booking_status": b.booking_status.value,
        "request_created_at": ts(b.request_created_at),
        "updated_at": ts(b.updated_at),
        "start": ts(b.start),
        "end": ts(b.end),
        "message": b.message,
        "reason": b.reason,
        "GSI1PK": f"TBOOKINGS#{b.tutor_id}",
        "GSI1SK": order_key(b.start, b.booking_id),
        "GSI2PK": f"SBOOKINGS#{b.student_id}",
        "GSI2SK": order_key(b.start, b.booking_id),
        **booking_due_keys(b.booking_id, b.booking_status, b.start, b.end),
    }


def booking(i: Item) -> Booking:
    return Booking(
        booking_id=i["booking_id"],
        slot_id=i["slot_id"],
        tutor_id=i["tutor_id"],
        student_id=i["student_id"],
        booking_status=BookingStatus(i["booking_status"]),
        request_created_at=dt(i.get("request_created_at")),
        updated_at=dt(i.get("updated_at")),
        start=dt(i["start"]),
        end=dt(i["end"]),
        message=i.get("message"),
        reason=i.get("reason"),
    )


def note_item(n: Notification, now: datetime) -> Item:
    """An outbox entry; without times it is created, and due, `now`."""
    created = ts(n.created_at or now)
    due = ts(n.next_attempt_at) if n.next_attempt_at is not None else created
    return {
        **note_key(n.notification_id),
        "notification_id": n.notification_id,
        "kind": n.kind,
        "recipient_id": n.recipient_id,
        "payload": orjson.dumps(n.payload).decode(),
        "created_at": created,
        "attempts": n.attempts,
        "next_attempt_at": due,
        "status": n.status,
        "last_error": n.last_error,
        **outbox_keys(n.notification_id, n.status, due),
    }


def notification(i: Item) -> Notification:
    return Notification(
        notification_id=i["notification_id"],
        kind=i["kind"],
        recipient_id=i["recipient_id"],
        payload=orjson.loads(i["payload"]),
        created_at=dt(i.get("created_at")),
        attempts=i.get("attempts", 0),
        next_attempt_at=dt(i.get("next_attempt_at")),
        status=i["status"],
        last_error=i.get("last_error"),
    )


def subscription_item(s: Subscription) -> Item:
    return {
        **subscription_key(s.user_id),
        "user_id": s.user_id,
        "email": s.email,
        "status": s.status.value,
        "token": s.token,
        "created_at": ts(s.created_at),
        "confirm_token": s.confirm_token,
        "provider_ref": s.provider_ref,
        "GSI2PK": f"SUBTOKEN#{s.token}",
        "GSI2SK": "SUB",
    }


def subscription(i: Item) -> Subscription:
    return Subscription(
        i["user_id"],
        i["email"],
        SubscriptionStatus(i["status"]),
        i["token"],
        dt(i.get("created_at")),
        i.get("confirm_token"),
        i.get("provider_ref"),
    )
