"""How many DynamoDB calls each endpoint makes, and that none of them is a Scan.

Every route of the route table is driven in-process (the ASGI app over the DynamoDB store and S3
media on moto, embedded accounts, the background jobs off) while a botocore event hook on the
store's client counts the API operations of each request (`before-call`) and the HTTP attempts
(`before-send`: more attempts than calls would be retries). The counts are pinned per request
(PINNED), so that a change shows here; the expiry job and outbox delivery are counted apart.

docs/dynamodb-calls.md is generated from the same measurements and must match them:
`SKILLSESSION_WRITE_CALLS_DOC=1 .venv/bin/pytest tests/aws/test_aws_dynamodb_calls.py` rewrites it.
"""

from __future__ import annotations

import asyncio
import io
import os
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import httpx
import pytest
from moto_server import REGION, endpoint_url, table_name
from PIL import Image

from route_table_pins import ROUTES
from skillsession import bootstrap
from skillsession.http.app import create_app
from skillsession.service import expiry, outbox
from skillsession.settings import Settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "dynamodb-calls.md"
WRITE_DOC = "SKILLSESSION_WRITE_CALLS_DOC"
MAX_CALLS = 3  # the target: at most 3 DynamoDB calls per request, and no Scan
PASSWORD = "correct horse battery"
ORDER = [
    "GetItem",
    "BatchGetItem",
    "Query",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "BatchWriteItem",
    "TransactWriteItems",
]

