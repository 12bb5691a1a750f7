"""store_peek for the memory store: a look into its dicts, under its lock."""

from __future__ import annotations

import copy


def _read(stores, table: str, key: str):
    state = stores.admin.state
    with state.lock:
        return copy.deepcopy(getattr(state, table).get(key))


def get_user(stores, user_id):
    return _read(stores, "users", user_id)


def get_verification_code(stores, user_id):
    return _read(stores, "codes", user_id)


def get_slot(stores, slot_id):
    return _read(stores, "slots", slot_id)


def get_notification(stores, notification_id):
    return _read(stores, "notifications", notification_id)


def notifications(stores):
    state = stores.admin.state
    with state.lock:
        return copy.deepcopy(list(state.notifications.values()))


def add_notifications(stores, notifications):
    state = stores.admin.state
    with state.lock:
        for notification in notifications:
            state.notify(notification)
