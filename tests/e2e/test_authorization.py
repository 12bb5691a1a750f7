"""Object-level authorization: every private route × anonymous / owner / other tutor / other
student, on foreign objects. The table must cover the whole route table, so a new endpoint
cannot escape it."""

from __future__ import annotations

import base64
import json
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import jwt
import pytest

from e2e.api_client import Api
from route_table_pins import ROUTES
from skillsession.adapters.auth.local import LocalTokens, load_or_create_secret_key
from skillsession.bootstrap import _derive

DAY = (datetime.now(ZoneInfo("UTC")).date() + timedelta(days=5)).isoformat()


@pytest.fixture(scope="module")
def world(anon):
    tutor = anon.as_new_user("tutor", "owner-tutor", mobile_number="+1 555 0100")
    student = anon.as_new_user("student", "owner-student", mobile_number="+1 555 0200")
    other_tutor = anon.as_new_user("tutor", "other-tutor")
    other_student = anon.as_new_user("student", "other-student")
    made = tutor.post(
        "/create-availability",
        {"date": DAY, "start_time": "10:00", "end_time": "12:00", "time_zone": "UTC"},
    )
    availability_id = made.json()["availability"][0]["availability_id"]
    slot_id = made.json()["slots"][0]["slot_id"]
    booking = student.post("/create-booking-request", {"slot_id": slot_id}).json()["booking"]
    return {
        "anon": anon,
        "tutor": tutor,
        "student": student,
        "other_tutor": other_tutor,
        "other_student": other_student,
        "availability_id": availability_id,
        "slot_id": slot_id,
        "booking_id": booking["booking_id"],
    }


# route -> (request builder, {actor: expected status}); owners' mutating calls are left out
# so that the world stays as it is; the anonymous column is always 401 for private routes.
def matrix(w):
    b, a, s = w["booking_id"], w["availability_id"], w["slot_id"]
    tutor_id = w["tutor"].user_id
    return {
        ("POST", "/save-user-details"): (
            lambda api: api.post("/save-user-details", {"email": w["student"].email}),
            {"tutor": 403, "other_tutor": 403, "other_student": 403, "student": 200},
        ),
        ("POST", "/get-user-profiles-and-teacher-search"): (
            lambda api: api.post(
                "/get-user-profiles-and-teacher-search", {"user_id": w["student"].user_id}
            ),
            {"tutor": 200, "other_tutor": 200, "other_student": 200, "student": 200},
        ),
        ("PUT", "/save-profile-img"): (
            lambda api: api.put(
                "/save-profile-img", content=b"nope", headers={"Content-Type": "image/png"}
            ),
            {"tutor": 422, "other_student": 422},
        ),
        ("GET", "/get-profile-img-url"): (
            lambda api: api.get("/get-profile-img-url", params={"user_id": w["student"].user_id}),
            {"tutor": 404, "other_student": 404},
        ),
        ("POST", "/create-availability"): (
            lambda api: api.post(
                "/create-availability", {"date": DAY, "start_time": "10:00", "end_time": "11:00"}
            ),
            {"student": 403, "other_student": 403},
        ),
        ("POST", "/delete-availability"): (
            lambda api: api.post("/delete-availability", {"availability_id": a}),
            {"tutor": 409, "other_tutor": 403, "student": 403, "other_student": 403},
        ),
        ("POST", "/get-teacher-slots"): (
            lambda api: api.post("/get-teacher-slots", {"tutor_id": tutor_id, "status": "all"}),
            {"tutor": 200, "other_tutor": 403, "student": 403, "other_student": 403},
        ),
        ("POST", "/create-booking-request"): (
            lambda api: api.post("/create-booking-request", {"slot_id": s}),
            {"tutor": 403, "other_tutor": 403, "other_student": 409, "student": 409},
        ),
        ("GET", "/get-pending-booking-slots"): (
            lambda api: api.get("/get-pending-booking-slots"),
            {"tutor": 200, "other_tutor": 200, "student": 200, "other_student": 200},
        ),
        ("POST", "/process-booking-response"): (
            lambda api: api.post(
                "/process-booking-response", {"booking_id": b, "action": "accept"}
            ),
            {"other_tutor": 403, "student": 403, "other_student": 403},
        ),
        ("POST", "/cancel-booking"): (
            lambda api: api.post("/cancel-booking", {"booking_id": b}),
            {"tutor": 409, "other_tutor": 403, "other_student": 403},
        ),
        ("GET", "/get-teacher-bookings"): (
            lambda api: api.get("/get-teacher-bookings"),
            {"tutor": 200, "other_tutor": 200, "student": 403, "other_student": 403},
        ),
        ("GET", "/get-student-bookings"): (
            lambda api: api.get("/get-student-bookings"),
            {"tutor": 403, "other_tutor": 403, "student": 200, "other_student": 200},
        ),
        ("GET", "/subscribe-email-notifications"): (
            lambda api: api.get("/subscribe-email-notifications"),
            {"tutor": 200, "other_student": 200},
        ),
        # everyone reads their own subscription only (test_no_one_sees_foreign_objects)
        ("GET", "/email-subscription"): (
            lambda api: api.get("/email-subscription"),
            {"tutor": 200, "other_tutor": 200, "student": 200, "other_student": 200},
        ),
        # a wrong current password: the account's own, and nothing changes
        ("POST", "/auth/change-password"): (
            lambda api: api.post(
                "/auth/change-password",
                {"current_password": "not the password", "new_password": "a new long password"},
            ),
            {"tutor": 403, "other_student": 403},
        ),
        # everyone exports their own data only (test_no_one_sees_foreign_objects)
        ("GET", "/account/export"): (
            lambda api: api.get("/account/export"),
            {"tutor": 200, "other_tutor": 200, "student": 200, "other_student": 200},
        ),
        # a token is not enough to delete an account: the password is (a wrong one, here)
        ("DELETE", "/account"): (
            lambda api: api.delete("/account", {"password": "not the password"}),
            {"tutor": 403, "other_tutor": 403, "student": 403, "other_student": 403},
        ),
    }


