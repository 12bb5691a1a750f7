"""ProfileStore on SQLite: profiles, and the skill index behind tutor search."""

from __future__ import annotations

from datetime import datetime

from skillsession.adapters.store.sqlite import rows
from skillsession.adapters.store.sqlite.db import PROFILES, Database, bump_lists
from skillsession.domain.errors import NotFound
from skillsession.domain.model import Profile
from skillsession.domain.skills import skill_key

# an existing row keeps its `created_at` and `image_key` (see `save_profile`)
UPSERT_PROFILE = (
    rows.INSERT_PROFILE + " ON CONFLICT (user_id) DO UPDATE SET email = excluded.email, "
    "role = excluded.role, doc = excluded.doc, updated_at = excluded.updated_at"
)
PROFILE_BY_EMAIL = f"SELECT {rows.PROFILE_COLUMNS} FROM profiles WHERE email = ?"
SEARCH_COLUMNS = ", ".join(f"p.{c.strip()}" for c in rows.PROFILE_COLUMNS.split(","))


class SqliteProfiles:
    def __init__(self, database: Database):
        self._db = database

    def get_profile(self, user_id: str) -> Profile | None:
        row = self._db.one(rows.SELECT_PROFILE, (user_id,))
        return rows.profile(row) if row else None

    def get_profile_by_email(self, email: str) -> Profile | None:
        row = self._db.one(PROFILE_BY_EMAIL, (email,))
        return rows.profile(row) if row else None

    def get_profiles(self, user_ids: list[str]) -> dict[str, Profile]:
        ids = sorted(set(user_ids))
        found: dict[str, Profile] = {}
        db = self._db.conn
        for start in range(0, len(ids), 500):  # stay under SQLite's bound-parameter limit
            chunk = ids[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            for row in db.execute(
                f"SELECT {rows.PROFILE_COLUMNS} FROM profiles WHERE user_id IN ({marks})", chunk
            ):
                found[row[0]] = rows.profile(row)
        return found

    def save_profile(self, profile: Profile) -> None:
        """Upsert; an existing row keeps its `created_at` and `image_key` (the image is only
        changed by `set_profile_image`, so a concurrent profile edit cannot undo it)."""
        with self._db.tx() as db:
            db.execute(UPSERT_PROFILE, rows.profile_params(profile))
            db.execute("DELETE FROM tutor_skills WHERE tutor_id = ?", (profile.user_id,))
            db.executemany(rows.INSERT_SKILL, rows.skill_rows(profile))
            bump_lists(db, [PROFILES])

    def set_profile_image(self, user_id: str, image_key: str | None) -> str | None:
        with self._db.tx() as db:
            row = db.execute(
                "SELECT image_key FROM profiles WHERE user_id = ?", (user_id,)
            ).fetchone()
            if row is None:
                raise NotFound("no such profile", code="profile_not_found")
            db.execute("UPDATE profiles SET image_key = ? WHERE user_id = ?", (image_key, user_id))
            bump_lists(db, [PROFILES])
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
        sql = [
            f"SELECT {SEARCH_COLUMNS} FROM tutor_skills t JOIN profiles p ON p.user_id = t.tutor_id",
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
            params += [rows.ts(available_between[0]), rows.ts(available_between[1])]
        sql.append("ORDER BY t.tutor_id LIMIT ?")
        params.append(limit)
        return [rows.profile(r) for r in self._db.conn.execute(" ".join(sql), params)]
