"""StoreAdmin on SQLite: the schema and its migrations, the upkeep job (checkpointing the
write-ahead log), bulk loading, the consistency scan, and online backup and restore."""

from __future__ import annotations

import os
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from importlib import resources
from itertools import chain, groupby
from operator import itemgetter
from pathlib import Path

from skillsession.adapters.private import private_dir, private_file
from skillsession.adapters.store.sqlite import rows
from skillsession.adapters.store.sqlite.db import PROFILES, Database, bump, bump_lists
from skillsession.domain.errors import Conflict
from skillsession.domain.invariants import deleted_user_problems, orphan_problem, slot_problems
from skillsession.domain.model import Availability, BookingStatus, Profile, Slot, SlotStatus, User

# 2: slot_versions; 3: list_versions and list_version_counter (the script is idempotent: v1
# and v2 databases upgrade by running it); 4: notifications_failed, subscriptions.confirm_token
# (added by `_add_columns` to tables made before); 5: users.tokens_valid_after and the
# users_unconfirmed index; 6: deleted_users; 7: token_floors; 8: subscriptions.provider_ref
SCHEMA_VERSION = 8
ADDED_COLUMNS = {
    "subscriptions": {"confirm_token": "TEXT", "provider_ref": "TEXT"},
    "users": {"tokens_valid_after": "INTEGER"},
}
SCHEMA_FILE = "schema.sql"

# the consistency scan: the slots with the bookings that name them, in slot order (the slots'
# primary key; each slot's bookings by index), and the bookings whose slot is gone (each probed
# in the slots' primary key). A slot that no booking names is read only in a state that the
# invariants fault then (`_lone_suspects`): the scan of the other slots stays in SQLite.
SLOTS_AND_BOOKINGS = (
    "SELECT s.slot_id, s.slot_status, b.booking_id, b.booking_status "
    "FROM slots s LEFT JOIN bookings b ON b.slot_id = s.slot_id "
    "WHERE b.booking_id IS NOT NULL OR s.slot_status IN ({suspects}) ORDER BY s.slot_id"
)
ORPHAN_BOOKINGS = (
    "SELECT b.booking_id FROM bookings b "
    "WHERE NOT EXISTS (SELECT 1 FROM slots s WHERE s.slot_id = b.slot_id)"
)
# what deleted users left live: only rows that name a deleted user are read (each probed by index)
DELETED_USERS_LIVE_BOOKINGS = (
    "SELECT b.booking_id, b.tutor_id, b.student_id FROM deleted_users d "
    "JOIN bookings b ON b.tutor_id = d.user_id OR b.student_id = d.user_id "
    "WHERE b.booking_status IN ('pending', 'accepted')"
)
DELETED_USERS_FREE_SLOTS = (
    "SELECT s.slot_id, s.tutor_id FROM deleted_users d JOIN slots s ON s.tutor_id = d.user_id "
    "WHERE s.slot_status = 'available'"
)
# at most this many problems of each kind are reported
PROBLEMS_PER_KIND = 100


