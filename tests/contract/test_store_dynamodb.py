"""What only the DynamoDB store has: URLs, the table it creates, the calls each method makes
(no Scan outside `check_consistency`), cancellation reasons mapped to domain errors, retries
of transaction conflicts, chunked availability writes, sparse indexes, and real races between
threads — all against moto's server mode on loopback (see moto_server.py)."""

from __future__ import annotations

import ast
import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from importlib import resources
from typing import Any

import pytest
from factories import (
    BASE,
    at,
    make_booking,
    make_code,
    make_notification,
    make_profile,
    make_subscription,
    make_user,
    make_window,
    port_methods,
    publish,
    request,
    role_ports,
)
from moto_server import REGION, dynamodb_store, endpoint_url

import store_peek
from skillsession.adapters.store.dynamodb import locking, open_store
from skillsession.adapters.store.dynamodb.calls import Expr, TransactionCancelled
from skillsession.adapters.store.dynamodb.items import (
    encode,
    lock_key,
    slot_key,
    tokens_key,
    user_key,
)
from skillsession.adapters.store.dynamodb.schema import INDEXES, SHARDS, TTL_ATTRIBUTE
from skillsession.domain.errors import Conflict, NotFound, SlotUnavailable
from skillsession.domain.model import (
    BookingStatus,
    DeliveryOutcome,
    Role,
    SlotStatus,
)
from skillsession.ports.storage import Stores

ROLES = {r: p for r, p in role_ports().items() if r != "versions"}  # DynamoDB keeps none
STORE_METHODS = [
    n
    for role in ROLES.values()
    for n, v in vars(role).items()
    if not n.startswith("_") and callable(v)
]


@pytest.fixture
def dynamo() -> Iterator[Stores]:
    store = dynamodb_store("dynamo")
    store.admin.migrate()
    yield store
    store.admin.close()


# -- the package: one module per role over the shared ones -----------------------------------
ROLE_MODULES = tuple(ROLES)
SHARED_MODULES = ("calls", "items", "schema", "locking", "consistency", "upgrades")


def _project_imports(module: str) -> set[str]:
    source = resources.files("skillsession.adapters.store.dynamodb").joinpath(f"{module}.py")
    found = set()
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module.startswith("skillsession"):
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("skillsession")}
    return found


def test_role_modules_use_only_the_shared_modules_and_the_layers_below():
    """No role module imports another (what they share is in calls, items, schema, locking and
    consistency), and nothing in the package imports the service or the HTTP layer."""
    shared = [f"skillsession.adapters.store.dynamodb.{m}" for m in SHARED_MODULES]
    below = ["skillsession.domain", "skillsession.ports", "skillsession.adapters.aws_clients"]
    allowed = tuple(shared + below)
    for module in (*ROLE_MODULES, *SHARED_MODULES):
        for name in _project_imports(module):
            assert f"{name}.".startswith(tuple(f"{a}." for a in allowed)), f"{module}.py: {name}"


def test_each_role_has_every_method_of_its_port():
    store = dynamodb_store("roles")  # builds the client only: no call
    for role in ROLE_MODULES:
        port = ROLES[role]
        wanted = port_methods(port)
        missing = {n for n in wanted if not callable(getattr(getattr(store, role), n, None))}
        assert not missing, (role, missing)
    assert store.versions is None
    store.admin.close()


class Recorder:
    """Every DynamoDB operation the store's client issues, via a botocore event hook."""

    def __init__(self, store: Stores):
        self.operations: list[str] = []
        store.admin.client.meta.events.register("before-call.dynamodb.*", self._record)

    def _record(self, model: Any, **_: Any) -> None:
        self.operations.append(model.name)

    def count(self, action: Callable[[], Any]) -> tuple[Any, Counter]:
        start = len(self.operations)
        result = action()
        return result, Counter(self.operations[start:])


def _response(status: int, body: dict[str, Any]):
    """A canned DynamoDB HTTP answer, for a `before-send` hook to short-circuit a call."""
    from botocore.awsrequest import AWSResponse

    class Raw:
        def stream(self, **_: Any) -> Iterator[bytes]:
            yield json.dumps(body).encode()

    headers = {"x-amzn-requestid": "test", "content-type": "application/x-amz-json-1.0"}
    return AWSResponse("http://moto", status, headers, Raw())


