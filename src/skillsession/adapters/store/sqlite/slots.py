"""SlotStore on SQLite: tutors' availability windows and the slots cut from them."""

from __future__ import annotations

from datetime import datetime

from skillsession.adapters.store.sqlite import rows
from skillsession.adapters.store.sqlite.db import Database, bump
from skillsession.domain.errors import Conflict, NotFound
from skillsession.domain.model import Availability, Profile, Slot, SlotStatus

# a tutor's live windows never overlap, so only the last one starting before a new window ends
# can overlap it: one index probe, however long the history
LAST_WINDOW_BEFORE = (
    'SELECT availability_id, "end" FROM availability '
    "WHERE tutor_id = ? AND deleted = 0 AND start < ? ORDER BY start DESC LIMIT 1"
)
LIVE_WINDOW = (
    f"SELECT {rows.AVAILABILITY_COLUMNS} FROM availability "
    "WHERE availability_id = ? AND deleted = 0"
)
# a tutor's slot list, with or without a status filter (see rows.tutor_slots)
SLOTS_OF_TUTOR = (
    f"SELECT {rows.TUTOR_SLOT_COLUMNS}, slot_status FROM slots "
    "WHERE tutor_id = ? AND start >= ? AND start < ?"
)
SLOTS_OF_TUTOR_IN = (
    f"SELECT {rows.TUTOR_SLOT_COLUMNS} FROM slots "
    "WHERE tutor_id = ? AND start >= ? AND start < ? AND slot_status = ?"
)


class SqliteSlots:
    def __init__(self, database: Database):
        self._db = database

    def get_profile_for_availability(self, user_id: str) -> Profile | None:
        """`get_profile`: SQLite reads nothing more for `create_availability`."""
        row = self._db.one(rows.SELECT_PROFILE, (user_id,))
        return rows.profile(row) if row else None

    def create_availability(self, windows: list[Availability], slots: list[Slot]) -> None:
        with self._db.tx() as db:
            for window in windows:
                clash = db.execute(LAST_WINDOW_BEFORE, (window.tutor_id, rows.ts(window.end)))
                clash = clash.fetchone()
                if clash and clash[1] > rows.ts(window.start):
                    raise Conflict(
                        "the window overlaps one of your existing windows",
                        code="availability_overlap",
                        details={"availability_id": clash[0]},
                    )
                db.execute(rows.INSERT_AVAILABILITY, rows.availability_params(window))
            db.executemany(rows.INSERT_SLOT, [rows.slot_params(s) for s in slots])
            bump(db, [*(w.tutor_id for w in windows), *(s.tutor_id for s in slots)])

    def get_availability(self, availability_id: str) -> Availability | None:
        row = self._db.one(LIVE_WINDOW, (availability_id,))
        return rows.availability(row) if row else None

    def delete_availability(self, availability_id: str) -> None:
        """Free slots go; slots with booking history stay (as `expired`) for the bookings that
        name them. The window row stays too, marked deleted, for their foreign key."""
        with self._db.tx() as db:
            window = db.execute(
                'SELECT tutor_id, start, "end" FROM availability '
                "WHERE availability_id = ? AND deleted = 0",
                (availability_id,),
            ).fetchone()
            if window is None:
                raise NotFound("no such availability", code="availability_not_found")
            # the window's slots, through the slots(tutor_id, start) index
            own = "tutor_id = ? AND start >= ? AND start < ? AND availability_id = ?"
            params = (*window, availability_id)
            if db.execute(
                f"SELECT 1 FROM slots WHERE {own} AND slot_status IN ('pending', 'booked') LIMIT 1",
                params,
            ).fetchone():
                raise Conflict(
                    "a slot of this window is pending or booked", code="availability_in_use"
                )
            db.execute(
                f"DELETE FROM slots WHERE {own} AND NOT EXISTS "
                "(SELECT 1 FROM bookings b WHERE b.slot_id = slots.slot_id)",
                params,
            )
            db.execute(f"UPDATE slots SET slot_status = 'expired' WHERE {own}", params)
            db.execute(
                "UPDATE availability SET deleted = 1 WHERE availability_id = ?", (availability_id,)
            )
            bump(db, [window[0]])

    def delete_tutor_availability(self, tutor_id: str) -> None:
        """Window rows stay, marked deleted, for the foreign keys of the slots that stay."""
        with self._db.tx() as db:
            db.execute(
                "DELETE FROM slots WHERE tutor_id = ? AND NOT EXISTS "
                "(SELECT 1 FROM bookings b WHERE b.slot_id = slots.slot_id)",
                (tutor_id,),
            )
            db.execute(
                "UPDATE slots SET slot_status = 'expired' "
                "WHERE tutor_id = ? AND slot_status = 'available'",
                (tutor_id,),
            )
            db.execute(
                "UPDATE availability SET deleted = 1 WHERE tutor_id = ? AND deleted = 0",
                (tutor_id,),
            )
            bump(db, [tutor_id])

    def slots_for_tutor(
        self,
        tutor_id: str,
        start_from: datetime,
        start_before: datetime,
        status: SlotStatus | None,
        limit: int | None = None,
    ) -> list[Slot]:
        params: list = [tutor_id, rows.ts(start_from), rows.ts(start_before)]
        if status is None:
            sql = SLOTS_OF_TUTOR
        else:
            sql = SLOTS_OF_TUTOR_IN
            params.append(status.value)
        sql += " ORDER BY start, slot_id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return rows.tutor_slots(self._db.conn.execute(sql, params), tutor_id, status)
