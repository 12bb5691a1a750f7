"""Dozens of students race for one slot through the running server (several worker processes):
exactly one request wins, and the store stays consistent. One student requests many slots at
once: never more pending than the fair-use limits allow. Once per shape (conftest.py): on
DynamoDB the table's conditions decide the race (moto answers one request at a time, in the
order the workers' requests reach it)."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from e2e.server import demo_login as login
from e2e.server import run_cli, shape_server
from skillsession.demo import student_email, tutor_email

STUDENTS = 40
PER_TUTOR, TOTAL = 3, 5  # the server's pending-request limits (per tutor: the default)


@pytest.fixture(scope="module")
def busy_server(shape, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp(f"race-{shape}")
    srv = shape_server(
        data_dir,
        shape,
        workers=3,
        SKILLSESSION_MAX_PENDING_PER_TUTOR=str(PER_TUTOR),
        SKILLSESSION_MAX_PENDING_TOTAL=str(TOTAL),
    )
    run_cli(
        data_dir,
        "demo-data",
        "--tutors",
        "2",
        "--students",
        str(STUDENTS),
        "--days",
        "3",
        env=srv.env,
    )
    srv.start()
    yield srv
    srv.stop()


def test_one_slot_many_students_exactly_one_wins(busy_server):
    base = busy_server.base_url
    tutor = login(base, tutor_email(1))
    with ThreadPoolExecutor(8) as pool:
        students = list(pool.map(lambda i: login(base, student_email(i)), range(1, STUDENTS + 1)))
    me = httpx.post(f"{base}/get-user-profiles-and-teacher-search", json={}, headers=tutor).json()
    slots = httpx.post(
        f"{base}/get-teacher-slots", json={"tutor_id": me["profile"]["user_id"]}, headers=tutor
    ).json()["slots"]
    assert len(slots) >= 3
    raced = [slot["slot_id"] for slot in slots[:3]]

    for slot in slots[:3]:
        barrier = threading.Barrier(STUDENTS)

        def attempt(headers, slot_id=slot["slot_id"], barrier=barrier):
            with httpx.Client(base_url=base, timeout=60) as client:
                barrier.wait()
                return client.post(
                    "/create-booking-request", json={"slot_id": slot_id}, headers=headers
                )

        with ThreadPoolExecutor(STUDENTS) as pool:
            results = list(pool.map(attempt, students))
        statuses = sorted(r.status_code for r in results)
        assert statuses.count(201) == 1, statuses
        assert statuses.count(409) == STUDENTS - 1, statuses
        assert all(
            r.json()["error"]["code"] == "slot_unavailable" for r in results if r.status_code == 409
        )

    # the tutor accepts while the student cancels: one of them wins, never both
    pending = httpx.get(f"{base}/get-pending-booking-slots", headers=tutor).json()["bookings"]
    assert len(pending) == 3
    booking = pending[0]
    student_headers = next(
        h
        for h in students
        if httpx.post(f"{base}/get-user-profiles-and-teacher-search", json={}, headers=h).json()[
            "profile"
        ]["user_id"]
        == booking["student_id"]
    )
    barrier = threading.Barrier(2)

    def act(call):
        barrier.wait()
        return call()

    calls = [
        lambda: httpx.post(
            f"{base}/process-booking-response",
            json={"booking_id": booking["booking_id"], "action": "reject"},
            headers=tutor,
        ),
        lambda: httpx.post(
            f"{base}/cancel-booking",
            json={"booking_id": booking["booking_id"]},
            headers=student_headers,
        ),
    ]
    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(r.status_code for r in pool.map(act, calls))
    assert outcomes == [200, 409], outcomes

    # the slots agree: the one whose request went is free again, the other two are pending
    everything = httpx.post(
        f"{base}/get-teacher-slots",
        json={"tutor_id": me["profile"]["user_id"], "status": "all"},
        headers=tutor,
    ).json()["slots"]
    status = {s["slot_id"]: s["slot_status"] for s in everything}
    assert [status[i] for i in raced] == [
        "available" if i == booking["slot_id"] else "pending" for i in raced
    ]
    pending = httpx.get(f"{base}/get-pending-booking-slots", headers=tutor).json()["bookings"]
    assert sorted(b["slot_id"] for b in pending) == sorted(set(raced) - {booking["slot_id"]})

    check = run_cli(busy_server.data_dir, "check", env=busy_server.env, check=False)
    assert check.returncode == 0, check.stdout


def test_one_student_many_slots_at_once_never_passes_the_limits(busy_server):
    base = busy_server.base_url
    students = (login(base, student_email(i)) for i in range(STUDENTS, 0, -1))
    student = next(  # one who holds no request yet (the race above left three pending)
        h
        for h in students
        if not httpx.get(f"{base}/get-pending-booking-slots", headers=h).json()["bookings"]
    )
    wanted, tutors = [], {}
    for number in (1, 2):
        tutor = login(base, tutor_email(number))
        me = httpx.post(f"{base}/get-user-profiles-and-teacher-search", json={}, headers=tutor)
        free = httpx.post(
            f"{base}/get-teacher-slots",
            json={"tutor_id": me.json()["profile"]["user_id"]},
            headers=student,
        ).json()["slots"]
        tutors.update({slot["slot_id"]: slot["tutor_id"] for slot in free})
        wanted += [slot["slot_id"] for slot in free[-8:]]  # clear of the race above
    assert len(wanted) == 16
    barrier = threading.Barrier(len(wanted))

    def attempt(slot_id):
        with httpx.Client(base_url=base, timeout=60) as client:
            barrier.wait()
            return client.post(
                "/create-booking-request", json={"slot_id": slot_id}, headers=student
            )

    with ThreadPoolExecutor(len(wanted)) as pool:
        results = list(pool.map(attempt, wanted))
    statuses = sorted(r.status_code for r in results)
    assert statuses.count(201) == TOTAL, statuses
    refused = [r.json()["error"] for r in results if r.status_code != 201]
    assert {e["code"] for e in refused} == {"too_many_pending"}, refused
    assert {e["details"]["limit"] for e in refused} <= {"per_tutor", "total"}

    held = httpx.get(f"{base}/get-pending-booking-slots", headers=student).json()["bookings"]
    assert sorted(b["booking_id"] for b in held) == sorted(
        r.json()["booking"]["booking_id"] for r in results if r.status_code == 201
    )
    per_tutor = Counter(b["tutor_id"] for b in held)
    assert max(per_tutor.values()) <= PER_TUTOR, per_tutor

    # withdrawing one frees one place (with its tutor, and in all), and only one
    first = held[0]
    r = httpx.post(
        f"{base}/cancel-booking", json={"booking_id": first["booking_id"]}, headers=student
    )
    assert r.status_code == 200, r.text
    held_slots = {b["slot_id"] for b in held}
    again = [i for i in wanted if i not in held_slots and tutors[i] == first["tutor_id"]]
    answers = [
        httpx.post(f"{base}/create-booking-request", json={"slot_id": i}, headers=student)
        for i in again[:2]
    ]
    assert [a.status_code for a in answers] == [201, 409], [a.text for a in answers]
    check = run_cli(busy_server.data_dir, "check", env=busy_server.env, check=False)
    assert check.returncode == 0, check.stdout


def test_accept_reject_cancel_and_the_expiry_job_race(busy_server):
    """Last in this module: its expiry run (days ahead) expires every free slot. Requests for
    six slots; then, all at once, the tutor accepts or rejects each while its
    student cancels it, and the expiry job runs as if a day later (a separate process, as the
    scheduled job is): per booking the acknowledged answers agree with its final state, and
    `check` finds nothing."""
    import subprocess
    from datetime import UTC, datetime, timedelta

    from e2e.server import BIN

    base = busy_server.base_url
    tutor = login(base, tutor_email(2))
    me = httpx.post(f"{base}/get-user-profiles-and-teacher-search", json={}, headers=tutor).json()
    tutor_id = me["profile"]["user_id"]
    slots = httpx.post(f"{base}/get-teacher-slots", json={"tutor_id": tutor_id}, headers=tutor)
    chosen = [s["slot_id"] for s in slots.json()["slots"][:6]]
    students = [login(base, student_email(i)) for i in range(1, len(chosen) + 1)]
    bookings = []
    for slot_id, headers in zip(chosen, students, strict=True):
        made = httpx.post(
            f"{base}/create-booking-request", json={"slot_id": slot_id}, headers=headers
        )
        assert made.status_code == 201, made.text
        bookings.append((made.json()["booking"]["booking_id"], headers))

    later = (datetime.now(UTC) + timedelta(days=5)).isoformat()
    barrier = threading.Barrier(2 * len(bookings) + 1)

    def tutor_answers(index, booking_id):
        barrier.wait()
        action = "accept" if index % 2 == 0 else "reject"
        return httpx.post(
            f"{base}/process-booking-response",
            json={"booking_id": booking_id, "action": action},
            headers=tutor,
            timeout=60,
        )

    def student_cancels(booking_id, headers):
        barrier.wait()
        return httpx.post(
            f"{base}/cancel-booking", json={"booking_id": booking_id}, headers=headers, timeout=60
        )

    def job():
        barrier.wait()
        return subprocess.run(
            [str(BIN), "expire-slots", "--now", later],
            env=busy_server.env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    with ThreadPoolExecutor(2 * len(bookings) + 1) as pool:
        answers = [pool.submit(tutor_answers, i, b) for i, (b, _) in enumerate(bookings)]
        cancels = [pool.submit(student_cancels, b, h) for b, h in bookings]
        expiry = pool.submit(job)
        answers = [f.result() for f in answers]
        cancels = [f.result() for f in cancels]
        assert expiry.result().returncode == 0, expiry.result().stderr

    for index, ((booking_id, headers), answer, cancel) in enumerate(
        zip(bookings, answers, cancels, strict=True)
    ):
        assert answer.status_code in (200, 409) and cancel.status_code in (200, 409)
        mine = httpx.get(f"{base}/get-student-bookings", headers=headers).json()["bookings"]
        [final] = [b["booking_status"] for b in mine if b["booking_id"] == booking_id]
        answered = "accepted" if index % 2 == 0 else "rejected"
        if cancel.status_code == 200:
            assert final == "cancelled", (answer.status_code, final)
            assert answer.status_code == 409 or answered == "accepted"  # an accepted one may go
        elif answer.status_code == 200:
            assert final in ({answered, "completed"} if answered == "accepted" else {answered})
        else:
            assert final == "expired", (answer.status_code, cancel.status_code, final)

    check = run_cli(busy_server.data_dir, "check", env=busy_server.env, check=False)
    assert check.returncode == 0, check.stdout
