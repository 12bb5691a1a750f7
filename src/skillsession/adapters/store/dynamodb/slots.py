"""Availability on DynamoDB: windows (AVAIL#<id>, listing their slot ids; TUTOR#<id>
AVAIL#<start>#<id> in start order for the overlap check) and their slots (SLOT#<id>; GSI1 all
of a tutor's slots by start, GSI4 the free ones). The overlap guard is `locking`."""

from __future__ import annotations

import itertools
from datetime import datetime

from skillsession.adapters.store.dynamodb import items
from skillsession.adapters.store.dynamodb.calls import (
    MAX_TRANSACTION_ITEMS,
    OPTIMISTIC_RETRIES,
    Expr,
    Table,
    TransactionCancelled,
)
from skillsession.adapters.store.dynamodb.items import SLOT_INDEX_KEYS, Item, pad, ts
from skillsession.adapters.store.dynamodb.locking import TutorLocks
from skillsession.domain.errors import Conflict, NotFound
from skillsession.domain.model import Availability, Profile, Slot, SlotStatus


class DynamoSlots:
    def __init__(self, db: Table):
        self.db = db
        self.locks = TutorLocks(db)

    def get_profile_for_availability(self, user_id: str) -> Profile | None:
        """The profile and the tutor's LOCK item in one strongly consistent BatchGetItem; the
        LOCK as read is kept for the `create_availability` that follows (see `locking`)."""
        found = {
            i["SK"]: i
            for i in self.db.batch_get([items.profile_key(user_id), items.lock_key(user_id)])
        }
        self.locks.remember(user_id, found.get("LOCK"))
        profile = found.get("PROFILE")
        return items.profile(profile) if profile else None

    def create_availability(self, windows: list[Availability], slots: list[Slot]) -> None:
        """Under the tutors' locks (`locking.TutorLocks.write`): the overlap check, then the
        windows and their slots, in one transaction where they fit."""
        if not windows and not slots:
            return
        groups = self._window_groups(windows, slots)
        tutors = sorted({w.tutor_id for w in windows})
        self.locks.write(tutors, groups, lambda: self._check_overlaps(windows))

    def _window_groups(self, windows: list[Availability], slots: list[Slot]):
        """Put operations per window: the window, its entry in the tutor's window list, and
        its slots (slots naming no window of this call come last, on their own)."""
        put = self.db.put
        by_window: dict[str, list[Slot]] = {}
        for slot in slots:
            by_window.setdefault(slot.availability_id, []).append(slot)
        groups = []
        for window in windows:
            mine = by_window.pop(window.availability_id, [])
            groups.append(
                [
                    put(items.window_item(window, [s.slot_id for s in mine])),
                    put(items.window_index_item(window)),
                    *[put(items.slot_item(s)) for s in mine],
                ]
            )
        rest = [s for group in by_window.values() for s in group]
        if rest:
            groups.append([put(items.slot_item(s)) for s in rest])
        return groups

    def _check_overlaps(self, windows: list[Availability]) -> None:
        """A tutor's windows never overlap, so the last one starting before a new window ends
        is the only one that can overlap it. One Query per tutor finds that window for every
        new window: the tutor's windows by start, latest first, from the end of the last new
        window down to the first that starts before the first new window (older ones end
        before it). Usually one page (the new windows' count + 1 entries); one more only per
        that many existing windows lying between the new ones."""
        existing: dict[str, list[Item]] = {}
        for tutor in sorted({w.tutor_id for w in windows}):
            mine = [w for w in windows if w.tutor_id == tutor]
            existing[tutor] = self._windows_before(tutor, mine)
        accepted: list[Availability] = []
        for window in windows:
            end, start = ts(window.end), ts(window.start)
            last = next((i for i in existing[window.tutor_id] if i["start"] < end), None)
            clash = last["availability_id"] if last and last["end"] > start else None
            for other in accepted:
                overlaps = other.start < window.end and other.end > window.start
                if clash is None and other.tutor_id == window.tutor_id and overlaps:
                    clash = other.availability_id
            if clash is not None:
                raise Conflict(
                    "the window overlaps one of your existing windows",
                    code="availability_overlap",
                    details={"availability_id": clash},
                )
            accepted.append(window)

    def _windows_before(self, tutor_id: str, windows: list[Availability]) -> list[Item]:
        """The tutor's window entries starting before the last end of `windows`, latest first,
        down to and including the first one that starts before the first of them."""
        first = min(ts(w.start) for w in windows)
        e = Expr()
        condition = (
            f"{e.n('PK')} = {e.v(f'TUTOR#{tutor_id}')} AND {e.n('SK')} BETWEEN "
            f"{e.v('AVAIL#')} AND {e.v(f'AVAIL#{pad(max(ts(w.end) for w in windows))}')}"
        )
        found: list[Item] = []
        for entry in self.db.query(condition, e, page_size=len(windows) + 1, forward=False):
            found.append(entry)
            if entry["start"] < first:
                break
        return found

    def get_availability(self, availability_id: str) -> Availability | None:
        found = self.db.get(items.window_key(availability_id))
        if found is None:
            return None
        self.db.recent.put(("AVAIL", availability_id), found)  # a window never changes
        return items.availability(found)

    def delete_availability(self, availability_id: str) -> None:
        """The window (it lists its slot ids; as `get_availability` read it, if it did: a
        window never changes, and its delete is conditioned on its existence), then first one
        transaction that assumes every slot free and never booked, the usual case: each is
        deleted on that condition, and the window with them. If that is cancelled because a
        slot is pending or booked (the cancellation carries the slots whose condition failed,
        as they were), that is the refusal, with no further read. Else the slots are read, and
        one transaction deletes free slots and makes slots with booking history `expired`,
        each on the condition that it is still as read. A window has at most 96 slots through
        the API; beyond 98 the slots go in earlier transactions and the window last."""
        db = self.db
        window = db.recent.take(("AVAIL", availability_id))
        for attempt in range(OPTIMISTIC_RETRIES):
            window = window or db.get(items.window_key(availability_id))
            if window is None:
                raise NotFound("no such availability", code="availability_not_found")
            window_ops = [
                db.delete(items.window_key(availability_id), "attribute_exists(PK)"),
                db.delete(
                    items.window_index_key(
                        window["tutor_id"], items.dt(window["start"]), availability_id
                    )
                ),
            ]
            slot_ids = window.get("slot_ids") or []
            if attempt == 0 and len(slot_ids) + len(window_ops) <= MAX_TRANSACTION_ITEMS:
                try:
                    db.transact([*map(self._never_booked_slot_op, slot_ids), *window_ops])
                    return
                except TransactionCancelled as cancelled:
                    failed = [cancelled.old_item(i) for i in range(len(slot_ids))]
                    _refuse_if_busy([s for s in failed if s is not None])
                    # else a slot was booked once (or the window went): read them
            slots = db.batch_get([items.slot_key(i) for i in slot_ids])
            _refuse_if_busy(slots)
            ops = [self._free_slot_op(s) for s in slots] + window_ops
            try:
                for start in range(0, len(ops), MAX_TRANSACTION_ITEMS):
                    db.transact(ops[start : start + MAX_TRANSACTION_ITEMS])
                return
            except TransactionCancelled:
                window = None
                db.backoff(attempt)  # a slot changed (or the window went): look again
        raise Conflict("the window is being changed concurrently", code="concurrent_update")

    def _never_booked_slot_op(self, slot_id: str):
        """Delete a slot that is not pending or booked and never was."""
        e = Expr()
        free = (SlotStatus.AVAILABLE.value, SlotStatus.EXPIRED.value)
        condition = (
            f"{e.n('slot_status')} IN ({', '.join(e.v(v) for v in free)}) "
            f"AND attribute_not_exists({e.n('history')})"
        )
        op = self.db.delete(items.slot_key(slot_id), condition, e)
        op["Delete"]["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        return op

    def _free_slot_op(self, slot: Item):
        e = Expr()
        condition = f"{e.n('slot_status')} = {e.v(slot['slot_status'])}"
        if slot.get("history"):
            update = e.update({"slot_status": SlotStatus.EXPIRED.value}, remove=SLOT_INDEX_KEYS)
            return self.db.update(items.slot_key(slot["slot_id"]), update, e, condition)
        condition += f" AND attribute_not_exists({e.n('history')})"
        return self.db.delete(items.slot_key(slot["slot_id"]), condition, e)

    def delete_tutor_availability(self, tutor_id: str) -> None:
        """Window by window (each found through the tutor's window list), one transaction
        each: the slots no booking names deleted, the free ones with history `expired`, the
        slots of live (or completed) bookings untouched, and the window with its list entry;
        each slot on the condition that it is still as read."""
        e = Expr()
        condition = (
            f"{e.n('PK')} = {e.v(f'TUTOR#{tutor_id}')} AND begins_with({e.n('SK')}, "
            f"{e.v('AVAIL#')})"
        )
        for entry in list(self.db.query(condition, e)):
            self._delete_window_for_good(entry)

    def _delete_window_for_good(self, entry: Item) -> None:
        db = self.db
        availability_id = entry["availability_id"]
        for attempt in range(OPTIMISTIC_RETRIES):
            window = db.get(items.window_key(availability_id))
            slot_ids = (window or {}).get("slot_ids") or []
            slots = db.batch_get([items.slot_key(i) for i in slot_ids])
            ops = [op for s in slots if (op := self._slot_for_good_op(s)) is not None]
            ops += [
                db.delete(items.window_key(availability_id)),
                db.delete(items.key(entry["PK"], entry["SK"])),
            ]
            try:
                for start in range(0, len(ops), MAX_TRANSACTION_ITEMS):
                    db.transact(ops[start : start + MAX_TRANSACTION_ITEMS])
                return
            except TransactionCancelled:
                db.backoff(attempt)  # a slot changed meanwhile: read again
        raise Conflict("the window is being changed concurrently", code="concurrent_update")

    def _slot_for_good_op(self, slot: Item):
        """What deleting its tutor's availability does to a slot (None: nothing)."""
        status = slot["slot_status"]
        if status in (SlotStatus.PENDING.value, SlotStatus.BOOKED.value):
            return None  # a live (or completed) booking's slot stays as it is
        if slot.get("history") and status != SlotStatus.AVAILABLE.value:
            return None
        return self._free_slot_op(slot)

    def slots_for_tutor(
        self,
        tutor_id: str,
        start_from: datetime,
        start_before: datetime,
        status: SlotStatus | None,
        limit: int | None = None,
    ) -> list[Slot]:
        """GSI1 (all of the tutor's slots by start), or GSI4 for `available` ones; another
        status is a filter over the range (the service bounds ranges to 92 days)."""
        low, high = pad(ts(start_from)), pad(ts(start_before))  # "<high>#id" > "<high>"
        if low > high:
            return []
        if status == SlotStatus.AVAILABLE:
            found = self.db.index_range("GSI4", f"FREE#{tutor_id}", low, high, page_size=limit)
        elif status is None:
            found = self.db.index_range("GSI1", f"SLOTS#{tutor_id}", low, high, page_size=limit)
        else:
            e = Expr()
            condition = (
                f"{e.n('GSI1PK')} = {e.v(f'SLOTS#{tutor_id}')} AND "
                f"{e.n('GSI1SK')} BETWEEN {e.v(low)} AND {e.v(high)}"
            )
            found = self.db.query(
                condition,
                e,
                index="GSI1",
                filter_expression=f"{e.n('slot_status')} = {e.v(status.value)}",
            )
        return [items.slot(i) for i in itertools.islice(found, limit)]


def _refuse_if_busy(slots: list[Item]) -> None:
    """`availability_in_use` if one of the window's slots (as read) is pending or booked."""
    busy = (SlotStatus.PENDING.value, SlotStatus.BOOKED.value)
    if any(s.get("slot_status") in busy for s in slots):
        raise Conflict("a slot of this window is pending or booked", code="availability_in_use")
