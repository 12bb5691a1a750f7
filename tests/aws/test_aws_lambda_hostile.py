"""Hostile input through the Lambda entry point, as API Gateway (HTTP API, payload 2.0) hands it
over, on the AWS shape's adapters (DynamoDB, S3, SNS on moto; the authorizer's claims): calendar
edges, huge numbers, odd names, addresses and headers, malformed bodies and encodings, wrong
methods and paths. Every answer is a 4xx with the error body (or a 2xx where the input is
merely odd), never a 5xx; the table stays consistent.

Events are built from events/create-booking-request.json (a real event's shape) by `event()`."""

from __future__ import annotations

import base64
import copy
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto_server import REGION, endpoint_url, table_name

EVENTS = Path(__file__).resolve().parents[2] / "events"
TEMPLATE = json.loads((EVENTS / "create-booking-request.json").read_text())
TUTOR = {"sub": "7f3c0c9e-1111-4a6b-9d5e-0000000000f1", "email": "hostile-tutor@example.com"}
STUDENT = {"sub": "7f3c0c9e-2222-4a6b-9d5e-0000000000f2", "email": "hostile-student@example.com"}


def event(method: str, path: str, body=None, who=TUTOR, headers=None, query="", raw=False):
    made = copy.deepcopy(TEMPLATE)
    made["rawPath"] = path
    made["rawQueryString"] = query
    made["requestContext"]["http"]["method"] = method
    made["requestContext"]["http"]["path"] = path
    made["pathParameters"] = {"proxy": path.lstrip("/")}
    made["headers"].pop("idempotency-key")
    made["headers"].update(headers or {})
    claims = made["requestContext"]["authorizer"]["jwt"]["claims"]
    if who is None:
        del made["requestContext"]["authorizer"]
        made["headers"].pop("authorization")
    else:
        claims.update(who, **{"cognito:username": who["sub"]})
    if body is None:
        made.pop("body")
        made["isBase64Encoded"] = False
    elif raw:
        made["body"] = body
    else:
        made["body"] = json.dumps(body)
    return made


@pytest.fixture(scope="module")
def call(tmp_path_factory):
    from typer.testing import CliRunner

    from skillsession import cli
    from skillsession.adapters.store.dynamodb import open_store
    from skillsession.aws import lambda_handler

    mp = pytest.MonkeyPatch()
    aws = f"region={REGION}&endpoint_url={endpoint_url()}"
    store_url = f"dynamodb://{table_name('hostile')}?{aws}"
    topic = f"arn:aws:sns:{REGION}:{DEFAULT_ACCOUNT_ID}:{table_name('hostile-mail')}"
    mp.setenv("SKILLSESSION_DATA_DIR", str(tmp_path_factory.mktemp("hostile")))
    mp.setenv("SKILLSESSION_STORE", store_url)
    mp.setenv("SKILLSESSION_MEDIA", f"s3://{table_name('hostile-media')}/media?{aws}")
    mp.setenv("SKILLSESSION_MAIL", f"sns://{topic}?{aws}")
    mp.setenv("SKILLSESSION_AUTH", f"cognito://{REGION}/eu-west-1_SAMPLE?client_id=sampleclientid")
    migrated = CliRunner().invoke(cli.app, ["migrate"])
    assert migrated.exit_code == 0, migrated.output
    lambda_handler._handler = None

    def invoke(made: dict) -> dict:
        return lambda_handler.handler(made, None)

    for who, role in ((TUTOR, "tutor"), (STUDENT, "student")):
        details = {"role": role, "first_name": "Hos", "last_name": "Tile", "time_zone": "UTC"}
        if role == "tutor":
            details["teaching_skills"] = ["Chess"]
        assert invoke(event("POST", "/save-user-details", details, who))["statusCode"] == 201
    try:
        yield invoke
    finally:
        if lambda_handler._handler is not None:
            lambda_handler._handler.app.state.deps.stores.admin.close()
        lambda_handler._handler = None
        mp.undo()
        store = open_store(store_url)
        assert store.admin.check_consistency() == []
        store.admin.close()


def window(**changes) -> dict:
    soon = date.today() + timedelta(days=30)  # windows are at most 365 days ahead
    return {
        "date": soon.isoformat(),
        "start_time": "09:00",
        "end_time": "11:00",
        "time_zone": "Europe/Berlin",
        "slot_minutes": 60,
        **changes,
    }


