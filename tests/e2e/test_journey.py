"""A client's walk from sign-up to booking to expiry, over HTTP against the real server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar

from e2e.server import run_cli

BERLIN = ZoneInfo("Europe/Berlin")


def day_ahead(days: int, tz=BERLIN) -> str:
    return (datetime.now(tz).date() + timedelta(days=days)).isoformat()


def test_health_is_public(anon):
    r = anon.get("/health")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"
    assert r.json()["backends"]["store"] == "sqlite"


def test_docs_work_offline(anon):
    page = anon.get("/docs")
    assert page.status_code == 200
    assert "/docs/assets/swagger-ui-bundle.js" in page.text
    assert "cdn" not in page.text.lower()
    assert '"validatorUrl": null' in page.text  # no online validator badge
    assert anon.get("/docs/assets/swagger-ui-bundle.js").status_code == 200
    assert anon.get("/openapi.json").json()["info"]["title"] == "SkillSession"


def test_booking_journey(anon, tutor, student, server):
    day = day_ahead(3)
    r = tutor.post(
        "/create-availability",
        {"date": day, "start_time": "09:00", "end_time": "12:30", "slot_minutes": 60},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert [s["start_time"] for s in body["slots"]] == ["09:00", "10:00", "11:00"]
    assert body["slots"][0]["time_zone"] == "Europe/Berlin"
    availability_id = body["availability"][0]["availability_id"]

    # search: case- and space-insensitive skills, all must match
    found = student.post("/get-user-profiles-and-teacher-search", {"skill": "  PYTHON"}).json()
    assert tutor.user_id in [t["user_id"] for t in found["tutors"]]
    card = next(t for t in found["tutors"] if t["user_id"] == tutor.user_id)
    assert "mobile_number" not in card and card["skills"] == ["Python", "Linear algebra"]
    both = {"skills": ["python", "linear algebra"], "available_from": day, "available_to": day}
    assert [
        t["user_id"]
        for t in student.post("/get-user-profiles-and-teacher-search", both).json()["tutors"]
    ] == [tutor.user_id]
    none = student.post("/get-user-profiles-and-teacher-search", {"skills": ["python", "cooking"]})
    assert none.json() == {"tutors": [], "next_cursor": None}

    # slots in the student's own zone (Halifax is 5 hours behind Berlin in winter)
    slots = student.post(
        "/get-teacher-slots",
        {"tutor_id": tutor.user_id, "from_date": day_ahead(2), "to_date": day_ahead(4)},
    ).json()["slots"]
    assert len(slots) == 3
    assert slots[0]["time_zone"] == "America/Halifax"
    assert slots[0]["start"].endswith("Z")
    by_email = student.post(
        "/get-teacher-slots",
        {
            "tutor_email": tutor.email.upper(),
            "from_date": day_ahead(2),
            "to_date": day_ahead(4),
            "time_zone": "Europe/Berlin",
        },
    ).json()["slots"]
    assert by_email[0]["start_time"] == "09:00" and by_email[0]["date"] == day

    tutor.subscribe()
    student.subscribe()

    slot_id = slots[0]["slot_id"]
    key = {"Idempotency-Key": "req-1"}
    r = student.post(
        "/create-booking-request", {"slot_id": slot_id, "message": "Eigenvalues"}, headers=key
    )
    assert r.status_code == 201, r.text
    booking = r.json()["booking"]
    assert booking["booking_status"] == "pending" and booking["student_id"] == student.user_id
    again = student.post(
        "/create-booking-request", {"slot_id": slot_id, "message": "Eigenvalues"}, headers=key
    )
    assert (
        again.status_code == 201 and again.json()["booking"]["booking_id"] == booking["booking_id"]
    )

    rival = anon.as_new_user("student", "rival")
    taken = rival.post("/create-booking-request", {"slot_id": slot_id})
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "slot_unavailable"

    tutor.mailbox.wait_for(tutor.email, "new booking request")
    pending = tutor.get("/get-pending-booking-slots").json()["bookings"]
    assert [b["booking_id"] for b in pending] == [booking["booking_id"]]
    assert pending[0]["student"]["email"] == student.email
    assert pending[0]["slot"]["slot_status"] == "pending"
    mine = student.get("/get-pending-booking-slots").json()["bookings"]
    assert [b["booking_id"] for b in mine] == [booking["booking_id"]]

    # the mobile number is private until a booking is accepted
    look = student.post("/get-user-profiles-and-teacher-search", {"user_id": tutor.user_id}).json()
    assert "mobile_number" not in look["profile"]

    r = tutor.post(
        "/process-booking-response", {"booking_id": booking["booking_id"], "action": "accept"}
    )
    assert r.status_code == 200 and r.json()["booking"]["booking_status"] == "accepted"
    again = tutor.post(
        "/process-booking-response", {"booking_id": booking["booking_id"], "action": "reject"}
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "booking_not_pending"

    accepted_mail = student.mailbox.wait_for(student.email, "accepted")
    ics = [p for p in accepted_mail.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert ics, "accepted booking mail carries an .ics"
    assert Calendar.from_ical(ics[0].get_content()).get("method") == "REQUEST"
    assert "(America/Halifax)" in accepted_mail.get_body(("plain",)).get_content()
    assert "/unsubscribe?token=" in accepted_mail.get_body(("plain",)).get_content()

    look = student.post("/get-user-profiles-and-teacher-search", {"email": tutor.email}).json()
    assert "mobile_number" in look["profile"]

    booked = tutor.post(
        "/get-teacher-slots",
        {
            "tutor_id": tutor.user_id,
            "from_date": day_ahead(2),
            "to_date": day_ahead(4),
            "status": "all",
        },
    ).json()["slots"]
    assert [s["slot_status"] for s in booked] == ["booked", "available", "available"]

    listed = tutor.get("/get-teacher-bookings", params={"status": "accepted"}).json()
    assert [b["booking_id"] for b in listed["bookings"]] == [booking["booking_id"]]
    assert (
        student.get("/get-student-bookings").json()["bookings"][0]["booking_status"] == "accepted"
    )

    r = student.post(
        "/cancel-booking", {"booking_id": booking["booking_id"], "reason": "exam moved"}
    )
    assert r.status_code == 200 and r.json()["booking"]["booking_status"] == "cancelled"
    cancel_mail = tutor.mailbox.wait_for(tutor.email, "cancelled")
    assert "exam moved" in cancel_mail.get_body(("plain",)).get_content()
    free = student.post(
        "/get-teacher-slots",
        {"tutor_id": tutor.user_id, "from_date": day_ahead(2), "to_date": day_ahead(4)},
    ).json()["slots"]
    assert len(free) == 3

    # the window cannot go while a slot is pending; it can once free
    r = student.post("/create-booking-request", {"slot_id": slot_id})
    assert r.status_code == 201
    second = r.json()["booking"]
    blocked = tutor.post("/delete-availability", {"availability_id": availability_id})
    assert blocked.status_code == 409

    # expiry: run the job as of a moment after the slots started
    later = (datetime.now(UTC) + timedelta(days=6)).strftime("%Y-%m-%dT%H:%M:%SZ")
    out = run_cli(server.data_dir, "expire-slots", "--now", later)
    assert "requests expired: 1" in out.stdout, out.stdout
    expired = student.get("/get-student-bookings", params={"status": "expired"}).json()["bookings"]
    assert [b["booking_id"] for b in expired] == [second["booking_id"]]
    student.mailbox.wait_for(student.email, "expired")
    rerun = run_cli(server.data_dir, "expire-slots", "--now", later)
    assert "slots expired: 0, requests expired: 0" in rerun.stdout
    r = student.post("/create-booking-request", {"slot_id": slots[1]["slot_id"]})
    assert r.status_code == 409 and r.json()["error"]["code"] == "slot_unavailable"


def test_reject_frees_the_slot_and_tells_the_student(anon, tutor):
    learner = anon.as_new_user("student", "learner")
    learner.subscribe()
    day = day_ahead(5)
    r = tutor.post(
        "/create-availability",
        {
            "windows": [
                {"date": day, "start_time": "14:00", "end_time": "15:00"},
                {"date": day, "start_time": "16:00", "end_time": "17:00", "slot_minutes": 30},
            ]
        },
    )
    assert r.status_code == 201, r.text
    assert len(r.json()["availability"]) == 2 and len(r.json()["slots"]) == 3
    slot_id = r.json()["slots"][0]["slot_id"]
    booking = learner.post("/create-booking-request", {"slot_id": slot_id}).json()["booking"]
    r = tutor.post(
        "/process-booking-response",
        {"booking_id": booking["booking_id"], "action": "reject", "reason": "ill"},
    )
    assert r.json()["booking"]["booking_status"] == "rejected"
    learner.mailbox.wait_for(learner.email, "declined")
    assert learner.post("/create-booking-request", {"slot_id": slot_id}).status_code == 201


def test_security_headers_on_every_response(anon, student):
    for r in (
        anon.get("/health"),
        anon.get("/nope"),
        student.get("/get-student-bookings"),
        anon.get("/docs"),
    ):
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["referrer-policy"] == "no-referrer"
        assert r.headers["x-request-id"]
    api = student.get("/get-student-bookings")
    assert api.headers["cache-control"] == "no-store"
    assert "default-src 'none'" in api.headers["content-security-policy"]
    assert (
        "access-control-allow-origin"
        not in anon.http.options(
            "/health",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        ).headers
    )
