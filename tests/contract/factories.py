"""Store adapters under contract, and builders for the entities the contract tests store.

To put a new Store adapter under the contract suite, add one entry to STORE_FACTORIES."""

from __future__ import annotations

import itertools
import types
import typing
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

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
from skillsession.ports.storage import Stores


def role_ports() -> dict[str, type]:
    """Each role of `Stores` (the field name, e.g. "accounts") and its port (the Protocol)."""
    ports = {}
    for role, hint in typing.get_type_hints(Stores).items():
        if isinstance(hint, types.UnionType):  # `AnswerVersions | None`
            hint = next(t for t in typing.get_args(hint) if t is not type(None))
        ports[role] = hint
    return ports


def port_methods(port: type) -> set[str]:
    return {n for n, v in vars(port).items() if callable(v) and not n.startswith("_")}


def _memory(tmp_path: Path) -> Stores:
    from skillsession.adapters.store import memory

    return memory.open_store()


def _sqlite(tmp_path: Path) -> Stores:
    from skillsession.adapters.store.sqlite import open_file

    return open_file(tmp_path / "contract.db")


def _dynamodb(tmp_path: Path) -> Stores:
    from moto_server import dynamodb_store  # a fresh table on the session's moto server

    return dynamodb_store()


# name -> factory(empty directory) -> the Stores of a backend not yet migrated
STORE_FACTORIES: dict[str, Callable[[Path], Stores]] = {
    "memory": _memory,
    "sqlite": _sqlite,
    "dynamodb": _dynamodb,
}

BASE = datetime(2030, 1, 1, tzinfo=UTC)  # "now" in every contract test
_serial = itertools.count(1)


def at(hours: float = 0, minutes: float = 0, days: float = 0) -> datetime:
    return BASE + timedelta(days=days, hours=hours, minutes=minutes)


def new_id(prefix: str) -> str:
    """Unique and increasing in creation order (so that id ordering is predictable)."""
    return f"{prefix}-{next(_serial):08d}"


def make_user(email: str | None = None, user_id: str | None = None) -> User:
    user_id = user_id or new_id("user")
    return User(
        user_id=user_id,
        email=email or f"{user_id}@example.org",
        password_hash="argon2-hash",
        status=AccountStatus.UNCONFIRMED,
        created_at=BASE,
    )


def make_code(user_id: str, code_hash: str = "hash-1", failed_attempts: int = 0):
    return VerificationCode(user_id, code_hash, at(minutes=15), failed_attempts)


def make_notification(
    recipient_id: str = "someone",
    kind: str = "test",
    due: datetime = BASE,
    payload: dict | None = None,
) -> Notification:
    return Notification(
        notification_id=new_id("note"),
        kind=kind,
        recipient_id=recipient_id,
        payload=payload if payload is not None else {"n": 1},
        created_at=due,
        next_attempt_at=due,
    )


def make_profile(
    user_id: str | None = None,
    role: Role = Role.TUTOR,
    skills: list[str] | None = None,
    email: str | None = None,
) -> Profile:
    user_id = user_id or new_id("user")
    return Profile(
        user_id=user_id,
        email=email or f"{user_id}@example.org",
        role=role,
        first_name="Ada",
        last_name="Lovelace",
        mobile_number="+44 20 0000 0000",
        time_zone="Europe/London",
        enrolled_courses=["Analysis I"] if role == Role.STUDENT else None,
        teaching_skills=skills if role == Role.TUTOR else None,
        experience_years=3 if role == Role.TUTOR else None,
        created_at=BASE,
        updated_at=BASE,
    )


def make_window(
    tutor_id: str, start: datetime, end: datetime, slot_minutes: int = 60
) -> tuple[Availability, list[Slot]]:
    """A window and its back-to-back slots (all available)."""
    window = Availability(new_id("avail"), tutor_id, start, end, "UTC", slot_minutes, BASE)
    step = timedelta(minutes=slot_minutes)
    slots = []
    begin = start
    while begin + step <= end:
        slots.append(
            Slot(
                new_id("slot"),
                tutor_id,
                window.availability_id,
                begin,
                begin + step,
                SlotStatus.AVAILABLE,
                "UTC",
            )
        )
        begin += step
    return window, slots


def publish(
    store: Stores, tutor_id: str, start: datetime, hours: int = 1, slot_minutes: int = 60
) -> tuple[Availability, list[Slot]]:
    window, slots = make_window(tutor_id, start, start + timedelta(hours=hours), slot_minutes)
    store.slots.create_availability([window], slots)
    return window, slots


def make_booking(slot: Slot, student_id: str, now: datetime = BASE) -> Booking:
    return Booking(
        booking_id=new_id("booking"),
        slot_id=slot.slot_id,
        tutor_id=slot.tutor_id,
        student_id=student_id,
        booking_status=BookingStatus.PENDING,
        request_created_at=now,
        updated_at=now,
        start=slot.start,
        end=slot.end,
        message="hello",
    )


def request(
    store: Stores, slot: Slot, student_id: str = "student", now: datetime = BASE, key=None
) -> Booking:
    booking = make_booking(slot, student_id, now)
    note = make_notification(slot.tutor_id, "booking_requested", now)
    return store.bookings.request_booking(booking, note, now, key)


def make_subscription(user_id: str, token: str | None = None) -> Subscription:
    return Subscription(
        user_id=user_id,
        email=f"{user_id}@example.org",
        status=SubscriptionStatus.PENDING_CONFIRMATION,
        token=token or new_id("token"),
        created_at=BASE,
        confirm_token=f"{user_id}.{new_id('confirm')}",
    )
