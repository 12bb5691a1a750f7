"""AnswerVersions on SQLite: one point read each. The roles' writes move them in their own
transactions (`db.bump`, `db.bump_lists`)."""

from __future__ import annotations

from skillsession.adapters.store.sqlite.db import PROFILES, Database

SLOT_VERSION = "SELECT version FROM slot_versions WHERE tutor_id = ?"
PROFILES_VERSION = "SELECT version FROM list_versions WHERE owner = ?"
BOTH = (
    "SELECT coalesce((SELECT version FROM list_versions WHERE owner = ?), 0), "
    "coalesce((SELECT version FROM slot_versions WHERE tutor_id = ?), 0)"
)
LIST_VERSION = "SELECT max(version) FROM list_versions WHERE owner IN (?, ?)"


class SqliteVersions:
    def __init__(self, database: Database):
        self._db = database

    def profiles_version(self) -> int:
        """The profiles' list version (see `db.bump_lists`): moved by every profile write."""
        row = self._db.one(PROFILES_VERSION, (PROFILES,))
        return row[0] if row else 0

    def slot_version(self, tutor_id: str) -> int:
        row = self._db.one(SLOT_VERSION, (tutor_id,))
        return row[0] if row else 0

    def slot_answer_versions(self, tutor_id: str) -> tuple[int, int]:
        return self._db.conn.execute(BOTH, (PROFILES, tutor_id)).fetchone()

    def booking_list_version(self, user_id: str) -> int:
        """The later of the user's own version and the profiles' one (see `db.bump_lists`)."""
        return self._db.conn.execute(LIST_VERSION, (user_id, PROFILES)).fetchone()[0] or 0