# (endpoint, situation) -> the DynamoDB operations of that request
PINNED: dict[tuple[str, str], str] = {
    ("GET /health", ""): "",
    ("POST /auth/signup", ""): "1 PutItem + 1 TransactWriteItems",
    ("POST /auth/confirm", "the mailed code"): "1 Query + 1 PutItem + 1 TransactWriteItems",
    ("POST /auth/login", ""): "1 GetItem + 1 PutItem + 1 DeleteItem",
    (
        "POST /auth/resend-code",
        "unconfirmed account",
    ): "1 GetItem + 1 PutItem + 1 TransactWriteItems",
    ("POST /auth/resend-code", "unknown address"): "1 GetItem + 1 PutItem",
    (
        "POST /auth/signup",
        "again, unconfirmed",
    ): "1 GetItem + 2 PutItem + 2 TransactWriteItems",
    (
        "POST /auth/forgot-password",
        "known account",
    ): "1 GetItem + 1 PutItem + 1 TransactWriteItems",
    ("POST /auth/forgot-password", "unknown address"): "1 GetItem + 1 PutItem",
    ("POST /auth/reset-password", "the mailed code"): "1 Query + 1 PutItem + 1 TransactWriteItems",
    ("POST /auth/change-password", ""): "1 GetItem + 1 PutItem + 1 TransactWriteItems",
    ("POST /save-user-details", "create"): "2 GetItem + 1 TransactWriteItems",
    ("POST /save-user-details", "update"): "2 GetItem + 1 TransactWriteItems",
    ("POST /create-availability", "one window"): "1 BatchGetItem + 1 Query + 1 TransactWriteItems",
    ("POST /create-availability", "two windows"): "1 BatchGetItem + 1 Query + 1 TransactWriteItems",
    ("POST /create-availability", "overlap: 409"): "1 BatchGetItem + 1 Query",
    ("POST /get-user-profiles-and-teacher-search", "own profile"): "1 GetItem",
    ("POST /get-user-profiles-and-teacher-search", "another user by user_id"): "3 GetItem",
    ("POST /get-user-profiles-and-teacher-search", "another user by email"): "2 GetItem + 1 Query",
    ("POST /get-user-profiles-and-teacher-search", "one skill"): "1 BatchGetItem + 1 Query",
    (
        "POST /get-user-profiles-and-teacher-search",
        "two skills and dates, 1 candidate",
    ): "1 GetItem + 1 BatchGetItem + 2 Query",
    ("POST /get-teacher-slots", "by tutor_id"): "2 GetItem + 1 Query",
    ("POST /get-teacher-slots", "by tutor_email, time_zone given"): "2 Query",
    ("POST /get-teacher-slots", "own, status all"): "2 GetItem + 1 Query",
    (
        "POST /create-booking-request",
        "with an Idempotency-Key",
    ): "1 BatchGetItem + 1 TransactWriteItems",
    (
        "POST /create-booking-request",
        "the same key again",
    ): "1 GetItem + 1 BatchGetItem + 1 TransactWriteItems",
    ("POST /create-booking-request", "slot taken: 409"): "1 BatchGetItem + 1 TransactWriteItems",
    ("GET /get-pending-booking-slots", "tutor"): "1 GetItem + 1 BatchGetItem + 1 Query",
    ("GET /get-pending-booking-slots", "student"): "1 GetItem + 1 BatchGetItem + 1 Query",
    ("POST /process-booking-response", "accept"): "2 GetItem + 1 TransactWriteItems",
    ("POST /process-booking-response", "not pending: 409"): "1 GetItem",
    ("GET /get-teacher-bookings", ""): "1 GetItem + 1 BatchGetItem + 1 Query",
    ("GET /get-student-bookings", ""): "1 GetItem + 1 BatchGetItem + 1 Query",
    (
        "POST /cancel-booking",
        "accepted booking, by the student",
    ): "2 GetItem + 1 TransactWriteItems",
    ("PUT /save-profile-img", "first image"): "1 GetItem + 1 UpdateItem",
    ("PUT /save-profile-img", "replacing it"): "1 GetItem + 1 UpdateItem",
    ("GET /get-profile-img-url", "own"): "1 GetItem",
    ("GET /get-profile-img-url", "by email"): "1 Query",
    ("GET /media/{key}", "S3 media: 404, S3 serves them"): "",
    ("GET /subscribe-email-notifications", "new"): "1 GetItem + 1 TransactWriteItems",
    ("GET /subscribe-email-notifications", "confirmed already"): "1 GetItem",
    ("GET /email-subscription", "never asked for"): "1 GetItem",
    ("GET /email-subscription", "confirmed"): "1 GetItem",
    ("GET /confirm-subscription", "the page"): "1 GetItem",
    ("POST /confirm-subscription", ""): "1 UpdateItem",
    ("GET /unsubscribe", "the page"): "1 Query",
    ("POST /unsubscribe", "one-click"): "1 Query + 1 UpdateItem",
    ("POST /delete-availability", "slots never booked"): "2 GetItem + 1 TransactWriteItems",
    (
        "POST /delete-availability",
        "a slot pending: 409",
    ): "2 GetItem + 1 TransactWriteItems",
    (
        "GET /account/export",
        "a student with bookings",
    ): "3 GetItem + 1 BatchGetItem + 2 Query",
    (
        "DELETE /account",
        "a tutor with windows and bookings",
    ): "8 GetItem + 4 BatchGetItem + 9 Query + 5 TransactWriteItems",
}

