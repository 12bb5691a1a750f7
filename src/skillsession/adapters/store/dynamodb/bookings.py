"""Bookings on DynamoDB: the booking (BOOKING#<id>; GSI1/GSI2 the tutor's and the student's by
start, GSI3 the due entries of pending and accepted ones), moved together with its slot, the
pair's and the student's counters (PAIR#, PENDING#) and its notification, in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from skillsession.adapters.store.dynamodb import items
from skillsession.adapters.store.dynamodb.calls import (
    OPTIMISTIC_RETRIES,
    Expr,
    Table,
    TransactionCancelled,
    below_limit,
)
from skillsession.adapters.store.dynamodb.items import DUE_KEYS, SLOT_INDEX_KEYS, pad, ts
from skillsession.domain.bookings import PER_TUTOR, TOTAL, PendingLimits, too_many_pending
from skillsession.domain.errors import NotFound, SlotUnavailable
from skillsession.domain.invariants import BOOKABLE_STATUS, bookable
from skillsession.domain.model import (
    Booking,
    BookingStatus,
    ExpiryResult,
    Notification,
    Profile,
    Slot,
    SlotStatus,
)


class DynamoBookings:
    def __init__(self, db: Table):
        self.db = db

    def get_profile_and_slot(
        self, user_id: str, slot_id: str
    ) -> tuple[Profile | None, Slot | None]:
        """One strongly consistent BatchGetItem."""
        keys = [items.profile_key(user_id), items.slot_key(slot_id)]
        found = {i["SK"]: i for i in self.db.batch_get(keys)}
        profile, slot = found.get("PROFILE"), found.get("SLOT")
        return (items.profile(profile) if profile else None, items.slot(slot) if slot else None)

    def request_booking(
        self,
        booking: Booking,
        notification: Notification,
        now: datetime,
        idempotency_key: str | None = None,
        limits: PendingLimits | None = None,
    ) -> Booking:
        """One TransactWriteItems, optimistic about the slot the caller read: take the slot
        (condition: bookable — `BOOKABLE_STATUS` and start > now — and the tutor and times the
        booking copies), put the booking, the notification and the idempotency key (condition:
        new), and count the request in the student's pending counters (the pair's and the
        student's; with `limits`, each on condition that it is below its limit). The
        cancellation reasons tell what went wrong: a used key returns its booking; a missing
        slot is `slot_not_found`; one not `bookable` `SlotUnavailable`; a full counter
        `TooManyPending`; a slot that is free but differs from the caller's copy is re-tried
        once with the slot's own values."""
        db = self.db
        stored = replace(booking, booking_status=BookingStatus.PENDING)
        note = items.note_item(notification, datetime.now(UTC))
        for _ in range(3):
            ops = [
                self._take_slot_op(stored, now),
                db.put(items.booking_item(stored), "attribute_not_exists(PK)"),
                db.put(note),
            ]
            if idempotency_key is not None:
                key = items.idempotency_key(stored.student_id, idempotency_key)
                remembered = {**key, "booking_id": stored.booking_id, "created_at": ts(now)}
                ops.append(db.put(remembered, "attribute_not_exists(PK)"))
                ops[-1]["Put"]["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
            counters = len(ops)  # the pair's pending counter, then the student's
            ops += self._pending_ops(stored, +1, limits)
            try:
                db.transact(ops)
                return stored
            except TransactionCancelled as cancelled:
                if idempotency_key is not None and cancelled.failed(3):
                    earlier = cancelled.old_item(3)  # the key's item, as it stopped ours
                    found = db.get(items.booking_key(earlier["booking_id"])) if earlier else None
                    if found is not None:
                        return items.booking(found)
                if not cancelled.failed(0):
                    if limits is not None and cancelled.failed(counters):
                        raise too_many_pending(limits, PER_TUTOR) from None
                    if limits is not None and cancelled.failed(counters + 1):
                        raise too_many_pending(limits, TOTAL) from None
                    raise
                current = cancelled.old_item(0)
                if current is None:
                    raise NotFound("slot not found", code="slot_not_found") from None
                slot = items.slot(current)
                if not bookable(slot.slot_status, slot.start, now):
                    raise SlotUnavailable(
                        "slot is not available", details={"slot_status": slot.slot_status.value}
                    ) from None
                stored = replace(stored, tutor_id=slot.tutor_id, start=slot.start, end=slot.end)
        raise SlotUnavailable("slot is not available", details={"slot_status": "changing"})

    def _take_slot_op(self, booking: Booking, now: datetime):
        """The slot becomes pending if it is `bookable` at `now` and is the booking's copy."""
        e = Expr()
        update = e.update(
            {"slot_status": SlotStatus.PENDING.value, "history": True}, remove=SLOT_INDEX_KEYS
        )
        start = e.n("start")
        condition = (
            f"attribute_exists(PK) AND {e.n('slot_status')} = {e.v(BOOKABLE_STATUS.value)} "
            f"AND {start} > {e.v(ts(now))} AND {start} = {e.v(ts(booking.start))} "
            f"AND {e.n('end')} = {e.v(ts(booking.end))} "
            f"AND {e.n('tutor_id')} = {e.v(booking.tutor_id)}"
        )
        return self.db.update(
            items.slot_key(booking.slot_id), update, e, condition, return_old_on_failure=True
        )

    def _slot_status_op(self, booking: Booking, status: SlotStatus):
        """Set the booking's slot to `status`, with the index keys of that status."""
        e = Expr()
        if status == SlotStatus.AVAILABLE:
            keys = items.free_slot_keys(booking.slot_id, booking.tutor_id, booking.start)
            update = e.update({"slot_status": status.value, **keys})
        else:
            update = e.update({"slot_status": status.value}, remove=SLOT_INDEX_KEYS)
        return self.db.update(items.slot_key(booking.slot_id), update, e, "attribute_exists(PK)")

    def _booking_status_op(
        self, booking: Booking, updated: Booking, extra_condition: str = "", e: Expr | None = None
    ):
        """Move `booking` (as read) to `updated`'s status, on condition it is still as read."""
        e = e or Expr()
        due = items.booking_due_keys(
            updated.booking_id, updated.booking_status, updated.start, updated.end
        )
        sets = {
            "booking_status": updated.booking_status.value,
            "updated_at": ts(updated.updated_at),
            **due,
        }
        if updated.reason is not None:
            sets["reason"] = updated.reason
        update = e.update(sets, remove=[k for k in DUE_KEYS if k not in due])
        condition = f"{e.n('booking_status')} = {e.v(booking.booking_status.value)}"
        return self.db.update(
            items.booking_key(booking.booking_id), update, e, condition + extra_condition
        )

    def _pair_op(self, booking: Booking, accepted: int, pending: int = 0, below: int | None = None):
        """Add to the pair's numbers of accepted and of pending bookings (one item, so that a
        transaction names it once); with `below`, on condition that pending is below it."""
        e = Expr()
        add = {"accepted": accepted, "pending": pending}
        update = e.update(
            {"tutor_id": booking.tutor_id, "student_id": booking.student_id},
            add={name: delta for name, delta in add.items() if delta},
        )
        key = items.pair_key(booking.tutor_id, booking.student_id)
        return self.db.update(key, update, e, below_limit(e, "pending", below))

    def _pending_ops(
        self, booking: Booking, delta: int, limits: PendingLimits | None = None, accepted: int = 0
    ):
        """The student's pending counters moved by `delta`: the pair's (with its accepted
        number moved by `accepted`), then the student's; with `limits`, each on condition that
        it is below its limit (a missing counter is 0). Every transaction that moves a booking
        into or out of `pending` carries these, so that each counter is the number of such
        bookings (the consistency scan compares them)."""
        per_tutor, total = (limits.per_tutor, limits.total) if limits else (None, None)
        e = Expr()
        update = e.update({"student_id": booking.student_id}, add={"pending": delta})
        mine = self.db.update(
            items.pending_key(booking.student_id), update, e, below_limit(e, "pending", total)
        )
        return [self._pair_op(booking, accepted, delta, per_tutor), mine]

    def transition_booking(
        self,
        booking_id: str,
        from_statuses: frozenset[BookingStatus],
        to_status: BookingStatus,
        slot_status: SlotStatus,
        now: datetime,
        reason: str | None,
        notification: Notification | None,
        require_not_started: bool,
    ) -> Booking | None:
        """Read the booking, then one transaction conditioned on its status being what was
        read (and, if asked, on its start > now): booking, slot, notification, and the pair's
        accepted-bookings counter. A lost race reads again.

        The first try may take the booking as `get_booking` read it in this process: its
        status only moves forward (no state comes back), so if the status is still the one
        read, so is the rest, and the transaction's condition checks exactly that. Only a
        fresh read answers None."""
        db = self.db
        read = db.recent.take(("BOOKING", booking_id))
        for attempt in range(OPTIMISTIC_RETRIES):
            fresh = read is None
            found = db.get(items.booking_key(booking_id)) if fresh else read
            read = None
            if found is None:
                return None
            booking = items.booking(found)
            if booking.booking_status not in from_statuses or (
                require_not_started and booking.start <= now
            ):
                if fresh:
                    return None
                continue
            updated = replace(
                booking,
                booking_status=to_status,
                updated_at=now,
                reason=reason if reason is not None else booking.reason,
            )
            e = Expr()
            not_started = f" AND {e.n('start')} > {e.v(ts(now))}" if require_not_started else ""
            ops = [
                self._booking_status_op(booking, updated, not_started, e),
                self._slot_status_op(booking, slot_status),
            ]
            if notification is not None:
                ops.append(db.put(items.note_item(notification, datetime.now(UTC))))
            accepted = BookingStatus.ACCEPTED
            delta = (to_status == accepted) - (booking.booking_status == accepted)
            if booking.booking_status == BookingStatus.PENDING:  # leaves pending (never back)
                ops += self._pending_ops(booking, -1, accepted=delta)
            elif delta:
                ops.append(self._pair_op(booking, delta))
            try:
                db.transact(ops)
                return replace(updated, updated_at=items.dt(ts(now)))
            except TransactionCancelled as cancelled:
                if not cancelled.failed(0):
                    raise
                if fresh:
                    db.backoff(attempt)
        return None

    def get_booking(self, booking_id: str) -> Booking | None:
        found = self.db.get(items.booking_key(booking_id))
        if found is None:
            return None
        self.db.recent.put(("BOOKING", booking_id), found)  # for a transition_booking after
        return items.booking(found)

    def has_accepted_booking(self, tutor_id: str, student_id: str) -> bool:
        pair = self.db.get(items.pair_key(tutor_id, student_id))
        return bool(pair) and pair.get("accepted", 0) > 0

    def _bookings(self, index, pk, status, start_from, start_before, limit, after):
        """One person's bookings by (start, booking_id) from a GSI: the range and the cursor
        are the sort key's bounds, the status a filter (paged until `limit` are found)."""
        if limit <= 0:
            return []
        low = pad(ts(start_from)) if start_from is not None else "0"
        cursor = f"{pad(ts(after[0]))}#{after[1]}" if after is not None else None
        if cursor is not None and cursor > low:
            low = cursor
        high = pad(ts(start_before)) if start_before is not None else "~"
        if low > high:
            return []
        e = Expr()
        condition = (
            f"{e.n(index + 'PK')} = {e.v(pk)} AND "
            f"{e.n(index + 'SK')} BETWEEN {e.v(low)} AND {e.v(high)}"
        )
        filter_expression = None
        if status is not None:
            filter_expression = f"{e.n('booking_status')} = {e.v(BookingStatus(status).value)}"
        page_size = limit + 1 if status is None else max(limit + 1, 50)
        found = []
        for item in self.db.query(
            condition, e, index=index, page_size=page_size, filter_expression=filter_expression
        ):
            if item[index + "SK"] == cursor:
                continue  # BETWEEN includes the cursor itself
            found.append(items.booking(item))
            if len(found) >= limit:
                break
        return found

    def bookings_for_tutor(
        self,
        tutor_id: str,
        status: BookingStatus | None,
        start_from: datetime | None,
        start_before: datetime | None,
        limit: int,
        after: tuple[datetime, str] | None,
    ) -> list[Booking]:
        return self._bookings(
            "GSI1", f"TBOOKINGS#{tutor_id}", status, start_from, start_before, limit, after
        )

    def bookings_for_student(
        self,
        student_id: str,
        status: BookingStatus | None,
        start_from: datetime | None,
        start_before: datetime | None,
        limit: int,
        after: tuple[datetime, str] | None,
    ) -> list[Booking]:
        return self._bookings(
            "GSI2", f"SBOOKINGS#{student_id}", status, start_from, start_before, limit, after
        )

    def expire(
        self, now: datetime, limit: int, notify_expired: Callable[[Booking], Notification]
    ) -> ExpiryResult:
        """What is due comes from GSI3's sparse, sharded due indexes (oldest first); each
        change is a conditional write that re-checks the item, so a second job running at the
        same time (or a stale index entry) changes nothing twice."""
        db = self.db
        result = ExpiryResult()
        at = ts(now)
        for entry in db.due("DUESLOT", now, limit):
            e = Expr()
            op = db.update(
                items.slot_key(entry["slot_id"]),
                e.update({"slot_status": SlotStatus.EXPIRED.value}, remove=SLOT_INDEX_KEYS),
                e,
                f"{e.n('slot_status')} = {e.v(SlotStatus.AVAILABLE.value)} "
                f"AND {e.n('start')} <= {e.v(at)}",
            )
            if db.try_update(op):
                result.slots_expired += 1
        for entry in db.due("DUEPENDING", now, limit):
            booking = items.booking(entry)
            expired = replace(booking, booking_status=BookingStatus.EXPIRED, updated_at=now)
            ops = [
                self._booking_status_op(booking, expired),
                self._slot_status_op(booking, SlotStatus.EXPIRED),
                db.put(items.note_item(notify_expired(replace(expired)), now)),
                *self._pending_ops(booking, -1),
            ]
            if db.try_transact(ops):
                result.bookings_expired += 1
        for entry in db.due("DUEACCEPTED", now, limit):
            booking = items.booking(entry)
            completed = replace(booking, booking_status=BookingStatus.COMPLETED, updated_at=now)
            ops = [self._booking_status_op(booking, completed), self._pair_op(booking, -1)]
            if db.try_transact(ops):
                result.bookings_completed += 1
        return result