HUGE = 10**40
CASES = {
    # calendar edges and huge numbers
    "first day of the calendar": event("POST", "/create-availability", window(date="0001-01-01")),
    "last day of the calendar": event(
        "POST", "/create-availability", window(date="9999-12-31", end_time="23:59")
    ),
    "year 10000": event("POST", "/create-availability", window(date="10000-01-01")),
    "huge slot length": event("POST", "/create-availability", window(slot_minutes=HUGE)),
    "negative slot length": event("POST", "/create-availability", window(slot_minutes=-60)),
    "odd zone": event("POST", "/create-availability", window(time_zone="../../etc/passwd")),
    "zone with a NUL": event("POST", "/create-availability", window(time_zone="Europe/\x00")),
    "slots far in the past": event(
        "POST", "/get-teacher-slots", {"tutor_id": TUTOR["sub"], "from": "0001-01-01"}
    ),
    "slots at the calendar's end": event(
        "POST",
        "/get-teacher-slots",
        {"tutor_id": TUTOR["sub"], "from": "9999-12-31", "to": "9999-12-31"},
    ),
    "bookings with a huge limit": event(
        "GET", "/get-teacher-bookings", query=f"limit={HUGE}&cursor=%FF%FE"
    ),
    # names, addresses, headers
    "control characters in a name": event(
        "POST",
        "/save-user-details",
        {"role": "tutor", "first_name": "A\x00\x1b[31mB", "time_zone": "UTC"},
    ),
    "a very long name": event(
        "POST", "/save-user-details", {"role": "tutor", "first_name": "A" * 100_000}
    ),
    "bidi and zero-width in a name": event(
        "POST",
        "/save-user-details",
        {"role": "tutor", "first_name": "\u202eAda\u200b", "time_zone": "UTC"},
    ),
    "garbage X-Forwarded-For": event(
        "GET", "/get-teacher-bookings", headers={"x-forwarded-for": "not-an-ip, ::::, 999.1.1.1"}
    ),
    "a huge header": event("GET", "/get-teacher-bookings", headers={"x-filler": "x" * 60_000}),
    # bodies and encodings
    "malformed JSON": event("POST", "/create-booking-request", "{nope", raw=True),
    "JSON that is not an object": event("POST", "/create-booking-request", [1, 2, 3]),
    "deeply nested JSON": event(
        "POST", "/create-booking-request", "[" * 10_000 + "]" * 10_000, raw=True
    ),
    "a body that is not base64": {
        **event("POST", "/save-profile-img", "%%%not base64%%%", raw=True),
        "isBase64Encoded": True,
    },
    "an image that is not one": {
        **event(
            "POST",
            "/save-profile-img",
            base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64).decode(),
            raw=True,
            headers={"content-type": "image/png"},
        ),
        "isBase64Encoded": True,
    },
    "a form body": event(
        "POST",
        "/create-booking-request",
        "slot_id=x",
        raw=True,
        headers={"content-type": "application/x-www-form-urlencoded"},
    ),
    "an unknown slot": event("POST", "/create-booking-request", {"slot_id": "x" * 5000}, STUDENT),
    # methods and paths
    "an unknown path": event("GET", "/../../etc/passwd"),
    "a wrong method": event("DELETE", "/create-availability"),
    "percent-encoded garbage in the path": event("GET", "/media/%00%ff%2e%2e"),
    "no claims on a private route": event("GET", "/get-teacher-bookings", who=None),
}


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_event_is_a_clear_answer(call, name):
    answer = call(copy.deepcopy(CASES[name]))
    status = answer["statusCode"]
    assert status < 500, (status, answer.get("body", "")[:500])
    if status >= 400:
        body = answer["body"]
        if answer.get("isBase64Encoded"):
            body = base64.b64decode(body).decode()
        error = json.loads(body)["error"]
        assert set(error) == {"code", "message", "details"}, error
        assert "Traceback" not in body


def test_hoarding_requests_is_bounded_or_answered(call):
    """A student asking for every slot of a tutor gets clear answers (201, or 409/429 at a cap),
    and the table stays consistent (checked when the module ends)."""
    made = call(event("POST", "/create-availability", window(end_time="21:00", slot_minutes=30)))
    assert made["statusCode"] == 201, made["body"]
    slots = json.loads(
        call(event("POST", "/get-teacher-slots", {"tutor_id": TUTOR["sub"]}, STUDENT))["body"]
    )["slots"]
    statuses = [
        call(event("POST", "/create-booking-request", {"slot_id": s["slot_id"]}, STUDENT))[
            "statusCode"
        ]
        for s in slots
    ]
    assert set(statuses) <= {201, 409, 429}, statuses
    assert 201 in statuses
