"""RateLimitStore on DynamoDB: one item per key (RATE#<key>) holding its admitted attempts."""

from __future__ import annotations

from datetime import datetime

from skillsession.adapters.store.dynamodb import items
from skillsession.adapters.store.dynamodb.calls import OPTIMISTIC_RETRIES, Expr, Table, error_code
from skillsession.adapters.store.dynamodb.items import Item, decode, ts
from skillsession.adapters.store.dynamodb.schema import TTL_ATTRIBUTE
from skillsession.domain.rate_limits import Admission, admit


class DynamoRateLimits:
    def __init__(self, db: Table):
        self.db = db

    def hit(self, key: str, now: datetime, window_seconds: int, limit: int) -> Admission:
        """The key's item keeps its admitted attempts (`hits`) and a version (`v`). One
        conditional PutItem guesses that the key has none (a success clears it); if it has,
        the failed condition returns the item, and a second PutItem on its version follows
        (again on a race). The item goes by TTL an hour after its window, or by `clear`."""
        db = self.db
        second = ts(now)
        found: Item = {}
        for attempt in range(OPTIMISTIC_RETRIES):
            admission = admit(found.get("hits", ()), second, window_seconds, limit)
            if not admission.admitted:
                return admission
            version = found.get("v")
            item = {
                **items.rate_key(key),
                "hits": list(admission.hits),
                "v": (version or 0) + 1,
                TTL_ATTRIBUTE: second + window_seconds + items.RATE_TTL_SECONDS,
            }
            e = Expr()
            v = e.n("v")
            condition = f"attribute_not_exists({v})" if version is None else f"{v} = {e.v(version)}"
            try:
                db.call(
                    "put_item",
                    **db.put(item, condition, e)["Put"],
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
                return admission
            except db.client_error as exc:
                if error_code(exc) != "ConditionalCheckFailedException":
                    raise
                if attempt:
                    db.backoff(attempt)  # lost a race with another attempt on this key
                found = decode(exc.response.get("Item")) or {}
        # attempts on one key racing this hard: refuse this one rather than count it twice
        return Admission(admission.hits, 1)

    def clear(self, key: str) -> None:
        self.db.delete_item(items.rate_key(key))