def test_matrix_covers_every_private_route(world):
    private = {route for route, public in ROUTES.items() if not public}
    assert set(matrix(world)) == private


def test_authorization_matrix(world):
    for route, (call, expected) in matrix(world).items():
        assert call(world["anon"]).status_code == 401, route
        for actor, status in expected.items():
            r = call(world[actor])
            assert r.status_code == status, (route, actor, r.status_code, r.text)


def test_no_one_sees_foreign_objects(world):
    b = world["booking_id"]
    for actor in ("other_tutor", "other_student"):
        api = world[actor]
        assert b not in api.get("/get-pending-booking-slots").text
        listing = "/get-teacher-bookings" if actor == "other_tutor" else "/get-student-bookings"
        assert b not in api.get(listing).text
        profile = api.post(
            "/get-user-profiles-and-teacher-search", {"user_id": world["student"].user_id}
        ).json()
        assert "mobile_number" not in profile["profile"]
        assert b not in api.get("/account/export").text
        assert api.get("/email-subscription").json()["email"] == api.email
    pending = world["tutor"].get("/get-pending-booking-slots").json()["bookings"]
    assert [x["booking_id"] for x in pending] == [b]
    # the world is unchanged: the booking still pending, the window still there
    assert (
        world["student"].get("/get-student-bookings").json()["bookings"][0]["booking_status"]
        == "pending"
    )


def forge(claims: dict, key: bytes | str = b"x" * 64, alg: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=alg)


def server_tokens(server, clock=time.time) -> LocalTokens:
    """Tokens signed with the server's own key (derived from its data dir's secret.key)."""
    secret = load_or_create_secret_key(server.data_dir, None)
    return LocalTokens(_derive(secret, "tokens"), clock=clock)


def test_bad_tokens_are_all_401(world, server):
    good = world["student"].token
    header, payload, signature = good.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    tampered_claims = {**claims, "sub": world["tutor"].user_id}
    tampered = ".".join(
        [
            header,
            base64.urlsafe_b64encode(json.dumps(tampered_claims).encode()).decode().rstrip("="),
            signature,
        ]
    )
    none_header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').decode().rstrip("=")
    student = world["student"]
    # the right key: a fresh token passes (so the key is the server's), one two hours old not
    fresh, _ = server_tokens(server).issue(student.user_id, student.email)
    two_hours_ago = server_tokens(server, clock=lambda: time.time() - 7200)
    expired, _ = two_hours_ago.issue(student.user_id, student.email, ttl=3600)
    assert (
        Api(server.base_url, world["anon"].mailbox, token=fresh)
        .get("/get-student-bookings")
        .status_code
        == 200
    )
    tokens = {
        "wrong signature": (forge(claims), "invalid_token"),
        "expired, wrong signature": (
            forge({**claims, "exp": int(time.time()) - 10}),
            "invalid_token",  # the signature is checked before anything it signs
        ),
        "expired": (expired, "token_expired"),
        # the server's key, a user that does not exist (or no longer does)
        "unknown user": (
            server_tokens(server).issue("no-such-user", "ghost@example.test")[0],
            "token_revoked",
        ),
        "tampered claims": (tampered, "invalid_token"),
        "alg none": (f"{none_header}.{payload}.", "invalid_token"),
        "garbage": ("a.b.c", "invalid_token"),
        "empty": ("", "missing_token"),
    }
    for name, (bad, code) in tokens.items():
        api = Api(server.base_url, world["anon"].mailbox, token=bad)
        r = api.get("/get-student-bookings")
        assert r.status_code == 401, (name, r.text)
        assert r.json()["error"]["code"] == code, (name, r.text)
