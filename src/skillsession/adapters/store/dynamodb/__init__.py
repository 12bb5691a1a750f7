"""The storage roles on DynamoDB: one table, single-table design (layout in schema.py), one
module per role over the shared calls (calls.py), the tutor's availability lock (locking.py)
and the consistency scan (consistency.py). No answer versions here (`Stores.versions` None):
a version item written by every booking or profile write would make unrelated writes conflict.

Every request path is GetItem / Query / BatchGetItem / UpdateItem / DeleteItem /
TransactWriteItems; the only Scan is the consistency scan, an operator tool. Each state change
is one TransactWriteItems (or one conditional UpdateItem) whose conditions decide races; a
cancelled transaction is mapped to the same domain errors as SQLite by reading its
`CancellationReasons`.

Reads that decide a write use strongly consistent GetItem / base-table Query. A write that
follows a read of the same item in this process (the service reads a booking, then changes it)
may start from that read instead of reading again where that is safe: the item cannot change
(a window, a user's e-mail) or the write is conditioned on what was read (a booking's status;
see `calls.Recent`). Listings served by a GSI (slots and bookings of a person, profile by
e-mail, subscription by token, the due indexes) are eventually consistent, as GSIs are: a
change shows there a moment later. Writes driven by a GSI (expiry, outbox claims) re-check the
item in their own condition.

boto3 is imported only when a store is built (`calls.Table`), so importing this package costs
no SDK import.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from skillsession.adapters.store.dynamodb.accounts import DynamoAccounts
from skillsession.adapters.store.dynamodb.admin import DynamoAdmin
from skillsession.adapters.store.dynamodb.bookings import DynamoBookings
from skillsession.adapters.store.dynamodb.calls import CALL_ATTEMPTS, Table
from skillsession.adapters.store.dynamodb.outbox import DynamoOutbox
from skillsession.adapters.store.dynamodb.profiles import DynamoProfiles
from skillsession.adapters.store.dynamodb.rate_limits import DynamoRateLimits
from skillsession.adapters.store.dynamodb.slots import DynamoSlots
from skillsession.ports.storage import Stores


def dynamo_stores(
    table: str,
    region: str | None = None,
    endpoint_url: str | None = None,
    max_attempts: int = CALL_ATTEMPTS,
) -> Stores:
    """Every role on one table and one client (not created here: `admin.migrate()` does)."""
    db = Table(table, region=region, endpoint_url=endpoint_url, max_attempts=max_attempts)
    return Stores(
        accounts=DynamoAccounts(db),
        rate_limits=DynamoRateLimits(db),
        profiles=DynamoProfiles(db),
        slots=DynamoSlots(db),
        bookings=DynamoBookings(db),
        outbox=DynamoOutbox(db),
        admin=DynamoAdmin(db),
        versions=None,
    )


def open_store(url: str) -> Stores:
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
    return dynamo_stores(table, region=query.get("region"), endpoint_url=query.get("endpoint_url"))
