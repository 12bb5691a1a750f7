"""Every sample event in events/ through the Lambda handler in-process, against the emulator.

events/ holds one API Gateway v2 (HTTP API, payload 2.0) event per endpoint, the way the original
was tried with `sam local invoke -e events/<file>.json`. Here the real entry point
(`skillsession.aws.lambda_handler.handler`) answers each of them with the AWS shape's adapters on
moto: the store on a DynamoDB table, media on S3, mail on SNS (template.yaml's default), auth =
a Cognito user pool (moto's pool ids are its own: the walk puts that pool's issuer in the
events' claims); private events carry the claims API Gateway's JWT authorizer puts in
requestContext.authorizer.jwt.claims, which the handler trusts.
`skillsession migrate` creates the table, the bucket and the topic first, as before a deploy.

The events are static files with fixed ids and a fixed instant (requestContext.timeEpoch,
2026-11-28T14:00:00Z), so:
- the app's clock reads each event's timeEpoch (API Gateway's receive time), so that the dates
  in the bodies stay in the future whatever day the tests run;
- what the server would have generated ids for is seeded with the events' fixed ids (`seed`,
  below) through the Store's own methods, on the same table: two windows of the tutor with their
  slots, a pending request of the student, the student's e-mail subscription;
- the events run in the order of EXPECTED (profiles first, ..., request, answer, cancel), once,
  in a module-scoped fixture; each event's status is then one test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cognito_pool import new_pool
from moto_server import REGION, endpoint_url, table_name

import store_peek
from route_table_pins import ROUTES

EVENTS = Path(__file__).resolve().parents[2] / "events"
POOL, CLIENT_ID = "eu-west-1_SAMPLE", "sampleclientid"
ISSUER = f"https://cognito-idp.{REGION}.amazonaws.com/{POOL}"

# The events' fixed ids (the Cognito subs are the users' ids; the rest is seeded or created).
TUTOR, TUTOR_EMAIL = "7f3c0c9e-1111-4a6b-9d5e-000000000001", "tutor@example.com"
STUDENT, STUDENT_EMAIL = "7f3c0c9e-2222-4a6b-9d5e-000000000002", "student@example.com"
WINDOW = "01a21c729100700080000000000000a1"  # 2026-12-01 09:00-12:00 Berlin, three slots
FREE_WINDOW = "01a21c729100700080000000000000a2"  # 2026-12-02 09:00-10:00 Berlin, never booked
SLOTS = [f"01a21c729100700080000000000000{n}" for n in ("b1", "b2", "b3")]
FREE_SLOT = "01a21c729100700080000000000000b4"
BOOKING = "01a21e2a0500700080000000000000c1"  # the student's pending request for SLOTS[1]
SUBSCRIPTION_TOKEN = "c2FtcGxlLXN1YnNjcmlwdGlvbi10b2tlbi0wMDAwMDE"  # the student's
CONFIRM_TOKEN = f"{STUDENT}.Y29uZmlybS10b2tlbi0wMDAwMDAwMDE"  # the student's open confirmation

# file -> status, in the order the events run (later ones need what earlier ones did)
EXPECTED = {
    "health.json": 200,
    "openapi.json": 200,
    "docs.json": 200,
    "web-client.json": 200,  # the web client's page at / (template.yaml: an open route)
    "web-client-asset.json": 200,  # one of its files under /app/
    "get-teacher-bookings-unauthenticated.json": 401,  # no authorizer claims, no valid token
    # Cognito carries out /auth/* in the AWS shape (template.yaml: /auth/* open)
    "auth-signup.json": 201,
    # S3 serves the images through presigned URLs; /media/... is the embedded shape's
    "media.json": 404,
    "save-user-details-tutor.json": 201,
    "save-user-details-student.json": 201,
    "get-user-profiles-and-teacher-search-profile.json": 200,
    "get-user-profiles-and-teacher-search-skill.json": 200,
    "save-profile-img.json": 200,  # JSON {"image_base64", "content_type"}
    "save-profile-img-raw.json": 200,  # the PNG bytes, isBase64Encoded
    "get-profile-img-url.json": 200,
    "create-availability.json": 201,
    "get-teacher-slots.json": 200,
    "create-booking-request.json": 201,
    "get-pending-booking-slots.json": 200,
    "process-booking-response.json": 200,
    "get-teacher-bookings.json": 200,
    "get-student-bookings.json": 200,
    "cancel-booking.json": 200,
    "delete-availability.json": 200,
    "subscribe-email-notifications.json": 200,
    "email-subscription.json": 200,  # only reads it: SNS tells the status
    "confirm-subscription.json": 200,  # the page (a browser's GET)
    "confirm-subscription-post.json": 200,  # its button
    "unsubscribe.json": 200,
    "unsubscribe-post.json": 200,  # RFC 8058 one-click, as a mail client posts it
    "account-export.json": 200,  # the student's data
    # last: the student leaves; with Cognito the token suffices (no password)
    "account-delete.json": 200,
}

SLOT_KEYS = {
    "slot_id",
    "tutor_id",
    "availability_id",
    "start",
    "end",
    "date",
    "start_time",
    "end_time",
    "time_zone",
    "slot_status",
}
BOOKING_KEYS = {
    "booking_id",
    "slot_id",
    "tutor_id",
    "student_id",
    "booking_status",
    "request_created_at",
    "booking_date",
    "start",
    "end",
    "message",
}


def load(name: str) -> dict:
    return json.loads((EVENTS / name).read_text())


class EventClock:
    """The app's clock: the receive time of the event being handled."""

    current = datetime(2026, 11, 28, 14, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current


def seed(store) -> None:
    """What the events need that the server would have made with ids of its own."""
    from skillsession.domain import bookings as rules
    from skillsession.domain.model import (
        Availability,
        Slot,
        SlotStatus,
        Subscription,
        SubscriptionStatus,
    )

    published = datetime(2026, 11, 27, 10, tzinfo=UTC)

    def window(availability_id: str, first: datetime, slot_ids: list[str]):
        slots = [
            Slot(
                slot_id=slot_id,
                tutor_id=TUTOR,
                availability_id=availability_id,
                start=first + timedelta(hours=i),
                end=first + timedelta(hours=i + 1),
                slot_status=SlotStatus.AVAILABLE,
                time_zone="Europe/Berlin",
            )
            for i, slot_id in enumerate(slot_ids)
        ]
        made = Availability(
            availability_id=availability_id,
            tutor_id=TUTOR,
            start=slots[0].start,
            end=slots[-1].end,
            time_zone="Europe/Berlin",
            slot_minutes=60,
            created_at=published,
        )
        return made, slots

    busy, busy_slots = window(WINDOW, datetime(2026, 12, 1, 8, tzinfo=UTC), SLOTS)
    free, free_slots = window(FREE_WINDOW, datetime(2026, 12, 2, 8, tzinfo=UTC), [FREE_SLOT])
    store.slots.create_availability([busy, free], busy_slots + free_slots)

    asked = datetime(2026, 11, 27, 18, tzinfo=UTC)
    request = replace(
        rules.new_request(busy_slots[1], STUDENT, "Linear algebra, chapter 3?", asked),
        booking_id=BOOKING,
    )
    notification = rules.booking_notification("booking_requested", request, TUTOR, asked)
    assert store.bookings.request_booking(request, notification, asked).booking_id == BOOKING

    subscription = Subscription(
        user_id=STUDENT,
        email=STUDENT_EMAIL,
        status=SubscriptionStatus.PENDING_CONFIRMATION,
        token=SUBSCRIPTION_TOKEN,
        created_at=published,
        confirm_token=CONFIRM_TOKEN,
    )
    store.outbox.save_subscription(subscription, None)


class Walk:
    """The events' responses (Lambda proxy results), by file name."""

    def __init__(self, store):
        self.store = store
        self.responses: dict[str, dict] = {}

    def status(self, name: str) -> int:
        return self.responses[name]["statusCode"]

    def json(self, name: str) -> dict:
        response = self.responses[name]
        content_type = {k.lower(): v for k, v in response["headers"].items()}["content-type"]
        assert content_type.startswith("application/json"), content_type
        return json.loads(response["body"])


@pytest.fixture(scope="module")
def walk(tmp_path_factory):
    from moto.core import DEFAULT_ACCOUNT_ID
    from typer.testing import CliRunner

    from skillsession import bootstrap, cli
    from skillsession.adapters.store.dynamodb import open_store
    from skillsession.aws import lambda_handler

    mp = pytest.MonkeyPatch()
    aws = f"region={REGION}&endpoint_url={endpoint_url()}"
    store_url = f"dynamodb://{table_name('lambda')}?{aws}"
    topic = f"arn:aws:sns:{REGION}:{DEFAULT_ACCOUNT_ID}:{table_name('lambda-mail')}"
    mp.setenv("SKILLSESSION_DATA_DIR", str(tmp_path_factory.mktemp("lambda")))
    mp.setenv("SKILLSESSION_STORE", store_url)
    mp.setenv("SKILLSESSION_MEDIA", f"s3://{table_name('lambda-media')}/media?{aws}")
    mp.setenv("SKILLSESSION_MAIL", f"sns://{topic}?{aws}")
    pool = new_pool()
    mp.setenv("SKILLSESSION_AUTH", pool["url"])
    issuer = f"https://cognito-idp.{REGION}.amazonaws.com/{pool['pool_id']}"

    store = None
    try:
        # what a deploy has done before the first request: the table, the bucket, the topic
        migrated = CliRunner().invoke(cli.app, ["migrate"])
        assert migrated.exit_code == 0, migrated.output
        assert "sns topic ready" in migrated.output
        store = open_store(store_url)
        seed(store)

        clock = EventClock()
        real_build = bootstrap.build

        def build(settings=None):
            deps = real_build(settings)
            deps.clock = clock
            return deps

        mp.setattr(bootstrap, "build", build)
        lambda_handler._handler = None
        found = Walk(store)
        for name in EXPECTED:
            event = load(name)
            claims = (event["requestContext"].get("authorizer") or {}).get("jwt", {}).get("claims")
            if claims:
                claims["iss"] = issuer
            epoch_ms = event["requestContext"]["timeEpoch"]
            clock.current = datetime.fromtimestamp(epoch_ms / 1000, UTC)
            found.responses[name] = lambda_handler.handler(event, None)
        yield found
    finally:
        if lambda_handler._handler is not None:  # the warm function's store, as a shutdown would
            lambda_handler._handler.app.state.deps.stores.admin.close()
        lambda_handler._handler = None
        mp.undo()
        if store is not None:
            store.admin.close()


def test_every_event_has_an_expectation():
    assert {p.name for p in EVENTS.glob("*.json")} == set(EXPECTED)


def _route(path: str) -> str:
    return "/media/{key}" if path.startswith("/media/") else path


def test_every_route_has_an_event():
    """/auth/* has one event for its routes (tests/aws/test_aws_cognito_accounts.py walks them
    all through the handler)."""
    covered = set()
    for name in EXPECTED:
        http = load(name)["requestContext"]["http"]
        covered.add((http["method"], _route(http["path"])))
    routes = {(m, "/auth/*" if p.startswith("/auth/") else p) for m, p in ROUTES}
    covered = {(m, "/auth/*" if p.startswith("/auth/") else p) for m, p in covered}
    assert routes | {("GET", "/docs"), ("GET", "/openapi.json")} <= covered


@pytest.mark.parametrize("name", list(EXPECTED))
def test_event_is_api_gateway_v2_shaped(name):
    event = load(name)
    context = event["requestContext"]
    assert event["version"] == "2.0"
    assert event["rawPath"] == context["http"]["path"]
    assert event["routeKey"] == context["routeKey"]
    assert isinstance(event["isBase64Encoded"], bool)
    assert datetime.fromtimestamp(context["timeEpoch"] / 1000, UTC) == datetime(
        2026, 11, 28, 14, tzinfo=UTC
    )
    claims = (context.get("authorizer") or {}).get("jwt", {}).get("claims")
    public = ROUTES.get((context["http"]["method"], _route(event["rawPath"])), True)
    if claims is None:
        assert public or name.endswith("-unauthenticated.json"), "a private route needs claims"
        assert "authorization" not in event["headers"]
    else:
        assert claims["sub"] in (TUTOR, STUDENT)
        assert claims["email"] == {TUTOR: TUTOR_EMAIL, STUDENT: STUDENT_EMAIL}[claims["sub"]]
        assert (claims["iss"], claims["token_use"], claims["aud"]) == (ISSUER, "id", CLIENT_ID)
        assert event["headers"]["authorization"].startswith("Bearer ")
    if event["rawQueryString"]:
        assert event["queryStringParameters"]
    if "body" in event and not event["isBase64Encoded"]:
        if event["headers"].get("content-type", "").startswith("application/json"):
            json.loads(event["body"])
        else:
            assert event["body"] == "List-Unsubscribe=One-Click"


@pytest.mark.parametrize("name", list(EXPECTED))
def test_event(walk, name):
    response = walk.responses[name]
    assert response["statusCode"] == EXPECTED[name], response.get("body")


def test_health_names_the_aws_backends(walk):
    body = walk.json("health.json")
    assert body["status"] == "ok"
    assert body["backends"] == {
        "store": "dynamodb",
        "media": "s3",
        "mail": "sns",
        "auth": "cognito",
    }


def test_docs_and_openapi(walk):
    assert set(walk.json("openapi.json")["paths"]) >= {p for _, p in ROUTES if "{" not in p}
    assert "swagger-ui" in walk.responses["docs.json"]["body"]


def test_refusals_have_the_error_body(walk):
    for name, code in [
        ("get-teacher-bookings-unauthenticated.json", "missing_token"),
        ("media.json", "not_found"),
    ]:
        error = walk.json(name)["error"]
        assert set(error) == {"code", "message", "details"}
        assert error["code"] == code, (name, error)


def test_profiles_and_search(walk):
    tutor = walk.json("save-user-details-tutor.json")["profile"]
    assert (tutor["user_id"], tutor["email"], tutor["role"]) == (TUTOR, TUTOR_EMAIL, "tutor")
    student = walk.json("save-user-details-student.json")["profile"]
    assert (student["user_id"], student["role"]) == (STUDENT, "student")
    looked_up = walk.json("get-user-profiles-and-teacher-search-profile.json")["profile"]
    assert looked_up["user_id"] == TUTOR
    assert "mobile_number" not in looked_up  # no accepted booking between them (yet)
    found = walk.json("get-user-profiles-and-teacher-search-skill.json")
    assert [t["user_id"] for t in found["tutors"]] == [TUTOR]
    assert found["tutors"][0]["skills"] == ["Python", "Linear Algebra"]
    assert found["next_cursor"] is None


def test_profile_images_are_presigned_s3_urls(walk):
    for name in ("save-profile-img.json", "save-profile-img-raw.json", "get-profile-img-url.json"):
        body = walk.json(name)
        assert set(body) == {"url", "expires_at"}
        assert body["url"].startswith(endpoint_url())
    assert f"/profile-images/{TUTOR}/" in walk.json("get-profile-img-url.json")["url"]


def test_slots(walk):
    created = walk.json("create-availability.json")
    [window] = created["availability"]
    assert (window["date"], window["start_time"], window["end_time"]) == (
        "2026-12-03",
        "09:00",
        "12:00",
    )
    assert [s["start_time"] for s in created["slots"]] == ["09:00", "10:00", "11:00"]
    slots = walk.json("get-teacher-slots.json")["slots"]
    assert all(set(s) == SLOT_KEYS for s in slots)
    new_ids = [s["slot_id"] for s in created["slots"]]
    # SLOTS[1] has the seeded pending request; the student reads in America/Halifax
    assert [s["slot_id"] for s in slots] == [SLOTS[0], SLOTS[2], FREE_SLOT, *new_ids]
    first = slots[0]
    assert (first["start"], first["date"], first["start_time"]) == (
        "2026-12-01T08:00:00Z",
        "2026-12-01",
        "04:00",
    )
    assert (first["time_zone"], first["slot_status"]) == ("America/Halifax", "available")


def test_bookings(walk):
    requested = walk.json("create-booking-request.json")["booking"]
    assert set(requested) >= BOOKING_KEYS
    assert (requested["slot_id"], requested["student_id"], requested["tutor_id"]) == (
        SLOTS[0],
        STUDENT,
        TUTOR,
    )
    assert requested["booking_status"] == "pending"
    assert requested["request_created_at"] == "2026-11-28T14:00:00Z"

    pending = walk.json("get-pending-booking-slots.json")
    assert [b["booking_id"] for b in pending["bookings"]] == [requested["booking_id"], BOOKING]
    for booking in pending["bookings"]:
        assert set(booking) >= BOOKING_KEYS | {"slot", "student", "tutor"}
        assert booking["student"]["email"] == STUDENT_EMAIL
        assert booking["slot"]["slot_status"] == "pending"
        assert booking["time_zone"] == "Europe/Berlin"  # the tutor's

    answered = walk.json("process-booking-response.json")["booking"]
    assert (answered["booking_id"], answered["booking_status"]) == (BOOKING, "accepted")
    tutors = walk.json("get-teacher-bookings.json")
    students = walk.json("get-student-bookings.json")
    for listed in (tutors, students):
        statuses = {b["booking_id"]: b["booking_status"] for b in listed["bookings"]}
        assert statuses == {requested["booking_id"]: "pending", BOOKING: "accepted"}
        assert listed["next_cursor"] is None
    cancelled = walk.json("cancel-booking.json")["booking"]
    assert (cancelled["booking_id"], cancelled["booking_status"]) == (BOOKING, "cancelled")
    assert cancelled["reason"] == "My exam was moved to that morning."

    assert walk.json("delete-availability.json") == {"deleted": FREE_WINDOW}
    assert walk.store.slots.get_availability(FREE_WINDOW) is None
    assert store_peek.get_slot(walk.store, SLOTS[1]).slot_status.value == "available"  # free again
    assert walk.store.admin.check_consistency() == []


def test_subscriptions(walk):
    # SNS on moto confirms e-mail subscriptions at once (real SNS: pending_confirmation)
    assert walk.json("subscribe-email-notifications.json") == {
        "email": TUTOR_EMAIL,
        "subscription_status": "confirmed",
    }
    assert walk.json("email-subscription.json") == {
        "email": TUTOR_EMAIL,
        "subscription_status": "confirmed",
    }
    page = walk.responses["confirm-subscription.json"]
    assert page["headers"]["content-type"].startswith("text/html")
    assert '<form method="post">' in page["body"] and STUDENT_EMAIL in page["body"]
    assert walk.json("confirm-subscription-post.json") == {
        "email": STUDENT_EMAIL,
        "subscription_status": "confirmed",
    }
    assert "Unsubscribe</button>" in walk.responses["unsubscribe.json"]["body"]
    assert walk.json("unsubscribe-post.json") == {
        "email": STUDENT_EMAIL,
        "subscription_status": "unsubscribed",
    }


def test_the_web_client_is_served_with_its_csp_and_security_headers(walk):
    """The same page and files as `skillsession serve` gives, through API Gateway's payload:
    the page as text, the gzipped module as base64, each with the client's own strict CSP
    (S3's origin for the photos' presigned URLs) and the security headers, not the API's."""
    import base64
    import gzip

    from skillsession.http.web import WEB

    s3_origin = endpoint_url()  # the media's presigned URLs point there (moto)
    for name, file, content_type in [
        ("web-client.json", WEB / "index.html", "text/html; charset=utf-8"),
        ("web-client-asset.json", WEB / "app" / "main.js", "text/javascript; charset=utf-8"),
    ]:
        response = walk.responses[name]
        headers = {k.lower(): v for k, v in response["headers"].items()}
        assert headers["content-type"] == content_type, name
        csp = headers["content-security-policy"]
        directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
        assert directives["default-src"] == "'self'", csp  # one policy, not the API's too
        assert directives["img-src"] == f"'self' blob: {s3_origin}"
        assert directives["require-trusted-types-for"] == "'script'"
        assert "unsafe-inline" not in csp and directives["frame-ancestors"] == "'none'"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["cache-control"] == "no-cache"
        body = response["body"]
        if response["isBase64Encoded"]:
            body = base64.b64decode(body)
            if headers.get("content-encoding") == "gzip":
                body = gzip.decompress(body)
        else:
            body = body.encode()
        assert body == file.read_bytes(), name
    assert walk.responses["web-client-asset.json"]["isBase64Encoded"]  # gzipped: binary


def _import_entry(env: dict[str, str], probe: str) -> list:
    """Import the entry module in a fresh interpreter with `env`; run `probe`; its JSON output."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SKILLSESSION_", "AWS_"))}
    code = f"import json, sys; from skillsession.aws import lambda_handler as entry; {probe}"
    out = subprocess.run(
        [sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


RARELY_NEEDED = ("PIL", "icalendar", "boto3", "botocore")


def test_module_import_builds_nothing_outside_lambda(tmp_path):
    """Tests and tools import the entry module freely: no settings read, no client made."""
    probe = f"print(json.dumps([entry._handler is None, [m for m in {RARELY_NEEDED!r} if m in sys.modules]]))"
    built, loaded = _import_entry({"SKILLSESSION_DATA_DIR": str(tmp_path)}, probe)
    assert built is True
    assert loaded == []


def test_lambda_init_phase_builds_the_app_before_the_first_request(tmp_path):
    """In Lambda's init phase the adapters are built at import; the first request finds them;
    Pillow and icalendar (an image upload, a mail) stay unimported."""
    from skillsession.adapters.store.sqlite import open_store

    db = tmp_path / "db.sqlite"
    open_store(f"sqlite:///{db}").admin.migrate()  # what a deploy has done
    env = {
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "SKILLSESSION_DATA_DIR": str(tmp_path),
        "SKILLSESSION_STORE": f"sqlite:///{db}",
    }
    event = str(EVENTS / "health.json")
    probe = (
        "built = entry._handler is not None; "
        f"answer = entry.handler(json.load(open({event!r})), None); "
        f"print(json.dumps([built, answer['statusCode'], [m for m in ('PIL', 'icalendar') if m in sys.modules]]))"
    )
    assert _import_entry(env, probe) == [True, 200, []]


def test_expiry_handler_runs_once_and_returns_counts(tmp_path, monkeypatch):
    monkeypatch.setenv("SKILLSESSION_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SKILLSESSION_STORE", f"sqlite:///{tmp_path / 'db.sqlite'}")
    from skillsession.adapters.store.sqlite import open_store
    from skillsession.aws import expiry_handler

    open_store(f"sqlite:///{tmp_path / 'db.sqlite'}").admin.migrate()  # what deploy does
    monkeypatch.setattr(expiry_handler, "_deps", None)
    counts = expiry_handler.handler({"source": "aws.scheduler"}, None)
    assert set(counts) >= {"slots_expired", "bookings_expired", "mail_sent"}
    assert all(isinstance(v, int) for v in counts.values())
    expiry_handler._deps = None


def test_bootstrap_wires_cognito(tmp_path, monkeypatch):
    from skillsession.adapters.auth.cognito import CognitoVerifier
    from skillsession.bootstrap import build
    from skillsession.settings import Settings

    monkeypatch.setenv("SKILLSESSION_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SKILLSESSION_AUTH", "cognito://eu-west-1/eu-west-1_X?client_id=c")
    deps = build(Settings())
    assert isinstance(deps.verifier, CognitoVerifier)
    assert deps.issuer is None and deps.passwords is None
    deps.stores.admin.close()
