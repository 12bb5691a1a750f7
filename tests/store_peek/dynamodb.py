"""store_peek for the dynamodb store: one GetItem (or BatchWriteItem) on the table, through the
store's own calls (`stores.admin.db`)."""

from __future__ import annotations

from datetime import UTC, datetime

from skillsession.adapters.store.dynamodb import items


def get_user(stores, user_id):
    found = stores.admin.db.get(items.user_key(user_id))
    return items.user(found) if found else None


def get_verification_code(stores, user_id):
    """Where the store keeps it: beside the account's e-mail guard, or (a code stored before
    codes moved there, or of a user id without an account) in the account's partition."""
    db = stores.admin.db
    account = db.get(items.user_key(user_id))
    places = [items.code_key(account["email"])] if account else []
    for where in [*places, items.legacy_code_key(user_id)]:
        found = db.get(where)
        if found is not None:
            return items.code(found)
    return None


def get_slot(stores, slot_id):
    found = stores.admin.db.get(items.slot_key(slot_id))
    return items.slot(found) if found else None


def get_notification(stores, notification_id):
    found = stores.admin.db.get(items.note_key(notification_id))
    return items.notification(found) if found else None


def add_notifications(stores, notifications):
    now = datetime.now(UTC)
    stores.admin.db.batch_write(puts=[items.note_item(n, now) for n in notifications])
