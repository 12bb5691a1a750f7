"""What every SQLite role shares: the database file, one connection per thread, write
transactions, and the writes that go along with others (version bumps, queued notifications).

WAL mode; every state change is one `BEGIN IMMEDIATE` transaction; conditional UPDATEs (checked
by rowcount) decide races. Safe to share one database file between threads and processes
(uvicorn workers, the expiry job, the CLI)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

from skillsession.adapters.store.sqlite import rows
from skillsession.domain.model import Notification

# SQLite's default: a commit that leaves the write-ahead log at 1,000 pages or more checkpoints
# it (copies the pages into the database, fsyncs both): ~6 ms, every ~300 booking requests, on
# the request that happens to cross the line. With the upkeep job running (admin.upkeep_job),
# commits only do it past this safety limit (~40 MB of log), should the job fall behind or stop.
AUTOCHECKPOINT_PAGES = 1000
AUTOCHECKPOINT_PAGES_WITH_UPKEEP = 10_000

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


class Database:
    """One database file as the roles use it: this thread's connection (`conn`) and write
    transactions (`tx`)."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        self._local = threading.local()
        self._connections: list[tuple[int, sqlite3.Connection]] = []
        self._lock = threading.Lock()
        self._upkeep_pid: int | None = None  # the process whose upkeep job checkpoints

    @property
    def conn(self) -> sqlite3.Connection:
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

    def one(self, sql: str, params: tuple | list = ()):
        """The first row of a read (None if none)."""
        return self.conn.execute(sql, params).fetchone()

    @contextlib.contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: the write lock is taken up front, so reads inside it see
        the state the writes apply to, and concurrent writers queue (busy_timeout)."""
        db = self.conn
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

    def leave_checkpoints_to_upkeep(self) -> None:
        """This process's connections, open and to come, checkpoint on commit only past the
        safety limit: a job checkpoints instead."""
        self._upkeep_pid = os.getpid()
        with self._lock:
            mine = [c for pid, c in self._connections if pid == self._upkeep_pid]
        for conn in mine:
            conn.execute(f"PRAGMA wal_autocheckpoint = {AUTOCHECKPOINT_PAGES_WITH_UPKEEP}")

    def close(self) -> None:
        """Close this process's connections (a thread's next use opens a new one)."""
        with self._lock:
            mine = [c for pid, c in self._connections if pid == os.getpid()]
            self._connections.clear()
        for conn in mine:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
        self._local = threading.local()


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


def notify(db: sqlite3.Connection, notification: Notification) -> None:
    """Queue a notification in the outbox, inside the caller's transaction."""
    db.execute(rows.INSERT_NOTIFICATION, rows.notification_params(notification))


def bump(db: sqlite3.Connection, tutor_ids: list[str]) -> None:
    """A new slot version for each tutor, inside the caller's transaction."""
    db.executemany(BUMP_SLOT_VERSION, [(t,) for t in dict.fromkeys(tutor_ids)])


def bump_lists(db: sqlite3.Connection, owners: list[str]) -> None:
    """A new booking list version for each owner (user ids, or PROFILES for every profile),
    inside the caller's transaction: the next value of one counter, so it is above every version
    any owner has (`booking_list_version` reads the later of the user's and the profiles')."""
    owners = list(dict.fromkeys(owners))
    if not owners:
        return
    (version,) = db.execute(NEXT_LIST_VERSION).fetchall()[0]
    db.executemany(SET_LIST_VERSION, [(owner, version) for owner in owners])
