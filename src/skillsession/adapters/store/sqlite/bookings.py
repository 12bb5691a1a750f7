"""BookingStore on SQLite: the state changes that move a slot and a booking together (each one
transaction), and the lists."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from skillsession.adapters.store.sqlite import rows
from skillsession.adapters.store.sqlite.db import Database, bump, bump_lists, notify
from skillsession.domain.bookings import PendingLimits, check_pending
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

# `domain.invariants.bookable` as the condition of the UPDATE that takes the slot: one statement
# decides and takes it, under the write lock
TAKE_SLOT = (
    "UPDATE slots SET slot_status = 'pending' "
    f"WHERE slot_id = ? AND slot_status = '{BOOKABLE_STATUS.value}' AND start > ? "
    'RETURNING tutor_id, start, "end"'
)
BOOKING_BY_KEY = (
    f"SELECT {rows.BOOKING_COLUMNS} FROM bookings WHERE booking_id = "
    "(SELECT booking_id FROM idempotency_keys WHERE student_id = ? AND key = ?)"
)
PENDING_OF_STUDENT = (
    "SELECT coalesce(sum(tutor_id = ?), 0), count(*) FROM bookings "
    "WHERE student_id = ? AND booking_status = 'pending'"
)
BOOKING_BY_ID = f"SELECT {rows.BOOKING_COLUMNS} FROM bookings WHERE booking_id = ?"


class SqliteBookings:
    def __init__(self, database: Database):
        self._db = database

    def get_profile_and_slot(
        self, user_id: str, slot_id: str
    ) -> tuple[Profile | None, Slot | None]:
        one = self._db.one
        profile, slot = one(rows.SELECT_PROFILE, (user_id,)), one(rows.SELECT_SLOT, (slot_id,))
        return (rows.profile(profile) if profile else None, rows.slot(slot) if slot else None)

    def request_booking(
        self,
        booking: Booking,
        notification: Notification,
        now: datetime,
        idempotency_key: str | None = None,
        limits: PendingLimits | None = None,
    ) -> Booking:
        with self._db.tx() as db:
            if idempotency_key is not None:
                earlier = db.execute(
                    BOOKING_BY_KEY, (booking.student_id, idempotency_key)
                ).fetchone()
                if earlier:
                    return rows.booking(earlier)
            taken = db.execute(TAKE_SLOT, (booking.slot_id, rows.ts(now))).fetchone()
            if taken is None:
                _refuse(db, booking.slot_id, now)
            tutor_id, start, end = taken
            if limits is not None and not limits.off:  # counted under the write lock
                with_tutor, in_all = db.execute(
                    PENDING_OF_STUDENT, (tutor_id, booking.student_id)
                ).fetchone()
                check_pending(limits, with_tutor, in_all)  # raising rolls the slot back
            bump(db, [tutor_id])
            stored = replace(
                booking,
                tutor_id=tutor_id,
                start=rows.dt(start),
                end=rows.dt(end),
                booking_status=BookingStatus.PENDING,
            )
            db.execute(rows.INSERT_BOOKING, rows.booking_params(stored))
            bump_lists(db, [stored.tutor_id, stored.student_id])
            notify(db, notification)
            if idempotency_key is not None:
                db.execute(
                    "INSERT INTO idempotency_keys (student_id, key, booking_id) VALUES (?, ?, ?)",
                    (stored.student_id, idempotency_key, stored.booking_id),
                )
        return stored

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
        if not from_statuses:
            return None
        marks = ", ".join("?" * len(from_statuses))
        sql = (
            "UPDATE bookings SET booking_status = ?, updated_at = ?, reason = coalesce(?, reason) "
            f"WHERE booking_id = ? AND booking_status IN ({marks})"
        )
        at = rows.ts(now)
        params = [to_status.value, at, reason, booking_id, *(s.value for s in from_statuses)]
        if require_not_started:
            sql += " AND start > ?"
            params.append(at)
        with self._db.tx() as db:
            found = db.execute(f"{sql} RETURNING {rows.BOOKING_COLUMNS}", params).fetchall()
            if not found:
                return None
            booking = rows.booking(found[0])
            db.execute(
                "UPDATE slots SET slot_status = ? WHERE slot_id = ?",
                (slot_status.value, booking.slot_id),
            )
            bump(db, [booking.tutor_id])
            bump_lists(db, [booking.tutor_id, booking.student_id])
            if notification is not None:
                notify(db, notification)
        return booking

    def get_booking(self, booking_id: str) -> Booking | None:
        row = self._db.one(BOOKING_BY_ID, (booking_id,))
        return rows.booking(row) if row else None

    def has_accepted_booking(self, tutor_id: str, student_id: str) -> bool:
        row = self._db.one(
            "SELECT 1 FROM bookings WHERE tutor_id = ? AND student_id = ? "
            "AND booking_status = 'accepted' LIMIT 1",
            (tutor_id, student_id),
        )
        return row is not None

    def bookings_for_tutor(
        self,
        tutor_id: str,
        status: BookingStatus | None,
        start_from: datetime | None,
        start_before: datetime | None,
        limit: int,
        after: tuple[datetime, str] | None,
    ) -> list[Booking]:
        return self._bookings("tutor_id", tutor_id, status, start_from, start_before, limit, after)

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
            "student_id", student_id, status, start_from, start_before, limit, after
        )

    def _bookings(self, party: str, party_id, status, start_from, start_before, limit, after):
        sql = [f"SELECT {rows.BOOKING_COLUMNS} FROM bookings WHERE {party} = ?"]
        params: list = [party_id]
        if status is not None:
            sql.append("AND booking_status = ?")
            params.append(BookingStatus(status).value)
        if start_from is not None:
            sql.append("AND start >= ?")
            params.append(rows.ts(start_from))
        if start_before is not None:
            sql.append("AND start < ?")
            params.append(rows.ts(start_before))
        if after is not None:
            sql.append("AND (start, booking_id) > (?, ?)")
            params += [rows.ts(after[0]), after[1]]
        sql.append("ORDER BY start, booking_id LIMIT ?")
        params.append(limit)
        booking = rows.booking
        return [booking(r) for r in self._db.conn.execute(" ".join(sql), params)]

    def expire(
        self, now: datetime, limit: int, notify_expired: Callable[[Booking], Notification]
    ) -> ExpiryResult:
        """Three transactions, each a conditional UPDATE over a partial index's head: a second
        job running at the same time finds nothing left to change."""
        at = rows.ts(now)
        result = ExpiryResult()
        with self._db.tx() as db:
            tutors = db.execute(
                "UPDATE slots SET slot_status = 'expired' WHERE slot_status = 'available' "
                "AND slot_id IN (SELECT slot_id FROM slots "
                "WHERE slot_status = 'available' AND start <= ? ORDER BY start LIMIT ?) "
                "RETURNING tutor_id",
                (at, limit),
            ).fetchall()
            result.slots_expired = len(tutors)
            bump(db, [t for (t,) in tutors])
        with self._db.tx() as db:
            expired = db.execute(
                "UPDATE bookings SET booking_status = 'expired', updated_at = ? "
                "WHERE booking_status = 'pending' AND booking_id IN (SELECT booking_id "
                "FROM bookings WHERE booking_status = 'pending' AND start <= ? "
                f"ORDER BY start LIMIT ?) RETURNING {rows.BOOKING_COLUMNS}",
                (at, at, limit),
            ).fetchall()
            tutors, parties = [], []
            for row in expired:
                booking = rows.booking(row)
                db.execute(
                    "UPDATE slots SET slot_status = 'expired' WHERE slot_id = ?", (booking.slot_id,)
                )
                notify(db, notify_expired(booking))
                tutors.append(booking.tutor_id)
                parties += [booking.tutor_id, booking.student_id]
            bump(db, tutors)
            bump_lists(db, parties)
            result.bookings_expired = len(expired)
        with self._db.tx() as db:
            completed = db.execute(
                "UPDATE bookings SET booking_status = 'completed', updated_at = ? "
                "WHERE booking_status = 'accepted' AND booking_id IN (SELECT booking_id "
                "FROM bookings WHERE booking_status = 'accepted' AND \"end\" <= ? "
                'ORDER BY "end" LIMIT ?) RETURNING tutor_id, student_id',
                (at, at, limit),
            ).fetchall()
            bump_lists(db, [party for pair in completed for party in pair])
            result.bookings_completed = len(completed)
        return result


def _refuse(db, slot_id: str, now: datetime):
    """Why the slot could not be taken: it does not exist, or (read under the same write lock)
    it is not `bookable`."""
    row = db.execute("SELECT slot_status, start FROM slots WHERE slot_id = ?", (slot_id,))
    row = row.fetchone()
    if row is None:
        raise NotFound("slot not found", code="slot_not_found")
    status, start = SlotStatus(row[0]), rows.dt(row[1])
    if bookable(status, start, now):  # cannot be: TAKE_SLOT's condition is this rule
        raise RuntimeError(f"slot {slot_id} is bookable but was not taken")
    raise SlotUnavailable("slot is not available", details={"slot_status": row[0]})