# (endpoint, situation) over MAX_CALLS -> why
OVER_BUDGET: dict[tuple[str, str], str] = {
    ("POST /auth/signup", "again, unconfirmed"): (
        "the rare path of a second sign-up for an unconfirmed e-mail (anti-squatting): the "
        "sign-up counter of the client address (2 PutItem when the address has signed up "
        "within the hour), the create transaction (cancelled: the e-mail is taken), the "
        "account read by its e-mail guard (GetItem), the transaction that replaces password "
        "and code while the account is still unconfirmed. A first sign-up: 2."
    ),
    ("POST /get-user-profiles-and-teacher-search", "two skills and dates, 1 candidate"): (
        "the viewer's profile (the dates are in their zone), the skill index (Query), one "
        "Limit-1 Query of each candidate tutor's free-slot index, the cards (BatchGetItem): "
        "3 + candidates examined (at most 100 a page). Without dates: 2. Left so: an index "
        'that answers "tutors with every one of these skills and a free slot on these days, '
        'in user_id order" in one Query would need an entry per (skill, day, tutor) with a '
        "count of free slots, changed in every transaction that takes, frees or expires a slot "
        "(one write per skill of the tutor, and the tutor's concurrent bookings then conflict "
        "on those counters), rewritten for every future day when the tutor's skills change "
        "(unbounded, not one transaction), and a range of days is several partitions to merge "
        "in user_id order, each read in full: more calls, not fewer."
    ),
    ("GET /account/export", "a student with bookings"): (
        "profile, account (its e-mail guard), subscription (GetItem each), the bookings as "
        "tutor and as student (a Query each, page by page: one more per 200 bookings), the "
        "other parties' names (BatchGetItem). A rare request: left so."
    ),
    ("DELETE /account", "a tutor with windows and bookings"): (
        "a sequence of atomic steps (service/account_data.py), rare: the account (guard) and "
        "profile read; each live booking found (4 Queries: pending and accepted, as tutor and "
        "as student) and cancelled in its own transaction (a GetItem and a "
        "TransactWriteItems each, as POST /cancel-booking); each window (1 Query for the "
        "tutor's windows, then per window a GetItem, a BatchGetItem of its slots and a "
        "transaction); the live bookings looked for again (4 Queries: a request that came in "
        "before the slots went); the account, profile and subscription in one transaction "
        "(after 2 GetItem). Grows with the tutor's windows and live bookings."
    ),
}

# (endpoint, situation) that were over MAX_CALLS -> how they fit now
BROUGHT_WITHIN: dict[tuple[str, str], str] = {
    ("POST /auth/confirm", "the mailed code"): (
        "the rate limit's attempts (one conditional PutItem on a key with none kept); the account and its code in one strongly "
        "consistent Query of the e-mail's partition (the code is kept beside the e-mail guard, "
        "which holds a copy of the account; a code stored before that, under the account, is "
        "read in one more GetItem while it lives); the confirming transaction (account, its "
        "copy, code)."
    ),
    ("POST /create-availability", "two windows"): (
        "the tutor's profile and LOCK item in one strongly consistent BatchGetItem (the LOCK's "
        "version, read before the overlap check and bumped on that condition in the "
        "transaction, still makes a concurrent overlapping create fail and check again); one "
        "Query for all new windows (the tutor's windows latest first, from the last new end "
        "down to the first window starting before the first new one: a page of the new "
        "windows' count + 1, one more page only per that many existing windows lying between "
        "the new ones); the transaction. 3 however many windows, unless more existing windows "
        "than that lie between them."
    ),
    ("POST /create-booking-request", "the same key again"): (
        "the student's profile and the slot in one strongly consistent BatchGetItem, the "
        "transaction (cancelled: the key is taken; the key's booking id comes with the "
        "cancellation), the first booking (GetItem, as it is now). A first request: 2."
    ),
    ("POST /delete-availability", "a slot pending: 409"): (
        "profile, window, the transaction that assumed every slot free: its cancellation "
        "carries the slots whose condition failed, as they were, so a pending or booked one "
        "is the refusal without reading the slots. Only a window whose slots were booked once "
        "and are free again reads them (BatchGetItem) before its second transaction."
    ),
}

JOBS: dict[str, str] = {
    # 4 GSI3 parts (due slots, pending and accepted bookings, unconfirmed accounts) x 4 shards
    "expiry job, nothing due": "16 Query",
    "expiry job, 4 free slots and 1 pending booking due, 1 account unconfirmed for 7 days": (
        "16 Query + 4 UpdateItem + 2 TransactWriteItems"
    ),
    "outbox delivery, nothing due": "4 Query",
    "outbox delivery, 1 notification (booking expired, not subscribed)": (
        "1 GetItem + 8 Query + 2 UpdateItem"
    ),
    "outbox delivery, 1 notification (booking expired, subscribed)": (
        "2 GetItem + 1 BatchGetItem + 8 Query + 2 UpdateItem"
    ),
}


