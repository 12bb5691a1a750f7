"""Accounts on DynamoDB: the account (USER#<id>), its e-mail guard holding a copy of it
(EMAIL#<email>), and the verification code beside the guard."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from skillsession.adapters.store.dynamodb import items
from skillsession.adapters.store.dynamodb.calls import (
    OPTIMISTIC_RETRIES,
    Expr,
    Recent,
    Table,
    TransactionCancelled,
    error_code,
)
from skillsession.adapters.store.dynamodb.items import Item, ts
from skillsession.domain.accounts import invalid_code
from skillsession.domain.errors import Conflict, NotFound
from skillsession.domain.model import AccountStatus, Notification, User, VerificationCode


class DynamoAccounts:
    def __init__(self, db: Table):
        self.db = db
        self._emails = Recent()  # user_id -> e-mail (never changes)

    def create_user(self, user: User, code: VerificationCode, notification: Notification) -> None:
        """The user and its e-mail guard are both put only if absent; either failing is
        `email_taken` (a reused user id counts as taken, as in the memory store). The code goes
        beside the guard, in the e-mail's partition."""
        db = self.db
        ops = [
            db.put(items.user_item(user), "attribute_not_exists(PK)"),
            db.put(items.email_guard_item(user), "attribute_not_exists(PK)"),
            db.put(items.code_item(code, items.code_key(user.email))),
            db.put(items.note_item(notification, datetime.now(UTC))),
        ]
        try:
            db.transact(ops)
        except TransactionCancelled as cancelled:
            if cancelled.failed(0) or cancelled.failed(1):
                raise Conflict("email already registered", code="email_taken") from None
            raise
        self._emails.put(user.user_id, user.email)

    def _read_user(self, user_id: str) -> User | None:
        found = self.db.get(items.user_key(user_id))
        if found is None:
            return None
        self._emails.put(user_id, found["email"])
        return items.user(found)

    def get_user(self, user_id: str) -> User | None:
        """One GetItem (the token check's read, once per user and cache TTL)."""
        return self._read_user(user_id)

    def get_user_by_email(self, email: str) -> User | None:
        """One GetItem: the guard holds a copy of the account (an older table's guard only the
        user id: then the account is read too)."""
        guard = self.db.get(items.email_key(email))
        return self._user_of_guard(guard)

    def _user_of_guard(self, guard: Item | None) -> User | None:
        if guard is None:
            return None
        if not items.has_user_copy(guard):
            return self._read_user(guard["user_id"])
        self._emails.put(guard["user_id"], guard["email"])
        return items.user(guard)

    def get_user_and_code_by_email(self, email: str) -> tuple[User | None, VerificationCode | None]:
        """One strongly consistent Query of the e-mail's partition: the guard (a copy of the
        account) and the code beside it. A code stored before codes moved there (in the
        account's partition) is read in a second call, for an unconfirmed account only."""
        e = Expr()
        condition = f"{e.n('PK')} = {e.v(items.email_key(email)['PK'])}"
        found = {i["SK"]: i for i in self.db.query(condition, e)}
        user = self._user_of_guard(found.get("EMAIL"))
        code = found.get("CODE")
        if user is not None and code is None and user.status != AccountStatus.CONFIRMED:
            code = self.db.get(items.legacy_code_key(user.user_id))
        return user, items.code(code) if code else None

    def _email_of(self, user_id: str) -> str | None:
        """The account's e-mail (it never changes): as this process saw it, else read."""
        email = self._emails.get(user_id)
        if email is None and self._read_user(user_id) is not None:
            email = self._emails.get(user_id)
        return email

    def _code_keys(self, user_id: str) -> list[Item]:
        """Where the user's code may be: beside the e-mail guard, or (a code stored before
        codes moved there, or of a user id without an account) in the account's partition."""
        email = self._email_of(user_id)
        legacy = items.legacy_code_key(user_id)
        return [items.code_key(email), legacy] if email is not None else [legacy]

    def replace_verification_code(self, code: VerificationCode, notification: Notification) -> None:
        """The new code where codes live, any older one (in the account's partition) dropped."""
        db = self.db
        where, *older = self._code_keys(code.user_id)
        db.transact(
            [
                db.put(items.code_item(code, where)),
                *[db.delete(k) for k in older],
                db.put(items.note_item(notification, datetime.now(UTC))),
            ]
        )

    def record_code_failure(self, user_id: str) -> int:
        for where in self._code_keys(user_id):
            e = Expr()
            op = self.db.update(
                where, e.update(add={"failed_attempts": 1}), e, "attribute_exists(PK)"
            )
            try:
                answer = self.db.update_item(op, ReturnValues="UPDATED_NEW")
            except self.db.client_error as exc:
                if error_code(exc) == "ConditionalCheckFailedException":
                    continue
                raise
            return int(answer["Attributes"]["failed_attempts"]["N"])
        return 0

    def confirm_user(self, user_id: str) -> None:
        """One transaction: the account and its copy in the e-mail guard confirmed, the code
        dropped (wherever it is). The guard's key is the e-mail: known when this process read or
        created the account (the service has just looked it up), else read first."""
        db = self.db
        email = self._email_of(user_id)
        if email is not None:
            ops = [
                self._confirm_op(items.user_key(user_id)),
                self._confirm_op(items.email_key(email)),
                *[db.delete(k) for k in self._code_keys(user_id)],
            ]
            try:
                db.transact(ops)
                return
            except TransactionCancelled as cancelled:
                if not cancelled.failed(0):
                    raise
        # no such user: still drop the code, as the other stores do
        db.delete_item(items.legacy_code_key(user_id))

    def _confirm_op(self, key: Item, **more: Any):
        """The account (or its guard copy) confirmed, with `more` attributes set; the sparse
        7-day expiry entry removed (only the USER item has one)."""
        e = Expr()
        confirmed = e.update(
            {"status": AccountStatus.CONFIRMED.value, **more}, remove=items.UNCONFIRMED_KEYS
        )
        return self.db.update(key, confirmed, e, "attribute_exists(PK)")

    def replace_unconfirmed_user(
        self, user: User, code: VerificationCode, notification: Notification
    ) -> None:
        """One transaction: the account and its guard copy updated only while unconfirmed (and
        the guard still this account's), the expiry entry moved to the new `created_at`, the
        code replaced, the mail queued."""
        db = self.db
        changes = {"password_hash": user.password_hash, "created_at": ts(user.created_at)}
        unconfirmed = AccountStatus.UNCONFIRMED.value
        ops = []
        for key, more in (
            (items.user_key(user.user_id), items.unconfirmed_keys(user.user_id, user.created_at)),
            (items.email_key(user.email), {}),
        ):
            e = Expr()
            condition = (
                f"{e.n('status')} = {e.v(unconfirmed)} AND {e.n('user_id')} = {e.v(user.user_id)}"
                f" AND {e.n('email')} = {e.v(user.email)}"
            )
            ops.append(db.update(key, e.update({**changes, **more}), e, condition))
        ops += [
            db.put(items.code_item(code, items.code_key(user.email))),
            db.delete(items.legacy_code_key(user.user_id)),
            db.put(items.note_item(notification, datetime.now(UTC))),
        ]
        try:
            db.transact(ops)
        except TransactionCancelled as cancelled:
            if cancelled.failed(0) or cancelled.failed(1):
                raise Conflict("email already registered", code="email_taken") from None
            raise

    def set_password(
        self,
        user_id: str,
        password_hash: str,
        tokens_valid_after: datetime,
        code_hash: str | None = None,
    ) -> None:
        """One transaction, as `confirm_user`, with the new hash and the token floor (unix
        microseconds) on the account and its guard copy. With `code_hash`, the code's deletion
        is conditional on it where codes live; a code stored before codes moved (in the
        account's partition) is tried there in a second transaction."""
        db = self.db
        email = self._email_of(user_id)
        if email is None:
            raise NotFound("no such account", code="user_not_found")
        more = {
            "password_hash": password_hash,
            "tokens_valid_after": items.micros(tokens_valid_after),
        }
        places = self._code_keys(user_id)
        for used in range(len(places) if code_hash is not None else 1):
            ops = [
                self._confirm_op(items.user_key(user_id), **more),
                self._confirm_op(items.email_key(email), **more),
            ]
            for place, where in enumerate(places):
                if code_hash is None or place != used:
                    ops.append(db.delete(where))
                else:
                    e = Expr()
                    ops.append(db.delete(where, f"{e.n('code_hash')} = {e.v(code_hash)}", e))
            try:
                db.transact(ops)
                return
            except TransactionCancelled as cancelled:
                if cancelled.failed(0) or cancelled.failed(1):
                    raise NotFound("no such account", code="user_not_found") from None
                if not cancelled.failed(2 + used):
                    raise
        raise invalid_code()

    def delete_unconfirmed_users(self, created_before: datetime, limit: int) -> int:
        """The due accounts come from GSI3's sparse `UNCONFIRMED#<shard>` entries (oldest
        first); each deletion (account, guard, codes) is one transaction that re-checks that
        the account is still unconfirmed and still old (a sign-up again moves it on)."""
        db = self.db
        cutoff = ts(created_before)
        deleted = 0
        for entry in db.due("UNCONFIRMED", datetime.fromtimestamp(cutoff - 1, UTC), limit):
            user_id, email = entry["user_id"], entry["email"]
            e, g = Expr(), Expr()
            condition = (
                f"{e.n('status')} = {e.v(AccountStatus.UNCONFIRMED.value)} "
                f"AND {e.n('created_at')} < {e.v(cutoff)}"
            )
            ops = [
                db.delete(items.user_key(user_id), condition, e),
                db.delete(items.email_key(email), f"{g.n('user_id')} = {g.v(user_id)}", g),
                db.delete(items.code_key(email)),
                db.delete(items.legacy_code_key(user_id)),
            ]
            if db.try_transact(ops):
                deleted += 1
        return deleted

    def delete_account(self, user_id: str) -> None:
        """One transaction: the profile (on its version as read, so a concurrent save cannot
        leave skill entries behind) with its skill entries, the subscription, the codes, the
        account and its e-mail guard (on the guard still being this account's), and the
        deleted mark."""
        db = self.db
        for attempt in range(OPTIMISTIC_RETRIES):
            profile = db.get(items.profile_key(user_id))
            account = db.get(items.user_key(user_id))
            ops = []
            if profile is not None:
                e = Expr()
                version = profile.get("version")
                condition = (
                    f"attribute_not_exists({e.n('version')})"
                    if version is None
                    else f"{e.n('version')} = {e.v(version)}"
                )
                ops.append(db.delete(items.profile_key(user_id), condition, e))
                ops += [
                    db.delete(items.skill_item_key(k, user_id))
                    for k in profile.get("skill_keys") or []
                ]
            ops += [
                db.delete(items.subscription_key(user_id)),
                db.delete(items.legacy_code_key(user_id)),
            ]
            if account is not None:
                email = account["email"]
                g = Expr()
                ops += [
                    db.delete(items.user_key(user_id)),
                    db.delete(items.email_key(email), f"{g.n('user_id')} = {g.v(user_id)}", g),
                    db.delete(items.code_key(email)),
                ]
            ops.append(db.put({**items.deleted_key(user_id), "user_id": user_id}))
            try:
                db.transact(ops)
                return
            except TransactionCancelled:
                db.backoff(attempt)  # the profile changed meanwhile: read again
        raise Conflict("the account is being changed concurrently", code="concurrent_update")
