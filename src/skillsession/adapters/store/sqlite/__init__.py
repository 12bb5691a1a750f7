"""The storage roles on SQLite: one module per role over one shared database (`db.py`: the
file, a connection per thread, write transactions, version bumps), and `rows.py` for the row
conversions. `open_store(url)` (or `open_file(path)`) hands out the roles as `Stores`."""

from __future__ import annotations

from pathlib import Path

from skillsession.adapters.private import private_dir, private_file
from skillsession.adapters.store.sqlite.accounts import SqliteAccounts
from skillsession.adapters.store.sqlite.admin import SqliteAdmin
from skillsession.adapters.store.sqlite.bookings import SqliteBookings
from skillsession.adapters.store.sqlite.db import Database, database_path
from skillsession.adapters.store.sqlite.outbox import SqliteOutbox
from skillsession.adapters.store.sqlite.profiles import SqliteProfiles
from skillsession.adapters.store.sqlite.rate_limits import SqliteRateLimits
from skillsession.adapters.store.sqlite.slots import SqliteSlots
from skillsession.adapters.store.sqlite.versions import SqliteVersions
from skillsession.ports.storage import Stores


def open_store(url: str) -> Stores:
    """`sqlite:///relative/path.db` or `sqlite:////absolute/path.db`; the directory and the
    file are made private (0700, 0600) if they are new."""
    path = database_path(url)
    private_dir(path.parent)
    private_file(path)  # 0600, and so its -wal and -shm files
    return open_file(path)


def open_file(path: str | Path) -> Stores:
    """The roles over the database file at `path` (opened on first use, not migrated)."""
    database = Database(path)
    return Stores(
        accounts=SqliteAccounts(database),
        rate_limits=SqliteRateLimits(database),
        profiles=SqliteProfiles(database),
        slots=SqliteSlots(database),
        bookings=SqliteBookings(database),
        outbox=SqliteOutbox(database),
        admin=SqliteAdmin(database),
        versions=SqliteVersions(database),
    )


__all__ = ["database_path", "open_file", "open_store"]
