"""Reads and writes that only tests need (no service path uses them, so they are no port
method): each backend looks at or plants one row its own way, in `store_peek/<backend>.py`."""

from __future__ import annotations

import importlib

from skillsession.domain.model import Notification, Slot, User, VerificationCode
from skillsession.ports.storage import Stores


def _backend(stores: Stores):
    return importlib.import_module(f"store_peek.{stores.backend_name}")


def get_user(stores: Stores, user_id: str) -> User | None:
    return _backend(stores).get_user(stores, user_id)


def get_verification_code(stores: Stores, user_id: str) -> VerificationCode | None:
    return _backend(stores).get_verification_code(stores, user_id)


def get_slot(stores: Stores, slot_id: str) -> Slot | None:
    return _backend(stores).get_slot(stores, slot_id)


def get_notification(stores: Stores, notification_id: str) -> Notification | None:
    return _backend(stores).get_notification(stores, notification_id)


def notifications(stores: Stores) -> list[Notification]:
    """Every notification in the outbox (the memory store's peek has it: a service test's
    whole outbox)."""
    return _backend(stores).notifications(stores)


def add_notifications(stores: Stores, notifications: list[Notification]) -> None:
    """Queue notifications on their own (the service only queues them with a state change)."""
    _backend(stores).add_notifications(stores, notifications)
