"""DynamoDB faults, injected on the store's own client by botocore event hooks, on moto's server:
throttling (ProvisionedThroughputExceeded, ThrottlingException), transactions cancelled by
TransactionConflict, timeouts before a request is sent and after it was applied, server errors.

What the store promises (dynamodb/calls.py `Table.call` / `Table.transact`): a refused call
(not applied) is repeated with backoff and jitter; after a timeout or a 5xx a call is repeated
only when a second application changes nothing (reads, batch puts/deletes, unconditional SET
updates); otherwise, or when the attempts run out, `Unavailable` (503 with Retry-After), and
never a half-written state (`check_consistency` stays clean, a timed-out transaction is there
whole or not at all).

Faults per operation are queued by `Faults.plan`; `sent` counts the requests that reached moto."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import timedelta

import pytest
from factories import BASE, make_notification, make_profile, make_user, publish, request
from moto_server import dynamodb_store

import store_peek
from skillsession.adapters.store.dynamodb import calls as dynamodb_calls
from skillsession.domain.errors import Unavailable
from skillsession.domain.model import BookingStatus, SlotStatus

FOREVER = 100


class _Http:
    def __init__(self, status: int):
        self.status_code = status
        self.headers: dict[str, str] = {}


def _error(code: str, status: int = 400, **extra) -> tuple[_Http, dict]:
    parsed = {
        "Error": {"Code": code, "Message": "injected"},
        "ResponseMetadata": {"HTTPStatusCode": status},
        **extra,
    }
    return _Http(status), parsed


class Faults:
    def __init__(self, store):
        from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError

        self._connect_timeout, self._read_timeout = ConnectTimeoutError, ReadTimeoutError
        self.queue: dict[str, list[str]] = defaultdict(list)
        self.calls: Counter[str] = Counter()
        self.sent: Counter[str] = Counter()
        events = store.admin.client.meta.events
        events.register("before-call.dynamodb", self._before)
        events.register("before-send.dynamodb", self._send)
        events.register("after-call.dynamodb", self._after)

    def plan(self, operation: str, *kinds: str, times: int = 1) -> None:
        self.queue[operation] += list(kinds) * times

    def _send(self, request, **kwargs):
        self.sent[request.headers["X-Amz-Target"].decode().split(".")[-1]] += 1

    def _before(self, model, params, **kwargs):
        self.calls[model.name] += 1
        queue = self.queue[model.name]
        if not queue or queue[0] == "read-timeout-after":
            return None
        kind = queue.pop(0)
        if kind == "throughput":
            return _error("ProvisionedThroughputExceededException")
        if kind == "throttling":
            return _error("ThrottlingException")
        if kind == "server-error":
            return _error("InternalServerError", 500)
        if kind == "connect-timeout":
            raise self._connect_timeout(endpoint_url="http://dynamodb")
        if kind == "conflict" and model.name == "TransactWriteItems":
            ops = json.loads(params["body"])["TransactItems"]
            reasons = [{"Code": "TransactionConflict"}] + [{"Code": "None"}] * (len(ops) - 1)
            return _error("TransactionCanceledException", CancellationReasons=reasons)
        if kind == "conflict":
            return _error("TransactionConflictException")
        raise AssertionError(kind)

    def _after(self, model, **kwargs):
        queue = self.queue[model.name]
        if queue and queue[0] == "read-timeout-after":  # the request was applied; no answer
            queue.pop(0)
            raise self._read_timeout(endpoint_url="http://dynamodb")


@pytest.fixture
def store(monkeypatch):
    monkeypatch.setattr(dynamodb_calls, "_backoff", lambda attempt, **kw: None)  # no sleeping
    store = dynamodb_store("faults")
    store.admin.migrate()
    yield store
    assert store.admin.check_consistency() == []
    store.admin.close()


@pytest.fixture
def faults(store):
    return Faults(store)


REFUSALS = ["throughput", "throttling", "conflict", "connect-timeout"]


@pytest.mark.parametrize("kind", REFUSALS + ["server-error", "read-timeout-after"])
def test_reads_are_repeated_through_every_fault(store, faults, kind):
    user = make_user()
    profile = make_profile(user.user_id)
    store.profiles.save_profile(profile)
    faults.calls.clear()
    for operation in ("GetItem", "BatchGetItem", "Query"):
        faults.plan(operation, kind, times=2)
    assert store.profiles.get_profile(user.user_id) == profile  # GetItem
    assert list(store.profiles.get_profiles([user.user_id])) == [user.user_id]  # BatchGetItem
    assert store.profiles.get_profile_by_email(profile.email) == profile  # Query (GSI)
    assert faults.calls["GetItem"] == 3 and faults.calls["Query"] == 3


def test_a_read_that_keeps_failing_is_unavailable_not_a_500(store, faults):
    faults.plan("GetItem", "throughput", times=FOREVER)
    with pytest.raises(Unavailable) as raised:
        store.profiles.get_profile("someone")
    assert raised.value.retry_after >= 1 and raised.value.details["outcome"] == "not_applied"
    assert faults.calls["GetItem"] == dynamodb_calls.CALL_ATTEMPTS


LIMIT = 10  # rate-limit hits allowed in the window: more than these tests make


@pytest.mark.parametrize("kind", REFUSALS)
def test_a_refused_counter_write_is_repeated_and_counts_once(store, faults, kind):
    faults.plan("PutItem", kind, times=3)
    assert len(store.rate_limits.hit("k", BASE, 60, LIMIT).hits) == 1
    assert len(store.rate_limits.hit("k", BASE, 60, LIMIT).hits) == 2
    # only the attempts that were not refused reached moto: the first hit's guess, then the
    # second hit's guess (refused by its condition: the key has hits) and its versioned put
    assert faults.sent["PutItem"] == 3


@pytest.mark.parametrize("kind", ["read-timeout-after", "server-error"])
def test_a_conditional_or_counting_write_with_an_unknown_outcome_is_not_repeated(
    store, faults, kind
):
    faults.plan("PutItem", kind)
    with pytest.raises(Unavailable) as raised:
        store.rate_limits.hit("k", BASE, 60, LIMIT)
    assert raised.value.details["outcome"] == "unknown"
    applied = 1 if kind == "read-timeout-after" else 0
    # counted once, never twice
    assert len(store.rate_limits.hit("k", BASE, 60, LIMIT).hits) == applied + 1


def test_a_batch_write_with_an_unknown_outcome_is_repeated(store, faults):
    notes = [make_notification(due=BASE + timedelta(seconds=n)) for n in range(3)]
    faults.plan("BatchWriteItem", "read-timeout-after", "server-error")
    store_peek.add_notifications(store, notes)
    assert faults.calls["BatchWriteItem"] == 3
    assert store.outbox.outbox_backlog(10)[0] == 3


@pytest.mark.parametrize("kind", REFUSALS)
def test_a_refused_booking_transaction_is_repeated(store, faults, kind):
    _, [slot] = publish(store, "tutor", BASE + timedelta(days=1))
    faults.plan("TransactWriteItems", kind, times=2)
    booking = request(store, slot)
    assert store.bookings.get_booking(booking.booking_id).booking_status == BookingStatus.PENDING
    assert store_peek.get_slot(store, slot.slot_id).slot_status == SlotStatus.PENDING


@pytest.mark.parametrize("kind", ["conflict", "throttling"])
def test_a_transaction_refused_for_good_is_unavailable_and_writes_nothing(store, faults, kind):
    _, [slot] = publish(store, "tutor", BASE + timedelta(days=1))
    faults.plan("TransactWriteItems", kind, times=FOREVER)
    with pytest.raises(Unavailable):  # not "slot unavailable": no condition failed
        request(store, slot)
    assert store_peek.get_slot(store, slot.slot_id).slot_status == SlotStatus.AVAILABLE
    assert store.outbox.outbox_backlog(10) == (0, None)


@pytest.mark.parametrize("kind", ["read-timeout-after", "server-error"])
def test_a_transaction_with_an_unknown_outcome_is_whole_or_absent(store, faults, kind):
    _, [slot] = publish(store, "tutor", BASE + timedelta(days=1))
    faults.calls.clear()
    faults.plan("TransactWriteItems", kind)
    with pytest.raises(Unavailable) as raised:
        request(store, slot)
    assert raised.value.details["outcome"] == "unknown"
    assert faults.calls["TransactWriteItems"] == 1  # a repeat could fail its own conditions
    status = store_peek.get_slot(store, slot.slot_id).slot_status
    pending, _ = store.outbox.outbox_backlog(10)
    if kind == "read-timeout-after":  # applied: booking, slot and notification all there
        assert (status, pending) == (SlotStatus.PENDING, 1)
    else:
        assert (status, pending) == (SlotStatus.AVAILABLE, 0)


def test_accept_reject_and_expiry_ride_out_throttling(store, faults):
    pending = frozenset({BookingStatus.PENDING})
    _, slots = publish(store, "tutor", BASE + timedelta(hours=1), hours=3)
    first, second, third = (request(store, s, f"student-{i}") for i, s in enumerate(slots))
    faults.plan("TransactWriteItems", "throughput", "conflict", times=3)
    faults.plan("UpdateItem", "throttling", times=2)
    faults.plan("Query", "throttling", times=2)
    for booking, status, slot_status in (
        (first, BookingStatus.ACCEPTED, SlotStatus.BOOKED),
        (second, BookingStatus.REJECTED, SlotStatus.AVAILABLE),
    ):
        changed = store.bookings.transition_booking(
            booking.booking_id, pending, status, slot_status, BASE, None, None, False
        )
        assert changed.booking_status == status
    later = BASE + timedelta(hours=3, minutes=30)
    result = store.bookings.expire(later, 100, lambda b: make_notification(due=later))
    assert result.bookings_expired == 1  # the third request: its slot has started
    assert store.bookings.get_booking(third.booking_id).booking_status == BookingStatus.EXPIRED
    assert not any(faults.queue.values())  # every injected fault was met


def test_the_api_answers_503_with_retry_after(store, faults, tmp_path, monkeypatch):
    from starlette.testclient import TestClient

    from skillsession import bootstrap
    from skillsession.http.app import create_app

    monkeypatch.setenv("SKILLSESSION_DATA_DIR", str(tmp_path))
    deps = bootstrap.build()
    deps.stores = store
    faults.plan("Query", "throttling", times=FOREVER)
    faults.plan("GetItem", "throttling", times=FOREVER)
    with TestClient(create_app(deps, run_jobs=False), raise_server_exceptions=False) as client:
        answer = client.get("/unsubscribe", params={"token": "a" * 43})
    assert answer.status_code == 503, answer.text
    assert int(answer.headers["Retry-After"]) >= 1
    assert answer.json()["error"]["code"] == "store_unavailable"
