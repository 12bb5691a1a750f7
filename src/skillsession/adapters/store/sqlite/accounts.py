"""AccountStore on SQLite: users and their verification codes."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from skillsession.adapters.store.sqlite import rows
from skillsession.adapters.store.sqlite.db import PROFILES, Database, bump_lists, notify
from skillsession.domain.accounts import invalid_code
from skillsession.domain.errors import Conflict, NotFound
from skillsession.domain.model import Notification, User, VerificationCode

USER_BY_EMAIL = f"SELECT {rows.USER_COLUMNS} FROM users WHERE email = ?"
USER_BY_ID = f"SELECT {rows.USER_COLUMNS} FROM users WHERE user_id = ?"
CODE_BY_USER = f"SELECT {rows.CODE_COLUMNS} FROM verification_codes WHERE user_id = ?"


class SqliteAccounts:
    def __init__(self, database: Database):
        self._db = database

    def create_user(self, user: User, code: VerificationCode, notification: Notification) -> None:
        with self._db.tx() as db:
            try:
                db.execute(rows.INSERT_USER, rows.user_params(user))
            except sqlite3.IntegrityError as exc:
                raise Conflict("email already registered", code="email_taken") from exc
            db.execute(rows.INSERT_CODE, rows.code_params(code))
            notify(db, notification)

    def get_user(self, user_id: str) -> User | None:
        row = self._db.one(USER_BY_ID, (user_id,))
        return rows.user(row) if row else None

    def get_user_by_email(self, email: str) -> User | None:
        row = self._db.one(USER_BY_EMAIL, (email,))
        return rows.user(row) if row else None

    def replace_unconfirmed_user(
        self, user: User, code: VerificationCode, notification: Notification
    ) -> None:
        with self._db.tx() as db:
            changed = db.execute(
                "UPDATE users SET password_hash = ?, created_at = ? "
                "WHERE user_id = ? AND email = ? AND status = 'unconfirmed'",
                (user.password_hash, rows.ts(user.created_at), user.user_id, user.email),
            ).rowcount
            if not changed:
                raise Conflict("email already registered", code="email_taken")
            db.execute(rows.INSERT_CODE, rows.code_params(code))
            notify(db, notification)

    def set_password(
        self,
        user_id: str,
        password_hash: str,
        tokens_valid_after: datetime,
        code_hash: str | None = None,
    ) -> None:
        with self._db.tx() as db:
            if (
                code_hash is not None
                and not db.execute(
                    "DELETE FROM verification_codes WHERE user_id = ? AND code_hash = ?",
                    (user_id, code_hash),
                ).rowcount
            ):
                if db.execute("SELECT 1 FROM users WHERE user_id = ?", (user_id,)).fetchone():
                    raise invalid_code()
                raise NotFound("no such account", code="user_not_found")
            changed = db.execute(
                "UPDATE users SET password_hash = ?, status = 'confirmed', tokens_valid_after = ? "
                "WHERE user_id = ?",
                (password_hash, rows.micros(tokens_valid_after), user_id),
            ).rowcount
            if not changed:
                raise NotFound("no such account", code="user_not_found")
            db.execute("DELETE FROM verification_codes WHERE user_id = ?", (user_id,))

    def delete_unconfirmed_users(self, created_before: datetime, limit: int) -> int:
        # users_unconfirmed (partial index): only the due accounts are read; codes cascade
        with self._db.tx() as db:
            return db.execute(
                "DELETE FROM users WHERE user_id IN (SELECT user_id FROM users "
                "WHERE status = 'unconfirmed' AND created_at < ? LIMIT ?)",
                (rows.ts(created_before), limit),
            ).rowcount

    def get_user_and_code_by_email(self, email: str) -> tuple[User | None, VerificationCode | None]:
        user = self.get_user_by_email(email)
        if user is None:
            return None, None
        row = self._db.one(CODE_BY_USER, (user.user_id,))
        return user, rows.code(row) if row else None

    def replace_verification_code(self, code: VerificationCode, notification: Notification) -> None:
        with self._db.tx() as db:
            db.execute(rows.INSERT_CODE, rows.code_params(code))
            notify(db, notification)

    def record_code_failure(self, user_id: str) -> int:
        with self._db.tx() as db:
            found = db.execute(
                "UPDATE verification_codes SET failed_attempts = failed_attempts + 1 "
                "WHERE user_id = ? RETURNING failed_attempts",
                (user_id,),
            ).fetchall()
        return found[0][0] if found else 0

    def confirm_user(self, user_id: str) -> None:
        with self._db.tx() as db:
            db.execute("UPDATE users SET status = 'confirmed' WHERE user_id = ?", (user_id,))
            db.execute("DELETE FROM verification_codes WHERE user_id = ?", (user_id,))

    def delete_account(self, user_id: str) -> None:
        with self._db.tx() as db:
            db.execute("DELETE FROM tutor_skills WHERE tutor_id = ?", (user_id,))
            gone = db.execute("DELETE FROM profiles WHERE user_id = ?", (user_id,)).rowcount
            db.execute("DELETE FROM subscriptions WHERE user_id = ?", (user_id,))
            db.execute("DELETE FROM verification_codes WHERE user_id = ?", (user_id,))
            db.execute("DELETE FROM users WHERE user_id = ?", (user_id,))
            db.execute(
                "INSERT OR IGNORE INTO deleted_users (user_id, deleted_at) VALUES (?, ?)",
                (user_id, rows.ts(datetime.now(UTC))),
            )
            if gone:  # lists and search showed the profile
                bump_lists(db, [PROFILES, user_id])
