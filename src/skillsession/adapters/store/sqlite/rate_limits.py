"""RateLimitStore on SQLite: a row per key and second with admitted attempts."""

from __future__ import annotations

from datetime import datetime

from skillsession.adapters.store.sqlite import rows
from skillsession.adapters.store.sqlite.db import Database
from skillsession.domain.rate_limits import Admission, admit


class SqliteRateLimits:
    def __init__(self, database: Database):
        self._db = database

    def hit(self, key: str, now: datetime, window_seconds: int, limit: int) -> Admission:
        # a row per second with admitted attempts (`window` holds that second, `hits` how many)
        second = rows.ts(now)
        with self._db.tx() as db:
            db.execute(
                "DELETE FROM rate_limits WHERE key = ? AND window <= ?",
                (key, second - window_seconds),
            )
            hits = db.execute("SELECT window, hits FROM rate_limits WHERE key = ?", (key,))
            admission = admit(
                [at for at, n in hits for _ in range(n)], second, window_seconds, limit
            )
            if admission.admitted:
                db.execute(
                    "INSERT INTO rate_limits (key, window, hits) VALUES (?, ?, 1) "
                    "ON CONFLICT (key, window) DO UPDATE SET hits = hits + 1",
                    (key, second),
                )
            return admission

    def clear(self, key: str) -> None:
        with self._db.tx() as db:
            db.execute("DELETE FROM rate_limits WHERE key = ?", (key,))
