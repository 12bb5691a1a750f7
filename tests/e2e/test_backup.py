"""Online backup while the service takes writes, and a restore that brings it all back."""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
import threading
import time
from dataclasses import dataclass
from datetime import datetime

import httpx

from e2e.server import BIN, Server, run_cli
from skillsession.demo import DEMO_PASSWORD, student_email, tutor_email

WRITERS = 3
LATER = {"pending": {"pending", "cancelled"}, "cancelled": {"cancelled"}}  # the moves they make


def token(base, email):
    r = httpx.post(f"{base}/auth/login", json={"email": email, "password": DEMO_PASSWORD})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@dataclass(frozen=True)
class Ack:
    booking_id: str
    status: str  # what the 2xx said
    sent: float  # unix seconds, this process's clock (the server's and the CLI's too)
    acked: float


def test_backup_under_load_and_restore(tmp_path):
    live = tmp_path / "live"
    srv = Server(live, workers=2)
    run_cli(live, "demo-data", "--tutors", "1", "--students", "4", "--days", "2", env=srv.env)
    srv.start()
    acks: list[Ack] = []
    lock = threading.Lock()
    stop = threading.Event()
    failures: list[BaseException] = []
    try:
        base = srv.base_url
        tutor = token(base, tutor_email(1))
        me = httpx.post(f"{base}/get-user-profiles-and-teacher-search", json={}, headers=tutor)
        slots = httpx.post(
            f"{base}/get-teacher-slots",
            json={"tutor_id": me.json()["profile"]["user_id"]},
            headers=tutor,
        ).json()["slots"]
        students = [token(base, student_email(i)) for i in range(1, WRITERS + 2)]
        # three requests that stay pending, as before a backup
        for s in slots[:3]:
            r = httpx.post(
                f"{base}/create-booking-request",
                json={"slot_id": s["slot_id"]},
                headers=students[0],
            )
            assert r.status_code == 201, r.text
            now = time.time()
            acks.append(Ack(r.json()["booking"]["booking_id"], "pending", now, now))

        def keep_writing(headers, slot_id):
            try:
                write_until_stopped(headers, slot_id)
            except BaseException as exc:
                failures.append(exc)
                raise

        def write_until_stopped(headers, slot_id):
            """Request the slot, cancel, request it again, ...: new bookings and state changes
            without end (and never more than one pending request at a time)."""
            with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
                while not stop.is_set():
                    sent = time.time()
                    r = http.post("/create-booking-request", json={"slot_id": slot_id})
                    assert r.status_code == 201, r.text
                    booking_id = r.json()["booking"]["booking_id"]
                    with lock:
                        acks.append(Ack(booking_id, "pending", sent, time.time()))
                    sent = time.time()
                    r = http.post("/cancel-booking", json={"booking_id": booking_id})
                    assert r.status_code == 200, r.text
                    with lock:
                        acks.append(Ack(booking_id, "cancelled", sent, time.time()))

        writers = [
            threading.Thread(target=keep_writing, args=(students[1 + i], slots[3 + i]["slot_id"]))
            for i in range(WRITERS)
        ]
        for w in writers:
            w.start()
        while len(acks) < 3 + 2 * WRITERS:  # every writer under way before the backup starts
            assert all(w.is_alive() for w in writers)
            time.sleep(0.01)
        launched = time.time()
        out = subprocess.run(
            [str(BIN), "backup", str(tmp_path / "copy.db")],
            env=srv.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        exited = time.time()
        while sum(a.sent > exited for a in acks) < WRITERS:  # ... and go on after it ended
            assert all(w.is_alive() for w in writers)
            time.sleep(0.01)
        stop.set()
        for w in writers:
            w.join()
        assert failures == []
    finally:
        stop.set()
        srv.stop()
    snapshot = datetime.fromisoformat(
        re.search(r"snapshot taken after (\S+)\)", out.stdout).group(1)
    ).timestamp()
    assert launched < snapshot < exited
    # the backup ran under load: writes were acknowledged between its launch and its snapshot
    during = sum(launched < a.acked < snapshot for a in acks)
    print(f"{len(acks)} acknowledged writes, {during} between the launch and the snapshot")
    assert during > 0

    copy = sqlite3.connect(tmp_path / "copy.db")
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    saved = dict(copy.execute("SELECT booking_id, booking_status FROM bookings"))
    copy.close()
    before = [a for a in acks if a.acked < snapshot]
    # every change acknowledged before the snapshot is in the copy (or a later state of it)
    missing = [a for a in before if saved.get(a.booking_id) not in LATER[a.status]]
    assert missing == [], (len(before), missing[:5])
    # and nothing asked for after the backup ended is (one snapshot, not a mix)
    after = {a.booking_id for a in acks if a.status == "pending" and a.sent > exited}
    assert after and not after & set(saved)

    restored = tmp_path / "restored"
    restored.mkdir()
    shutil.copy(live / "secret.key", restored / "secret.key")
    out = run_cli(restored, "restore", str(tmp_path / "copy.db"))
    assert "restored" in out.stdout
    assert run_cli(restored, "check").stdout.strip() == "consistent"
    again = Server(restored).start()
    try:
        pending = httpx.get(
            f"{again.base_url}/get-pending-booking-slots",
            headers=token(again.base_url, tutor_email(1)),
        )
        served = {b["booking_id"] for b in pending.json()["bookings"]}
        still_pending = {a.booking_id for a in before if saved[a.booking_id] == "pending"}
        assert still_pending and still_pending <= served
    finally:
        again.stop()
    bad = tmp_path / "garbage.db"
    bad.write_bytes(b"not a database at all" * 100)
    refused = run_cli(restored, "restore", str(bad), check=False)
    assert refused.returncode == 1 and "not a sound SQLite database" in refused.stderr
