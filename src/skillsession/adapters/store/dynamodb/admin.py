"""The DynamoDB store as an operator sees it: the table (created or upgraded by `migrate`,
looked for by `exists`), the demo-data bulk path and the consistency scan."""

from __future__ import annotations

from typing import Any

from skillsession.adapters.store.dynamodb import items
from skillsession.adapters.store.dynamodb.calls import Table
from skillsession.adapters.store.dynamodb.consistency import check_consistency
from skillsession.adapters.store.dynamodb.items import Item
from skillsession.adapters.store.dynamodb.schema import ensure_table
from skillsession.adapters.store.dynamodb.upgrades import run_upgrades
from skillsession.domain.errors import Conflict
from skillsession.domain.model import Availability, Profile, Slot, User


class DynamoAdmin:
    backend_name = "dynamodb"

    def __init__(self, db: Table):
        self.db = db

    @property
    def client(self) -> Any:
        """The DynamoDB client every role calls through."""
        return self.db.client

    @property
    def table(self) -> str:
        """The table's name."""
        return self.db.table

    def migrate(self) -> None:
        """The table and its indexes (`schema.ensure_table`), then the items' one-time
        upgrades (`upgrades.run_upgrades`)."""
        created = ensure_table(self.db.client, self.db.table)
        run_upgrades(self.db, new_table=created)

    def exists(self) -> bool:
        """Whether the table is there (DescribeTable; creates nothing)."""
        client = self.db.client
        try:
            client.describe_table(TableName=self.db.table)
            return True
        except client.exceptions.ResourceNotFoundException:
            return False

    def upkeep_job(self) -> None:
        return None

    def close(self) -> None:
        self.db.close()

    def bulk_insert(
        self,
        users: list[User],
        profiles: list[Profile],
        availabilities: list[Availability],
        slots: list[Slot],
    ) -> None:
        """The demo-data fast path: BatchWriteItem, 25 items a call, 8 calls at a time. Checked
        first: no duplicate id or e-mail in the call or in the table (BatchGetItem); then
        written without per-item conditions, so it is not atomic, and not safe against a
        concurrent sign-up with the same e-mail. For empty tables and demo data."""
        emails = [u.email for u in users]
        ids = [u.user_id for u in users]
        if len(set(emails)) != len(emails) or len(set(ids)) != len(ids):
            raise Conflict("bulk insert rejected: duplicate user", code="bulk_conflict")
        existing = self.db.batch_get(
            [items.user_key(i) for i in ids] + [items.email_key(m) for m in emails]
        )
        if existing:
            raise Conflict("bulk insert rejected: user exists", code="bulk_conflict")
        by_window: dict[str, list[str]] = {}
        for slot in slots:
            by_window.setdefault(slot.availability_id, []).append(slot.slot_id)
        puts: list[Item] = []
        for user in users:
            puts += [items.user_item(user), items.email_guard_item(user)]
        for profile in profiles:
            puts.append(items.profile_item(profile))
            puts += [items.skill_item(k, profile) for k in items.skill_keys(profile)]
        for window in availabilities:
            puts.append(items.window_item(window, by_window.get(window.availability_id, [])))
            puts.append(items.window_index_item(window))
        puts += [items.slot_item(s) for s in slots]
        self.db.batch_write(puts=puts, workers=8)

    def check_consistency(self) -> list[str]:
        """Violations of the booking invariants, and of this table's derived entries (index
        keys that follow a status, the pairs' accepted counters, the accounts' copies in the
        e-mail guards), human readable: the one Scan (see `consistency`)."""
        return check_consistency(self.db)
