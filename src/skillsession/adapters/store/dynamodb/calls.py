"""The calls every role of the DynamoDB store makes: one `Table` (the client and the table's
name) with the API calls, their retries and backoff, transactions and the operations they
carry, and `Expr`, the expression builder.

`Table.call` repeats what DynamoDB refused (and what may be repeated safely after a timeout);
`Table.transact` retries a transaction cancelled only by conflicts or throttling and raises
`TransactionCancelled` (a `Conflict`) otherwise, so that each role maps the cancellation reasons
to domain errors. Roles back off through `Table.backoff` (one place, `_backoff`, that tests can
replace).
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from skillsession.adapters import aws_clients
from skillsession.adapters.store.dynamodb.items import Item, decode, encode, encode_value, pad, ts
from skillsession.adapters.store.dynamodb.schema import SHARDS
from skillsession.domain.errors import Conflict, Unavailable

MAX_TRANSACTION_ITEMS = 100
BATCH_WRITE_ITEMS = 25
BATCH_GET_KEYS = 100
CONFLICT_RETRIES = 5  # retries of a transaction cancelled only by conflicts or throttling
CALL_ATTEMPTS = 6  # attempts of one call refused by throttling, a conflict or a timeout
OPTIMISTIC_RETRIES = 8  # read-then-conditional-write loops that lost a race
RETRYABLE_REASONS = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}

RECENT_ITEMS = 256  # items kept from recent reads (see Recent)


def _backoff(attempt: int, base: float = 0.02, cap: float = 1.0) -> None:
    time.sleep(random.uniform(0, min(cap, base * 2**attempt)))  # full jitter


def error_code(exc: Exception) -> str:
    return getattr(exc, "response", {}).get("Error", {}).get("Code", "")


# Refusals: DynamoDB did not apply the request (throttled, or it met a running transaction).
REFUSED = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TransactionConflictException",
}
# No answer, or a server error: the request may or may not have been applied.
UNKNOWN_OUTCOME = {"InternalServerError", "ServiceUnavailable", "RequestTimeout"}
READS = {"get_item", "query", "batch_get_item", "scan", "describe_table", "describe_time_to_live"}


def _repeatable(operation: str, kwargs: dict[str, Any]) -> bool:
    """Whether applying this call twice leaves what applying it once does: reads, batch puts
    and deletes, and unconditional puts, deletes and SET/REMOVE updates. A conditional write
    may have been applied and would then fail its own condition; an ADD would count twice."""
    if operation in READS or operation == "batch_write_item":
        return True
    if operation not in ("put_item", "delete_item", "update_item"):
        return False  # transactions, table changes
    update = kwargs.get("UpdateExpression", "")
    return (
        "ConditionExpression" not in kwargs and " ADD " not in f" {update} " and "+" not in update
    )


def _classify(exc: Exception, not_sent: tuple[type, ...], no_answer: tuple[type, ...]) -> str:
    """`refused` (not applied), `unknown` (maybe applied) or `other` (an answer to pass on)."""
    if isinstance(exc, not_sent):
        return "refused"
    if isinstance(exc, no_answer):
        return "unknown"
    code = error_code(exc)
    if code in REFUSED:
        return "refused"
    status = getattr(exc, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    if code in UNKNOWN_OUTCOME or status >= 500:
        return "unknown"
    return "other"


class TransactionCancelled(Conflict):
    """A TransactWriteItems was cancelled; `reasons[i]` is the `CancellationReasons` entry of
    the i-th operation (`Code` "None" when that operation was fine, `Item` when asked for)."""

    code = "transaction_cancelled"

    def __init__(self, reasons: list[dict[str, Any]]):
        codes = [r.get("Code", "None") for r in reasons]
        super().__init__(f"transaction cancelled: {codes}")
        self.reasons = reasons

    def failed(self, index: int) -> bool:
        return index < len(self.reasons) and self.reasons[index].get("Code", "None") != "None"

    def old_item(self, index: int) -> Item | None:
        return decode(self.reasons[index].get("Item")) if index < len(self.reasons) else None


class Recent:
    """The last RECENT_ITEMS values put, by key; `take` removes what it returns (thread-safe).

    Holds what this process read of items that never change or whose next write is
    conditioned on the version read (a window, a booking, a tutor's window lock), never
    anything a decision is taken on without such a condition (a profile, a slot's status, a
    code's failures)."""

    def __init__(self, size: int = RECENT_ITEMS):
        self.size = size
        self._items: dict[Any, Any] = {}
        self._lock = threading.Lock()

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._items.pop(key, None)
            self._items[key] = value
            if len(self._items) > self.size:
                del self._items[next(iter(self._items))]

    def get(self, key: Any) -> Any:
        with self._lock:
            return self._items.get(key)

    def take(self, key: Any) -> Any:
        with self._lock:
            return self._items.pop(key, None)


class Expr:
    """Placeholders for one request's expressions: `e.n("start")` -> `#start`,
    `e.v(3)` -> `:v0`. Every attribute goes through a name placeholder (reserved words)."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}

    def n(self, attribute: str) -> str:
        placeholder = f"#{attribute}"
        self.names[placeholder] = attribute
        return placeholder

    def v(self, value: Any) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = encode_value(value)
        return placeholder

    def update(
        self,
        set_: Item | None = None,
        remove: tuple[str, ...] | list[str] = (),
        add: dict[str, int] | None = None,
        raw_set: tuple[str, ...] = (),
    ) -> str:
        """`SET a = :v ... REMOVE b ... ADD c :n`; a None in `set_` means REMOVE."""
        set_ = set_ or {}
        sets = [f"{self.n(k)} = {self.v(v)}" for k, v in set_.items() if v is not None]
        sets += list(raw_set)
        removes = [self.n(k) for k, v in set_.items() if v is None]
        removes += [self.n(k) for k in remove if k not in set_]
        adds = [f"{self.n(k)} {self.v(v)}" for k, v in (add or {}).items()]
        parts = []
        for word, clauses in (("SET", sets), ("REMOVE", removes), ("ADD", adds)):
            if clauses:
                parts.append(f"{word} {', '.join(clauses)}")
        return " ".join(parts)

    def args(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.names:
            out["ExpressionAttributeNames"] = self.names
        if self.values:
            out["ExpressionAttributeValues"] = self.values
        return out


def below_limit(e: Expr, attribute: str, limit: int | None) -> str | None:
    """A condition that a counter (missing: 0) is below `limit`; None without a limit."""
    if not limit:
        return None
    return f"attribute_not_exists({e.n(attribute)}) OR {e.n(attribute)} < {e.v(limit)}"


class Table:
    """One table and the client that calls it: what every role of the store shares."""

    def __init__(
        self,
        table: str,
        region: str | None = None,
        endpoint_url: str | None = None,
        max_attempts: int = CALL_ATTEMPTS,
    ):
        from botocore.config import Config
        from botocore.exceptions import (
            ClientError,
            ConnectionClosedError,
            ConnectTimeoutError,
            EndpointConnectionError,
            ReadTimeoutError,
        )

        self.table = table
        self.region = region
        self.endpoint_url = endpoint_url
        self.max_attempts = max_attempts
        self.client_error = ClientError
        self._not_sent = (ConnectTimeoutError, EndpointConnectionError)
        self._no_answer = (ReadTimeoutError, ConnectionClosedError)
        # botocore's own retries are off: its standard mode repeats every call after a timeout
        # or a 5xx, writes included, though a conditional write may have been applied (its
        # repeat then fails its own condition: a booking made would answer "slot unavailable")
        # and an ADD counts twice. `call` knows which calls may be repeated.
        config = Config(
            retries={"mode": "standard", "total_max_attempts": 1},
            max_pool_connections=50,
            connect_timeout=5,
            read_timeout=30,
        )
        self.client = aws_clients.client(
            "dynamodb", region_name=region, endpoint_url=endpoint_url, config=config
        )
        self.recent = Recent()  # (kind, id) -> an item as read: windows, bookings, locks

    def close(self) -> None:
        close = getattr(self.client, "close", None)
        if close is not None:
            close()

    @staticmethod
    def backoff(attempt: int, base: float = 0.02) -> None:
        """Sleep before another try (full jitter, growing with `attempt`)."""
        _backoff(attempt, base=base)

    # -- calls ------------------------------------------------------------------------------
    def call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        """One API call, repeated with backoff and full jitter (up to `max_attempts`) when
        DynamoDB refused it (throttling, a running transaction, no connection made) and, when
        the call is `_repeatable`, also after a timeout or a server error. Otherwise, or when
        the attempts run out: `Unavailable` (503 with Retry-After); each call is atomic, so
        nothing is half written."""
        method = getattr(self.client, operation)
        for attempt in itertools.count(1):
            try:
                return method(**kwargs)
            except Exception as exc:
                kind = _classify(exc, self._not_sent, self._no_answer)
                if kind == "other":
                    raise
                if kind == "unknown" and not _repeatable(operation, kwargs):
                    raise Unavailable(
                        "the database did not confirm the change; it was made whole or not at "
                        "all: repeat the request",
                        code="store_unavailable",
                        details={"outcome": "unknown"},
                    ) from exc
                if attempt >= self.max_attempts:
                    raise Unavailable(
                        "the database is busy: try again shortly",
                        code="store_unavailable",
                        details={"outcome": "not_applied"},
                    ) from exc
                _backoff(attempt - 1)
        raise AssertionError("unreachable")

    def transact(self, ops: list[dict[str, Any]]) -> None:
        """TransactWriteItems. A cancellation caused only by conflicts with other transactions
        (or throttling) is retried with backoff; any other raises `TransactionCancelled`."""
        if len(ops) > MAX_TRANSACTION_ITEMS:
            raise ValueError(f"{len(ops)} operations in one transaction")
        for attempt in itertools.count():
            try:
                self.call("transact_write_items", TransactItems=ops)
                return
            except self.client_error as exc:
                if error_code(exc) != "TransactionCanceledException":
                    raise
                reasons = exc.response.get("CancellationReasons") or []
                codes = {r.get("Code", "None") for r in reasons} - {"None"}
                if codes and codes <= RETRYABLE_REASONS:
                    if attempt < CONFLICT_RETRIES:
                        _backoff(attempt)
                        continue
                    raise Unavailable(  # not a domain conflict: no condition failed
                        "the database is busy: try again shortly",
                        code="store_unavailable",
                        details={"outcome": "not_applied"},
                    ) from exc
                raise TransactionCancelled(reasons) from exc

    def try_transact(self, ops: list[dict[str, Any]]) -> bool:
        """The transaction; False when its first operation's condition does not hold."""
        try:
            self.transact(ops)
            return True
        except TransactionCancelled as cancelled:
            if cancelled.failed(0):
                return False
            raise

    # -- operations (of a transaction, or run alone) ----------------------------------------
    def op(self, kind: str, body: dict[str, Any], condition: str | None, e: Expr | None):
        body = {"TableName": self.table, **body}
        if condition:
            body["ConditionExpression"] = condition
        if e is not None:
            body.update(e.args())
        return {kind: body}

    def put(self, item: Item, condition: str | None = None, e: Expr | None = None):
        return self.op("Put", {"Item": encode(item)}, condition, e)

    def delete(self, key: Item, condition: str | None = None, e: Expr | None = None):
        return self.op("Delete", {"Key": encode(key)}, condition, e)

    def update(
        self,
        key: Item,
        update: str,
        e: Expr,
        condition: str | None = None,
        return_old_on_failure: bool = False,
    ):
        op = self.op("Update", {"Key": encode(key), "UpdateExpression": update}, condition, e)
        if return_old_on_failure:
            op["Update"]["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        return op

    def update_item(self, op: dict[str, Any], **extra: Any) -> dict[str, Any]:
        """Run one `update` operation on its own (UpdateItem)."""
        return self.call("update_item", **op["Update"], **extra)

    def try_update(self, op: dict[str, Any], **extra: Any) -> dict[str, Any] | None:
        """UpdateItem; None when its condition does not hold."""
        try:
            return self.update_item(op, **extra)
        except self.client_error as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return None
            raise

    def delete_item(self, key: Item) -> None:
        """DeleteItem, unconditional."""
        self.call("delete_item", TableName=self.table, Key=encode(key))

    # -- reads ------------------------------------------------------------------------------
    def get(self, key: Item) -> Item | None:
        found = self.call(
            "get_item", TableName=self.table, Key=encode(key), ConsistentRead=True
        ).get("Item")
        return decode(found)

    def batch_get(self, keys: list[Item]) -> list[Item]:
        """Strongly consistent BatchGetItem in chunks of 100, retrying UnprocessedKeys."""
        unique = list({(k["PK"], k["SK"]): k for k in keys}.values())
        found: list[Item] = []
        for start in range(0, len(unique), BATCH_GET_KEYS):
            chunk = [encode(k) for k in unique[start : start + BATCH_GET_KEYS]]
            request = {self.table: {"Keys": chunk, "ConsistentRead": True}}
            for attempt in itertools.count():
                answer = self.call("batch_get_item", RequestItems=request)
                found += [decode(i) for i in answer.get("Responses", {}).get(self.table, [])]
                request = answer.get("UnprocessedKeys") or {}
                if not request:
                    break
                _backoff(attempt)
        return found

    def batch_write(
        self, puts: Sequence[Item] = (), deletes: Sequence[Item] = (), workers: int = 1
    ) -> None:
        """BatchWriteItem in chunks of 25, retrying UnprocessedItems (not atomic)."""
        requests = [{"PutRequest": {"Item": encode(i)}} for i in puts]
        requests += [{"DeleteRequest": {"Key": encode(k)}} for k in deletes]
        chunks = [
            requests[i : i + BATCH_WRITE_ITEMS] for i in range(0, len(requests), BATCH_WRITE_ITEMS)
        ]

        def write(chunk: list[dict[str, Any]]) -> None:
            for attempt in itertools.count():
                answer = self.call("batch_write_item", RequestItems={self.table: chunk})
                chunk = answer.get("UnprocessedItems", {}).get(self.table) or []
                if not chunk:
                    return
                _backoff(attempt)

        if workers <= 1 or len(chunks) <= 1:
            for chunk in chunks:
                write(chunk)
            return
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(write, chunks))

    def query(
        self,
        key_condition: str,
        e: Expr,
        *,
        index: str | None = None,
        page_size: int | None = None,
        forward: bool = True,
        filter_expression: str | None = None,
        projection: str | None = None,
    ) -> Iterator[Item]:
        """Items of one Query, page after page while the caller keeps iterating. Base-table
        queries are strongly consistent; GSI queries cannot be."""
        args: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": key_condition,
            "ScanIndexForward": forward,
            **e.args(),
        }
        if index:
            args["IndexName"] = index
        else:
            args["ConsistentRead"] = True
        if page_size:
            args["Limit"] = page_size
        if filter_expression:
            args["FilterExpression"] = filter_expression
        if projection:
            args["ProjectionExpression"] = projection
        while True:
            page = self.call("query", **args)
            for raw in page.get("Items", []):
                yield decode(raw)
            if not page.get("LastEvaluatedKey"):
                return
            args["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def index_range(
        self, index: str, pk: str, low: str, high: str, **kwargs: Any
    ) -> Iterator[Item]:
        """Items of one index partition with sort key in [low, high] (none if low > high:
        DynamoDB refuses such a BETWEEN)."""
        if low > high:
            return iter(())
        e = Expr()
        condition = (
            f"{e.n(index + 'PK')} = {e.v(pk)} AND "
            f"{e.n(index + 'SK')} BETWEEN {e.v(low)} AND {e.v(high)}"
        )
        return self.query(condition, e, index=index, **kwargs)

    def due(self, prefix: str, now: datetime, limit: int) -> list[Item]:
        """The `limit` earliest GSI3 entries due at `now` over all shards of `prefix`."""
        if limit <= 0:
            return []
        cutoff = pad(ts(now) + 1)  # sort keys are "<seconds>#<id>": everything <= now
        found: list[Item] = []
        for number in range(SHARDS):
            e = Expr()
            condition = (
                f"{e.n('GSI3PK')} = {e.v(f'{prefix}#{number}')} AND {e.n('GSI3SK')} < {e.v(cutoff)}"
            )
            found += itertools.islice(
                self.query(condition, e, index="GSI3", page_size=limit), limit
            )
        return sorted(found, key=lambda i: i["GSI3SK"])[:limit]

    def count(self, key_condition: str, e: Expr) -> int:
        """How many GSI3 entries match (Select=COUNT, page after page)."""
        args: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "GSI3",
            "KeyConditionExpression": key_condition,
            "Select": "COUNT",
            **e.args(),
        }
        total = 0
        while True:
            page = self.call("query", **args)
            total += page.get("Count", 0)
            if not page.get("LastEvaluatedKey"):
                return total
            args["ExclusiveStartKey"] = page["LastEvaluatedKey"]
