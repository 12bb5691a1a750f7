"""Your data (API.md): the export matches what the API shows, and deleting an account ends what
is live (the other parties told by e-mail), keeps the past as "Deleted user", frees the e-mail,
and leaves the store consistent. Over HTTP against the real server, on both shapes."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from e2e.api_client import PASSWORD, Api
from e2e.server import run_cli


def day_ahead(days: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


def slots_of(tutor: Api, day: str, hours: int) -> list[str]:
    r = tutor.post(
        "/create-availability",
        {"date": day, "start_time": "09:00", "end_time": f"{9 + hours:02d}:00", "time_zone": "UTC"},
    )
    assert r.status_code == 201, r.text
    return [s["slot_id"] for s in r.json()["slots"]]


def book(student: Api, slot_id: str) -> str:
    r = student.post("/create-booking-request", {"slot_id": slot_id})
    assert r.status_code == 201, r.text
    return r.json()["booking"]["booking_id"]


def answer(tutor: Api, booking_id: str, action: str) -> None:
    r = tutor.post("/process-booking-response", {"booking_id": booking_id, "action": action})
    assert r.status_code == 200, r.text


def listing(api: Api, path: str) -> dict[str, dict]:
    return {b["booking_id"]: b for b in api.get(path, params={"limit": 200}).json()["bookings"]}


def test_export_matches_what_the_api_shows(anon):
    tutor = anon.as_new_user("tutor", "exp-tutor", teaching_skills="Python")
    student = anon.as_new_user("student", "exp-student", time_zone="America/Halifax")
    student.subscribe()
    slots = slots_of(tutor, day_ahead(4), 3)
    accepted, rejected, pending = (book(student, s) for s in slots)
    answer(tutor, accepted, "accept")
    answer(tutor, rejected, "reject")

    r = student.get("/account/export")
    assert r.status_code == 200, r.text
    export = r.json()
    assert "password" not in r.text and "argon2" not in r.text
    assert export["account"]["user_id"] == student.user_id
    assert export["account"]["email"] == student.email
    assert export["account"]["status"] == "confirmed"
    assert (
        export["profile"]
        == student.post("/get-user-profiles-and-teacher-search", {}).json()["profile"]
    )
    assert export["subscription"] == {"email": student.email, "subscription_status": "confirmed"}
    assert export["profile_image"] is None
    assert export["reviews"] == export["messages"] == export["notifications"] == []
    shown = listing(student, "/get-student-bookings")
    assert (
        {b["booking_id"]: b["booking_status"] for b in export["bookings"]}
        == {i: b["booking_status"] for i, b in shown.items()}
        == {accepted: "accepted", rejected: "rejected", pending: "pending"}
    )
    for b in export["bookings"]:
        seen = shown[b["booking_id"]]
        assert b["role"] == "student"
        assert b["other_party_name"] == seen["tutor"]["name"] == "Exp-Tutor Tester"
        assert "tutor" not in b and "student" not in b  # the other party's name only
        for field in ("start", "end", "booking_date", "start_time", "time_zone", "slot_id"):
            assert b[field] == seen[field], field

    tutor_export = tutor.get("/account/export").json()
    assert [(b["booking_id"], b["role"]) for b in tutor_export["bookings"]] == [
        (i, "tutor") for i in listing(tutor, "/get-teacher-bookings")
    ]
    assert {b["other_party_name"] for b in tutor_export["bookings"]} == {"Exp-Student Tester"}
    assert tutor_export["subscription"] is None


def test_deleting_a_tutor_ends_live_bookings_and_keeps_the_past(anon, server):
    tutor = anon.as_new_user("tutor", "del-tutor", teaching_skills="Deletion Studies")
    asker = anon.as_new_user("student", "del-asker")
    booked = anon.as_new_user("student", "del-booked")
    asker.subscribe()
    booked.subscribe()
    past_slots = slots_of(tutor, day_ahead(2), 1)
    future_slots = slots_of(tutor, day_ahead(10), 3)
    past = book(booked, past_slots[0])
    answer(tutor, past, "accept")
    # the session at day+2 is over when the job runs at day+3: completed
    run_cli(server.data_dir, "expire-slots", "--now", f"{day_ahead(3)}T00:00:00Z")
    assert listing(booked, "/get-student-bookings")[past]["booking_status"] == "completed"
    pending = book(asker, future_slots[0])
    accepted = book(booked, future_slots[1])
    answer(tutor, accepted, "accept")

    assert tutor.delete("/account", {"password": "not the password"}).status_code == 403
    assert tutor.delete("/account", {}).status_code == 422
    assert tutor.get("/account/export").json()["profile"] is not None  # nothing happened
    r = tutor.delete("/account", {"password": PASSWORD})
    assert r.status_code == 200, r.text
    assert r.json() == {"deleted": tutor.user_id}

    # each student is told, by e-mail, with the reason
    for student in (asker, booked):
        mail = student.mailbox.wait_for(student.email, "cancelled a booking")
        assert "deleted their SkillSession account" in mail.get_body(("plain",)).get_content()
    asked = asker.get("/get-student-bookings").json()["bookings"]
    assert [(b["booking_id"], b["booking_status"]) for b in asked] == [(pending, "cancelled")]
    mine = listing(booked, "/get-student-bookings")
    assert mine[accepted]["booking_status"] == "cancelled"
    assert mine[past]["booking_status"] == "completed"  # the past stays
    for b in mine.values():
        assert b["tutor"] == {"user_id": tutor.user_id, "name": "Deleted user", "email": None}
    # the tutor is gone from profiles, search and slots; the store is consistent
    gone = asker.post("/get-user-profiles-and-teacher-search", {"user_id": tutor.user_id})
    assert gone.status_code == 404
    found = asker.post("/get-user-profiles-and-teacher-search", {"skill": "deletion studies"})
    assert found.json()["tutors"] == []
    slots = asker.post("/get-teacher-slots", {"tutor_id": tutor.user_id})
    assert slots.status_code == 404 or slots.json()["slots"] == []
    assert asker.post("/create-booking-request", {"slot_id": future_slots[2]}).status_code in (
        404,
        409,
    )
    check = run_cli(server.data_dir, "check", check=False)
    assert check.returncode == 0, check.stdout


def test_deleting_a_student_frees_the_slot_and_tells_the_tutor(anon, server):
    tutor = anon.as_new_user("tutor", "kept-tutor")
    student = anon.as_new_user("student", "leaving-student")
    tutor.subscribe()
    slot = slots_of(tutor, day_ahead(6), 1)[0]
    booking = book(student, slot)
    assert student.delete("/account", {"password": PASSWORD}).status_code == 200
    mail = tutor.mailbox.wait_for(tutor.email, "cancelled a booking")
    assert "deleted their SkillSession account" in mail.get_body(("plain",)).get_content()
    shown = listing(tutor, "/get-teacher-bookings")[booking]
    assert shown["booking_status"] == "cancelled"
    assert shown["student"]["name"] == "Deleted user"
    free = tutor.post("/get-teacher-slots", {"tutor_id": tutor.user_id}).json()["slots"]
    assert [s["slot_id"] for s in free] == [slot]  # free again for another student
    assert run_cli(server.data_dir, "check", check=False).returncode == 0


def test_delete_then_sign_up_again_with_the_same_email(anon):
    first = anon.as_new_user("student", "again")
    assert first.delete("/account", {"password": PASSWORD}).status_code == 200
    r = anon.post("/auth/login", {"email": first.email, "password": PASSWORD})
    assert r.status_code == 401
    again = Api(anon.base_url, anon.mailbox)
    new_password = "another long password"
    assert (
        again.post("/auth/signup", {"email": first.email, "password": new_password}).status_code
        == 201
    )
    code = new_code(anon, first.email, earlier=1)
    assert again.post("/auth/confirm", {"email": first.email, "code": code}).status_code == 200
    r = again.post("/auth/login", {"email": first.email, "password": new_password})
    assert r.status_code == 200, r.text
    again.token = r.json()["access_token"]
    export = again.get("/account/export").json()
    assert export["account"]["user_id"] != first.user_id
    assert export["profile"] is None and export["bookings"] == []


def new_code(anon: Api, email: str, earlier: int) -> str:
    """The code of the first code e-mail after `earlier` ones (delivery is asynchronous)."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        codes = [m for m in anon.mailbox.messages(email) if "code" in str(m["Subject"]).lower()]
        if len(codes) > earlier:
            return str(codes[earlier]["Subject"]).rsplit(" ", 1)[-1]
        time.sleep(0.05)
    raise AssertionError(f"no new code for {email}")


def test_the_old_token_of_a_deleted_user_is_401(anon):
    gone = anon.as_new_user("student", "revoked")
    assert gone.delete("/account", {"password": PASSWORD}).status_code == 200
    assert gone.get("/account/export").status_code == 401
    assert gone.get("/get-student-bookings").status_code == 401