def describe(ops: Counter) -> str:
    assert set(ops) <= set(ORDER), ops
    return " + ".join(f"{ops[name]} {name}" for name in ORDER if ops[name])


class CallCounter:
    """DynamoDB operations (and HTTP attempts) of one client, between `reset()`s."""

    def __init__(self, client):
        self.operations: list[str] = []
        self.attempts = 0
        client.meta.events.register("before-call.dynamodb", self._call)
        client.meta.events.register("before-send.dynamodb", self._send)

    def _call(self, model, **_):
        self.operations.append(model.name)

    def _send(self, **_):
        self.attempts += 1

    def reset(self) -> None:
        self.operations, self.attempts = [], 0

    def take(self) -> Counter:
        found = Counter(self.operations)
        assert self.attempts == len(self.operations), "calls were retried (moto never throttles)"
        self.reset()
        return found


class Journey:
    """A client that records, for each (endpoint, situation), the DynamoDB calls it made."""

    def __init__(self, app, counter: CallCounter, mail_dir: Path, deps):
        self.app, self.counter, self.mail_dir, self.deps = app, counter, mail_dir, deps
        self.measured: dict[tuple[str, str], tuple[int, Counter]] = {}
        self.jobs: dict[str, Counter] = {}

    def request(self, method, path, token=None, status=None, **kwargs) -> httpx.Response:
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"

        async def go():  # ASGITransport: in-process, no lifespan (the deps are built already)
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://calls") as client:
                return await client.request(method, path, headers=headers, **kwargs)

        r = asyncio.run(go())
        assert status is None or r.status_code == status, (path, r.status_code, r.text)
        return r

    def call(self, method, path, situation="", *, route=None, status=None, **kwargs):
        """A request whose calls are recorded under (its endpoint, `situation`)."""
        self.counter.reset()
        r = self.request(method, path, status=status, **kwargs)
        ops = self.counter.take()
        key = (f"{method} {route or path.split('?')[0]}", situation)
        assert key not in self.measured, key
        self.measured[key] = (r.status_code, ops)
        return r

    def job(self, label, run):
        self.counter.reset()
        result = run()
        self.jobs[label] = self.counter.take()
        return result

    def mail(self, to: str, subject: str) -> str:
        outbox.deliver_all(self.deps)
        for path in sorted(self.mail_dir.glob("*.eml"), reverse=True):
            message = message_from_bytes(path.read_bytes(), policy=policy.default)
            if to in str(message["To"]) and subject.lower() in str(message["Subject"]).lower():
                return str(message["Subject"]) + "\n" + message.get_body(("plain",)).get_content()
        raise AssertionError(f"no mail to {to} about {subject!r}")


@pytest.fixture(scope="module")
def journey(tmp_path_factory):
    data = tmp_path_factory.mktemp("calls")
    aws = f"region={REGION}&endpoint_url={endpoint_url()}"
    settings = Settings(
        _env_file=None,
        data_dir=data,
        store=f"dynamodb://{table_name('calls')}?{aws}",
        media=f"s3://{table_name('calls-media')}/media?{aws}",
        mail=f"files://{data / 'mail'}",
        outbox_interval_seconds=0,
        expiry_interval_seconds=0,
        # the token floors read on a login stay trusted through the journey, however slow:
        # a first request of a token never reads the account again (no GetItem that comes
        # and goes with the test's pace)
        token_floor_cache_seconds=3600,
    )
    deps = bootstrap.build(settings)
    deps.stores.admin.migrate()
    deps.media.ensure_bucket()
    counter = CallCounter(deps.stores.admin.client)
    yield Journey(create_app(deps, run_jobs=False), counter, data / "mail", deps)
    deps.stores.admin.close()


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), (20, 120, 200)).save(out, "PNG")
    return out.getvalue()


