"""Every error path of API.md, over HTTP: the right status and the error body, never a 500."""

from __future__ import annotations

import base64
import io
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from PIL import Image

from e2e.api_client import PASSWORD


def error(r, status, code=None, field=None):
    """The status, the error body's shape, its code (every 422 is `validation_error` unless
    given) and, where given, the field the details blame."""
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()["error"]
    assert set(body) == {"code", "message", "details"}
    code = code or {422: "validation_error"}.get(status)
    if code:
        assert body["code"] == code, body
    if field:
        assert field in body["details"], body
    return body


def future(days=4, tz="Europe/Berlin"):
    return (datetime.now(ZoneInfo(tz)).date() + timedelta(days=days)).isoformat()


DST_ZONES = ("Europe/Berlin", "America/New_York", "Australia/Sydney", "America/Santiago")


def next_dst_gap() -> tuple[str, date, time]:
    """The first local time that does not exist (a clock skipped it) from 2 to 360 days ahead,
    from the zone rules themselves: in the tutor's zone, else in another zone that keeps DST."""
    for zone in DST_ZONES:
        tz = ZoneInfo(zone)
        today = datetime.now(tz).date()
        for days in range(2, 361):
            day = today + timedelta(days=days)
            for minutes in range(0, 24 * 60, 15):
                wall = datetime.combine(day, time(minutes // 60, minutes % 60))
                there_and_back = wall.replace(tzinfo=tz).astimezone(UTC).astimezone(tz)
                if there_and_back.replace(tzinfo=None) != wall:
                    return zone, day, wall.time()
    pytest.fail(f"none of {DST_ZONES} skips a local time in the next year")


PRIVATE = [
    ("POST", "/save-user-details"),
    ("POST", "/get-user-profiles-and-teacher-search"),
    ("PUT", "/save-profile-img"),
    ("GET", "/get-profile-img-url"),
    ("POST", "/create-availability"),
    ("POST", "/delete-availability"),
    ("POST", "/get-teacher-slots"),
    ("POST", "/create-booking-request"),
    ("GET", "/get-pending-booking-slots"),
    ("POST", "/process-booking-response"),
    ("POST", "/cancel-booking"),
    ("GET", "/get-teacher-bookings"),
    ("GET", "/get-student-bookings"),
    ("GET", "/subscribe-email-notifications"),
]


@pytest.mark.parametrize(("method", "path"), PRIVATE)
def test_private_routes_need_a_valid_token(anon, method, path):
    error(anon.http.request(method, path, json={}), 401, "missing_token")
    bad = {"Authorization": "Bearer not.a.token"}
    error(anon.http.request(method, path, json={}, headers=bad), 401, "invalid_token")


def test_unknown_route_and_method(anon):
    error(anon.get("/nope"), 404, "not_found")
    error(anon.http.delete("/health"), 405, "method_not_allowed")


def test_signup_errors(anon):
    error(
        anon.post("/auth/signup", {"email": "weak@example.test", "password": "short"}),
        422,
        "weak_password",
    )
    error(
        anon.post("/auth/signup", {"email": "not-an-email", "password": PASSWORD}),
        422,
        None,
        "email",
    )
    user = anon.as_new_user()
    dup = anon.post("/auth/signup", {"email": user.email.upper(), "password": PASSWORD})
    error(dup, 409, "email_taken")


def test_confirm_and_login_errors(anon):
    address = "late@example.test"
    assert anon.post("/auth/signup", {"email": address, "password": PASSWORD}).status_code == 201
    error(
        anon.post("/auth/login", {"email": address, "password": PASSWORD}),
        403,
        "account_unconfirmed",
    )
    code = anon.mailbox.code_for(address)
    wrong = "000000" if code != "000000" else "111111"
    error(anon.post("/auth/confirm", {"email": address, "code": wrong}), 400, "invalid_code")
    for _ in range(4):
        anon.post("/auth/confirm", {"email": address, "code": wrong})
    error(anon.post("/auth/confirm", {"email": address, "code": code}), 400, "code_locked")
    assert anon.post("/auth/resend-code", {"email": address}).status_code == 202
    assert anon.post("/auth/resend-code", {"email": "nobody@example.test"}).status_code == 202
    error(
        anon.post("/auth/login", {"email": "nobody@example.test", "password": PASSWORD}),
        401,
        "invalid_credentials",
    )


def test_login_is_rate_limited(anon):
    user = anon.as_new_user()
    for _ in range(5):
        error(anon.post("/auth/login", {"email": user.email, "password": "wrong password!"}), 401)
    r = anon.post("/auth/login", {"email": user.email, "password": PASSWORD})
    error(r, 429, "rate_limited")
    # the first failure leaves the 15-minute window 900 s after it came (a few seconds ago)
    assert 840 < int(r.headers["Retry-After"]) <= 900


def test_malformed_json_wrong_type_and_size(student):
    r = student.http.post(
        "/save-user-details",
        content=b"{not json",
        headers=student.headers({"Content-Type": "application/json"}),
    )
    error(r, 400, "malformed_json")
    r = student.http.post(
        "/save-user-details",
        content=b"role=student",
        headers=student.headers({"Content-Type": "application/x-www-form-urlencoded"}),
    )
    error(r, 415)
    r = student.http.post(
        "/save-user-details",
        content=b"\xff\xfe{}",
        headers=student.headers({"Content-Type": "application/json"}),
    )
    error(r, 400, "malformed_json")  # not UTF-8: not JSON
    big = b'{"first_name": "' + b"x" * (9 * 1024 * 1024) + b'"}'
    r = student.http.post(
        "/save-user-details",
        content=big,
        headers=student.headers({"Content-Type": "application/json"}),
    )
    error(r, 413)
    deep = b"[" * 100_000 + b"]" * 100_000
    r = student.http.post(
        "/save-user-details",
        content=deep,
        headers=student.headers({"Content-Type": "application/json"}),
    )
    error(r, 400, "bad_request")  # valid JSON too deep to parse: refused, never a 500


def test_profile_errors(anon, student, tutor):
    fresh = anon.as_new_user()
    error(fresh.post("/save-user-details", {"first_name": "No role"}), 422, None, "role")
    error(fresh.post("/save-user-details", {"role": "admin"}), 422, None, "role")
    error(
        fresh.post("/save-user-details", {"role": "student", "time_zone": "Mars/Olympus"}),
        422,
        None,
        "time_zone",
    )
    error(
        fresh.post("/save-user-details", {"role": "student", "email": "someone@else.test"}),
        403,
        "email_mismatch",
    )
    error(
        fresh.post("/save-user-details", {"role": "student", "teaching_skills": ["Go"]}),
        422,
        None,
        "teaching_skills",
    )
    error(student.post("/save-user-details", {"role": "tutor"}), 409, "role_change")
    ok = student.post("/save-user-details", {"email": student.email, "program_name": "CS"})
    assert ok.status_code == 200 and ok.json()["profile"]["first_name"] == "Student"
    error(
        student.post("/get-user-profiles-and-teacher-search", {"email": "ghost@example.test"}), 404
    )
    error(student.post("/get-user-profiles-and-teacher-search", {"user_id": "nope"}), 404)
    error(fresh.post("/get-user-profiles-and-teacher-search", {}), 404)
    error(student.post("/get-user-profiles-and-teacher-search", {"skill": ""}), 422, None, "skill")


def test_availability_errors(student, tutor):
    error(
        student.post(
            "/create-availability", {"date": future(), "start_time": "09:00", "end_time": "10:00"}
        ),
        403,
        "tutor_only",
    )
    day = future(6)
    ok = tutor.post(
        "/create-availability", {"date": day, "start_time": "09:00", "end_time": "11:00"}
    )
    assert ok.status_code == 201
    overlap = tutor.post(
        "/create-availability", {"date": day, "start_time": "10:00", "end_time": "12:00"}
    )
    error(overlap, 409, "availability_overlap")
    adjacent = tutor.post(
        "/create-availability", {"date": day, "start_time": "11:00", "end_time": "12:00"}
    )
    assert adjacent.status_code == 201
    zone, gap_day, gap_time = next_dst_gap()
    end = (datetime.combine(gap_day, gap_time) + timedelta(hours=2)).time()
    gap = tutor.post(
        "/create-availability",
        {
            "date": gap_day.isoformat(),
            "start_time": gap_time.strftime("%H:%M"),
            "end_time": end.strftime("%H:%M"),
            "time_zone": zone,
        },
    )
    error(gap, 422, "nonexistent_local_time")
    error(
        tutor.post(
            "/create-availability",
            {"date": "2020-01-01", "start_time": "09:00", "end_time": "10:00"},
        ),
        422,
        None,
        "date",
    )
    error(
        tutor.post(
            "/create-availability", {"date": future(), "start_time": "10:00", "end_time": "09:00"}
        ),
        422,
        None,
        "end_time",
    )
    error(
        tutor.post(
            "/create-availability",
            {"date": future(400), "start_time": "10:00", "end_time": "11:00"},
        ),
        422,
        None,
        "date",
    )
    error(
        tutor.post(
            "/create-availability", {"date": future(), "start_time": "10:00", "end_time": "10:30"}
        ),
        422,
        None,
        "slot_minutes",
    )
    error(tutor.post("/create-availability", {"start_time": "10:00"}), 422, None, "body")
    all_or_nothing = tutor.post(
        "/create-availability",
        {
            "windows": [
                {"date": future(7), "start_time": "09:00", "end_time": "10:00"},
                {"date": future(7), "start_time": "13:00", "end_time": "12:00"},
            ]
        },
    )
    body = error(all_or_nothing, 422)
    assert "windows[1].end_time" in body["details"]
    slots = tutor.post(
        "/get-teacher-slots",
        {"tutor_id": tutor.user_id, "from_date": future(7), "to_date": future(7)},
    )
    assert slots.json()["slots"] == []
    error(tutor.post("/delete-availability", {"availability_id": "nope"}), 404)
    other = tutor.as_new_user("tutor", "other-tutor")
    aid = ok.json()["availability"][0]["availability_id"]
    error(other.post("/delete-availability", {"availability_id": aid}), 403)
    assert tutor.post("/delete-availability", {"availability_id": aid}).status_code == 200
    error(tutor.post("/delete-availability", {"availability_id": aid}), 404)


def test_slot_query_errors(student, tutor):
    error(student.post("/get-teacher-slots", {}), 422, None, "tutor_id")
    error(student.post("/get-teacher-slots", {"tutor_id": "nope"}), 404, "tutor_not_found")
    error(student.post("/get-teacher-slots", {"tutor_id": student.user_id}), 404)
    error(student.post("/get-teacher-slots", {"tutor_id": tutor.user_id, "status": "all"}), 403)
    error(
        student.post(
            "/get-teacher-slots",
            {"tutor_id": tutor.user_id, "from_date": future(1), "to_date": future(100)},
        ),
        422,
    )
    error(
        student.post("/get-teacher-slots", {"tutor_id": tutor.user_id, "from_date": "tomorrow"}),
        422,
    )
    error(
        tutor.post("/get-teacher-slots", {"tutor_id": tutor.user_id, "status": "weird"}),
        422,
        None,
        "status",
    )


def test_booking_errors(anon, student, tutor):
    error(student.post("/create-booking-request", {"slot_id": "nope"}), 404, "slot_not_found")
    r = tutor.post(
        "/create-availability", {"date": future(9), "start_time": "09:00", "end_time": "10:00"}
    )
    slot_id = r.json()["slots"][0]["slot_id"]
    error(tutor.post("/create-booking-request", {"slot_id": slot_id}), 403, "student_only")
    booking = student.post("/create-booking-request", {"slot_id": slot_id}).json()["booking"]
    other_tutor = anon.as_new_user("tutor", "stranger")
    error(
        other_tutor.post(
            "/process-booking-response", {"booking_id": booking["booking_id"], "action": "accept"}
        ),
        403,
    )
    error(
        tutor.post(
            "/process-booking-response", {"booking_id": booking["booking_id"], "action": "maybe"}
        ),
        422,
    )
    error(tutor.post("/process-booking-response", {"booking_id": "nope", "action": "accept"}), 404)
    error(
        tutor.post("/cancel-booking", {"booking_id": booking["booking_id"]}),
        409,
        "booking_not_cancellable",
    )
    error(other_tutor.post("/cancel-booking", {"booking_id": booking["booking_id"]}), 403)
    key = {"Idempotency-Key": "k-1"}
    r2 = tutor.post(
        "/create-availability", {"date": future(9), "start_time": "11:00", "end_time": "12:00"}
    )
    other_slot = r2.json()["slots"][0]["slot_id"]
    assert (
        student.post("/create-booking-request", {"slot_id": other_slot}, headers=key).status_code
        == 201
    )
    error(
        student.post("/create-booking-request", {"slot_id": slot_id}, headers=key),
        422,
        "idempotency_key_reused",
    )
    error(student.get("/get-teacher-bookings"), 403)
    error(tutor.get("/get-student-bookings"), 403)
    error(tutor.get("/get-teacher-bookings", params={"limit": 0}), 422, None, "limit")
    error(tutor.get("/get-teacher-bookings", params={"cursor": "garbage"}), 422, None, "cursor")
    error(tutor.get("/get-teacher-bookings", params={"status": "nope"}), 422, None, "status")


def test_booking_lists_paginate(anon, tutor):
    learner = anon.as_new_user("student", "pager")
    r = tutor.post(
        "/create-availability",
        {"date": future(11), "start_time": "08:00", "end_time": "13:00", "slot_minutes": 60},
    )
    for s in r.json()["slots"]:
        asked = learner.post("/create-booking-request", {"slot_id": s["slot_id"]})
        assert asked.status_code == 201
        booking_id = asked.json()["booking"]["booking_id"]  # accepted: at most 3 stay pending
        answer = {"booking_id": booking_id, "action": "accept"}
        assert tutor.post("/process-booking-response", answer).status_code == 200
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = learner.get("/get-student-bookings", params=params).json()
        seen += page["bookings"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 5
    assert [b["start"] for b in seen] == sorted(b["start"] for b in seen)


def png(size=(64, 64)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def test_profile_images(anon, student, tutor):
    error(student.get("/get-profile-img-url"), 404, "no_profile_image")
    r = student.put("/save-profile-img", content=png(), headers={"Content-Type": "image/png"})
    assert r.status_code == 200, r.text
    url = student.get("/get-profile-img-url").json()["url"]
    got = httpx.get(url)
    assert got.status_code == 200 and got.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(got.content)).size == (64, 64)
    error(httpx.get(url.replace("signature=", "signature=0")), 403)
    error(httpx.get(url.split("?")[0]), 403)
    via_json = {
        "image_base64": base64.b64encode(png((10, 10))).decode(),
        "content_type": "image/png",
    }
    r = tutor.put("/save-profile-img", json=via_json)
    assert r.status_code == 200, r.text
    assert student.get("/get-profile-img-url", params={"email": tutor.email}).status_code == 200
    error(
        student.put(
            "/save-profile-img", content=b"GIF89a....", headers={"Content-Type": "image/gif"}
        ),
        415,
    )
    error(
        student.put(
            "/save-profile-img", content=b"<svg></svg>", headers={"Content-Type": "image/png"}
        ),
        422,
        "invalid_image",
    )
    error(
        student.put(
            "/save-profile-img",
            content=b"x" * (5 * 1024 * 1024 + 1),
            headers={"Content-Type": "image/png"},
        ),
        413,
    )
    error(
        student.put("/save-profile-img", json={"image_base64": "!!!", "content_type": "image/png"}),
        422,
    )


def test_subscription_links(anon):
    user = anon.as_new_user("student", "subscriber")
    r = user.get("/subscribe-email-notifications")
    assert r.json() == {"email": user.email, "subscription_status": "pending_confirmation"}
    error(anon.get("/confirm-subscription", params={"token": "nope"}), 404)
    error(anon.get("/unsubscribe", params={"token": "nope"}), 404)
    user.subscribe()
    assert user.get("/subscribe-email-notifications").json()["subscription_status"] == "confirmed"
