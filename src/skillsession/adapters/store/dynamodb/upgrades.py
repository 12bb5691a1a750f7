"""One-time upgrades of an older table's items, run by `migrate` after the table itself is
current, each recorded by a marker item (MIGRATION#<name>) so that later migrations skip it with
one GetItem. Each is a Scan: an operator's step, never a request path.

- `unconfirmed-expiry`: accounts left unconfirmed before unconfirmed accounts carried their
  sparse 7-day expiry entry (GSI3 `UNCONFIRMED#<shard>`) get it, so that the job deletes them
  too. Each update is conditioned on the account still being unconfirmed without the entry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from skillsession.adapters.store.dynamodb import items
from skillsession.adapters.store.dynamodb.calls import Expr, Table
from skillsession.adapters.store.dynamodb.items import decode
from skillsession.domain.model import AccountStatus


def _marker(name: str) -> dict[str, str]:
    return items.key(f"MIGRATION#{name}", "DONE")


def _unconfirmed_expiry(db: Table) -> int:
    """Give each unconfirmed account without it its expiry entry; return how many."""
    e = Expr()
    unconfirmed = AccountStatus.UNCONFIRMED.value
    args = {
        "TableName": db.table,
        "FilterExpression": f"{e.n('SK')} = {e.v('USER')} AND {e.n('status')} = "
        f"{e.v(unconfirmed)} AND attribute_not_exists({e.n('GSI3PK')})",
        "ProjectionExpression": ", ".join(e.n(a) for a in ("user_id", "created_at")),
        **e.args(),
    }
    upgraded = 0
    while True:
        page = db.call("scan", **args)
        for raw in page.get("Items", []):
            found = decode(raw)
            user_id = found["user_id"]
            created = items.dt(found.get("created_at")) or datetime.now(UTC)
            u = Expr()
            condition = (
                f"{u.n('status')} = {u.v(unconfirmed)} AND attribute_not_exists({u.n('GSI3PK')})"
            )
            update = u.update(items.unconfirmed_keys(user_id, created))
            if db.try_update(db.update(items.user_key(user_id), update, u, condition)) is not None:
                upgraded += 1
        if "LastEvaluatedKey" not in page:
            return upgraded
        args["ExclusiveStartKey"] = page["LastEvaluatedKey"]


UPGRADES: dict[str, Callable[[Table], int]] = {"unconfirmed-expiry": _unconfirmed_expiry}


def run_upgrades(db: Table, new_table: bool = False) -> dict[str, int]:
    """Each upgrade not yet recorded, then its marker; what each changed. A table created just
    now has nothing to upgrade: only the markers are written."""
    done = {}
    for name, upgrade in UPGRADES.items():
        if not new_table and db.get(_marker(name)) is not None:
            continue
        done[name] = 0 if new_table else upgrade(db)
        db.call("put_item", **db.put({**_marker(name), "changed": done[name]})["Put"])
    return done
