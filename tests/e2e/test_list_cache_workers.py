"""Cached booking lists through the real server with two worker processes (each has its own
cache; the booking list versions in SQLite are shared): every booking change, profile edit or
zone change made through either worker, and the expiry command run by another process, shows in
the very next list answer of both. SQLite only: the DynamoDB store keeps no list version, so
nothing is cached there."""

from __future__ import annotations

import httpx
import pytest

from e2e.server import demo_login as login
from e2e.server import run_cli, small_demo
from e2e.workers import WORKER_ID_ON, from_every_worker
from skillsession.demo import student_email, tutor_email


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory):
    with small_demo(tmp_path_factory.mktemp("list-cache"), workers=2, **WORKER_ID_ON) as srv:
        yield srv


def test_changes_show_at_once_on_every_worker(two_workers):
    base = two_workers.base_url
    tutor, ada, bob = (login(base, e) for e in (tutor_email(1), student_email(1), student_email(2)))
    me = httpx.post(f"{base}/get-user-profiles-and-teacher-search", json={}, headers=tutor).json()
    slots = httpx.post(
        f"{base}/get-teacher-slots", json={"tutor_id": me["profile"]["user_id"]}, headers=ada
    ).json()["slots"]
    assert len(slots) >= 4

    def post(path: str, body: dict, headers: dict, status: int = 200) -> dict:
        r = httpx.post(f"{base}{path}", json=body, headers=headers)
        assert r.status_code == status, r.text
        return r.json()

    def look(path: str, headers: dict, **params) -> list[dict]:
        """Answers on new connections until both workers gave some: all the same (whichever
        worker, hit or miss)."""
        answers = {
            r.content
            for r in from_every_worker(
                lambda: httpx.get(f"{base}{path}", params=params, headers=headers), workers=2
            )
        }
        assert len(answers) == 1
        return httpx.Response(200, content=answers.pop()).json()["bookings"]

    def pending(headers=tutor) -> list[str]:
        return [b["booking_id"] for b in look("/get-pending-booking-slots", headers)]

    def mine(headers=ada, **params) -> dict[str, str]:
        path = "/get-teacher-bookings" if headers is tutor else "/get-student-bookings"
        return {b["booking_id"]: b["booking_status"] for b in look(path, headers, **params)}

    assert pending() == [] and mine() == {} and mine(tutor) == {}

    first = post("/create-booking-request", {"slot_id": slots[0]["slot_id"]}, ada, 201)
    first_id = first["booking"]["booking_id"]
    assert pending() == [first_id] == pending(ada)
    assert mine(bob) == {}
    post("/process-booking-response", {"booking_id": first_id, "action": "reject"}, tutor)
    assert pending() == [] and mine() == {first_id: "rejected"}

    second = post("/create-booking-request", {"slot_id": slots[1]["slot_id"]}, bob, 201)
    second_id = second["booking"]["booking_id"]
    assert pending() == [second_id] and mine(bob) == {second_id: "pending"}
    post("/process-booking-response", {"booking_id": second_id, "action": "accept"}, tutor)
    assert mine(tutor, status="accepted") == {second_id: "accepted"}
    assert mine(bob) == {second_id: "accepted"}
    post("/cancel-booking", {"booking_id": second_id}, bob)
    assert mine(tutor, status="accepted") == {} and mine(bob) == {second_id: "cancelled"}

    # the other party renames themselves; the caller changes zone
    third = post("/create-booking-request", {"slot_id": slots[2]["slot_id"]}, ada, 201)
    third_id = third["booking"]["booking_id"]
    names = {b["booking_id"]: b["tutor"]["name"] for b in look("/get-student-bookings", ada)}
    post("/save-user-details", {"role": "tutor", "first_name": "Renamed"}, tutor)
    renamed = {b["booking_id"]: b["tutor"]["name"] for b in look("/get-student-bookings", ada)}
    assert renamed != names and renamed[third_id].startswith("Renamed")
    post("/save-user-details", {"role": "student", "time_zone": "Pacific/Kiritimati"}, ada)
    zones = {b["time_zone"] for b in look("/get-student-bookings", ada)}
    assert zones == {"Pacific/Kiritimati"}

    # the expiry job, run by another process with a later clock, expires the pending request
    out = run_cli(two_workers.data_dir, "expire-slots", "--now", slots[2]["start"]).stdout
    assert "requests expired: 1," in out, out
    assert pending() == [] == pending(ada)
    assert mine()[third_id] == "expired"
