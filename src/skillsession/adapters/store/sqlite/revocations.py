"""Token floors on SQLite: of accounts an identity provider keeps (`TokenFloorStore`)."""

from __future__ import annotations

from datetime import datetime

from skillsession.adapters.store.sqlite import rows
from skillsession.adapters.store.sqlite.db import Database

# one read: the deleted mark and the floor, each by primary key
FLOOR = (
    "SELECT EXISTS (SELECT 1 FROM deleted_users WHERE user_id = ?1), "
    "(SELECT valid_after FROM token_floors WHERE user_id = ?1)"
)


class SqliteRevocations:
    def __init__(self, database: Database):
        self._db = database

    def revoke_tokens(self, user_id: str, valid_after: datetime) -> None:
        with self._db.tx() as db:
            db.execute(
                "INSERT INTO token_floors (user_id, valid_after) VALUES (?, ?) "
                "ON CONFLICT (user_id) DO UPDATE "
                "SET valid_after = max(valid_after, excluded.valid_after)",
                (user_id, rows.micros(valid_after)),
            )

    def token_floor(self, user_id: str) -> tuple[bool, datetime | None]:
        deleted, valid_after = self._db.one(FLOOR, (user_id,))
        return (False, None) if deleted else (True, rows.from_micros(valid_after))
