"""The consistency scan of the DynamoDB store: the one Scan of this adapter, an operator tool
(the `check` command, tests) that reads the whole table. Never call it on a request path.

The booking invariants are `domain.invariants`' (each slot with the bookings that name it goes
to `slot_problems`, each booking whose slot is gone to `orphan_problem`); what is checked here
is this table's own: index keys that follow a status, the history mark, the pairs' and the
students' counters, the accounts' copies in the e-mail guards."""

from __future__ import annotations

from typing import Any

from skillsession.adapters.store.dynamodb import items
from skillsession.adapters.store.dynamodb.calls import Expr, Table
from skillsession.adapters.store.dynamodb.items import DUE_KEYS, SLOT_INDEX_KEYS, Item, decode
from skillsession.domain.invariants import deleted_user_problems, orphan_problem, slot_problems
from skillsession.domain.model import (
    LIVE_BOOKING_STATUSES,
    AccountStatus,
    BookingStatus,
    SlotStatus,
)

KINDS = ("SLOT", "BOOKING", "PAIR", "PENDING", "USER", "EMAIL", "DELETED")
ATTRIBUTES = (
    "SK",
    "user_id",
    "email",
    "password_hash",
    "status",
    "slot_id",
    "slot_status",
    "history",
    "booking_id",
    "booking_status",
    "tutor_id",
    "student_id",
    "start",
    "end",
    "accepted",
    "pending",
    *SLOT_INDEX_KEYS,  # GSI3PK among them: an unconfirmed account's expiry entry too
)


def check_consistency(db: Table) -> list[str]:
    """Violations of the booking invariants, and of this table's derived entries, human
    readable (empty: consistent). One strongly consistent Scan, page after page."""
    slots: dict[str, Item] = {}
    bookings: list[Item] = []
    pairs: dict[tuple[str, str], Item] = {}
    pending: dict[str, int] = {}  # student_id -> the student's pending counter
    accounts: dict[str, list[Item]] = {}  # user_id -> its USER item and its guard
    deleted: set[str] = set()  # users who deleted their account
    e = Expr()
    wanted = ", ".join(e.v(kind) for kind in KINDS)
    args: dict[str, Any] = {
        "TableName": db.table,
        "ConsistentRead": True,
        "FilterExpression": f"{e.n('SK')} IN ({wanted})",
        "ProjectionExpression": ", ".join(e.n(a) for a in ATTRIBUTES),
        **e.args(),
    }
    while True:
        page = db.call("scan", **args)
        for raw in page.get("Items", []):
            item = decode(raw)
            kind = item["SK"]
            if kind == "SLOT":
                slots[item["slot_id"]] = item
            elif kind == "BOOKING":
                bookings.append(item)
            elif kind == "PAIR":
                pairs[item["tutor_id"], item["student_id"]] = item
            elif kind == "PENDING":
                pending[item["student_id"]] = item.get("pending", 0)
            elif kind == "DELETED":
                deleted.add(item["user_id"])
            elif kind in ("USER", "EMAIL"):
                accounts.setdefault(item.get("user_id", "?"), []).append(item)
        if not page.get("LastEvaluatedKey"):
            break
        args["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return (
        _booking_problems(slots, bookings, {p: i.get("accepted", 0) for p, i in pairs.items()})
        + _pending_problems(bookings, pairs, pending)
        + _account_problems(accounts)
        + deleted_user_problems(
            [
                (b["booking_id"], b["tutor_id"], b["student_id"])
                for b in bookings
                if b["booking_status"] in {s.value for s in LIVE_BOOKING_STATUSES}
            ],
            [
                (s["slot_id"], s.get("tutor_id"))
                for s in slots.values()
                if s["slot_status"] == SlotStatus.AVAILABLE.value
            ],
            deleted,
        )
    )


