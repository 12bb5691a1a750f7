"""store_peek for the dynamodb store."""

from __future__ import annotations


def get_user(stores, user_id):
    return stores.admin.get_user(user_id)


def get_verification_code(stores, user_id):
    return stores.admin.get_verification_code(user_id)


def get_slot(stores, slot_id):
    return stores.admin.get_slot(slot_id)


def get_notification(stores, notification_id):
    return stores.admin.get_notification(notification_id)


def add_notifications(stores, notifications):
    stores.admin.add_notifications(notifications)
