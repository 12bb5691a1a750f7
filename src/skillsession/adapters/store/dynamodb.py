"""The Store port on DynamoDB: one table, single-table design (layout in dynamodb_schema).

Every request path is GetItem / Query / BatchGetItem / UpdateItem / DeleteItem /
TransactWriteItems; the only Scan is in `check_consistency`, an operator tool. Each state change is one
TransactWriteItems (or one conditional UpdateItem) whose conditions decide races; a cancelled
transaction is mapped to the same domain errors as SQLite by reading its `CancellationReasons`.

Reads that decide a write use strongly consistent GetItem / base-table Query. A write that
follows a read of the same item in this process (the service reads a booking, then changes it)
may start from that read instead of reading again where that is safe: the item cannot change
(a window, a user's e-mail) or the write is conditioned on what was read (a booking's status;
see `Recent`). Listings served by a GSI (slots and bookings of a person, profile by e-mail, subscription by token, the due
indexes) are eventually consistent, as GSIs are: a change shows there a moment later. Writes
driven by a GSI (expiry, outbox claims) re-check the item in their own condition.

boto3 is imported only when a store is built, so importing this module costs nothing.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlparse

from skillsession.adapters import aws_clients
from skillsession.adapters.store import dynamodb_items as items
from skillsession.adapters.store.dynamodb_deletion import AccountDeletion
from skillsession.adapters.store.dynamodb_items import (
    DUE_KEYS,
    SLOT_INDEX_KEYS,
    Item,
    decode,
    encode,
    encode_value,
    pad,
    ts,
)
from skillsession.adapters.store.dynamodb_schema import SHARDS, TTL_ATTRIBUTE, ensure_table
from skillsession.domain.bookings import PER_TUTOR, TOTAL, PendingLimits, too_many_pending
from skillsession.domain.errors import Conflict, NotFound, SlotUnavailable, Unavailable
from skillsession.domain.invariants import deleted_user_problems
from skillsession.domain.model import (
    LIVE_BOOKING_STATUSES,
    AccountStatus,
    Availability,
    Booking,
    BookingStatus,
    DeliveryOutcome,
    ExpiryResult,
    Notification,
    OutboxSummary,
    Profile,
    Slot,
    SlotStatus,
    Subscription,
    SubscriptionStatus,
    User,
    VerificationCode,
)
from skillsession.domain.rate_limits import Admission, admit
from skillsession.domain.skills import skill_key
from skillsession.ports.storage import Stores

MAX_TRANSACTION_ITEMS = 100
BATCH_WRITE_ITEMS = 25
BATCH_GET_KEYS = 100
CONFLICT_RETRIES = 5  # retries of a transaction cancelled only by conflicts or throttling
CALL_ATTEMPTS = 6  # attempts of one call refused by throttling, a conflict or a timeout
OPTIMISTIC_RETRIES = 8  # read-then-conditional-write loops that lost a race
LEASE_SECONDS = 60  # how long a multi-transaction create_availability may hold a tutor
RETRYABLE_REASONS = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}

RECENT_ITEMS = 256  # items kept from recent reads (see Recent)


def _backoff(attempt: int, base: float = 0.02, cap: float = 1.0) -> None:
    time.sleep(random.uniform(0, min(cap, base * 2**attempt)))  # full jitter


def _error_code(exc: Exception) -> str:
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
    code = _error_code(exc)
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


class DynamoStore(AccountDeletion):
    backend_name = "dynamodb"

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
        self._client_error = ClientError
        self._not_sent = (ConnectTimeoutError, EndpointConnectionError)
        self._no_answer = (ReadTimeoutError, ConnectionClosedError)
        # botocore's own retries are off: its standard mode repeats every call after a timeout
        # or a 5xx, writes included, though a conditional write may have been applied (its
        # repeat then fails its own condition: a booking made would answer "slot unavailable")
        # and an ADD counts twice. `_call` knows which calls may be repeated.
        config = Config(
            retries={"mode": "standard", "total_max_attempts": 1},
            max_pool_connections=50,
            connect_timeout=5,
            read_timeout=30,
        )
        self.client = aws_clients.client(
            "dynamodb", region_name=region, endpoint_url=endpoint_url, config=config
        )
        self._emails = Recent()  # user_id -> e-mail (never changes)
        self._read = Recent()  # (kind, id) -> an item as read: windows, bookings, locks

    @classmethod
    def from_url(cls, url: str) -> DynamoStore:
        """`dynamodb://TABLE?region=eu-west-1&endpoint_url=http://127.0.0.1:5000`; without
        `region` the standard AWS chain decides (AWS_REGION, the profile, ...)."""
        parsed = urlparse(url)
        if parsed.scheme != "dynamodb":
            raise ValueError(f"not a dynamodb URL: {url!r}")
        table = parsed.netloc or parsed.path.lstrip("/")
        if not table:
            raise ValueError(f"no table name in {url!r}")
        query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        unknown = set(query) - {"region", "endpoint_url"}
        if unknown:
            raise ValueError(f"unknown dynamodb URL parameter(s): {sorted(unknown)}")
        return cls(table, region=query.get("region"), endpoint_url=query.get("endpoint_url"))

    def migrate(self) -> None:
        ensure_table(self.client, self.table)

    def exists(self) -> bool:
        """Whether the table is there (DescribeTable; creates nothing)."""
        try:
            self.client.describe_table(TableName=self.table)
            return True
        except self.client.exceptions.ResourceNotFoundException:
            return False

    def upkeep_job(self) -> None:
        return None

    def roles(self) -> Stores:
        """This store in every role (until each role is a module of its own)."""
        return Stores(self, self, self, self, self, self, versions=None)

    def close(self) -> None:
        close = getattr(self.client, "close", None)
        if close is not None:
            close()

    # -- calls ------------------------------------------------------------------------------
    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
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

    def _transact(self, ops: list[dict[str, Any]]) -> None:
        """TransactWriteItems. A cancellation caused only by conflicts with other transactions
        (or throttling) is retried with backoff; any other raises `TransactionCancelled`."""
        if len(ops) > MAX_TRANSACTION_ITEMS:
            raise ValueError(f"{len(ops)} operations in one transaction")
        for attempt in itertools.count():
            try:
                self._call("transact_write_items", TransactItems=ops)
                return
            except self._client_error as exc:
                if _error_code(exc) != "TransactionCanceledException":
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

    def _op(self, kind: str, body: dict[str, Any], condition: str | None, e: Expr | None):
        body = {"TableName": self.table, **body}
        if condition:
            body["ConditionExpression"] = condition
        if e is not None:
            body.update(e.args())
        return {kind: body}

    def _put(self, item: Item, condition: str | None = None, e: Expr | None = None):
        return self._op("Put", {"Item": encode(item)}, condition, e)

    def _delete(self, key: Item, condition: str | None = None, e: Expr | None = None):
        return self._op("Delete", {"Key": encode(key)}, condition, e)

    def _update(
        self,
        key: Item,
        update: str,
        e: Expr,
        condition: str | None = None,
        return_old_on_failure: bool = False,
    ):
        op = self._op("Update", {"Key": encode(key), "UpdateExpression": update}, condition, e)
        if return_old_on_failure:
            op["Update"]["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        return op

    def _update_item(self, op: dict[str, Any], **extra: Any) -> dict[str, Any]:
        """Run one `_update` operation on its own (UpdateItem)."""
        return self._call("update_item", **op["Update"], **extra)

    def _get(self, key: Item) -> Item | None:
        found = self._call(
            "get_item", TableName=self.table, Key=encode(key), ConsistentRead=True
        ).get("Item")
        return decode(found)

    def _batch_get(self, keys: list[Item]) -> list[Item]:
        """Strongly consistent BatchGetItem in chunks of 100, retrying UnprocessedKeys."""
        unique = list({(k["PK"], k["SK"]): k for k in keys}.values())
        found: list[Item] = []
        for start in range(0, len(unique), BATCH_GET_KEYS):
            chunk = [encode(k) for k in unique[start : start + BATCH_GET_KEYS]]
            request = {self.table: {"Keys": chunk, "ConsistentRead": True}}
            for attempt in itertools.count():
                answer = self._call("batch_get_item", RequestItems=request)
                found += [decode(i) for i in answer.get("Responses", {}).get(self.table, [])]
                request = answer.get("UnprocessedKeys") or {}
                if not request:
                    break
                _backoff(attempt)
        return found

    def _batch_write(
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
                answer = self._call("batch_write_item", RequestItems={self.table: chunk})
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

    def _query(
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
            page = self._call("query", **args)
            for raw in page.get("Items", []):
                yield decode(raw)
            if not page.get("LastEvaluatedKey"):
                return
            args["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _index_range(
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
        return self._query(condition, e, index=index, **kwargs)

    def _due(self, prefix: str, now: datetime, limit: int) -> list[Item]:
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
                self._query(condition, e, index="GSI3", page_size=limit), limit
            )
        return sorted(found, key=lambda i: i["GSI3SK"])[:limit]

    # -- accounts ---------------------------------------------------------------------------
    def create_user(self, user: User, code: VerificationCode, notification: Notification) -> None:
        """The user and its e-mail guard are both put only if absent; either failing is
        `email_taken` (a reused user id counts as taken, as in MemoryStore). The code goes
        beside the guard, in the e-mail's partition."""
        ops = [
            self._put(items.user_item(user), "attribute_not_exists(PK)"),
            self._put(items.email_guard_item(user), "attribute_not_exists(PK)"),
            self._put(items.code_item(code, items.code_key(user.email))),
            self._put(items.note_item(notification, datetime.now(UTC))),
        ]
        try:
            self._transact(ops)
        except TransactionCancelled as cancelled:
            if cancelled.failed(0) or cancelled.failed(1):
                raise Conflict("email already registered", code="email_taken") from None
            raise
        self._emails.put(user.user_id, user.email)

    def get_user(self, user_id: str) -> User | None:
        found = self._get(items.user_key(user_id))
        if found is None:
            return None
        self._emails.put(user_id, found["email"])
        return items.user(found)

    def get_user_by_email(self, email: str) -> User | None:
        """One GetItem: the guard holds a copy of the account (an older table's guard only the
        user id: then the account is read too)."""
        guard = self._get(items.email_key(email))
        return self._user_of_guard(guard)

    def _user_of_guard(self, guard: Item | None) -> User | None:
        if guard is None:
            return None
        if not items.has_user_copy(guard):
            return self.get_user(guard["user_id"])
        self._emails.put(guard["user_id"], guard["email"])
        return items.user(guard)

    def get_user_and_code_by_email(self, email: str) -> tuple[User | None, VerificationCode | None]:
        """One strongly consistent Query of the e-mail's partition: the guard (a copy of the
        account) and the code beside it. A code stored before codes moved there (in the
        account's partition) is read in a second call, for an unconfirmed account only."""
        e = Expr()
        condition = f"{e.n('PK')} = {e.v(items.email_key(email)['PK'])}"
        found = {i["SK"]: i for i in self._query(condition, e)}
        user = self._user_of_guard(found.get("EMAIL"))
        code = found.get("CODE")
        if user is not None and code is None and user.status != AccountStatus.CONFIRMED:
            code = self._get(items.legacy_code_key(user.user_id))
        return user, items.code(code) if code else None

    def _email_of(self, user_id: str) -> str | None:
        """The account's e-mail (it never changes): as this process saw it, else read."""
        email = self._emails.get(user_id)
        if email is None and self.get_user(user_id) is not None:
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
        where, *older = self._code_keys(code.user_id)
        self._transact(
            [
                self._put(items.code_item(code, where)),
                *[self._delete(k) for k in older],
                self._put(items.note_item(notification, datetime.now(UTC))),
            ]
        )

    def get_verification_code(self, user_id: str) -> VerificationCode | None:
        for where in self._code_keys(user_id):
            found = self._get(where)
            if found is not None:
                return items.code(found)
        return None

    def record_code_failure(self, user_id: str) -> int:
        for where in self._code_keys(user_id):
            e = Expr()
            op = self._update(
                where, e.update(add={"failed_attempts": 1}), e, "attribute_exists(PK)"
            )
            try:
                answer = self._update_item(op, ReturnValues="UPDATED_NEW")
            except self._client_error as exc:
                if _error_code(exc) == "ConditionalCheckFailedException":
                    continue
                raise
            return int(answer["Attributes"]["failed_attempts"]["N"])
        return 0

    def confirm_user(self, user_id: str) -> None:
        """One transaction: the account and its copy in the e-mail guard confirmed, the code
        dropped (wherever it is). The guard's key is the e-mail: known when this process read or
        created the account (the service has just looked it up), else read first."""
        email = self._email_of(user_id)
        if email is not None:
            ops = [
                self._confirm_op(items.user_key(user_id)),
                self._confirm_op(items.email_key(email)),
                *[self._delete(k) for k in self._code_keys(user_id)],
            ]
            try:
                self._transact(ops)
                return
            except TransactionCancelled as cancelled:
                if not cancelled.failed(0):
                    raise
        # no such user: still drop the code, as the other stores do
        self._call("delete_item", TableName=self.table, Key=encode(items.legacy_code_key(user_id)))

    def _confirm_op(self, key: Item):
        e = Expr()
        confirmed = e.update({"status": AccountStatus.CONFIRMED.value})
        return self._update(key, confirmed, e, "attribute_exists(PK)")

    def hit_rate_limit(self, key: str, now: datetime, window_seconds: int, limit: int) -> Admission:
        """The key's item keeps its admitted attempts (`hits`) and a version (`v`). One
        conditional PutItem guesses that the key has none (a success clears it); if it has,
        the failed condition returns the item, and a second PutItem on its version follows
        (again on a race). The item goes by TTL an hour after its window, or by `clear_rate_limit`."""
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
                self._call(
                    "put_item",
                    **self._put(item, condition, e)["Put"],
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
                return admission
            except self._client_error as exc:
                if _error_code(exc) != "ConditionalCheckFailedException":
                    raise
                if attempt:
                    _backoff(attempt)  # lost a race with another attempt on this key
                found = decode(exc.response.get("Item")) or {}
        # attempts on one key racing this hard: refuse this one rather than count it twice
        return Admission(admission.hits, 1)

    def clear_rate_limit(self, key: str) -> None:
        self._call("delete_item", TableName=self.table, Key=encode(items.rate_key(key)))

    # -- profiles ---------------------------------------------------------------------------
    def get_profile(self, user_id: str) -> Profile | None:
        found = self._get(items.profile_key(user_id))
        return items.profile(found) if found else None

    def get_profile_by_email(self, email: str) -> Profile | None:
        e = Expr()
        condition = f"{e.n('GSI2PK')} = {e.v(f'PEMAIL#{email}')}"
        found = next(self._query(condition, e, index="GSI2", page_size=1), None)
        return items.profile(found) if found else None

    def get_profiles(self, user_ids: list[str]) -> dict[str, Profile]:
        found = self._batch_get([items.profile_key(i) for i in user_ids])
        return {i["user_id"]: items.profile(i) for i in found}

    def save_profile(self, profile: Profile) -> None:
        """Upsert the profile and replace its skill index entries in one transaction, guarded
        by the profile's `version` (read first), so two concurrent saves cannot leave skill
        entries of both. An existing profile keeps `created_at` and `image_key`."""
        fields = items.profile_fields(profile)
        keys = fields["skill_keys"]
        for attempt in range(OPTIMISTIC_RETRIES):
            old = self._get(items.profile_key(profile.user_id))
            e = Expr()
            version = (old or {}).get("version")
            if old is None:
                condition = "attribute_not_exists(PK)"
            elif version is None:
                condition = f"attribute_not_exists({e.n('version')})"
            else:
                condition = f"{e.n('version')} = {e.v(version)}"
            raw_set = ()
            if profile.created_at is not None:
                created = e.n("created_at")
                raw_set = (f"{created} = if_not_exists({created}, {e.v(ts(profile.created_at))})",)
            update = e.update({**fields, "version": (version or 0) + 1}, raw_set=raw_set)
            ops = [self._update(items.profile_key(profile.user_id), update, e, condition)]
            stale = set((old or {}).get("skill_keys") or []) - set(keys)
            ops += [self._delete(items.skill_item_key(k, profile.user_id)) for k in sorted(stale)]
            ops += [self._put(items.skill_item(k, profile)) for k in keys]
            try:
                self._transact(ops)
                return
            except TransactionCancelled as cancelled:
                if not cancelled.failed(0):
                    raise
                _backoff(attempt)  # saved concurrently: read again
        raise Conflict("the profile is being changed concurrently", code="concurrent_update")

    def set_profile_image(self, user_id: str, image_key: str | None) -> str | None:
        e = Expr()
        op = self._update(
            items.profile_key(user_id),
            e.update({"image_key": image_key}),
            e,
            "attribute_exists(PK)",
        )
        try:
            answer = self._update_item(op, ReturnValues="ALL_OLD")
        except self._client_error as exc:
            if _error_code(exc) == "ConditionalCheckFailedException":
                raise NotFound("no such profile", code="profile_not_found") from None
            raise
        return decode(answer.get("Attributes") or {}).get("image_key")

    def search_tutors(
        self,
        skill_keys: list[str],
        available_between: tuple[datetime, datetime] | None,
        limit: int,
        after_user_id: str | None,
    ) -> list[Profile]:
        """Walk the first skill's index partition in user_id order; each entry carries the
        tutor's skill keys, so the other skills are checked without reading the profile. With
        a range, one Limit-1 Query of the tutor's free-slot index per candidate."""
        keys = list(dict.fromkeys(skill_key(k) for k in skill_keys))
        if not keys or limit <= 0:
            return []
        wanted = set(keys)
        e = Expr()
        partition, after = f"SKILL#{keys[0]}", f"TUTOR#{after_user_id or ''}"
        condition = f"{e.n('PK')} = {e.v(partition)} AND {e.n('SK')} > {e.v(after)}"
        entries = self._query(condition, e, page_size=min(100, max(limit * 2, 20)))
        matches: list[str] = []
        for entry in entries:
            if not wanted <= set(entry.get("skill_keys") or []):
                continue
            if available_between and not self._has_free_slot(entry["tutor_id"], *available_between):
                continue
            matches.append(entry["tutor_id"])
            if len(matches) >= limit:
                break
        profiles = self.get_profiles(matches)
        return [profiles[m] for m in matches if m in profiles]

    def _has_free_slot(self, tutor_id: str, start: datetime, before: datetime) -> bool:
        free = self._index_range(
            "GSI4", f"FREE#{tutor_id}", pad(ts(start)), pad(ts(before)), page_size=1
        )
        return next(free, None) is not None

    # -- availability and slots ------------------------------------------------------------
    def create_availability(self, windows: list[Availability], slots: list[Slot]) -> None:
        """Overlap guard: a per-tutor LOCK item whose `version` is read before the overlap
        check and bumped, on that condition, in the transaction that writes the windows. So a
        concurrent create for the same tutor either saw our windows or fails and checks again.

        A call that fits one transaction (<= 100 items: e.g. a 24 h window cut in 15-minute
        slots is 98) is all-or-nothing. A larger one is written window by window in several
        transactions: the first takes the lock as a lease (other creates for that tutor wait),
        the last releases it; if one fails, the windows already written are deleted again
        (best effort) — a crash in between leaves whole windows, each with all its slots,
        which the tutor sees and can delete."""
        if not windows and not slots:
            return
        groups = self._window_groups(windows, slots)
        tutors = sorted({w.tutor_id for w in windows})
        chunked = len(tutors) + sum(len(g) for g in groups) > MAX_TRANSACTION_ITEMS
        deadline = time.monotonic() + LEASE_SECONDS
        for attempt in itertools.count():
            locks = {t: self._lock_as_read(t, first=attempt == 0) for t in tutors}
            now = int(time.time())
            leased = any((lock or {}).get("lease_until", 0) > now for lock in locks.values())
            if not leased:
                self._check_overlaps(windows)
                lease = now + LEASE_SECONDS if chunked else None
                lock_ops = [self._lock_op(t, locks[t], lease) for t in tutors]
                try:
                    if chunked:
                        self._write_in_chunks(lock_ops, groups, tutors, locks)
                    else:
                        self._transact(lock_ops + [op for g in groups for op in g])
                    return
                except TransactionCancelled as cancelled:
                    if not any(cancelled.failed(i) for i in range(len(lock_ops))):
                        raise
            if time.monotonic() > deadline:
                raise Conflict(
                    "your availability is being changed by another request; try again",
                    code="availability_busy",
                )
            _backoff(attempt, base=0.05)

    def _window_groups(self, windows: list[Availability], slots: list[Slot]):
        """Put operations per window: the window, its entry in the tutor's window list, and
        its slots (slots naming no window of this call come last, on their own)."""
        by_window: dict[str, list[Slot]] = {}
        for slot in slots:
            by_window.setdefault(slot.availability_id, []).append(slot)
        groups = []
        for window in windows:
            mine = by_window.pop(window.availability_id, [])
            groups.append(
                [
                    self._put(items.window_item(window, [s.slot_id for s in mine])),
                    self._put(items.window_index_item(window)),
                    *[self._put(items.slot_item(s)) for s in mine],
                ]
            )
        rest = [s for group in by_window.values() for s in group]
        if rest:
            groups.append([self._put(items.slot_item(s)) for s in rest])
        return groups

    def _lock_as_read(self, tutor_id: str, first: bool) -> Item | None:
        """The tutor's LOCK item: on the first try as `get_profile_for_availability` read it
        (before this call's overlap check, which is what the lock's version must precede; if
        it changed since, the transaction's condition fails and the next try reads it again),
        else a strongly consistent GetItem."""
        remembered = self._read.take(("LOCK", tutor_id))
        if first and remembered is not None:
            return remembered[0]
        return self._get(items.lock_key(tutor_id))

    def _lock_op(self, tutor_id: str, lock: Item | None, lease_until: int | None):
        e = Expr()
        version = (lock or {}).get("version", 0)
        if lock is None:
            condition = "attribute_not_exists(PK)"
        else:
            condition = f"{e.n('version')} = {e.v(version)}"
        update = e.update({"version": version + 1, "lease_until": lease_until})
        return self._update(items.lock_key(tutor_id), update, e, condition)

    def _check_overlaps(self, windows: list[Availability]) -> None:
        """A tutor's windows never overlap, so the last one starting before a new window ends
        is the only one that can overlap it. One Query per tutor finds that window for every
        new window: the tutor's windows by start, latest first, from the end of the last new
        window down to the first that starts before the first new window (older ones end
        before it). Usually one page (the new windows' count + 1 entries); one more only per
        that many existing windows lying between the new ones."""
        existing: dict[str, list[Item]] = {}
        for tutor in sorted({w.tutor_id for w in windows}):
            mine = [w for w in windows if w.tutor_id == tutor]
            existing[tutor] = self._windows_before(tutor, mine)
        accepted: list[Availability] = []
        for window in windows:
            end, start = ts(window.end), ts(window.start)
            last = next((i for i in existing[window.tutor_id] if i["start"] < end), None)
            clash = last["availability_id"] if last and last["end"] > start else None
            for other in accepted:
                overlaps = other.start < window.end and other.end > window.start
                if clash is None and other.tutor_id == window.tutor_id and overlaps:
                    clash = other.availability_id
            if clash is not None:
                raise Conflict(
                    "the window overlaps one of your existing windows",
                    code="availability_overlap",
                    details={"availability_id": clash},
                )
            accepted.append(window)

    def _windows_before(self, tutor_id: str, windows: list[Availability]) -> list[Item]:
        """The tutor's window entries starting before the last end of `windows`, latest first,
        down to and including the first one that starts before the first of them."""
        first = min(ts(w.start) for w in windows)
        e = Expr()
        condition = (
            f"{e.n('PK')} = {e.v(f'TUTOR#{tutor_id}')} AND {e.n('SK')} BETWEEN "
            f"{e.v('AVAIL#')} AND {e.v(f'AVAIL#{pad(max(ts(w.end) for w in windows))}')}"
        )
        found: list[Item] = []
        for entry in self._query(condition, e, page_size=len(windows) + 1, forward=False):
            found.append(entry)
            if entry["start"] < first:
                break
        return found

    def _write_in_chunks(self, lock_ops, groups, tutors, locks) -> None:
        batches: list[list[dict[str, Any]]] = [list(lock_ops)]
        for group in groups:
            if len(batches[-1]) + len(group) > MAX_TRANSACTION_ITEMS:
                batches.append([])
            for op in group:  # a group larger than a transaction (bulk-made data) is split
                if len(batches[-1]) >= MAX_TRANSACTION_ITEMS:
                    batches.append([])
                batches[-1].append(op)
        self._transact(batches[0])  # the lock's condition decides here, as in one transaction
        written = [decode(op["Put"]["Item"]) for op in batches[0] if "Put" in op]
        try:
            for batch in batches[1:]:
                self._transact(batch)
                written += [decode(op["Put"]["Item"]) for op in batch if "Put" in op]
        except BaseException as exc:
            # undo what was written, then let others in
            self._batch_write(deletes=[items.key(i["PK"], i["SK"]) for i in written])
            self._release(tutors, locks)
            if isinstance(exc, TransactionCancelled):
                raise Conflict("availability could not be written", code=exc.code) from exc
            raise
        self._release(tutors, locks)

    def _release(self, tutors: list[str], locks: dict[str, Item | None]) -> None:
        for tutor in tutors:
            e = Expr()
            version = (locks[tutor] or {}).get("version", 0) + 1
            op = self._update(
                items.lock_key(tutor),
                e.update(remove=["lease_until"]),
                e,
                f"{e.n('version')} = {e.v(version)}",
            )
            try:
                self._update_item(op)
            except self._client_error as exc:
                if _error_code(exc) != "ConditionalCheckFailedException":
                    raise  # else: the lease ran out and another create took the lock

    def get_profile_for_availability(self, user_id: str) -> Profile | None:
        """The profile and the tutor's LOCK item in one strongly consistent BatchGetItem; the
        LOCK as read is kept for the `create_availability` that follows (see `_lock_as_read`)."""
        found = {
            i["SK"]: i
            for i in self._batch_get([items.profile_key(user_id), items.lock_key(user_id)])
        }
        self._read.put(("LOCK", user_id), (found.get("LOCK"),))
        profile = found.get("PROFILE")
        return items.profile(profile) if profile else None

    def get_availability(self, availability_id: str) -> Availability | None:
        found = self._get(items.window_key(availability_id))
        if found is None:
            return None
        self._read.put(("AVAIL", availability_id), found)  # a window never changes
        return items.availability(found)

    def delete_availability(self, availability_id: str) -> None:
        """The window (it lists its slot ids; as `get_availability` read it, if it did: a
        window never changes, and its delete is conditioned on its existence), then first one
        transaction that assumes every slot free and never booked, the usual case: each is
        deleted on that condition, and the window with them. If that is cancelled because a
        slot is pending or booked (the cancellation carries the slots whose condition failed,
        as they were), that is the refusal, with no further read. Else the slots are read, and
        one transaction deletes free slots and makes slots with booking history `expired`,
        each on the condition that it is still as read. A window has at most 96 slots through
        the API; beyond 98 the slots go in earlier transactions and the window last."""
        window = self._read.take(("AVAIL", availability_id))
        for attempt in range(OPTIMISTIC_RETRIES):
            window = window or self._get(items.window_key(availability_id))
            if window is None:
                raise NotFound("no such availability", code="availability_not_found")
            window_ops = [
                self._delete(items.window_key(availability_id), "attribute_exists(PK)"),
                self._delete(
                    items.window_index_key(
                        window["tutor_id"], items.dt(window["start"]), availability_id
                    )
                ),
            ]
            slot_ids = window.get("slot_ids") or []
            if attempt == 0 and len(slot_ids) + len(window_ops) <= MAX_TRANSACTION_ITEMS:
                try:
                    self._transact([*map(self._never_booked_slot_op, slot_ids), *window_ops])
                    return
                except TransactionCancelled as cancelled:
                    failed = [cancelled.old_item(i) for i in range(len(slot_ids))]
                    _refuse_if_busy([s for s in failed if s is not None])
                    # else a slot was booked once (or the window went): read them
            slots = self._batch_get([items.slot_key(i) for i in slot_ids])
            _refuse_if_busy(slots)
            ops = [self._free_slot_op(s) for s in slots] + window_ops
            try:
                for start in range(0, len(ops), MAX_TRANSACTION_ITEMS):
                    self._transact(ops[start : start + MAX_TRANSACTION_ITEMS])
                return
            except TransactionCancelled:
                window = None
                _backoff(attempt)  # a slot changed (or the window went): look again
        raise Conflict("the window is being changed concurrently", code="concurrent_update")

    def _never_booked_slot_op(self, slot_id: str):
        """Delete a slot that is not pending or booked and never was."""
        e = Expr()
        free = (SlotStatus.AVAILABLE.value, SlotStatus.EXPIRED.value)
        condition = (
            f"{e.n('slot_status')} IN ({', '.join(e.v(v) for v in free)}) "
            f"AND attribute_not_exists({e.n('history')})"
        )
        op = self._delete(items.slot_key(slot_id), condition, e)
        op["Delete"]["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        return op

    def _free_slot_op(self, slot: Item):
        e = Expr()
        condition = f"{e.n('slot_status')} = {e.v(slot['slot_status'])}"
        if slot.get("history"):
            update = e.update({"slot_status": SlotStatus.EXPIRED.value}, remove=SLOT_INDEX_KEYS)
            return self._update(items.slot_key(slot["slot_id"]), update, e, condition)
        condition += f" AND attribute_not_exists({e.n('history')})"
        return self._delete(items.slot_key(slot["slot_id"]), condition, e)

    def get_slot(self, slot_id: str) -> Slot | None:
        found = self._get(items.slot_key(slot_id))
        return items.slot(found) if found else None

    def get_profile_and_slot(
        self, user_id: str, slot_id: str
    ) -> tuple[Profile | None, Slot | None]:
        """One strongly consistent BatchGetItem."""
        keys = [items.profile_key(user_id), items.slot_key(slot_id)]
        found = {i["SK"]: i for i in self._batch_get(keys)}
        profile, slot = found.get("PROFILE"), found.get("SLOT")
        return (items.profile(profile) if profile else None, items.slot(slot) if slot else None)

    def slot_version(self, tutor_id: str) -> int | None:
        """None: no version here, so answers about slots are not cached on this store.

        A per-tutor version item would have to be updated in every transaction that writes
        one of the tutor's slots; two students requesting *different* slots of one tutor at
        the same time would then both write that item, and one TransactWriteItems would be
        cancelled (TransactionConflict) although the slots never clashed. Costs no call."""
        return None

    def slot_answer_versions(self, tutor_id: str) -> tuple[int | None, int | None]:
        """No versions here (see `slot_version`, `profiles_version`). Costs no call."""
        return None, None

    def profiles_version(self) -> int | None:
        """None: no version here, so searches are not cached on this store (a profiles item in
        every profile write would make all profile writes conflict). Costs no call."""
        return None

    def booking_list_version(self, user_id: str) -> int | None:
        """None: no version here, so booking lists are not cached on this store (a version item
        per user in every booking transaction would make concurrent writes of one user's
        bookings conflict, as with `slot_version`; and a profiles item in every profile write
        would make all profile writes conflict). Costs no call."""
        return None

    def slots_for_tutor(
        self,
        tutor_id: str,
        start_from: datetime,
        start_before: datetime,
        status: SlotStatus | None,
        limit: int | None = None,
    ) -> list[Slot]:
        """GSI1 (all of the tutor's slots by start), or GSI4 for `available` ones; another
        status is a filter over the range (the service bounds ranges to 92 days)."""
        low, high = pad(ts(start_from)), pad(ts(start_before))  # "<high>#id" > "<high>"
        if low > high:
            return []
        if status == SlotStatus.AVAILABLE:
            found = self._index_range("GSI4", f"FREE#{tutor_id}", low, high, page_size=limit)
        elif status is None:
            found = self._index_range("GSI1", f"SLOTS#{tutor_id}", low, high, page_size=limit)
        else:
            e = Expr()
            condition = (
                f"{e.n('GSI1PK')} = {e.v(f'SLOTS#{tutor_id}')} AND "
                f"{e.n('GSI1SK')} BETWEEN {e.v(low)} AND {e.v(high)}"
            )
            found = self._query(
                condition,
                e,
                index="GSI1",
                filter_expression=f"{e.n('slot_status')} = {e.v(status.value)}",
            )
        return [items.slot(i) for i in itertools.islice(found, limit)]

    # -- bookings ---------------------------------------------------------------------------
    def request_booking(
        self,
        booking: Booking,
        notification: Notification,
        now: datetime,
        idempotency_key: str | None = None,
        limits: PendingLimits | None = None,
    ) -> Booking:
        """One TransactWriteItems, optimistic about the slot the caller read: take the slot
        (condition: available, start > now, and the tutor and times the booking copies), put
        the booking, the notification and the idempotency key (condition: new), and count the
        request in the student's pending counters (the pair's and the student's; with `limits`,
        each on condition that it is below its limit). The cancellation reasons tell
        what went wrong: a used key returns its booking; a missing slot is `slot_not_found`; a
        taken or started one `SlotUnavailable`; a full counter `TooManyPending`; a slot that is
        free but differs from the caller's copy is re-tried once with the slot's own values."""
        stored = replace(booking, booking_status=BookingStatus.PENDING)
        note = items.note_item(notification, datetime.now(UTC))
        for _ in range(3):
            ops = [
                self._take_slot_op(stored, now),
                self._put(items.booking_item(stored), "attribute_not_exists(PK)"),
                self._put(note),
            ]
            if idempotency_key is not None:
                key = items.idempotency_key(stored.student_id, idempotency_key)
                remembered = {**key, "booking_id": stored.booking_id, "created_at": ts(now)}
                ops.append(self._put(remembered, "attribute_not_exists(PK)"))
                ops[-1]["Put"]["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
            counters = len(ops)  # the pair's pending counter, then the student's
            ops += self._pending_ops(stored, +1, limits)
            try:
                self._transact(ops)
                return stored
            except TransactionCancelled as cancelled:
                if idempotency_key is not None and cancelled.failed(3):
                    earlier = cancelled.old_item(3)  # the key's item, as it stopped ours
                    found = self._get(items.booking_key(earlier["booking_id"])) if earlier else None
                    if found is not None:
                        return items.booking(found)
                if not cancelled.failed(0):
                    if limits is not None and cancelled.failed(counters):
                        raise too_many_pending(limits, PER_TUTOR) from None
                    if limits is not None and cancelled.failed(counters + 1):
                        raise too_many_pending(limits, TOTAL) from None
                    raise
                current = cancelled.old_item(0)
                if current is None:
                    raise NotFound("slot not found", code="slot_not_found") from None
                slot = items.slot(current)
                if slot.slot_status != SlotStatus.AVAILABLE or slot.start <= now:
                    raise SlotUnavailable(
                        "slot is not available", details={"slot_status": slot.slot_status.value}
                    ) from None
                stored = replace(stored, tutor_id=slot.tutor_id, start=slot.start, end=slot.end)
        raise SlotUnavailable("slot is not available", details={"slot_status": "changing"})

    def _take_slot_op(self, booking: Booking, now: datetime):
        e = Expr()
        update = e.update(
            {"slot_status": SlotStatus.PENDING.value, "history": True}, remove=SLOT_INDEX_KEYS
        )
        start = e.n("start")
        condition = (
            f"attribute_exists(PK) AND {e.n('slot_status')} = {e.v(SlotStatus.AVAILABLE.value)} "
            f"AND {start} > {e.v(ts(now))} AND {start} = {e.v(ts(booking.start))} "
            f"AND {e.n('end')} = {e.v(ts(booking.end))} "
            f"AND {e.n('tutor_id')} = {e.v(booking.tutor_id)}"
        )
        return self._update(
            items.slot_key(booking.slot_id), update, e, condition, return_old_on_failure=True
        )

    def _slot_status_op(self, booking: Booking, status: SlotStatus):
        """Set the booking's slot to `status`, with the index keys of that status."""
        e = Expr()
        if status == SlotStatus.AVAILABLE:
            keys = items.free_slot_keys(booking.slot_id, booking.tutor_id, booking.start)
            update = e.update({"slot_status": status.value, **keys})
        else:
            update = e.update({"slot_status": status.value}, remove=SLOT_INDEX_KEYS)
        return self._update(items.slot_key(booking.slot_id), update, e, "attribute_exists(PK)")

    def _booking_status_op(
        self, booking: Booking, updated: Booking, extra_condition: str = "", e: Expr | None = None
    ):
        """Move `booking` (as read) to `updated`'s status, on condition it is still as read."""
        e = e or Expr()
        due = items.booking_due_keys(
            updated.booking_id, updated.booking_status, updated.start, updated.end
        )
        sets = {
            "booking_status": updated.booking_status.value,
            "updated_at": ts(updated.updated_at),
            **due,
        }
        if updated.reason is not None:
            sets["reason"] = updated.reason
        update = e.update(sets, remove=[k for k in DUE_KEYS if k not in due])
        condition = f"{e.n('booking_status')} = {e.v(booking.booking_status.value)}"
        return self._update(
            items.booking_key(booking.booking_id), update, e, condition + extra_condition
        )

    def _pair_op(self, booking: Booking, accepted: int, pending: int = 0, below: int | None = None):
        """Add to the pair's numbers of accepted and of pending bookings (one item, so that a
        transaction names it once); with `below`, on condition that pending is below it."""
        e = Expr()
        add = {"accepted": accepted, "pending": pending}
        update = e.update(
            {"tutor_id": booking.tutor_id, "student_id": booking.student_id},
            add={name: delta for name, delta in add.items() if delta},
        )
        key = items.pair_key(booking.tutor_id, booking.student_id)
        return self._update(key, update, e, _below(e, "pending", below))

    def _pending_ops(
        self, booking: Booking, delta: int, limits: PendingLimits | None = None, accepted: int = 0
    ):
        """The student's pending counters moved by `delta`: the pair's (with its accepted
        number moved by `accepted`), then the student's; with `limits`, each on condition that
        it is below its limit (a missing counter is 0). Every transaction that moves a booking
        into or out of `pending` carries these, so that each counter is the number of such
        bookings (`check_consistency` compares them)."""
        per_tutor, total = (limits.per_tutor, limits.total) if limits else (None, None)
        e = Expr()
        update = e.update({"student_id": booking.student_id}, add={"pending": delta})
        mine = self._update(
            items.pending_key(booking.student_id), update, e, _below(e, "pending", total)
        )
        return [self._pair_op(booking, accepted, delta, per_tutor), mine]

    def transition_booking(
        self,
        booking_id: str,
        from_statuses: frozenset[BookingStatus],
        to_status: BookingStatus,
        slot_status: SlotStatus,
        now: datetime,
        reason: str | None,
        notification: Notification | None,
        require_not_started: bool,
    ) -> Booking | None:
        """Read the booking, then one transaction conditioned on its status being what was
        read (and, if asked, on its start > now): booking, slot, notification, and the pair's
        accepted-bookings counter. A lost race reads again.

        The first try may take the booking as `get_booking` read it in this process: its
        status only moves forward (no state comes back), so if the status is still the one
        read, so is the rest, and the transaction's condition checks exactly that. Only a
        fresh read answers None."""
        read = self._read.take(("BOOKING", booking_id))
        for attempt in range(OPTIMISTIC_RETRIES):
            fresh = read is None
            found = self._get(items.booking_key(booking_id)) if fresh else read
            read = None
            if found is None:
                return None
            booking = items.booking(found)
            if booking.booking_status not in from_statuses or (
                require_not_started and booking.start <= now
            ):
                if fresh:
                    return None
                continue
            updated = replace(
                booking,
                booking_status=to_status,
                updated_at=now,
                reason=reason if reason is not None else booking.reason,
            )
            e = Expr()
            not_started = f" AND {e.n('start')} > {e.v(ts(now))}" if require_not_started else ""
            ops = [
                self._booking_status_op(booking, updated, not_started, e),
                self._slot_status_op(booking, slot_status),
            ]
            if notification is not None:
                ops.append(self._put(items.note_item(notification, datetime.now(UTC))))
            accepted = BookingStatus.ACCEPTED
            delta = (to_status == accepted) - (booking.booking_status == accepted)
            if booking.booking_status == BookingStatus.PENDING:  # leaves pending (never back)
                ops += self._pending_ops(booking, -1, accepted=delta)
            elif delta:
                ops.append(self._pair_op(booking, delta))
            try:
                self._transact(ops)
                return replace(updated, updated_at=items.dt(ts(now)))
            except TransactionCancelled as cancelled:
                if not cancelled.failed(0):
                    raise
                if fresh:
                    _backoff(attempt)
        return None

    def get_booking(self, booking_id: str) -> Booking | None:
        found = self._get(items.booking_key(booking_id))
        if found is None:
            return None
        self._read.put(("BOOKING", booking_id), found)  # for a transition_booking that follows
        return items.booking(found)

    def has_accepted_booking(self, tutor_id: str, student_id: str) -> bool:
        pair = self._get(items.pair_key(tutor_id, student_id))
        return bool(pair) and pair.get("accepted", 0) > 0

    def _bookings(self, index, pk, status, start_from, start_before, limit, after):
        """One person's bookings by (start, booking_id) from a GSI: the range and the cursor
        are the sort key's bounds, the status a filter (paged until `limit` are found)."""
        if limit <= 0:
            return []
        low = pad(ts(start_from)) if start_from is not None else "0"
        cursor = f"{pad(ts(after[0]))}#{after[1]}" if after is not None else None
        if cursor is not None and cursor > low:
            low = cursor
        high = pad(ts(start_before)) if start_before is not None else "~"
        if low > high:
            return []
        e = Expr()
        condition = (
            f"{e.n(index + 'PK')} = {e.v(pk)} AND "
            f"{e.n(index + 'SK')} BETWEEN {e.v(low)} AND {e.v(high)}"
        )
        filter_expression = None
        if status is not None:
            filter_expression = f"{e.n('booking_status')} = {e.v(BookingStatus(status).value)}"
        page_size = limit + 1 if status is None else max(limit + 1, 50)
        found = []
        for item in self._query(
            condition, e, index=index, page_size=page_size, filter_expression=filter_expression
        ):
            if item[index + "SK"] == cursor:
                continue  # BETWEEN includes the cursor itself
            found.append(items.booking(item))
            if len(found) >= limit:
                break
        return found

    def bookings_for_tutor(
        self,
        tutor_id: str,
        status: BookingStatus | None,
        start_from: datetime | None,
        start_before: datetime | None,
        limit: int,
        after: tuple[datetime, str] | None,
    ) -> list[Booking]:
        return self._bookings(
            "GSI1", f"TBOOKINGS#{tutor_id}", status, start_from, start_before, limit, after
        )

    def bookings_for_student(
        self,
        student_id: str,
        status: BookingStatus | None,
        start_from: datetime | None,
        start_before: datetime | None,
        limit: int,
        after: tuple[datetime, str] | None,
    ) -> list[Booking]:
        return self._bookings(
            "GSI2", f"SBOOKINGS#{student_id}", status, start_from, start_before, limit, after
        )

    def expire(
        self, now: datetime, limit: int, notify_expired: Callable[[Booking], Notification]
    ) -> ExpiryResult:
        """What is due comes from GSI3's sparse, sharded due indexes (oldest first); each
        change is a conditional write that re-checks the item, so a second job running at the
        same time (or a stale index entry) changes nothing twice."""
        result = ExpiryResult()
        at = ts(now)
        for entry in self._due("DUESLOT", now, limit):
            e = Expr()
            op = self._update(
                items.slot_key(entry["slot_id"]),
                e.update({"slot_status": SlotStatus.EXPIRED.value}, remove=SLOT_INDEX_KEYS),
                e,
                f"{e.n('slot_status')} = {e.v(SlotStatus.AVAILABLE.value)} "
                f"AND {e.n('start')} <= {e.v(at)}",
            )
            if self._try_update(op):
                result.slots_expired += 1
        for entry in self._due("DUEPENDING", now, limit):
            booking = items.booking(entry)
            expired = replace(booking, booking_status=BookingStatus.EXPIRED, updated_at=now)
            ops = [
                self._booking_status_op(booking, expired),
                self._slot_status_op(booking, SlotStatus.EXPIRED),
                self._put(items.note_item(notify_expired(replace(expired)), now)),
                *self._pending_ops(booking, -1),
            ]
            if self._try_transact(ops):
                result.bookings_expired += 1
        for entry in self._due("DUEACCEPTED", now, limit):
            booking = items.booking(entry)
            completed = replace(booking, booking_status=BookingStatus.COMPLETED, updated_at=now)
            ops = [self._booking_status_op(booking, completed), self._pair_op(booking, -1)]
            if self._try_transact(ops):
                result.bookings_completed += 1
        return result

    def _try_update(self, op: dict[str, Any], **extra: Any) -> dict[str, Any] | None:
        """UpdateItem; None when its condition does not hold."""
        try:
            return self._update_item(op, **extra)
        except self._client_error as exc:
            if _error_code(exc) == "ConditionalCheckFailedException":
                return None
            raise

    def _try_transact(self, ops: list[dict[str, Any]]) -> bool:
        """The transaction; False when its first operation's condition does not hold."""
        try:
            self._transact(ops)
            return True
        except TransactionCancelled as cancelled:
            if cancelled.failed(0):
                return False
            raise

    # -- notifications (outbox) and subscriptions ------------------------------------------
    def add_notifications(self, notifications: list[Notification]) -> None:
        now = datetime.now(UTC)
        self._batch_write(puts=[items.note_item(n, now) for n in notifications])

    def claim_notifications(
        self, now: datetime, limit: int, lease_seconds: int
    ) -> list[Notification]:
        """Due entries from the sharded outbox index, each taken by an UpdateItem conditioned
        on the `next_attempt_at` the index showed: of two workers, one wins each entry."""
        leased_until = ts(now) + lease_seconds
        claimed: list[Notification] = []
        for _ in range(3):  # a lost entry makes room for the next due one
            wanted = limit - len(claimed)
            due = self._due("OUTBOX", now, wanted)
            lost = 0
            for entry in due:
                e = Expr()
                ident = entry["notification_id"]
                update = e.update(
                    {
                        "next_attempt_at": leased_until,
                        **items.outbox_keys(ident, "pending", leased_until),
                    },
                    add={"attempts": 1},
                )
                condition = (
                    f"{e.n('status')} = {e.v('pending')} "
                    f"AND {e.n('next_attempt_at')} = {e.v(entry['next_attempt_at'])}"
                )
                op = self._update(items.note_key(ident), update, e, condition)
                answer = self._try_update(op, ReturnValues="ALL_NEW")
                if answer is None:
                    lost += 1
                else:
                    claimed.append(items.notification(decode(answer["Attributes"])))
            if not lost or len(due) < wanted:
                break
        return claimed

    def finish_notifications(self, outcomes: list[DeliveryOutcome]) -> None:
        """One UpdateItem each (`_finish`): no transaction, each outcome stands on its own."""
        for outcome in outcomes:
            self._finish(outcome)

    def _finish(self, outcome: DeliveryOutcome) -> None:
        """One UpdateItem. Once a verification code will not be sent any more, its copy in the
        outbox is dropped (payload `{}`): the first update is conditioned on another kind, and
        only a code's entry takes a second one."""
        notification_id, status = outcome.notification_id, outcome.status
        due = ts(outcome.next_attempt_at)
        outbox = items.outbox_keys(notification_id, status, due)
        sets = {"status": status, "next_attempt_at": due, "last_error": outcome.error, **outbox}
        for forget_payload in (False, True):
            e = Expr()
            changes = {**sets, "payload": "{}"} if forget_payload else sets
            update = e.update(changes, remove=[k for k in DUE_KEYS if k not in outbox])
            condition = "attribute_exists(PK)"
            if status != "pending" and not forget_payload:
                condition += f" AND {e.n('kind')} <> {e.v('verification_code')}"
            op = self._update(
                items.note_key(notification_id), update, e, condition, return_old_on_failure=True
            )
            try:
                self._update_item(op)
                return
            except self._client_error as exc:
                if _error_code(exc) != "ConditionalCheckFailedException":
                    raise
                if not exc.response.get("Item"):
                    return  # no such notification

    def get_notification(self, notification_id: str) -> Notification | None:
        found = self._get(items.note_key(notification_id))
        return items.notification(found) if found else None

    def outbox_summary(self, now: datetime, recent_failures: int) -> OutboxSummary:
        """Counting Queries on the outbox's GSI3 partitions (pending entries split at `now`,
        failed ones), and the newest failed entries of each shard."""
        cutoff = pad(ts(now) + 1)
        summary = OutboxSummary()
        failures: list[Item] = []
        for number in range(SHARDS):
            e = Expr()
            pk = f"{e.n('GSI3PK')} = {e.v(f'OUTBOX#{number}')}"
            summary.due += self._count(f"{pk} AND {e.n('GSI3SK')} < {e.v(cutoff)}", e)
            e = Expr()
            pk = f"{e.n('GSI3PK')} = {e.v(f'OUTBOX#{number}')}"
            summary.waiting += self._count(f"{pk} AND {e.n('GSI3SK')} >= {e.v(cutoff)}", e)
            e = Expr()
            failed = f"{e.n('GSI3PK')} = {e.v(f'OUTBOXFAILED#{number}')}"
            summary.failed += self._count(failed, e)
            if recent_failures > 0:
                newest = self._query(
                    failed, e, index="GSI3", page_size=recent_failures, forward=False
                )
                failures += itertools.islice(newest, recent_failures)
        failures.sort(key=lambda i: i["notification_id"], reverse=True)
        summary.recent_failures = [items.notification(i) for i in failures[:recent_failures]]
        return summary

    def _count(self, key_condition: str, e: Expr) -> int:
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
            page = self._call("query", **args)
            total += page.get("Count", 0)
            if not page.get("LastEvaluatedKey"):
                return total
            args["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def outbox_backlog(self, limit: int) -> tuple[int, datetime | None]:
        """Every shard of the outbox index, only `created_at` read (a GSI: a moment behind)."""
        count, oldest = 0, None
        for number in range(SHARDS):
            e = Expr()
            condition = f"{e.n('GSI3PK')} = {e.v(f'OUTBOX#{number}')}"
            entries = self._query(condition, e, index="GSI3", projection=e.n("created_at"))
            for entry in itertools.islice(entries, limit - count):
                count += 1
                created = entry.get("created_at")
                oldest = created if oldest is None or created < oldest else oldest
        return count, datetime.fromtimestamp(oldest, UTC) if oldest is not None else None

    def get_subscription(self, user_id: str) -> Subscription | None:
        found = self._get(items.subscription_key(user_id))
        return items.subscription(found) if found else None

    def get_subscription_by_token(self, token: str) -> Subscription | None:
        e = Expr()
        condition = f"{e.n('GSI2PK')} = {e.v(f'SUBTOKEN#{token}')}"
        found = next(self._query(condition, e, index="GSI2", page_size=1), None)
        return items.subscription(found) if found else None

    def save_subscription(
        self, subscription: Subscription, notification: Notification | None
    ) -> None:
        ops = [self._put(items.subscription_item(subscription))]
        if notification is not None:
            ops.append(self._put(items.note_item(notification, datetime.now(UTC))))
        self._transact(ops)

    def confirm_subscription(self, user_id: str, confirm_token: str) -> Subscription | None:
        """One UpdateItem, conditioned on the token and a status other than unsubscribed."""
        e = Expr()
        condition = (
            f"{e.n('confirm_token')} = {e.v(confirm_token)} "
            f"AND {e.n('status')} <> {e.v(SubscriptionStatus.UNSUBSCRIBED.value)}"
        )
        update = e.update({"status": SubscriptionStatus.CONFIRMED.value})
        op = self._update(items.subscription_key(user_id), update, e, condition)
        answer = self._try_update(op, ReturnValues="ALL_NEW")
        return items.subscription(decode(answer["Attributes"])) if answer else None

    def end_subscription(self, user_id: str) -> Subscription | None:
        e = Expr()
        update = e.update(
            {"status": SubscriptionStatus.UNSUBSCRIBED.value}, remove=["confirm_token"]
        )
        op = self._update(items.subscription_key(user_id), update, e, "attribute_exists(PK)")
        answer = self._try_update(op, ReturnValues="ALL_NEW")
        return items.subscription(decode(answer["Attributes"])) if answer else None

    # -- bulk path and consistency check ----------------------------------------------------
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
        existing = self._batch_get(
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
        self._batch_write(puts=puts, workers=8)

    def check_consistency(self) -> list[str]:
        """Violations of the booking invariants, and of this table's derived entries (index
        keys that follow a status, the pairs' accepted counters, the accounts' copies in the
        e-mail guards), human readable.

        The one Scan of this adapter: an operator tool (the `check` command, tests) that
        reads the whole table. Never call it on a request path."""
        slots: dict[str, Item] = {}
        bookings: list[Item] = []
        pairs: dict[tuple[str, str], Item] = {}
        pending: dict[str, int] = {}  # student_id -> the student's pending counter
        accounts: dict[str, list[Item]] = {}  # user_id -> its USER item and its guard
        e = Expr()
        deleted: set[str] = set()  # users who deleted their account
        kinds = ("SLOT", "BOOKING", "PAIR", "PENDING", "USER", "EMAIL", "DELETED")
        wanted = ", ".join(e.v(kind) for kind in kinds)
        attributes = [
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
        ] + list(SLOT_INDEX_KEYS)
        args: dict[str, Any] = {
            "TableName": self.table,
            "ConsistentRead": True,
            "FilterExpression": f"{e.n('SK')} IN ({wanted})",
            "ProjectionExpression": ", ".join(e.n(a) for a in attributes),
            **e.args(),
        }
        while True:
            page = self._call("scan", **args)
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
            _problems(slots, bookings, {pair: i.get("accepted", 0) for pair, i in pairs.items()})
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


def _below(e: Expr, attribute: str, limit: int | None) -> str | None:
    """A condition that a counter (missing: 0) is below `limit`; None without a limit."""
    if not limit:
        return None
    return f"attribute_not_exists({e.n(attribute)}) OR {e.n(attribute)} < {e.v(limit)}"


def _refuse_if_busy(slots: list[Item]) -> None:
    """`availability_in_use` if one of the window's slots (as read) is pending or booked."""
    busy = (SlotStatus.PENDING.value, SlotStatus.BOOKED.value)
    if any(s.get("slot_status") in busy for s in slots):
        raise Conflict("a slot of this window is pending or booked", code="availability_in_use")


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
    return problems


def _problems(
    slots: dict[str, Item], bookings: list[Item], pairs: dict[tuple[str, str], int]
) -> list[str]:
    problems: list[str] = []
    live: dict[str, int] = {}
    statuses: dict[str, set[str]] = {}
    accepted: dict[tuple[str, str], int] = {}
    wanted = {BookingStatus.PENDING.value: "pending", BookingStatus.ACCEPTED.value: "booked"}
    for b in bookings:
        status, ident = b["booking_status"], b["booking_id"]
        statuses.setdefault(b["slot_id"], set()).add(status)
        slot = slots.get(b["slot_id"])
        if slot is None:
            problems.append(f"booking whose slot is missing: {ident}")
            continue
        if status in {s.value for s in LIVE_BOOKING_STATUSES}:
            live[b["slot_id"]] = live.get(b["slot_id"], 0) + 1
        if status in wanted and slot["slot_status"] != wanted[status]:
            problems.append(f"{status} booking whose slot is not {wanted[status]}: {ident}")
        if status == BookingStatus.ACCEPTED.value:
            pair = (b["tutor_id"], b["student_id"])
            accepted[pair] = accepted.get(pair, 0) + 1
        due = items.booking_due_keys(
            ident, BookingStatus(status), items.dt(b["start"]), items.dt(b["end"])
        )
        if {k: b.get(k) for k in DUE_KEYS} != {k: due.get(k) for k in DUE_KEYS}:
            problems.append(f"booking whose due-index entry does not match its status: {ident}")
    problems += [f"slot with more than one live booking: {s}" for s, n in live.items() if n > 1]
    for ident, slot in slots.items():
        mine = statuses.get(ident, set())
        status = slot["slot_status"]
        if status == "pending" and "pending" not in mine:
            problems.append(f"pending slot without a pending booking: {ident}")
        if status == "booked" and not mine & {"accepted", "completed"}:
            problems.append(f"booked slot without an accepted or completed booking: {ident}")
        if mine and not slot.get("history"):
            problems.append(f"slot with bookings but no history mark: {ident}")
        indexed = all(slot.get(k) for k in SLOT_INDEX_KEYS)
        if (
            indexed != (status == "available")
            or any(slot.get(k) for k in SLOT_INDEX_KEYS) != indexed
        ):
            problems.append(f"slot whose free/due index entries do not match its status: {ident}")
    for pair in set(pairs) | set(accepted):
        if pairs.get(pair, 0) != accepted.get(pair, 0):
            problems.append(f"accepted-bookings counter is wrong for pair: {pair[0]}/{pair[1]}")
    return problems