def _booking_problems(
    slots: dict[str, Item], bookings: list[Item], pairs: dict[tuple[str, str], int]
) -> list[str]:
    """The domain's invariants per slot (and per orphaned booking), then this table's: each
    booking's due-index entry, each slot's history mark and free/due index entries, and the
    pairs' accepted counters."""
    problems: list[str] = []
    by_slot: dict[str, list[tuple[str, BookingStatus]]] = {}
    accepted: dict[tuple[str, str], int] = {}
    for b in bookings:
        status, ident = BookingStatus(b["booking_status"]), b["booking_id"]
        if b["slot_id"] not in slots:
            problems.append(orphan_problem(ident))
            continue
        by_slot.setdefault(b["slot_id"], []).append((ident, status))
        if status == BookingStatus.ACCEPTED:
            pair = (b["tutor_id"], b["student_id"])
            accepted[pair] = accepted.get(pair, 0) + 1
        due = items.booking_due_keys(ident, status, items.dt(b["start"]), items.dt(b["end"]))
        if {k: b.get(k) for k in DUE_KEYS} != {k: due.get(k) for k in DUE_KEYS}:
            problems.append(f"booking whose due-index entry does not match its status: {ident}")
    for ident, slot in slots.items():
        mine = by_slot.get(ident, [])
        status = SlotStatus(slot["slot_status"])
        problems += slot_problems(ident, status, mine)
        if mine and not slot.get("history"):
            problems.append(f"slot with bookings but no history mark: {ident}")
        indexed = all(slot.get(k) for k in SLOT_INDEX_KEYS)
        if (
            indexed != (status == SlotStatus.AVAILABLE)
            or any(slot.get(k) for k in SLOT_INDEX_KEYS) != indexed
        ):
            problems.append(f"slot whose free/due index entries do not match its status: {ident}")
    for pair in set(pairs) | set(accepted):
        if pairs.get(pair, 0) != accepted.get(pair, 0):
            problems.append(f"accepted-bookings counter is wrong for pair: {pair[0]}/{pair[1]}")
    return problems


def _pending_problems(
    bookings: list[Item], pairs: dict[tuple[str, str], Item], students: dict[str, int]
) -> list[str]:
    """Each pending counter that exists (the pair's, the student's) is the number of pending
    bookings it counts. (A table written before the counters has none for the pending
    bookings of then: those are not counted, and not reported.)"""
    problems = []
    by_pair: dict[tuple[str, str], int] = {}
    by_student: dict[str, int] = {}
    for b in bookings:
        if b["booking_status"] == BookingStatus.PENDING.value:
            pair = (b["tutor_id"], b["student_id"])
            by_pair[pair] = by_pair.get(pair, 0) + 1
            by_student[b["student_id"]] = by_student.get(b["student_id"], 0) + 1
    for pair, item in sorted(pairs.items()):
        if "pending" in item and item["pending"] != by_pair.get(pair, 0):
            problems.append(f"pending-requests counter is wrong for pair: {pair[0]}/{pair[1]}")
    for student, counted in sorted(students.items()):
        if counted != by_student.get(student, 0):
            problems.append(f"pending-requests counter is wrong for student: {student}")
    return problems


def _account_problems(accounts: dict[str, list[Item]]) -> list[str]:
    """Each account has its e-mail guard, and the guard's copy of it (if it holds one: older
    tables' guards hold only the user id) is the account."""
    problems = []
    copied = ("email", "password_hash", "status")
    for user_id, found in sorted(accounts.items()):
        kinds = sorted(i["SK"] for i in found)
        if kinds != ["EMAIL", "USER"]:
            problems.append(f"account without its e-mail guard (or a guard without it): {user_id}")
            continue
        guard, account = sorted(found, key=lambda i: i["SK"])
        if items.has_user_copy(guard) and any(guard[k] != account[k] for k in copied):
            problems.append(f"e-mail guard whose copy of the account differs: {user_id}")
        if account["status"] == AccountStatus.UNCONFIRMED.value and "GSI3PK" not in account:
            problems.append(
                f"unconfirmed account without its 7-day expiry entry (`skillsession migrate` "
                f"adds it): {user_id}"
            )
    return problems
