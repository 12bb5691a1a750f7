"""store_peek for the sqlite store: one row read (or insert) on the roles' shared database."""

from __future__ import annotations

from skillsession.adapters.store.sqlite import rows
from skillsession.adapters.store.sqlite.db import notify


def _one(stores, sql, key):
    return stores.admin.database.one(sql, (key,))


def get_user(stores, user_id):
    row = _one(stores, f"SELECT {rows.USER_COLUMNS} FROM users WHERE user_id = ?", user_id)
    return rows.user(row) if row else None


def get_verification_code(stores, user_id):
    sql = f"SELECT {rows.CODE_COLUMNS} FROM verification_codes WHERE user_id = ?"
    row = _one(stores, sql, user_id)
    return rows.code(row) if row else None


def get_slot(stores, slot_id):
    row = _one(stores, rows.SELECT_SLOT, slot_id)
    return rows.slot(row) if row else None


def get_notification(stores, notification_id):
    sql = f"SELECT {rows.NOTIFICATION_COLUMNS} FROM notifications WHERE notification_id = ?"
    row = _one(stores, sql, notification_id)
    return rows.notification(row) if row else None


def add_notifications(stores, notifications):
    with stores.admin.database.tx() as db:
        for notification in notifications:
            notify(db, notification)