def account(j: Journey, name: str, measure: bool) -> tuple[str, str]:
    """Sign up, confirm with the mailed code, log in (measured for the first account only)."""
    email = f"{name}@example.test"
    call = (
        j.call
        if measure
        else (lambda method, path, situation="", **kw: j.request(method, path, **kw))
    )
    call("POST", "/auth/signup", json={"email": email, "password": PASSWORD}, status=201)
    code = re.search(r"\b(\d{6})\b", j.mail(email, "code")).group(1)
    confirm = {"email": email, "code": code}
    call("POST", "/auth/confirm", "the mailed code", json=confirm, status=200)
    r = call("POST", "/auth/login", json={"email": email, "password": PASSWORD}, status=200)
    return email, r.json()["access_token"]


def drive_every_endpoint(j: Journey) -> None:
    day = (datetime.now(UTC).date() + timedelta(days=3)).isoformat()
    j.call("GET", "/health", status=200)
    tutor_email, tutor = account(j, "tutor", measure=True)
    student_email, student = account(j, "student", measure=False)
    nobody = {"email": "nobody@example.test"}
    j.call("POST", "/auth/resend-code", "unknown address", json=nobody, status=202)
    late = {"email": "late@example.test", "password": PASSWORD}
    j.request("POST", "/auth/signup", json=late)
    j.call("POST", "/auth/resend-code", "unconfirmed account", json=late, status=202)

    profile = {
        "role": "tutor",
        "first_name": "Ada",
        "teaching_skills": "Python, Linear algebra",
        "time_zone": "Europe/Berlin",
        "mobile_number": "+1 555 0100",
    }
    j.call("POST", "/save-user-details", "create", token=tutor, json=profile, status=201)
    more = {"experience_years": 6}
    j.call("POST", "/save-user-details", "update", token=tutor, json=more, status=200)
    mine = {"role": "student", "first_name": "Stu", "time_zone": "America/Halifax"}
    j.request("POST", "/save-user-details", token=student, json=mine)

    search = "/get-user-profiles-and-teacher-search"
    tutor_id = j.request("POST", search, token=tutor, json={}).json()["profile"]["user_id"]
    window = {"date": day, "start_time": "09:00", "end_time": "12:00"}
    made = j.call(
        "POST", "/create-availability", "one window", token=tutor, json=window, status=201
    ).json()
    slot_ids = [s["slot_id"] for s in made["slots"]]
    two = {
        "windows": [
            {"date": day, "start_time": "14:00", "end_time": "15:00"},
            {"date": day, "start_time": "16:00", "end_time": "17:00"},
        ]
    }
    j.call("POST", "/create-availability", "two windows", token=tutor, json=two, status=201)
    overlap = {"date": day, "start_time": "10:00", "end_time": "11:00"}
    j.call("POST", "/create-availability", "overlap: 409", token=tutor, json=overlap, status=409)

    j.call("POST", search, "own profile", token=student, json={}, status=200)
    by_id = {"user_id": tutor_id}
    j.call("POST", search, "another user by user_id", token=student, json=by_id, status=200)
    by_email = {"email": tutor_email}
    j.call("POST", search, "another user by email", token=student, json=by_email, status=200)
    j.call("POST", search, "one skill", token=student, json={"skill": "python"}, status=200)
    dates = {"skills": ["python", "linear algebra"], "available_from": day, "available_to": day}
    found = j.call(
        "POST", search, "two skills and dates, 1 candidate", token=student, json=dates, status=200
    ).json()
    assert [t["user_id"] for t in found["tutors"]] == [tutor_id]

    slots = "/get-teacher-slots"
    j.call("POST", slots, "by tutor_id", token=student, json={"tutor_id": tutor_id}, status=200)
    named = {"tutor_email": tutor_email, "time_zone": "UTC"}
    j.call("POST", slots, "by tutor_email, time_zone given", token=student, json=named, status=200)
    everything = {"tutor_id": tutor_id, "status": "all"}
    j.call("POST", slots, "own, status all", token=tutor, json=everything, status=200)

    first = {"slot_id": slot_ids[0]}
    key = {"Idempotency-Key": "calls-1"}
    booking = j.call(
        "POST",
        "/create-booking-request",
        "with an Idempotency-Key",
        token=student,
        json=first,
        headers=dict(key),
        status=201,
    ).json()["booking"]
    j.call(
        "POST",
        "/create-booking-request",
        "the same key again",
        token=student,
        json=first,
        headers=dict(key),
        status=201,
    )
    j.call(
        "POST", "/create-booking-request", "slot taken: 409", token=student, json=first, status=409
    )
    j.call("GET", "/get-pending-booking-slots", "tutor", token=tutor, status=200)
    j.call("GET", "/get-pending-booking-slots", "student", token=student, status=200)
    answer = {"booking_id": booking["booking_id"], "action": "accept"}
    j.call("POST", "/process-booking-response", "accept", token=tutor, json=answer, status=200)
    again = {**answer, "action": "reject"}
    j.call(
        "POST", "/process-booking-response", "not pending: 409", token=tutor, json=again, status=409
    )
    j.call("GET", "/get-teacher-bookings", token=tutor, status=200)
    j.call("GET", "/get-student-bookings", token=student, status=200)
    cancel = {"booking_id": booking["booking_id"], "reason": "exam moved"}
    j.call(
        "POST",
        "/cancel-booking",
        "accepted booking, by the student",
        token=student,
        json=cancel,
        status=200,
    )

    image = {"content": png(), "headers": {"Content-Type": "image/png"}}
    j.call("PUT", "/save-profile-img", "first image", token=tutor, **image, status=200)
    j.call("PUT", "/save-profile-img", "replacing it", token=tutor, **image, status=200)
    url = j.call("GET", "/get-profile-img-url", "own", token=tutor, status=200).json()["url"]
    assert url.startswith(endpoint_url())  # presigned by S3
    params = {"email": tutor_email}
    j.call("GET", "/get-profile-img-url", "by email", token=student, params=params, status=200)
    j.call(
        "GET",
        "/media/profile-images/x.png",
        "S3 media: 404, S3 serves them",
        route="/media/{key}",
        status=404,
    )

    j.call("GET", "/email-subscription", "never asked for", token=student, status=200)
    j.call("GET", "/subscribe-email-notifications", "new", token=student, status=200)
    link = re.search(r"/confirm-subscription\?token=(\S+)", j.mail(student_email, "subscri"))
    j.call("GET", f"/confirm-subscription?token={link.group(1)}", "the page", status=200)
    j.call("POST", f"/confirm-subscription?token={link.group(1)}", status=200)
    j.call("GET", "/subscribe-email-notifications", "confirmed already", token=student, status=200)
    j.call("GET", "/email-subscription", "confirmed", token=student, status=200)

    # a request left pending; its window cannot go, another (never booked) can
    j.request("POST", "/create-booking-request", token=student, json={"slot_id": slot_ids[1]})
    busy = {"availability_id": made["availability"][0]["availability_id"]}
    j.call(
        "POST", "/delete-availability", "a slot pending: 409", token=tutor, json=busy, status=409
    )
    evening = {"date": day, "start_time": "19:00", "end_time": "21:00"}
    other = j.request("POST", "/create-availability", token=tutor, json=evening).json()
    free = {"availability_id": other["availability"][0]["availability_id"]}
    j.call("POST", "/delete-availability", "slots never booked", token=tutor, json=free, status=200)

    # account recovery, on an account of its own (a reset and a change revoke its tokens)
    keeper_email, keeper = account(j, "keeper", measure=False)
    squat = {"email": "late@example.test", "password": "another long password"}
    j.call("POST", "/auth/signup", "again, unconfirmed", json=squat, status=201)
    forgot = {"email": keeper_email}
    j.call("POST", "/auth/forgot-password", "known account", json=forgot, status=202)
    j.call("POST", "/auth/forgot-password", "unknown address", json=nobody, status=202)
    code = re.search(r"\b(\d{6})\b", j.mail(keeper_email, "reset code")).group(1)
    reset = {"email": keeper_email, "code": code, "new_password": "a new long password"}
    j.call("POST", "/auth/reset-password", "the mailed code", json=reset, status=200)
    j.request("GET", "/get-student-bookings", token=keeper, status=401)
    login = {"email": keeper_email, "password": "a new long password"}
    keeper = j.request("POST", "/auth/login", json=login, status=200).json()["access_token"]
    change = {"current_password": "a new long password", "new_password": "the newest password"}
    j.call("POST", "/auth/change-password", "", token=keeper, json=change, status=200)

    # the jobs, on their own: delivery of what is queued first, then the expiry job twice
    outbox.deliver_all(j.deps)
    j.job("outbox delivery, nothing due", lambda: outbox.deliver_all(j.deps))
    ran = j.job("expiry job, nothing due", lambda: expiry.expire_slots(j.deps))
    assert (ran.slots_expired, ran.bookings_expired) == (0, 0)
    later = datetime.now(UTC) + timedelta(days=10)
    ran = j.job(
        "expiry job, 4 free slots and 1 pending booking due, 1 account unconfirmed for 7 days",
        lambda: expiry.expire_slots(j.deps, later),
    )
    assert (ran.slots_expired, ran.bookings_expired, ran.accounts_deleted) == (4, 1, 1)
    report = j.job(
        "outbox delivery, 1 notification (booking expired, subscribed)",
        lambda: outbox.deliver_all(j.deps),
    )
    assert report.sent == 1
    stop = re.search(r"/unsubscribe\?token=(\S+)", j.mail(student_email, "expired")).group(1)
    j.call("GET", f"/unsubscribe?token={stop}", "the page", status=200)
    one_click = {"content": "List-Unsubscribe=One-Click"}
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    j.call("POST", f"/unsubscribe?token={stop}", "one-click", headers=form, status=200, **one_click)
    last = j.request("POST", "/create-availability", token=tutor, json=evening).json()
    ask = {"slot_id": last["slots"][0]["slot_id"]}
    j.request("POST", "/create-booking-request", token=student, json=ask, status=201)
    outbox.deliver_all(j.deps)  # the tutor's "new request"
    expiry.expire_slots(j.deps, later)
    report = j.job(
        "outbox delivery, 1 notification (booking expired, not subscribed)",
        lambda: outbox.deliver_all(j.deps),
    )
    assert report.skipped == 1

    # your data: the student's export, then the tutor leaves (image, windows, bookings)
    j.call("GET", "/account/export", "a student with bookings", token=student, status=200)
    gone = {"password": PASSWORD}
    j.call("DELETE", "/account", "a tutor with windows and bookings", token=tutor, json=gone)