def _cancelled(codes: list[str]):
    reasons = [{"Code": c, "Message": c} if c != "None" else {"Code": "None"} for c in codes]
    return _response(
        400,
        {
            "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
            "Message": f"Transaction cancelled [{', '.join(codes)}]",
            "CancellationReasons": reasons,
        },
    )


def _fail_transactions(store: Stores, answers: list[Any]) -> list[int]:
    """Make the next TransactWriteItems calls answer `answers` in turn (None: really send)."""
    seen: list[int] = []

    def hook(**_: Any):
        seen.append(1)
        return answers.pop(0) if answers else None

    store.admin.client.meta.events.register("before-send.dynamodb.TransactWriteItems", hook)
    return seen


def _raw_item(store: Stores, key: dict[str, str]) -> dict[str, Any]:
    from skillsession.adapters.store.dynamodb.items import decode

    found = store.admin.client.get_item(
        TableName=store.admin.table, Key=encode(key), ConsistentRead=True
    )
    return decode(found.get("Item")) or {}


# -- URL and table ----------------------------------------------------------------------------
def test_from_url():
    url = f"dynamodb://my-table?region=eu-central-1&endpoint_url={endpoint_url()}"
    store = open_store(url)
    db = store.admin.db
    assert (db.table, db.region, db.endpoint_url) == (
        "my-table",
        "eu-central-1",
        endpoint_url(),
    )
    assert store.admin.client.meta.region_name == "eu-central-1"
    assert store.backend_name == "dynamodb"
    assert store.versions is None  # no answer versions here
    store.admin.close()
    for bad in ("dynamodb://", "sqlite:///x.db", "dynamodb://t?regoin=x"):
        with pytest.raises(ValueError):
            open_store(bad)


