"""Token floors on DynamoDB (`TokenFloorStore`), of accounts an identity provider keeps: one
item per user that has one, `USER#<id>` / `TOKENS` (`valid_after` in unix microseconds;
`deleted` set by `DynamoAccounts.delete_account` in its transaction), so that the token check's
read is one GetItem."""

from __future__ import annotations

from datetime import datetime, timedelta

from skillsession.adapters.store.dynamodb import items
from skillsession.adapters.store.dynamodb.calls import Expr, Table
from skillsession.adapters.store.dynamodb.items import EPOCH


class DynamoRevocations:
    def __init__(self, db: Table):
        self.db = db

    def revoke_tokens(self, user_id: str, valid_after: datetime) -> None:
        """One UpdateItem, on the stored floor being earlier (or none): a floor never goes
        back, and a deleted mark stays."""
        e = Expr()
        value = e.v(items.micros(valid_after))
        update = f"SET {e.n('user_id')} = {e.v(user_id)}, {e.n('valid_after')} = {value}"
        condition = f"attribute_not_exists({e.n('valid_after')}) OR {e.n('valid_after')} < {value}"
        self.db.try_update(self.db.update(items.tokens_key(user_id), update, e, condition))

    def token_floor(self, user_id: str) -> tuple[bool, datetime | None]:
        item = self.db.get(items.tokens_key(user_id))
        if item is None:
            return True, None
        if item.get("deleted"):
            return False, None
        micros = item.get("valid_after")
        return True, None if micros is None else EPOCH + timedelta(microseconds=int(micros))
