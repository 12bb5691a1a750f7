"""The Store port on SQLite: WAL, one connection per thread, `BEGIN IMMEDIATE` for changes.

Every state change is one transaction; conditional UPDATEs (checked by rowcount) decide races,
and a partial unique index makes two live bookings for one slot impossible. Safe to share one
database file between threads and processes (uvicorn workers, the expiry job, the CLI)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from urllib.parse import urlparse

from skillsession.adapters.private import private_dir, private_file
from skillsession.adapters.store import sqlite_rows as rows
from skillsession.adapters.store.sqlite_rows import insert_sql, ts
from skillsession.domain.bookings import PendingLimits, check_pending
from skillsession.domain.errors import Conflict, NotFound, SlotUnavailable
from skillsession.domain.model import (
    Availability,
    Booking,
    BookingStatus,
    DeliveryOutcome,
    ExpiryResult,
    Notification,
    OutboxSummary,
    Profile,
    Slot,
    SlotStatus,
    Subscription,
    User,
    VerificationCode,
)
from skillsession.domain.rate_limits import Admission, admit
from skillsession.domain.skills import skill_key
from skillsession.ports.storage import Stores

# 2: slot_versions; 3: list_versions and list_version_counter (the script is idempotent: v1
# and v2 databases upgrade by running it); 4: notifications_failed, subscriptions.confirm_token
# (added by `_add_columns` to tables made before)
SCHEMA_VERSION = 4
ADDED_COLUMNS = {"subscriptions": {"confirm_token": "TEXT"}}
SCHEMA_FILE = "sqlite_schema.sql"

INSERT_USER = insert_sql("users", rows.USER_COLUMNS)
INSERT_CODE = insert_sql("verification_codes", rows.CODE_COLUMNS, "INSERT OR REPLACE")
INSERT_AVAILABILITY = insert_sql("availability", rows.AVAILABILITY_COLUMNS)
INSERT_SLOT = insert_sql("slots", rows.SLOT_COLUMNS)
INSERT_BOOKING = insert_sql("bookings", rows.BOOKING_COLUMNS)
INSERT_NOTIFICATION = insert_sql("notifications", rows.NOTIFICATION_COLUMNS)
INSERT_SKILL = "INSERT OR IGNORE INTO tutor_skills (skill_key, tutor_id) VALUES (?, ?)"
LIVE = "('pending', 'accepted')"
BUMP_SLOT_VERSION = (
    "INSERT INTO slot_versions (tutor_id, version) VALUES (?, 1) "
    "ON CONFLICT (tutor_id) DO UPDATE SET version = version + 1"
)
PROFILES = ""  # the list-version owner that stands for every profile (no user id is empty)
NEXT_LIST_VERSION = "UPDATE list_version_counter SET value = value + 1 WHERE id = 1 RETURNING value"
SET_LIST_VERSION = (
    "INSERT INTO list_versions (owner, version) VALUES (?, ?) "
    "ON CONFLICT (owner) DO UPDATE SET version = excluded.version"
)


def schema_statements(script: str) -> Iterator[str]:
    """The statements of an SQL script (semicolons inside comments or strings are fine)."""
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            yield buffer
            buffer = ""


# SQLite's default: a commit that leaves the write-ahead log at 1,000 pages or more checkpoints
# it (copies the pages into the database, fsyncs both): ~6 ms, every ~300 booking requests, on
# the request that happens to cross the line. With `upkeep_job` running, commits only do it past
# this safety limit (~40 MB of log), should the job fall behind or stop.
AUTOCHECKPOINT_PAGES = 1000
AUTOCHECKPOINT_PAGES_WITH_UPKEEP = 10_000


class SqliteStore:
    backend_name = "sqlite"

    def __init__(self, path: str | Path):
        self.path = str(path)
        self._local = threading.local()
        self._connections: list[tuple[int, sqlite3.Connection]] = []
        self._lock = threading.Lock()
        self._upkeep_pid: int | None = None  # the process whose upkeep job checkpoints

    @classmethod
    def from_url(cls, url: str) -> SqliteStore:
        """`sqlite:///relative/path.db` or `sqlite:////absolute/path.db`."""
        path = database_path(url)
        private_dir(path.parent)
        private_file(path)  # 0600, and so its -wal and -shm files
        return cls(path)

    # -- connections and transactions -------------------------------------------------------
    @property
    def db(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use (and again in a forked child)."""
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout = 10000")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA cache_size = -65536")  # at most 64 MiB of pages per connection
            conn.execute(f"PRAGMA wal_autocheckpoint = {self._autocheckpoint_pages()}")
            local.conn, local.pid = conn, os.getpid()
            with self._lock:
                self._connections.append((local.pid, conn))
        return local.conn

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: the write lock is taken up front, so reads inside it see
        the state the writes apply to, and concurrent writers queue (busy_timeout)."""
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    def _autocheckpoint_pages(self) -> int:
        if self._upkeep_pid == os.getpid():
            return AUTOCHECKPOINT_PAGES_WITH_UPKEEP
        return AUTOCHECKPOINT_PAGES

    def upkeep_job(self) -> Callable[[], None]:
        """Checkpointing the write-ahead log, handed to the caller (see `Store.upkeep_job`):
        this process's connections, open and to come, checkpoint on commit only past the
        safety limit. Each run is a PASSIVE checkpoint: it copies what no reader still needs
        and never blocks readers or writers. Worker processes each run their own; SQLite lets
        one checkpoint at a time (the others return at once)."""
        self._upkeep_pid = os.getpid()
        with self._lock:
            mine = [c for pid, c in self._connections if pid == self._upkeep_pid]
        for conn in mine:
            conn.execute(f"PRAGMA wal_autocheckpoint = {AUTOCHECKPOINT_PAGES_WITH_UPKEEP}")
        return self.checkpoint

    def checkpoint(self) -> None:
        """One PASSIVE checkpoint of the write-ahead log (a no-op when it is empty)."""
        try:
            self.db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.OperationalError as exc:  # another connection is checkpointing
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise

    def _one(self, sql: str, params: tuple | list = ()):
        return self.db.execute(sql, params).fetchone()

    def migrate(self) -> None:
        if self._one("PRAGMA user_version")[0] == SCHEMA_VERSION:
            return
        script = resources.files("skillsession.adapters.store").joinpath(SCHEMA_FILE).read_text()
        with self._tx() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise RuntimeError(f"database schema v{version} is newer than this code")
            if version < SCHEMA_VERSION:
                for statement in schema_statements(script):
                    db.execute(statement)
                _add_columns(db)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def backup(self, target: str | Path) -> datetime:
        """A consistent copy of the live database (SQLite's online backup API: safe while the
        service runs; the copy is one transaction's view). Returns an instant taken just before
        that transaction began: every change committed before it is in the copy."""
        target = Path(target)
        private_dir(target.parent)
        partial = target.with_name(target.name + ".partial")
        partial.unlink(missing_ok=True)
        private_file(partial)  # a copy of the accounts: as private as the original
        destination = sqlite3.connect(partial)
        try:
            # one step: a single read transaction (WAL lets writers go on meanwhile); stepping
            # in chunks would restart on every write from another connection
            began = datetime.now(UTC)
            self.db.backup(destination, pages=-1)
            destination.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        finally:
            destination.close()
        os.replace(partial, target)
        return began

    def roles(self) -> Stores:
        """This store in every role (until each role is a module of its own)."""
        return Stores(self, self, self, self, self, self, versions=self)

    def close(self) -> None:
        with self._lock:
            mine = [c for pid, c in self._connections if pid == os.getpid()]
            self._connections.clear()
        for conn in mine:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
        self._local = threading.local()

    # -- accounts ---------------------------------------------------------------------------
    def create_user(self, user: User, code: VerificationCode, notification: Notification) -> None:
        with self._tx() as db:
            try:
                db.execute(INSERT_USER, rows.user_params(user))
            except sqlite3.IntegrityError as exc:
                raise Conflict("email already registered", code="email_taken") from exc
            db.execute(INSERT_CODE, rows.code_params(code))
            self._notify(db, notification)

    def get_user(self, user_id: str) -> User | None:
        row = self._one(f"SELECT {rows.USER_COLUMNS} FROM users WHERE user_id = ?", (user_id,))
        return rows.user(row) if row else None

    def get_user_by_email(self, email: str) -> User | None:
        row = self._one(f"SELECT {rows.USER_COLUMNS} FROM users WHERE email = ?", (email,))
        return rows.user(row) if row else None

    def replace_verification_code(self, code: VerificationCode, notification: Notification) -> None:
        with self._tx() as db:
            db.execute(INSERT_CODE, rows.code_params(code))
            self._notify(db, notification)

    def get_verification_code(self, user_id: str) -> VerificationCode | None:
        row = self._one(
            f"SELECT {rows.CODE_COLUMNS} FROM verification_codes WHERE user_id = ?", (user_id,)
        )
        return rows.code(row) if row else None

    def get_user_and_code_by_email(self, email: str) -> tuple[User | None, VerificationCode | None]:
        user = self.get_user_by_email(email)
        return user, self.get_verification_code(user.user_id) if user else None

    def record_code_failure(self, user_id: str) -> int:
        with self._tx() as db:
            found = db.execute(
                "UPDATE verification_codes SET failed_attempts = failed_attempts + 1 "
                "WHERE user_id = ? RETURNING failed_attempts",
                (user_id,),
            ).fetchall()
        return found[0][0] if found else 0

    def confirm_user(self, user_id: str) -> None:
        with self._tx() as db:
            db.execute("UPDATE users SET status = 'confirmed' WHERE user_id = ?", (user_id,))
            db.execute("DELETE FROM verification_codes WHERE user_id = ?", (user_id,))

    def hit_rate_limit(self, key: str, now: datetime, window_seconds: int, limit: int) -> Admission:
        # a row per second with admitted attempts (`window` holds that second, `hits` how many)
        second = ts(now)
        with self._tx() as db:
            db.execute(
                "DELETE FROM rate_limits WHERE key = ? AND window <= ?",
                (key, second - window_seconds),
            )
            rows = db.execute("SELECT window, hits FROM rate_limits WHERE key = ?", (key,))
            admission = admit(
                [at for at, n in rows for _ in range(n)], second, window_seconds, limit
            )
            if admission.admitted:
                db.execute(
                    "INSERT INTO rate_limits (key, window, hits) VALUES (?, ?, 1) "
                    "ON CONFLICT (key, window) DO UPDATE SET hits = hits + 1",
                    (key, second),
                )
            return admission

    def clear_rate_limit(self, key: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM rate_limits WHERE key = ?", (key,))

    # -- profiles ---------------------------------------------------------------------------
    def get_profile(self, user_id: str) -> Profile | None:
        row = self._one(
            f"SELECT {rows.PROFILE_COLUMNS} FROM profiles WHERE user_id = ?", (user_id,)
        )
        return rows.profile(row) if row else None

    def get_profile_for_availability(self, user_id: str) -> Profile | None:
        return self.get_profile(user_id)

    def get_profile_and_slot(
        self, user_id: str, slot_id: str
    ) -> tuple[Profile | None, Slot | None]:
        return self.get_profile(user_id), self.get_slot(slot_id)

    def get_profile_by_email(self, email: str) -> Profile | None:
        row = self._one(f"SELECT {rows.PROFILE_COLUMNS} FROM profiles WHERE email = ?", (email,))
        return rows.profile(row) if row else None

    def get_profiles(self, user_ids: list[str]) -> dict[str, Profile]:
        ids = sorted(set(user_ids))
        found: dict[str, Profile] = {}
        for start in range(0, len(ids), 500):  # stay under SQLite's bound-parameter limit
            chunk = ids[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            for row in self.db.execute(
                f"SELECT {rows.PROFILE_COLUMNS} FROM profiles WHERE user_id IN ({marks})", chunk
            ):
                found[row[0]] = rows.profile(row)
        return found

    def save_profile(self, profile: Profile) -> None:
        """Upsert; an existing row keeps its `created_at` and `image_key` (the image is only
        changed by `set_profile_image`, so a concurrent profile edit cannot undo it)."""
        with self._tx() as db:
            db.execute(
                insert_sql("profiles", rows.PROFILE_COLUMNS)
                + " ON CONFLICT (user_id) DO UPDATE SET email = excluded.email, "
                "role = excluded.role, doc = excluded.doc, updated_at = excluded.updated_at",
                rows.profile_params(profile),
            )
            db.execute("DELETE FROM tutor_skills WHERE tutor_id = ?", (profile.user_id,))
            db.executemany(INSERT_SKILL, _skill_rows(profile))
            _bump_lists(db, [PROFILES])

    def set_profile_image(self, user_id: str, image_key: str | None) -> str | None:
        with self._tx() as db:
            row = db.execute(
                "SELECT image_key FROM profiles WHERE user_id = ?", (user_id,)
            ).fetchone()
            if row is None:
                raise NotFound("no such profile", code="profile_not_found")
            db.execute("UPDATE profiles SET image_key = ? WHERE user_id = ?", (image_key, user_id))
            _bump_lists(db, [PROFILES])
            return row[0]

    def search_tutors(
        self,
        skill_keys: list[str],
        available_between: tuple[datetime, datetime] | None,
        limit: int,
        after_user_id: str | None,
    ) -> list[Profile]:
        keys = list(dict.fromkeys(skill_key(k) for k in skill_keys))
        if not keys or limit <= 0:
            return []
        columns = ", ".join(f"p.{c.strip()}" for c in rows.PROFILE_COLUMNS.split(","))
        sql = [
            f"SELECT {columns} FROM tutor_skills t JOIN profiles p ON p.user_id = t.tutor_id",
            "WHERE t.skill_key = ? AND t.tutor_id > ?",
        ]
        params: list = [keys[0], after_user_id or ""]
        for key in keys[1:]:
            sql.append(
                "AND EXISTS (SELECT 1 FROM tutor_skills o "
                "WHERE o.skill_key = ? AND o.tutor_id = t.tutor_id)"
            )
            params.append(key)
        if available_between:
            sql.append(
                "AND EXISTS (SELECT 1 FROM slots s WHERE s.tutor_id = t.tutor_id "
                "AND s.start >= ? AND s.start < ? AND s.slot_status = 'available')"
            )
            params += [ts(available_between[0]), ts(available_between[1])]
        sql.append("ORDER BY t.tutor_id LIMIT ?")
        params.append(limit)
        return [rows.profile(r) for r in self.db.execute(" ".join(sql), params)]

    # -- availability and slots ------------------------------------------------------------
    def create_availability(self, windows: list[Availability], slots: list[Slot]) -> None:
        with self._tx() as db:
            for window in windows:
                # a tutor's live windows never overlap, so only the last one starting before
                # this window ends can overlap it: one index probe, however long the history
                clash = db.execute(
                    'SELECT availability_id, "end" FROM availability '
                    "WHERE tutor_id = ? AND deleted = 0 AND start < ? "
                    "ORDER BY start DESC LIMIT 1",
                    (window.tutor_id, ts(window.end)),
                ).fetchone()
                if clash and clash[1] > ts(window.start):
                    raise Conflict(
                        "the window overlaps one of your existing windows",
                        code="availability_overlap",
                        details={"availability_id": clash[0]},
                    )
                db.execute(INSERT_AVAILABILITY, rows.availability_params(window))
            db.executemany(INSERT_SLOT, [rows.slot_params(s) for s in slots])
            _bump(db, [*(w.tutor_id for w in windows), *(s.tutor_id for s in slots)])

    def get_availability(self, availability_id: str) -> Availability | None:
        row = self._one(
            f"SELECT {rows.AVAILABILITY_COLUMNS} FROM availability "
            "WHERE availability_id = ? AND deleted = 0",
            (availability_id,),
        )
        return rows.availability(row) if row else None

    def delete_availability(self, availability_id: str) -> None:
        """Free slots go; slots with booking history stay (as `expired`) for the bookings that
        name them. The window row stays too, marked deleted, for their foreign key."""
        with self._tx() as db:
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
            _bump(db, [window[0]])

    def get_slot(self, slot_id: str) -> Slot | None:
        row = self._one(f"SELECT {rows.SLOT_COLUMNS} FROM slots WHERE slot_id = ?", (slot_id,))
        return rows.slot(row) if row else None

    def slot_version(self, tutor_id: str) -> int | None:
        row = self._one("SELECT version FROM slot_versions WHERE tutor_id = ?", (tutor_id,))
        return row[0] if row else 0

    def slot_answer_versions(self, tutor_id: str) -> tuple[int | None, int | None]:
        return self._one(
            "SELECT coalesce((SELECT version FROM list_versions WHERE owner = ?), 0), "
            "coalesce((SELECT version FROM slot_versions WHERE tutor_id = ?), 0)",
            (PROFILES, tutor_id),
        )

    def slots_for_tutor(
        self,
        tutor_id: str,
        start_from: datetime,
        start_before: datetime,
        status: SlotStatus | None,
        limit: int | None = None,
    ) -> list[Slot]:
        columns = rows.TUTOR_SLOT_COLUMNS + (", slot_status" if status is None else "")
        sql = f"SELECT {columns} FROM slots WHERE tutor_id = ? AND start >= ? AND start < ?"
        params: list = [tutor_id, ts(start_from), ts(start_before)]
        if status is not None:
            sql += " AND slot_status = ?"
            params.append(status.value)
        sql += " ORDER BY start, slot_id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return rows.tutor_slots(self.db.execute(sql, params), tutor_id, status)

    # -- bookings ---------------------------------------------------------------------------
    def profiles_version(self) -> int | None:
        """The profiles' list version (see `_bump_lists`): bumped by every profile write."""
        row = self._one("SELECT version FROM list_versions WHERE owner = ?", (PROFILES,))
        return row[0] if row else 0

    def booking_list_version(self, user_id: str) -> int | None:
        """The later of the user's own version and the profiles' one (see `_bump_lists`)."""
        row = self._one(
            "SELECT max(version) FROM list_versions WHERE owner IN (?, ?)", (user_id, PROFILES)
        )
        return row[0] or 0

    def request_booking(
        self,
        booking: Booking,
        notification: Notification,
        now: datetime,
        idempotency_key: str | None = None,
        limits: PendingLimits | None = None,
    ) -> Booking:
        with self._tx() as db:
            if idempotency_key is not None:
                earlier = db.execute(
                    f"SELECT {rows.BOOKING_COLUMNS} FROM bookings WHERE booking_id = "
                    "(SELECT booking_id FROM idempotency_keys WHERE student_id = ? AND key = ?)",
                    (booking.student_id, idempotency_key),
                ).fetchone()
                if earlier:
                    return rows.booking(earlier)
            taken = db.execute(
                "UPDATE slots SET slot_status = 'pending' "
                "WHERE slot_id = ? AND slot_status = 'available' AND start > ? "
                'RETURNING tutor_id, start, "end"',
                (booking.slot_id, ts(now)),
            ).fetchone()
            if taken is None:  # why not: no such slot, or not (or no longer) bookable
                row = db.execute(
                    "SELECT slot_status FROM slots WHERE slot_id = ?", (booking.slot_id,)
                ).fetchone()
                if row is None:
                    raise NotFound("slot not found", code="slot_not_found")
                raise SlotUnavailable("slot is not available", details={"slot_status": row[0]})
            tutor_id, start, end = taken
            if limits is not None and not limits.off:  # counted under the write lock
                with_tutor, in_all = db.execute(
                    "SELECT coalesce(sum(tutor_id = ?), 0), count(*) FROM bookings "
                    "WHERE student_id = ? AND booking_status = 'pending'",
                    (tutor_id, booking.student_id),
                ).fetchone()
                check_pending(limits, with_tutor, in_all)  # raising rolls the slot back
            _bump(db, [tutor_id])
            stored = replace(
                booking,
                tutor_id=tutor_id,
                start=rows.dt(start),
                end=rows.dt(end),
                booking_status=BookingStatus.PENDING,
            )
            db.execute(INSERT_BOOKING, rows.booking_params(stored))
            _bump_lists(db, [stored.tutor_id, stored.student_id])
            self._notify(db, notification)
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
        params = [to_status.value, ts(now), reason, booking_id, *(s.value for s in from_statuses)]
        if require_not_started:
            sql += " AND start > ?"
            params.append(ts(now))
        with self._tx() as db:
            found = db.execute(f"{sql} RETURNING {rows.BOOKING_COLUMNS}", params).fetchall()
            if not found:
                return None
            booking = rows.booking(found[0])
            db.execute(
                "UPDATE slots SET slot_status = ? WHERE slot_id = ?",
                (slot_status.value, booking.slot_id),
            )
            _bump(db, [booking.tutor_id])
            _bump_lists(db, [booking.tutor_id, booking.student_id])
            if notification is not None:
                self._notify(db, notification)
        return booking

    def get_booking(self, booking_id: str) -> Booking | None:
        row = self._one(
            f"SELECT {rows.BOOKING_COLUMNS} FROM bookings WHERE booking_id = ?", (booking_id,)
        )
        return rows.booking(row) if row else None

    def has_accepted_booking(self, tutor_id: str, student_id: str) -> bool:
        row = self._one(
            "SELECT 1 FROM bookings WHERE tutor_id = ? AND student_id = ? "
            "AND booking_status = 'accepted' LIMIT 1",
            (tutor_id, student_id),
        )
        return row is not None

    def _bookings(self, party: str, party_id, status, start_from, start_before, limit, after):
        sql = [f"SELECT {rows.BOOKING_COLUMNS} FROM bookings WHERE {party} = ?"]
        params: list = [party_id]
        if status is not None:
            sql.append("AND booking_status = ?")
            params.append(BookingStatus(status).value)
        if start_from is not None:
            sql.append("AND start >= ?")
            params.append(ts(start_from))
        if start_before is not None:
            sql.append("AND start < ?")
            params.append(ts(start_before))
        if after is not None:
            sql.append("AND (start, booking_id) > (?, ?)")
            params += [ts(after[0]), after[1]]
        sql.append("ORDER BY start, booking_id LIMIT ?")
        params.append(limit)
        return [rows.booking(r) for r in self.db.execute(" ".join(sql), params)]

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

    def expire(
        self, now: datetime, limit: int, notify_expired: Callable[[Booking], Notification]
    ) -> ExpiryResult:
        """Three transactions, each a conditional UPDATE over a partial index's head: a second
        job running at the same time finds nothing left to change."""
        at = ts(now)
        result = ExpiryResult()
        with self._tx() as db:
            tutors = db.execute(
                "UPDATE slots SET slot_status = 'expired' WHERE slot_status = 'available' "
                "AND slot_id IN (SELECT slot_id FROM slots "
                "WHERE slot_status = 'available' AND start <= ? ORDER BY start LIMIT ?) "
                "RETURNING tutor_id",
                (at, limit),
            ).fetchall()
            result.slots_expired = len(tutors)
            _bump(db, [t for (t,) in tutors])
        with self._tx() as db:
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
                self._notify(db, notify_expired(booking))
                tutors.append(booking.tutor_id)
                parties += [booking.tutor_id, booking.student_id]
            _bump(db, tutors)
            _bump_lists(db, parties)
            result.bookings_expired = len(expired)
        with self._tx() as db:
            completed = db.execute(
                "UPDATE bookings SET booking_status = 'completed', updated_at = ? "
                "WHERE booking_status = 'accepted' AND booking_id IN (SELECT booking_id "
                "FROM bookings WHERE booking_status = 'accepted' AND \"end\" <= ? "
                'ORDER BY "end" LIMIT ?) RETURNING tutor_id, student_id',
                (at, at, limit),
            ).fetchall()
            _bump_lists(db, [party for pair in completed for party in pair])
            result.bookings_completed = len(completed)
        return result

    # -- notifications (outbox) and subscriptions ------------------------------------------
    def _notify(self, db: sqlite3.Connection, notification: Notification) -> None:
        db.execute(INSERT_NOTIFICATION, rows.notification_params(notification))

    def add_notifications(self, notifications: list[Notification]) -> None:
        with self._tx() as db:
            db.executemany(
                INSERT_NOTIFICATION, [rows.notification_params(n) for n in notifications]
            )

    def claim_notifications(
        self, now: datetime, limit: int, lease_seconds: int
    ) -> list[Notification]:
        leased_until = now + timedelta(seconds=lease_seconds)
        with self._tx() as db:
            due = db.execute(
                f"SELECT {rows.NOTIFICATION_COLUMNS} FROM notifications "
                "WHERE status = 'pending' AND next_attempt_at <= ? "
                "ORDER BY next_attempt_at LIMIT ?",
                (ts(now), limit),
            ).fetchall()
            claimed = [rows.notification(r) for r in due]
            db.executemany(
                "UPDATE notifications SET next_attempt_at = ?, attempts = attempts + 1 "
                "WHERE notification_id = ?",
                [(ts(leased_until), n.notification_id) for n in claimed],
            )
        return [
            replace(n, attempts=n.attempts + 1, next_attempt_at=rows.dt(ts(leased_until)))
            for n in claimed
        ]

    def finish_notifications(self, outcomes: list[DeliveryOutcome]) -> None:
        """One transaction for the lot. A verification code's payload becomes `{}` once it is
        no longer going to be sent."""
        with self._tx() as db:
            db.executemany(
                "UPDATE notifications SET status = ?, next_attempt_at = ?, last_error = ?, "
                "payload = CASE WHEN kind = 'verification_code' AND ? != 'pending' "
                "THEN '{}' ELSE payload END WHERE notification_id = ?",
                [
                    (o.status, ts(o.next_attempt_at), o.error, o.status, o.notification_id)
                    for o in outcomes
                ],
            )

    def get_notification(self, notification_id: str) -> Notification | None:
        row = self._one(
            f"SELECT {rows.NOTIFICATION_COLUMNS} FROM notifications WHERE notification_id = ?",
            (notification_id,),
        )
        return rows.notification(row) if row else None

    def outbox_summary(self, now: datetime, recent_failures: int) -> OutboxSummary:
        """Three counts over the partial indexes of pending and failed entries."""
        due, waiting = self._one(
            "SELECT count(*) FILTER (WHERE next_attempt_at <= ?), "
            "count(*) FILTER (WHERE next_attempt_at > ?) FROM notifications "
            "WHERE status = 'pending' AND next_attempt_at IS NOT NULL",
            (ts(now), ts(now)),
        )
        (failed,) = self._one("SELECT count(*) FROM notifications WHERE status = 'failed'")
        recent = self.db.execute(
            f"SELECT {rows.NOTIFICATION_COLUMNS} FROM notifications WHERE status = 'failed' "
            "ORDER BY notification_id DESC LIMIT ?",
            (recent_failures,),
        ).fetchall()
        return OutboxSummary(due, waiting, failed, [rows.notification(r) for r in recent])

    def outbox_backlog(self, limit: int) -> tuple[int, datetime | None]:
        count, oldest = self._one(
            "SELECT count(*), min(created_at) FROM (SELECT created_at FROM notifications "
            "WHERE status = 'pending' LIMIT ?)",
            (limit,),
        )
        return count, rows.dt(oldest) if oldest is not None else None

    def get_subscription(self, user_id: str) -> Subscription | None:
        row = self._one(
            f"SELECT {rows.SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE user_id = ?", (user_id,)
        )
        return rows.subscription(row) if row else None

    def get_subscription_by_token(self, token: str) -> Subscription | None:
        row = self._one(
            f"SELECT {rows.SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE token = ?", (token,)
        )
        return rows.subscription(row) if row else None

    def save_subscription(
        self, subscription: Subscription, notification: Notification | None
    ) -> None:
        with self._tx() as db:
            db.execute(
                insert_sql("subscriptions", rows.SUBSCRIPTION_COLUMNS)
                + " ON CONFLICT (user_id) DO UPDATE SET email = excluded.email, "
                "status = excluded.status, token = excluded.token, created_at = excluded.created_at, "
                "confirm_token = excluded.confirm_token",
                rows.subscription_params(subscription),
            )
            if notification is not None:
                self._notify(db, notification)

    def confirm_subscription(self, user_id: str, confirm_token: str) -> Subscription | None:
        with self._tx() as db:
            row = db.execute(
                "UPDATE subscriptions SET status = 'confirmed' WHERE user_id = ? "
                "AND confirm_token = ? AND status != 'unsubscribed' "
                f"RETURNING {rows.SUBSCRIPTION_COLUMNS}",
                (user_id, confirm_token),
            ).fetchone()
        return rows.subscription(row) if row else None

    def end_subscription(self, user_id: str) -> Subscription | None:
        with self._tx() as db:
            row = db.execute(
                "UPDATE subscriptions SET status = 'unsubscribed', confirm_token = NULL "
                f"WHERE user_id = ? RETURNING {rows.SUBSCRIPTION_COLUMNS}",
                (user_id,),
            ).fetchone()
        return rows.subscription(row) if row else None

    # -- bulk path and consistency check ----------------------------------------------------
    def bulk_insert(
        self,
        users: list[User],
        profiles: list[Profile],
        availabilities: list[Availability],
        slots: list[Slot],
    ) -> None:
        """The demo-data fast path: one transaction, executemany, no checks but the schema's
        (a duplicate id or e-mail fails the whole call with `Conflict(code="bulk_conflict")`)."""
        try:
            with self._tx() as db:
                db.executemany(INSERT_USER, [rows.user_params(u) for u in users])
                db.executemany(
                    insert_sql("profiles", rows.PROFILE_COLUMNS),
                    [rows.profile_params(p) for p in profiles],
                )
                db.executemany(INSERT_SKILL, [r for p in profiles for r in _skill_rows(p)])
                db.executemany(
                    INSERT_AVAILABILITY, [rows.availability_params(a) for a in availabilities]
                )
                db.executemany(INSERT_SLOT, [rows.slot_params(s) for s in slots])
                _bump(db, [*(a.tutor_id for a in availabilities), *(s.tutor_id for s in slots)])
                if profiles:
                    _bump_lists(db, [PROFILES])
        except sqlite3.IntegrityError as exc:
            raise Conflict(f"bulk insert rejected: {exc}", code="bulk_conflict") from exc

    def check_consistency(self) -> list[str]:
        """Violations of the booking invariants, human-readable (empty: consistent). Scans the
        tables: for the `check` command and tests, not for request paths."""
        problems = []
        for label, sql in CONSISTENCY_CHECKS.items():
            for (ident,) in self.db.execute(sql).fetchmany(100):
                problems.append(f"{label}: {ident}")
        return problems


def _add_columns(db: sqlite3.Connection) -> None:
    """Columns added since a table was first made (CREATE TABLE IF NOT EXISTS keeps old ones)."""
    for table, columns in ADDED_COLUMNS.items():
        present = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        for name, kind in columns.items():
            if name not in present:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")


def database_path(url: str) -> Path:
    """The file of `sqlite:///relative/path.db` or `sqlite:////absolute/path.db`."""
    parsed = urlparse(url)
    if parsed.scheme != "sqlite":
        raise ValueError(f"not a sqlite URL: {url!r}")
    path = parsed.netloc + parsed.path
    path = path[1:] if path.startswith("/") else path
    if not path:
        raise ValueError(f"no database path in {url!r}")
    return Path(path)


def _bump(db: sqlite3.Connection, tutor_ids: list[str]) -> None:
    """A new slot version for each tutor, inside the caller's transaction."""
    db.executemany(BUMP_SLOT_VERSION, [(t,) for t in dict.fromkeys(tutor_ids)])


def _bump_lists(db: sqlite3.Connection, owners: list[str]) -> None:
    """A new booking list version for each owner (user ids, or PROFILES for every profile),
    inside the caller's transaction: the next value of one counter, so it is above every version
    any owner has (`booking_list_version` reads the later of the user's and the profiles')."""
    owners = list(dict.fromkeys(owners))
    if not owners:
        return
    (version,) = db.execute(NEXT_LIST_VERSION).fetchall()[0]
    db.executemany(SET_LIST_VERSION, [(owner, version) for owner in owners])


def _skill_rows(profile: Profile) -> list[tuple[str, str]]:
    keys = dict.fromkeys(skill_key(s) for s in profile.teaching_skills or [])
    return [(key, profile.user_id) for key in keys if key]


CONSISTENCY_CHECKS = {
    "slot with more than one live booking": "SELECT slot_id FROM bookings "
    f"WHERE booking_status IN {LIVE} GROUP BY slot_id HAVING count(*) > 1",
    "pending booking whose slot is not pending": "SELECT b.booking_id FROM bookings b "
    "JOIN slots s USING (slot_id) WHERE b.booking_status = 'pending' "
    "AND s.slot_status != 'pending'",
    "accepted booking whose slot is not booked": "SELECT b.booking_id FROM bookings b "
    "JOIN slots s USING (slot_id) WHERE b.booking_status = 'accepted' "
    "AND s.slot_status != 'booked'",
    "pending slot without a pending booking": "SELECT s.slot_id FROM slots s "
    "WHERE s.slot_status = 'pending' AND NOT EXISTS (SELECT 1 FROM bookings b "
    "WHERE b.slot_id = s.slot_id AND b.booking_status = 'pending')",
    "booked slot without an accepted or completed booking": "SELECT s.slot_id FROM slots s "
    "WHERE s.slot_status = 'booked' AND NOT EXISTS (SELECT 1 FROM bookings b "
    "WHERE b.slot_id = s.slot_id AND b.booking_status IN ('accepted', 'completed'))",
    "booking whose slot is missing": "SELECT b.booking_id FROM bookings b "
    "WHERE NOT EXISTS (SELECT 1 FROM slots s WHERE s.slot_id = b.slot_id)",
}
