"""The tutor's availability lock (TUTOR#<id> LOCK): what keeps a tutor's windows from
overlapping on DynamoDB, where no transaction can check "no window overlaps" itself.

The LOCK item's `version` is read before the overlap check and bumped, on that condition, in
the transaction that writes the windows: so a concurrent create for the same tutor either saw
our windows or fails and checks again. A create too large for one transaction takes the lock
as a lease (`lease_until`) for its several transactions, and releases it at the end."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any

from skillsession.adapters.store.dynamodb import items
from skillsession.adapters.store.dynamodb.calls import (
    MAX_TRANSACTION_ITEMS,
    Expr,
    Table,
    TransactionCancelled,
    error_code,
)
from skillsession.adapters.store.dynamodb.items import Item, decode
from skillsession.domain.errors import Conflict

LEASE_SECONDS = 60  # how long a multi-transaction create_availability may hold a tutor


class TutorLocks:
    def __init__(self, db: Table):
        self.db = db

    def remember(self, tutor_id: str, lock: Item | None) -> None:
        """The tutor's LOCK as just read (None: there is none yet), for the `write` that
        follows (see `_lock_as_read`)."""
        self.db.recent.put(("LOCK", tutor_id), (lock,))

    def write(
        self, tutors: list[str], groups: list[list[dict[str, Any]]], check: Callable[[], None]
    ) -> None:
        """Write `groups` (each a window's operations) under the locks of `tutors`, `check`
        (the overlap check) run after the locks were read and before they are bumped.

        A call that fits one transaction (<= 100 items: e.g. a 24 h window cut in 15-minute
        slots is 98) is all-or-nothing. A larger one is written window by window in several
        transactions: the first takes the lock as a lease (other creates for that tutor wait),
        the last releases it; if one fails, the windows already written are deleted again
        (best effort) — a crash in between leaves whole windows, each with all its slots,
        which the tutor sees and can delete."""
        chunked = len(tutors) + sum(len(g) for g in groups) > MAX_TRANSACTION_ITEMS
        deadline = time.monotonic() + LEASE_SECONDS
        for attempt in itertools.count():
            locks = {t: self._lock_as_read(t, first=attempt == 0) for t in tutors}
            now = int(time.time())
            leased = any((lock or {}).get("lease_until", 0) > now for lock in locks.values())
            if not leased:
                check()
                lease = now + LEASE_SECONDS if chunked else None
                lock_ops = [self._lock_op(t, locks[t], lease) for t in tutors]
                try:
                    if chunked:
                        self._write_in_chunks(lock_ops, groups, tutors, locks)
                    else:
                        self.db.transact(lock_ops + [op for g in groups for op in g])
                    return
                except TransactionCancelled as cancelled:
                    if not any(cancelled.failed(i) for i in range(len(lock_ops))):
                        raise
            if time.monotonic() > deadline:
                raise Conflict(
                    "your availability is being changed by another request; try again",
                    code="availability_busy",
                )
            self.db.backoff(attempt, base=0.05)

    def _lock_as_read(self, tutor_id: str, first: bool) -> Item | None:
        """The tutor's LOCK item: on the first try as `get_profile_for_availability` read it
        (before this call's overlap check, which is what the lock's version must precede; if
        it changed since, the transaction's condition fails and the next try reads it again),
        else a strongly consistent GetItem."""
        remembered = self.db.recent.take(("LOCK", tutor_id))
        if first and remembered is not None:
            return remembered[0]
        return self.db.get(items.lock_key(tutor_id))

    def _lock_op(self, tutor_id: str, lock: Item | None, lease_until: int | None):
        e = Expr()
        version = (lock or {}).get("version", 0)
        if lock is None:
            condition = "attribute_not_exists(PK)"
        else:
            condition = f"{e.n('version')} = {e.v(version)}"
        update = e.update({"version": version + 1, "lease_until": lease_until})
        return self.db.update(items.lock_key(tutor_id), update, e, condition)

    def _write_in_chunks(self, lock_ops, groups, tutors, locks) -> None:
        db = self.db
        batches: list[list[dict[str, Any]]] = [list(lock_ops)]
        for group in groups:
            if len(batches[-1]) + len(group) > MAX_TRANSACTION_ITEMS:
                batches.append([])
            for op in group:  # a group larger than a transaction (bulk-made data) is split
                if len(batches[-1]) >= MAX_TRANSACTION_ITEMS:
                    batches.append([])
                batches[-1].append(op)
        db.transact(batches[0])  # the lock's condition decides here, as in one transaction
        written = [decode(op["Put"]["Item"]) for op in batches[0] if "Put" in op]
        try:
            for batch in batches[1:]:
                db.transact(batch)
                written += [decode(op["Put"]["Item"]) for op in batch if "Put" in op]
        except BaseException as exc:
            # undo what was written, then let others in
            db.batch_write(deletes=[items.key(i["PK"], i["SK"]) for i in written])
            self._release(tutors, locks)
            if isinstance(exc, TransactionCancelled):
                raise Conflict("availability could not be written", code=exc.code) from exc
            raise
        self._release(tutors, locks)

    def _release(self, tutors: list[str], locks: dict[str, Item | None]) -> None:
        for tutor in tutors:
            e = Expr()
            version = (locks[tutor] or {}).get("version", 0) + 1
            op = self.db.update(
                items.lock_key(tutor),
                e.update(remove=["lease_until"]),
                e,
                f"{e.n('version')} = {e.v(version)}",
            )
            try:
                self.db.update_item(op)
            except self.db.client_error as exc:
                if error_code(exc) != "ConditionalCheckFailedException":
                    raise  # else: the lease ran out and another create took the lock