class SqliteAdmin:
    backend_name = "sqlite"

    def __init__(self, database: Database):
        self.database = database

    def upkeep_job(self) -> Callable[[], None]:
        """Checkpointing the write-ahead log, handed to the caller (see `StoreAdmin.upkeep_job`):
        this process's connections, open and to come, checkpoint on commit only past the
        safety limit. Each run is a PASSIVE checkpoint: it copies what no reader still needs
        and never blocks readers or writers. Worker processes each run their own; SQLite lets
        one checkpoint at a time (the others return at once)."""
        self.database.leave_checkpoints_to_upkeep()
        return self.checkpoint

    def checkpoint(self) -> None:
        """One PASSIVE checkpoint of the write-ahead log (a no-op when it is empty)."""
        try:
            self.database.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.OperationalError as exc:  # another connection is checkpointing
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise

    def migrate(self) -> None:
        if self.database.one("PRAGMA user_version")[0] == SCHEMA_VERSION:
            return
        package = resources.files("skillsession.adapters.store.sqlite")
        script = package.joinpath(SCHEMA_FILE).read_text()
        with self.database.tx() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise RuntimeError(f"database schema v{version} is newer than this code")
            if version < SCHEMA_VERSION:
                for statement in schema_statements(script):
                    db.execute(statement)
                _add_columns(db)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def close(self) -> None:
        self.database.close()

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
            with self.database.tx() as db:
                db.executemany(rows.INSERT_USER, [rows.user_params(u) for u in users])
                db.executemany(rows.INSERT_PROFILE, [rows.profile_params(p) for p in profiles])
                db.executemany(rows.INSERT_SKILL, [r for p in profiles for r in rows.skill_rows(p)])
                db.executemany(
                    rows.INSERT_AVAILABILITY, [rows.availability_params(a) for a in availabilities]
                )
                db.executemany(rows.INSERT_SLOT, [rows.slot_params(s) for s in slots])
                bump(db, [*(a.tutor_id for a in availabilities), *(s.tutor_id for s in slots)])
                if profiles:
                    bump_lists(db, [PROFILES])
        except sqlite3.IntegrityError as exc:
            raise Conflict(f"bulk insert rejected: {exc}", code="bulk_conflict") from exc

    def check_consistency(self) -> list[str]:
        """Violations of the booking invariants (`domain.invariants`), human-readable (empty:
        consistent). Reads the tables as a stream, one slot at a time: for the `check` command
        and tests, not for request paths."""
        conn = self.database.conn
        scan = SLOTS_AND_BOOKINGS.format(suspects=_lone_suspects())
        slots = _slots_with_bookings(conn.execute(scan))
        found = chain.from_iterable(slot_problems(*slot) for slot in slots)
        orphans = (orphan_problem(b) for (b,) in conn.execute(ORPHAN_BOOKINGS))
        deleted = {u for (u,) in conn.execute("SELECT user_id FROM deleted_users")}
        left = deleted_user_problems(
            conn.execute(DELETED_USERS_LIVE_BOOKINGS),
            conn.execute(DELETED_USERS_FREE_SLOTS),
            deleted,
        )
        return _bounded(chain(found, orphans, left))

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
            self.database.conn.backup(destination, pages=-1)
            destination.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        finally:
            destination.close()
        os.replace(partial, target)
        return began

    def restore(self, source: sqlite3.Connection) -> None:
        """Replace the database with `source` (a sound backup), page by page under SQLite's own
        locking, and bring its schema up to date. The service should be stopped."""
        source.backup(self.database.conn)
        self.migrate()


def schema_statements(script: str) -> Iterator[str]:
    """The statements of an SQL script (semicolons inside comments or strings are fine)."""
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            yield buffer
            buffer = ""


def _add_columns(db: sqlite3.Connection) -> None:
    """Columns added since a table was first made (CREATE TABLE IF NOT EXISTS keeps old ones)."""
    for table, columns in ADDED_COLUMNS.items():
        present = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        for name, kind in columns.items():
            if name not in present:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")


_SLOT_STATUS = {s.value: s for s in SlotStatus}
_BOOKING_STATUS = {s.value: s for s in BookingStatus}


def _slots_with_bookings(
    found: Iterator[tuple],
) -> Iterator[tuple[str, SlotStatus, list[tuple[str, BookingStatus]]]]:
    """(slot_id, slot_status, [(booking_id, booking_status), ...]) per slot, from the rows of
    SLOTS_AND_BOOKINGS (ordered by slot; a slot without bookings has one row of NULLs)."""
    for slot_id, group in groupby(found, itemgetter(0)):
        group = list(group)
        bookings = [(b, _BOOKING_STATUS[s]) for _, _, b, s in group if b is not None]
        yield slot_id, _SLOT_STATUS[group[0][1]], bookings


def _lone_suspects() -> str:
    """The slot states (as SQL literals) that `slot_problems` faults in a slot no booking
    names: pending and booked."""
    lone = [status.value for status in SlotStatus if slot_problems("", status, ())]
    return ", ".join(f"'{value}'" for value in lone)


def _bounded(problems: Iterable[str]) -> list[str]:
    """At most PROBLEMS_PER_KIND problems of each kind (the text before the id)."""
    seen: Counter[str] = Counter()
    kept = []
    for problem in problems:
        kind = problem.rpartition(": ")[0]
        seen[kind] += 1
        if seen[kind] <= PROBLEMS_PER_KIND:
            kept.append(problem)
    return kept
