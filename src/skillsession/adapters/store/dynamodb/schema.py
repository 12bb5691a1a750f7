"""The DynamoDB table of the Store: one table, generic keys, four overloaded GSIs.

Base table (PK, SK), every read strongly consistent where it decides something:

    USER#<user_id>        USER                 the account
    USER#<user_id>        CODE                 a verification code stored before codes moved
                                               beside the guard (still read; TTL drops it)
    USER#<user_id>        PROFILE              the profile (GSI2: PEMAIL#<email>)
    USER#<user_id>        SUB                  the e-mail subscription (GSI2: SUBTOKEN#<token>)
    EMAIL#<email>         EMAIL                unique-email guard: a copy of the account
    EMAIL#<email>         CODE                 the account's verification code (TTL)
    RATE#<key>            RATE                 a rate-limit counter: h<window> = hits (TTL)
    SKILL#<skill_key>     TUTOR#<user_id>      the skill index (holds the tutor's skill_keys)
    TUTOR#<tutor_id>      LOCK                 per-tutor version / lease for the overlap guard
    TUTOR#<tutor_id>      AVAIL#<start>#<id>   the tutor's windows in start order (overlap check)
    AVAIL#<id>            AVAIL                the window (with its slot_ids)
    SLOT#<slot_id>        SLOT                 the slot
    BOOKING#<id>          BOOKING              the booking
    IDEM#<student>#<key>  IDEM                 an idempotency key -> booking_id
    PAIR#<tutor>#<student> PAIR                the pair's numbers of accepted and of pending bookings
    PENDING#<student>     PENDING              the student's number of pending bookings (the cap)
    NOTE#<id>             NOTE                 an outbox entry

GSIs (projection ALL; each key exists only on the items that need it — sparse):

    GSI1  SLOTS#<tutor>      <start>#<slot_id>      slots_for_tutor
          TBOOKINGS#<tutor>  <start>#<booking_id>   bookings_for_tutor
    GSI2  SBOOKINGS#<student> <start>#<booking_id>  bookings_for_student
          PEMAIL#<email>     PROFILE                get_profile_by_email
          SUBTOKEN#<token>   SUB                    get_subscription_by_token
    GSI3  DUESLOT#<shard>    <start>#<slot_id>      available slots, for expiry
          DUEPENDING#<shard> <start>#<booking_id>   pending bookings, for expiry
          DUEACCEPTED#<shard> <end>#<booking_id>    accepted bookings, for completion
          OUTBOX#<shard>     <next_attempt_at>#<id> pending notifications, for claiming
          OUTBOXFAILED#<shard> <id>                 failed notifications, for the operator
    GSI4  FREE#<tutor>       <start>#<slot_id>      a tutor's available slots (search, listing)

Instants are unix seconds: numbers in attributes, 12-digit zero-padded strings in sort keys.
The GSI3 partitions are split into SHARDS by a hash of the item id so that no one partition
takes every write of the expiry job or the outbox.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

SHARDS = 4
TTL_ATTRIBUTE = "expires_at_ttl"
INDEXES = ("GSI1", "GSI2", "GSI3", "GSI4")


def _gsi(name: str) -> dict[str, Any]:
    return {
        "IndexName": name,
        "KeySchema": [
            {"AttributeName": f"{name}PK", "KeyType": "HASH"},
            {"AttributeName": f"{name}SK", "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "ALL"},
    }


def _attributes(names: list[str]) -> list[dict[str, str]]:
    return [{"AttributeName": n, "AttributeType": "S"} for n in names]


def table_definition(table: str) -> dict[str, Any]:
    """CreateTable arguments: on-demand capacity, so an idle deployment costs only storage."""
    keys = ["PK", "SK"] + [f"{i}{k}" for i in INDEXES for k in ("PK", "SK")]
    return {
        "TableName": table,
        "KeySchema": [
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": _attributes(keys),
        "GlobalSecondaryIndexes": [_gsi(name) for name in INDEXES],
        "BillingMode": "PAY_PER_REQUEST",
    }


def ensure_table(client: Any, table: str, timeout: float = 300.0) -> bool:
    """Create the table (and any GSI an older table lacks) and enable TTL; whether it was
    created just now (empty). Idempotent, and safe when two processes migrate at once (the
    loser of CreateTable waits for the winner)."""
    errors = client.exceptions
    created = False
    try:
        description = client.describe_table(TableName=table)["Table"]
    except errors.ResourceNotFoundException:
        with contextlib.suppress(errors.ResourceInUseException):  # created concurrently
            client.create_table(**table_definition(table))
            created = True
        description = _wait_active(client, table, timeout)
    present = {g["IndexName"] for g in description.get("GlobalSecondaryIndexes", [])}
    for name in INDEXES:
        if name in present:
            continue
        _wait_active(client, table, timeout)  # one index change at a time
        client.update_table(
            TableName=table,
            AttributeDefinitions=_attributes([f"{name}PK", f"{name}SK"]),
            GlobalSecondaryIndexUpdates=[{"Create": _gsi(name)}],
        )
    _wait_active(client, table, timeout)
    ttl = client.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    if ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
        client.update_time_to_live(
            TableName=table,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
        )
    return created


def _wait_active(client: Any, table: str, timeout: float) -> dict[str, Any]:
    """Until the table and all its indexes are ACTIVE (polls every second, not the waiter's 20 s)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            description = client.describe_table(TableName=table)["Table"]
        except client.exceptions.ResourceNotFoundException:
            description = {}
        indexes = description.get("GlobalSecondaryIndexes", [])
        if description.get("TableStatus") == "ACTIVE" and all(
            g.get("IndexStatus", "ACTIVE") == "ACTIVE" for g in indexes
        ):
            return description
        if time.monotonic() > deadline:
            raise TimeoutError(f"DynamoDB table {table!r} did not become ACTIVE in {timeout:.0f} s")
        time.sleep(1.0)
