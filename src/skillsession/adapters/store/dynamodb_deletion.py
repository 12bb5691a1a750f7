"""Deleting an account on DynamoDB (`AccountStore.delete_account`,
`SlotStore.delete_tutor_availability`): a part of `DynamoStore`, kept apart so that the store's
module does not grow. Each method is TransactWriteItems with conditions on what was read,
retried when a concurrent write got in between."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from skillsession.adapters.store import dynamodb_items as items
from skillsession.adapters.store.dynamodb_items import SLOT_INDEX_KEYS, Item
from skillsession.domain.errors import Conflict
from skillsession.domain.model import SlotStatus

if TYPE_CHECKING:
    from skillsession.adapters.store.dynamodb import DynamoStore

RETRIES = 8
MAX_ITEMS = 100


def deleted_key(user_id: str) -> Item:
    """The mark that the user deleted the account (nothing else of them is in it)."""
    return items.key(f"USER#{user_id}", "DELETED")


class AccountDeletion:
    def delete_account(self: DynamoStore, user_id: str) -> None:
        """One transaction: the profile (on its version as read, so a concurrent save cannot
        leave skill entries behind) with its skill entries, the subscription, the codes, the
        account and its e-mail guard (on the guard still being this account's), and the
        deleted mark."""
        from skillsession.adapters.store.dynamodb import Expr, TransactionCancelled, _backoff

        for attempt in range(RETRIES):
            profile = self._get(items.profile_key(user_id))
            account = self._get(items.user_key(user_id))
            e = Expr()
            ops: list[dict[str, Any]] = []
            if profile is not None:
                version = profile.get("version")
                condition = (
                    f"attribute_not_exists({e.n('version')})"
                    if version is None
                    else f"{e.n('version')} = {e.v(version)}"
                )
                ops.append(self._delete(items.profile_key(user_id), condition, e))
                ops += [
                    self._delete(items.skill_item_key(k, user_id))
                    for k in profile.get("skill_keys") or []
                ]
            ops.append(self._delete(items.subscription_key(user_id)))
            ops.append(self._delete(items.legacy_code_key(user_id)))
            if account is not None:
                email = account["email"]
                g = Expr()
                ops += [
                    self._delete(items.user_key(user_id)),
                    self._delete(items.email_key(email), f"{g.n('user_id')} = {g.v(user_id)}", g),
                    self._delete(items.code_key(email)),
                ]
            ops.append(self._put({**deleted_key(user_id), "user_id": user_id}))
            try:
                self._transact(ops)
                return
            except TransactionCancelled:
                _backoff(attempt)  # the profile changed meanwhile: read again
        raise Conflict("the account is being changed concurrently", code="concurrent_update")

    def delete_tutor_availability(self: DynamoStore, tutor_id: str) -> None:
        """Window by window (each found through the tutor's window index), one transaction
        each: the slots no booking names deleted, the free ones with history `expired`, the
        slots of live bookings untouched, and the window with its index entry; each slot on
        the condition that it is still as read."""
        from skillsession.adapters.store.dynamodb import Expr

        e = Expr()
        condition = (
            f"{e.n('PK')} = {e.v(f'TUTOR#{tutor_id}')} AND begins_with({e.n('SK')}, "
            f"{e.v('AVAIL#')})"
        )
        for entry in list(self._query(condition, e)):
            self._delete_window_for_good(tutor_id, entry)
        self._read.take(("LOCK", tutor_id))

    def _delete_window_for_good(self: DynamoStore, tutor_id: str, entry: Item) -> None:
        from skillsession.adapters.store.dynamodb import TransactionCancelled, _backoff

        availability_id = entry["availability_id"]
        for attempt in range(RETRIES):
            window = self._get(items.window_key(availability_id))
            slot_ids = (window or {}).get("slot_ids") or []
            slots = self._batch_get([items.slot_key(i) for i in slot_ids])
            ops = [op for s in slots if (op := self._slot_for_good_op(s)) is not None]
            ops += [
                self._delete(items.window_key(availability_id)),
                self._delete(items.key(entry["PK"], entry["SK"])),
            ]
            try:
                for start in range(0, len(ops), MAX_ITEMS):
                    self._transact(ops[start : start + MAX_ITEMS])
                return
            except TransactionCancelled:
                _backoff(attempt)  # a slot changed meanwhile: read again
        raise Conflict("the window is being changed concurrently", code="concurrent_update")

    def _slot_for_good_op(self: DynamoStore, slot: Item) -> dict[str, Any] | None:
        from skillsession.adapters.store.dynamodb import Expr

        status = slot["slot_status"]
        if status in (SlotStatus.PENDING.value, SlotStatus.BOOKED.value):
            return None  # a live (or completed) booking's slot stays as it is
        e = Expr()
        condition = f"{e.n('slot_status')} = {e.v(status)}"
        if slot.get("history"):
            if status != SlotStatus.AVAILABLE.value:
                return None
            update = e.update({"slot_status": SlotStatus.EXPIRED.value}, remove=SLOT_INDEX_KEYS)
            return self._update(items.slot_key(slot["slot_id"]), update, e, condition)
        condition += f" AND attribute_not_exists({e.n('history')})"
        return self._delete(items.slot_key(slot["slot_id"]), condition, e)
