"""Cached slot answers through the real server with two worker processes (each has its own
cache; the slot version in SQLite is shared): every change to a tutor's slots, made through
either worker or by the expiry command in another process, shows in the very next answer of
both. SQLite only: the DynamoDB store keeps no slot version, so nothing is cached there."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from e2e.server import demo_login as login
from e2e.server import run_cli, small_demo
from e2e.workers import WORKER_ID_ON, from_every_worker
from skillsession.demo import student_email, tutor_email


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory):
    with small_demo(tmp_path_factory.mktemp("slot-cache"), workers=2, **WORKER_ID_ON) as srv:
        yield srv


def test_changes_show_at_once_on_every_worker(two_workers):
    base = two_workers.base_url
    tutor, ada, bob = (login(base, e) for e in (tutor_email(1), student_email(1), student_email(2)))
    me = httpx.post(f"{base}/get-user-profiles-and-teacher-search", json={}, headers=tutor).json()
    tutor_id = me["profile"]["user_id"]

    def post(path: str, body: dict, headers: dict, status: int = 200) -> dict:
        r = httpx.post(f"{base}{path}", json=body, headers=headers)
        assert r.status_code == status, r.text
        return r.json()

    def look(headers=ada, **query) -> list[dict]:
        """Answers on new connections until both workers gave some: all the same (whichever
        worker, hit or miss)."""
        answers = {
            r.content
            for r in from_every_worker(
                lambda: httpx.post(
                    f"{base}/get-teacher-slots",
                    json={"tutor_id": tutor_id, **query},
                    headers=headers,
                ),
                workers=2,
            )
        }
        assert len(answers) == 1
        return httpx.Response(200, content=answers.pop()).json()["slots"]

    def ids(slots) -> list[str]:
        return [s["slot_id"] for s in slots]

    before = look()
    assert len(before) >= 4
    first, second = before[0]["slot_id"], before[1]["slot_id"]

    booking = post("/create-booking-request", {"slot_id": first}, ada, 201)["booking"]
    assert ids(look()) == ids(before)[1:]
    assert ids(look(bob)) == ids(before)[1:]
    post(
        "/process-booking-response",
        {"booking_id": booking["booking_id"], "action": "reject"},
        tutor,
    )
    assert ids(look()) == ids(before)

    booking = post("/create-booking-request", {"slot_id": second}, bob, 201)["booking"]
    assert second not in ids(look())
    post(
        "/process-booking-response",
        {"booking_id": booking["booking_id"], "action": "accept"},
        tutor,
    )
    assert second not in ids(look())
    own = {s["slot_id"]: s["slot_status"] for s in look(tutor, status="all")}
    assert own[second] == "booked"
    post("/cancel-booking", {"booking_id": booking["booking_id"]}, bob)
    assert ids(look()) == ids(before)

    day = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    window = {"date": day, "start_time": "21:00", "end_time": "22:00"}  # demo windows end by 18:00
    created = post("/create-availability", window, tutor, 201)
    new_slot = created["slots"][0]["slot_id"]
    assert new_slot in ids(look())
    post(
        "/delete-availability",
        {"availability_id": created["availability"][0]["availability_id"]},
        tutor,
    )
    assert ids(look()) == ids(before)

    # the expiry job, run by another process with a later clock, expires the first three
    out = run_cli(two_workers.data_dir, "expire-slots", "--now", before[2]["start"]).stdout
    assert "slots expired: " in out and "slots expired: 0," not in out
    assert ids(look()) == ids(before)[3:]
    own = {s["slot_id"]: s["slot_status"] for s in look(tutor, status="all")}
    assert [own[i] for i in ids(before)[:3]] == ["expired"] * 3