def test_every_endpoint_has_its_calls_pinned_and_none_scans(journey):
    drive_every_endpoint(journey)
    measured = {key: describe(ops) for key, (_, ops) in journey.measured.items()}
    jobs = {label: describe(ops) for label, ops in journey.jobs.items()}
    everything = [ops for _, ops in journey.measured.values()] + list(journey.jobs.values())
    assert not any("Scan" in ops for ops in everything)
    assert {endpoint for endpoint, _ in measured} == {f"{m} {p}" for m, p in ROUTES}
    assert measured == PINNED
    assert jobs == JOBS
    over = {key for key, (_, ops) in journey.measured.items() if ops.total() > MAX_CALLS}
    assert over == set(OVER_BUDGET)
    assert set(BROUGHT_WITHIN) <= set(measured) - over

    text = render(journey)
    if os.environ.get(WRITE_DOC):
        DOC.write_text(text)
    assert DOC.read_text() == text, f"docs/dynamodb-calls.md is stale: {WRITE_DOC}=1 rewrites it"


def render(j: Journey) -> str:
    rows = [
        f"| `{endpoint}` | {situation} | {status} | {ops.total()}"
        f"{' ✗' if ops.total() > MAX_CALLS else ''} | {describe(ops) or '—'} |"
        for (endpoint, situation), (status, ops) in sorted(
            j.measured.items(), key=lambda item: _route_order(item[0][0])
        )
    ]
    over = [
        f"- `{endpoint}`{f' ({situation})' if situation else ''}: {why}"
        for (endpoint, situation), why in OVER_BUDGET.items()
    ]
    within = [
        f"- `{endpoint}`{f' ({situation})' if situation else ''}: {how}"
        for (endpoint, situation), how in BROUGHT_WITHIN.items()
    ]
    jobs = [f"| {label} | {ops.total()} | {describe(ops)} |" for label, ops in j.jobs.items()]
    return "\n".join(
        [
            "# DynamoDB calls per request",
            "",
            "<!-- generated by tests/aws/test_aws_dynamodb_calls.py; "
            f"{WRITE_DOC}=1 .venv/bin/pytest tests/aws/test_aws_dynamodb_calls.py rewrites it -->",
            "",
            "What each endpoint costs in DynamoDB API calls in the AWS shape's storage (one "
            "table, see `src/skillsession/adapters/store/dynamodb/schema.py`). Measured by "
            "`tests/aws/test_aws_dynamodb_calls.py`: it drives every route of the route table "
            "in-process against DynamoDB and S3 on moto, counts the store client's calls with a "
            "botocore event hook (`before-call`; no call was retried), and fails when a count "
            "changes, a request makes a Scan, or this file differs from what it measured.",
            "",
            f"No request path makes a Scan (the one Scan is the `skillsession check` operator "
            f"tool). The target is at most {MAX_CALLS} calls per request; ✗ marks the requests "
            "over it, explained below. Accounts are the embedded ones here "
            "(`SKILLSESSION_AUTH=local`); with Cognito (the deployed AWS shape) `/auth/*` answer "
            "409 without a store call, and checking a token never costs a call. A response's "
            "list pages are one Query each (a status filter may read further pages to fill one).",
            "",
            "| Endpoint | Request | Status | Calls | Operations |",
            "|---|---|---|---|---|",
            *rows,
            "",
            f"## Over {MAX_CALLS} calls, and why",
            "",
            *over,
            "",
            f"## Brought within {MAX_CALLS}, and how",
            "",
            *within,
            "",
            "## The jobs (not on any request path)",
            "",
            "| Run | Calls | Operations |",
            "|---|---|---|",
            *jobs,
            "",
            "The expiry job reads its three due indexes (free slots, pending and accepted "
            "bookings), each sharded four ways: 12 Queries a run however little is due, then one "
            "conditional write per change (a pending booking's expiry is one transaction with its "
            "slot, the student's notification and the student's pending-request counters, the "
            "pair's and the student's: the same two items a request adds to, on condition that "
            "they are below the limits) — 500 changes a batch, batch after batch. "
            "Outbox delivery reads the four shards of the outbox index per batch (and once more "
            "to find nothing left), then per notification: one UpdateItem to claim it, the "
            "reads of its rendering (the recipient's subscription; for a booking mail also the "
            "booking and both profiles), one UpdateItem to record the outcome.",
            "",
            "In the Lambda shape both run in the expiry function, every minute (16 Queries a "
            "minute when idle). `skillsession serve` on DynamoDB runs them in every worker: "
            "the outbox every `SKILLSESSION_OUTBOX_INTERVAL_SECONDS` (default 2 s: 4 Queries "
            "per worker when idle), the expiry job every `SKILLSESSION_EXPIRY_INTERVAL_SECONDS` "
            "(default 60 s).",
            "",
        ]
    )


def _route_order(endpoint: str) -> int:
    method, path = endpoint.split(" ", 1)
    return list(ROUTES).index((method, path))