def test_migrate_creates_the_table_with_its_indexes_and_ttl(dynamo: Stores):
    table = dynamo.admin.client.describe_table(TableName=dynamo.admin.table)["Table"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert {k["AttributeName"] for k in table["KeySchema"]} == {"PK", "SK"}
    assert sorted(g["IndexName"] for g in table["GlobalSecondaryIndexes"]) == list(INDEXES)
    ttl = dynamo.admin.client.describe_time_to_live(TableName=dynamo.admin.table)[
        "TimeToLiveDescription"
    ]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", TTL_ATTRIBUTE)
    recorder = Recorder(dynamo)
    dynamo.admin.migrate()  # an existing table: only looked at, and its upgrade marker read
    assert set(recorder.operations) == {"DescribeTable", "DescribeTimeToLive", "GetItem"}


def test_migrate_adds_missing_indexes_to_an_older_table():
    store = dynamodb_store("older")
    store.admin.client.create_table(
        TableName=store.admin.table,
        KeySchema=[
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    store.admin.migrate()
    table = store.admin.client.describe_table(TableName=store.admin.table)["Table"]
    assert sorted(g["IndexName"] for g in table["GlobalSecondaryIndexes"]) == list(INDEXES)
    _, slots = publish(store, "tutor", at(days=1))
    assert store.slots.slots_for_tutor("tutor", BASE, at(days=2), None) == slots
    store.admin.close()


# -- calls per method, and no Scan ------------------------------------------------------------
def test_calls_per_method_and_no_scan_outside_the_consistency_check(capsys):
    store = dynamodb_store("calls")
    recorder = Recorder(store)
    table: dict[str, Counter] = {}

    def measure(label: str, action: Callable[[], Any]) -> Any:
        result, counts = recorder.count(action)
        table[label] = table.get(label, Counter()) + counts
        return result

    measure("migrate", store.admin.migrate)
    assert measure("upkeep_job", store.admin.upkeep_job) is None  # no job to hand out here
    user = make_user("ada@example.org")
    note = make_notification(user.user_id, "verification_code", payload={"code": "1"})
    measure("create_user", lambda: store.accounts.create_user(user, make_code(user.user_id), note))
    measure("get_user_by_email", lambda: store.accounts.get_user_by_email(user.email))
    fresh = make_code(user.user_id, "hash-2")
    measure(
        "replace_verification_code",
        lambda: store.accounts.replace_verification_code(fresh, make_notification(user.user_id)),
    )
    measure(
        "get_user_and_code_by_email", lambda: store.accounts.get_user_and_code_by_email(user.email)
    )
    measure("record_code_failure", lambda: store.accounts.record_code_failure(user.user_id))
    measure("get_user", lambda: store.accounts.get_user(user.user_id))
    measure(
        "replace_unconfirmed_user",
        lambda: store.accounts.replace_unconfirmed_user(
            user, make_code(user.user_id, "hash-3"), make_notification(user.user_id)
        ),
    )
    measure("confirm_user", lambda: store.accounts.confirm_user(user.user_id))
    measure("set_password", lambda: store.accounts.set_password(user.user_id, "h", BASE))
    squatted = make_user("old@example.org")
    store.accounts.create_user(squatted, make_code(squatted.user_id), make_notification())
    assert measure(
        "delete_unconfirmed_users", lambda: store.accounts.delete_unconfirmed_users(at(days=8), 5)
    )
    measure("hit", lambda: store.rate_limits.hit("login:ada", BASE, 60, 5))
    measure("clear", lambda: store.rate_limits.clear("login:ada"))
    measure("revoke_tokens", lambda: store.revocations.revoke_tokens("sub-1", BASE))
    measure("token_floor", lambda: store.revocations.token_floor("sub-1"))

    tutor = make_profile(skills=["Python", "Calculus"])
    student = make_profile(user_id=user.user_id, role=Role.STUDENT)
    measure("save_profile", lambda: store.profiles.save_profile(tutor))
    store.profiles.save_profile(student)
    changed = replace(tutor, teaching_skills=["Python", "Chemistry"])
    measure("save_profile (update)", lambda: store.profiles.save_profile(changed))
    measure("get_profile", lambda: store.profiles.get_profile(tutor.user_id))
    measure("get_profile_by_email", lambda: store.profiles.get_profile_by_email(tutor.email))
    measure("get_profiles", lambda: store.profiles.get_profiles([tutor.user_id, student.user_id]))
    measure(
        "set_profile_image", lambda: store.profiles.set_profile_image(tutor.user_id, "img/1.png")
    )

    window, slots = make_window(tutor.user_id, at(days=1), at(days=1, hours=3))
    spare, spare_slots = make_window(tutor.user_id, at(days=2), at(days=2, hours=1))
    measure(
        "get_profile_for_availability",
        lambda: store.slots.get_profile_for_availability(tutor.user_id),
    )
    measure("create_availability", lambda: store.slots.create_availability([window], slots))
    store.slots.create_availability([spare], spare_slots)
    measure("get_availability", lambda: store.slots.get_availability(window.availability_id))
    measure(
        "get_profile_and_slot",
        lambda: store.bookings.get_profile_and_slot(student.user_id, slots[0].slot_id),
    )
    measure(
        "slots_for_tutor",
        lambda: store.slots.slots_for_tutor(tutor.user_id, BASE, at(days=3), None),
    )
    measure(
        "slots_for_tutor (available)",
        lambda: store.slots.slots_for_tutor(tutor.user_id, BASE, at(days=3), SlotStatus.AVAILABLE),
    )
    assert store.versions is None  # no answer versions on DynamoDB: no call, no method
    measure(
        "search_tutors",
        lambda: store.profiles.search_tutors(["python", "chemistry"], (BASE, at(days=3)), 10, None),
    )

    booking = make_booking(slots[0], student.user_id)
    ask = make_notification(tutor.user_id, "booking_requested")
    measure("request_booking", lambda: store.bookings.request_booking(booking, ask, BASE, "key-1"))
    again = make_booking(slots[1], student.user_id)
    measure(
        "request_booking (replayed key)",
        lambda: store.bookings.request_booking(again, make_notification(), BASE, "key-1"),
    )
    measure(
        "transition_booking",
        lambda: store.bookings.transition_booking(
            booking.booking_id,
            frozenset({BookingStatus.PENDING}),
            BookingStatus.ACCEPTED,
            SlotStatus.BOOKED,
            BASE,
            None,
            make_notification(student.user_id, "booking_accepted"),
            True,
        ),
    )
    measure("get_booking", lambda: store.bookings.get_booking(booking.booking_id))
    measure(
        "has_accepted_booking",
        lambda: store.bookings.has_accepted_booking(tutor.user_id, student.user_id),
    )
    measure(
        "bookings_for_tutor",
        lambda: store.bookings.bookings_for_tutor(tutor.user_id, None, None, None, 20, None),
    )
    measure(
        "bookings_for_student",
        lambda: store.bookings.bookings_for_student(
            student.user_id, BookingStatus.ACCEPTED, BASE, None, 20, None
        ),
    )
    measure("delete_availability", lambda: store.slots.delete_availability(spare.availability_id))
    measure(
        "expire",
        lambda: store.bookings.expire(at(days=1, hours=2), 10, lambda b: make_notification()),
    )

    notes = [make_notification() for _ in range(3)]
    store_peek.add_notifications(store, notes)
    claimed = measure("claim_notifications", lambda: store.outbox.claim_notifications(BASE, 2, 60))
    assert len(claimed) == 2
    measure(
        "finish_notifications (one)",
        lambda: store.outbox.finish_notifications(
            [DeliveryOutcome(notes[0].notification_id, "sent")]
        ),
    )
    measure(
        "finish_notifications (a code)",
        lambda: store.outbox.finish_notifications([DeliveryOutcome(note.notification_id, "sent")]),
    )
    measure("outbox_backlog", lambda: store.outbox.outbox_backlog(100))
    subscription = make_subscription(student.user_id, "token-1")
    measure(
        "save_subscription",
        lambda: store.outbox.save_subscription(subscription, make_notification(student.user_id)),
    )
    measure("get_subscription", lambda: store.outbox.get_subscription(student.user_id))
    measure("get_subscription_by_token", lambda: store.outbox.get_subscription_by_token("token-1"))
    measure(
        "confirm_subscription",
        lambda: store.outbox.confirm_subscription(student.user_id, subscription.confirm_token),
    )
    measure("end_subscription", lambda: store.outbox.end_subscription(student.user_id))
    measure(
        "keep_subscription_ref",
        lambda: store.outbox.keep_subscription_ref(
            student.user_id, subscription.email, "arn:aws:sns:eu-west-1:1:t:s"
        ),
    )
    measure("outbox_summary", lambda: store.outbox.outbox_summary(at(days=1), 5))
    others = [make_user() for _ in range(2)]
    profiles = [make_profile(u.user_id, skills=["Go"]) for u in others]
    bulk_window, bulk_slots = make_window(others[0].user_id, at(days=3), at(days=3, hours=2))
    measure(
        "bulk_insert",
        lambda: store.admin.bulk_insert(others, profiles, [bulk_window], bulk_slots),
    )
    assert measure("check_consistency", store.admin.check_consistency) == []
    # deleting an account (the bulk user has a profile, skills and a window of two slots)
    tutor_gone = others[0].user_id
    measure("delete_tutor_availability", lambda: store.slots.delete_tutor_availability(tutor_gone))
    measure("delete_account", lambda: store.accounts.delete_account(tutor_gone))
    measure("close", store.admin.close)

    covered = {label.split(" (")[0] for label in table}
    assert covered == set(STORE_METHODS)
    scans = {label for label, ops in table.items() if "Scan" in ops}
    assert scans == {"check_consistency"}
    # the calls that matter most on request paths, pinned
    assert table["request_booking"] == Counter(TransactWriteItems=1)
    assert table["transition_booking"] == Counter(GetItem=1, TransactWriteItems=1)
    assert table["create_user"] == Counter(TransactWriteItems=1)
    # the token check's read (once per user and cache TTL, not per request)
    assert table["get_user"] == Counter(GetItem=1)
    assert table["replace_unconfirmed_user"] == Counter(TransactWriteItems=1)
    assert table["set_password"] == Counter(TransactWriteItems=1)  # the e-mail known here
    # one Query per shard, one transaction per deleted account: no Scan
    assert table["delete_unconfirmed_users"] == Counter(Query=SHARDS, TransactWriteItems=1)
    assert table["get_booking"] == Counter(GetItem=1)
    assert table["get_user_and_code_by_email"] == Counter(Query=1)
    assert table["get_profile_and_slot"] == Counter(BatchGetItem=1)
    assert table["get_profile_for_availability"] == Counter(BatchGetItem=1)
    # the LOCK came with the profile: the overlap check and the transaction
    assert table["create_availability"] == Counter(Query=1, TransactWriteItems=1)
    assert table["slots_for_tutor"] == Counter(Query=1)
    assert table["outbox_backlog"] == Counter(Query=SHARDS)  # the scheduled job, once a run
    assert table["has_accepted_booking"] == Counter(GetItem=1)
    assert table["confirm_subscription"] == table["end_subscription"] == Counter(UpdateItem=1)
    assert table["keep_subscription_ref"] == Counter(UpdateItem=1)  # once per old subscription
    # a window: its index, then the window and its slots read, one transaction
    assert table["delete_tutor_availability"] == Counter(
        Query=1, GetItem=1, BatchGetItem=1, TransactWriteItems=1
    )
    assert table["delete_account"] == Counter(GetItem=2, TransactWriteItems=1)
    # the token check's read of a provider's account (Cognito), once per user and cache TTL
    assert table["token_floor"] == Counter(GetItem=1)
    assert table["revoke_tokens"] == Counter(UpdateItem=1)
    with capsys.disabled():
        print("\n\nDynamoDB calls per store method (this scenario):")
        for label, ops in table.items():
            print(f"  {label:32} {sum(ops.values()):3}  {dict(sorted(ops.items()))}")


# -- cancellation reasons -> domain errors ----------------------------------------------------
def test_cancellation_reasons_name_the_failed_operation(dynamo: Stores):
    user = make_user()
    dynamo.accounts.create_user(user, make_code(user.user_id), make_notification())
    slot_missing = dynamo.admin.db.update(
        slot_key("missing"), "SET #a = :v0", _expr({"#a": "a"}, {":v0": 1}), "attribute_exists(PK)"
    )
    taken = dynamo.admin.db.put(
        {"PK": f"EMAIL#{user.email}", "SK": "EMAIL"}, "attribute_not_exists(PK)"
    )
    fine = dynamo.admin.db.put({"PK": "X", "SK": "Y"})
    with pytest.raises(TransactionCancelled) as caught:
        dynamo.admin.db.transact([fine, taken, slot_missing])
    cancelled = caught.value
    assert [cancelled.failed(i) for i in range(3)] == [False, True, True]
    assert isinstance(cancelled, Conflict)  # never a botocore error out of the store
    assert _raw_item(dynamo, {"PK": "X", "SK": "Y"}) == {}  # nothing of it was written


def _expr(names: dict[str, str], values: dict[str, Any]):
    e = Expr()
    e.names.update(names)
    e.values.update({k: encode({"v": v})["v"] for k, v in values.items()})
    return e


def test_request_booking_maps_each_failure(dynamo: Stores):
    _, slots = publish(dynamo, "tutor", at(days=1), hours=2)
    with pytest.raises(NotFound) as caught:
        request(dynamo, replace(slots[0], slot_id="missing"))
    assert caught.value.code == "slot_not_found"
    first = request(dynamo, slots[0], "first")
    with pytest.raises(SlotUnavailable) as taken:
        request(dynamo, slots[0], "second")
    assert taken.value.details == {"slot_status": "pending"}
    with pytest.raises(SlotUnavailable):  # started
        request(dynamo, slots[1], "second", now=slots[1].start)
    # a key used before wins over the taken slot: the earlier booking comes back
    keyed = request(dynamo, slots[1], "second", key="k")
    assert request(dynamo, slots[0], "second", key="k") == keyed
    assert dynamo.bookings.get_booking(first.booking_id).student_id == "first"


def test_request_booking_with_a_stale_copy_of_the_slot_takes_the_slots_values(
    dynamo: Stores,
):
    _, slots = publish(dynamo, "tutor", at(days=1))
    recorder = Recorder(dynamo)
    stale = replace(make_booking(slots[0], "student"), tutor_id="liar", start=at(days=9))
    stored = dynamo.bookings.request_booking(stale, make_notification(), BASE)
    assert (stored.tutor_id, stored.start, stored.end) == ("tutor", slots[0].start, slots[0].end)
    assert recorder.operations == ["TransactWriteItems", "TransactWriteItems"]


def test_email_taken_by_the_guard_item(dynamo: Stores):
    first = make_user("ada@example.org")
    dynamo.accounts.create_user(first, make_code(first.user_id), make_notification())
    twin = make_user("ada@example.org")
    with pytest.raises(Conflict) as caught:
        dynamo.accounts.create_user(twin, make_code(twin.user_id), make_notification())
    assert caught.value.code == "email_taken"
    assert _raw_item(dynamo, {"PK": "EMAIL#ada@example.org", "SK": "EMAIL"})["user_id"] == (
        first.user_id
    )


# -- retries ----------------------------------------------------------------------------------
def test_a_transaction_conflict_is_retried(dynamo: Stores):
    _, slots = publish(dynamo, "tutor", at(days=1))
    seen = _fail_transactions(
        dynamo,
        [_cancelled(["TransactionConflict", "None", "None"]), _cancelled(["ThrottlingError"])],
    )
    booking = request(dynamo, slots[0])
    assert len(seen) == 3
    assert dynamo.bookings.get_booking(booking.booking_id) == booking


def test_a_conflict_next_to_a_failed_condition_is_not_retried(dynamo: Stores):
    _, slots = publish(dynamo, "tutor", at(days=1))
    seen = _fail_transactions(
        dynamo, [_cancelled(["None", "ConditionalCheckFailed", "TransactionConflict"])]
    )
    with pytest.raises(TransactionCancelled):
        request(dynamo, slots[0])
    assert len(seen) == 1


def test_a_single_item_write_meeting_a_transaction_is_retried(dynamo: Stores):
    conflict = _response(
        400,
        {
            "__type": "com.amazonaws.dynamodb.v20120810#TransactionConflictException",
            "Message": "Transaction is ongoing for the item",
        },
    )
    answers = [conflict]
    dynamo.admin.client.meta.events.register(
        "before-send.dynamodb.PutItem", lambda **_: answers.pop(0) if answers else None
    )
    assert dynamo.rate_limits.hit("k", BASE, 60, 5).admitted
    assert answers == []


# -- races between threads --------------------------------------------------------------------
def _together(count: int, action: Callable[[int], Any]) -> list[Any]:
    """Run `action(i)` in `count` threads released at once; results or exceptions."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = action(i)
        except Exception as exc:  # noqa: BLE001 - collected for the assertions
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_twenty_threads_request_one_slot_and_exactly_one_wins(dynamo: Stores):
    _, slots = publish(dynamo, "tutor", at(days=1))
    results = _together(20, lambda i: request(dynamo, slots[0], f"student-{i}"))
    winners = [r for r in results if not isinstance(r, Exception)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1
    assert all(isinstance(r, SlotUnavailable) for r in losers), losers
    assert store_peek.get_slot(dynamo, slots[0].slot_id).slot_status == SlotStatus.PENDING
    stored = dynamo.bookings.bookings_for_tutor("tutor", None, None, None, 50, None)
    assert [b.booking_id for b in stored] == [winners[0].booking_id]
    assert dynamo.admin.check_consistency() == []


def test_concurrent_replays_of_one_key_make_one_booking(dynamo: Stores):
    _, slots = publish(dynamo, "tutor", at(days=1), hours=10)
    results = _together(10, lambda i: request(dynamo, slots[i], "student", key="same"))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len({r.booking_id for r in results}) == 1
    assert len(dynamo.bookings.bookings_for_student("student", None, None, None, 50, None)) == 1
    assert dynamo.admin.check_consistency() == []


def test_concurrent_overlapping_windows_one_wins(dynamo: Stores):
    def create(i: int):
        window, slots = make_window("tutor", at(days=1, minutes=10 * i), at(days=1, hours=2))
        dynamo.slots.create_availability([window], slots)
        return window

    results = _together(6, create)
    created = [r for r in results if not isinstance(r, Exception)]
    assert len(created) == 1, results
    assert all(
        isinstance(r, Conflict) and r.code == "availability_overlap"
        for r in results
        if isinstance(r, Exception)
    )


def test_concurrent_workers_never_claim_the_same_notification(dynamo: Stores):
    notes = [make_notification(due=at(minutes=-m)) for m in range(40)]
    store_peek.add_notifications(dynamo, notes)
    results = _together(4, lambda i: dynamo.outbox.claim_notifications(BASE, 15, 60))
    claimed = [n.notification_id for batch in results for n in batch]
    assert len(claimed) == len(set(claimed)) == 40


def test_concurrent_expiry_jobs_change_each_thing_once(dynamo: Stores):
    _, slots = publish(dynamo, "tutor", at(hours=1), hours=8)
    for slot in slots[:4]:
        request(dynamo, slot)
    results = _together(
        3, lambda i: dynamo.bookings.expire(at(days=1), 100, lambda b: make_notification())
    )
    assert sum(r.slots_expired for r in results) == 4
    assert sum(r.bookings_expired for r in results) == 4
    assert dynamo.admin.check_consistency() == []


# -- availability in several transactions ---------------------------------------------------
def _big_call(tutor: str, days: int = 2):
    windows, slots = [], []
    for day in range(days):  # 24 h of 15-minute slots: 98 items a window
        window, mine = make_window(tutor, at(days=day + 1), at(days=day + 2), 15)
        windows.append(window)
        slots += mine
    return windows, slots


def test_a_call_larger_than_one_transaction_is_written_in_chunks(dynamo: Stores):
    windows, slots = _big_call("tutor")
    recorder = Recorder(dynamo)
    dynamo.slots.create_availability(windows, slots)
    assert recorder.operations.count("TransactWriteItems") == 2  # lock + window 1, window 2
    assert len(dynamo.slots.slots_for_tutor("tutor", BASE, at(days=5), None)) == len(slots) == 192
    lock = _raw_item(dynamo, lock_key("tutor"))
    assert lock["version"] == 1 and "lease_until" not in lock  # the lease was released
    clash, clash_slots = make_window("tutor", at(days=1, hours=5), at(days=1, hours=6))
    with pytest.raises(Conflict):
        dynamo.slots.create_availability([clash], clash_slots)
    dynamo.slots.delete_availability(windows[0].availability_id)
    dynamo.slots.create_availability([clash], clash_slots)


def test_a_failed_chunk_undoes_the_written_ones(dynamo: Stores):
    windows, slots = _big_call("tutor")
    broken = _response(
        400,
        {"__type": "com.amazon.coral.validate#ValidationException", "Message": "broken"},
    )
    _fail_transactions(dynamo, [None, broken])
    with pytest.raises(Exception, match="broken"):
        dynamo.slots.create_availability(windows, slots)
    assert dynamo.slots.slots_for_tutor("tutor", BASE, at(days=5), None) == []
    assert all(dynamo.slots.get_availability(w.availability_id) is None for w in windows)
    assert "lease_until" not in _raw_item(dynamo, lock_key("tutor"))
    dynamo.slots.create_availability(windows, slots)  # the tutor is not left locked


def test_a_held_lease_makes_others_wait_then_give_up(dynamo: Stores, monkeypatch):
    publish(dynamo, "tutor", at(days=1))
    dynamo.admin.client.update_item(
        TableName=dynamo.admin.table,
        Key=encode(lock_key("tutor")),
        UpdateExpression="SET lease_until = :t",
        ExpressionAttributeValues={":t": {"N": str(10**11)}},
    )
    monkeypatch.setattr(locking, "LEASE_SECONDS", 0.3)
    with pytest.raises(Conflict) as caught:
        publish(dynamo, "tutor", at(days=2))
    assert caught.value.code == "availability_busy"


# -- sparse indexes -------------------------------------------------------------------------
def test_index_keys_follow_the_status(dynamo: Stores):
    _, slots = publish(dynamo, "tutor", at(days=1))
    free = _raw_item(dynamo, slot_key(slots[0].slot_id))
    assert free["GSI3PK"].startswith("DUESLOT#") and free["GSI4PK"] == "FREE#tutor"
    booking = request(dynamo, slots[0])
    taken = _raw_item(dynamo, slot_key(slots[0].slot_id))
    assert "GSI3PK" not in taken and "GSI4PK" not in taken and taken["history"] is True
    booking_key = {"PK": f"BOOKING#{booking.booking_id}", "SK": "BOOKING"}
    assert _raw_item(dynamo, booking_key)["GSI3PK"].startswith("DUEPENDING#")
    dynamo.bookings.transition_booking(
        booking.booking_id,
        frozenset({BookingStatus.PENDING}),
        BookingStatus.REJECTED,
        SlotStatus.AVAILABLE,
        BASE,
        "no",
        None,
        False,
    )
    assert "GSI3PK" not in _raw_item(dynamo, booking_key)
    assert _raw_item(dynamo, slot_key(slots[0].slot_id))["GSI4PK"] == "FREE#tutor"
    assert dynamo.admin.check_consistency() == []


def test_consistency_check_reports_drift_in_derived_items(dynamo: Stores):
    _, slots = publish(dynamo, "tutor", at(days=1))
    dynamo.admin.client.update_item(
        TableName=dynamo.admin.table,
        Key=encode(slot_key(slots[0].slot_id)),
        UpdateExpression="SET slot_status = :s",
        ExpressionAttributeValues={":s": {"S": "pending"}},
    )
    problems = dynamo.admin.check_consistency()
    assert f"pending slot without a pending booking: {slots[0].slot_id}" in problems
    assert any("index entries do not match" in p for p in problems)


def test_migrate_gives_older_unconfirmed_accounts_their_expiry_entry(dynamo: Stores):
    """An account left unconfirmed before accounts carried the 7-day expiry entry: `check`
    names it, `migrate` (once, marked done) adds the entry, and the job then deletes it."""
    old, young = make_user("old@example.org"), make_user("young@example.org")
    for user in (old, young):
        dynamo.accounts.create_user(user, make_code(user.user_id), make_notification())
    raw = dynamo.admin.client
    for user in (old, young):  # as an older version wrote them
        raw.update_item(
            TableName=dynamo.admin.table,
            Key=encode(user_key(user.user_id)),
            UpdateExpression="REMOVE GSI3PK, GSI3SK",
        )
    raw.delete_item(
        TableName=dynamo.admin.table,
        Key=encode({"PK": "MIGRATION#unconfirmed-expiry", "SK": "DONE"}),
    )
    assert dynamo.accounts.delete_unconfirmed_users(at(days=8), 10) == 0  # invisible to the job
    missing = "unconfirmed account without its 7-day expiry entry"
    assert sum(missing in p for p in dynamo.admin.check_consistency()) == 2
    dynamo.admin.migrate()
    assert not any(missing in p for p in dynamo.admin.check_consistency())
    assert dynamo.accounts.delete_unconfirmed_users(at(days=8), 10) == 2
    scans = Recorder(dynamo).count(dynamo.admin.migrate)[1]["Scan"]
    assert scans == 0  # marked done: later migrations read the marker only


def test_migrate_marks_the_token_floors_of_accounts_deleted_before_them(dynamo: Stores):
    """An account deleted before the token floors of provider accounts left only its DELETED
    mark: `migrate` (once) gives its floor item the deleted mark the token check reads."""
    dynamo.accounts.delete_account("gone-before")
    raw = dynamo.admin.client
    for key in (tokens_key("gone-before"), {"PK": "MIGRATION#deleted-token-floors", "SK": "DONE"}):
        raw.delete_item(
            TableName=dynamo.admin.table, Key=encode(key)
        )  # as an older version left it
    assert dynamo.revocations.token_floor("gone-before") == (True, None)
    dynamo.admin.migrate()
    assert dynamo.revocations.token_floor("gone-before") == (False, None)
    assert dynamo.revocations.token_floor("someone") == (True, None)


def test_reversed_ranges_are_empty_not_an_error(dynamo: Stores):
    tutor = make_profile(skills=["Go"])
    dynamo.profiles.save_profile(tutor)
    publish(dynamo, tutor.user_id, at(days=1))
    assert dynamo.slots.slots_for_tutor(tutor.user_id, at(days=2), at(days=1), None) == []
    assert dynamo.profiles.search_tutors(["go"], (at(days=2), at(days=1)), 10, None) == []
    assert (
        dynamo.bookings.bookings_for_tutor(tutor.user_id, None, at(days=2), at(days=1), 10, None)
        == []
    )


def test_notification_times_are_whole_seconds(dynamo: Stores):
    note = make_notification(due=BASE + timedelta(microseconds=600_000))
    store_peek.add_notifications(dynamo, [note])
    assert store_peek.get_notification(dynamo, note.notification_id).next_attempt_at == BASE


def test_credentials_are_the_test_ones():
    import os

    endpoint_url()
    assert os.environ["AWS_ACCESS_KEY_ID"] == "testing"
    assert os.environ["AWS_DEFAULT_REGION"] == REGION
