"""Online backup while the service takes writes, and a restore that brings it all back."""

from __future__ import annotations

import shutil
import sqlite3
import threading

import httpx

from e2e.server import Server, run_cli
from skillsession.demo import DEMO_PASSWORD, student_email, tutor_email


def token(base, email):
    r = httpx.post(f"{base}/auth/login", json={"email": email, "password": DEMO_PASSWORD})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_backup_under_load_and_restore(tmp_path):
    live = tmp_path / "live"
    srv = Server(live, workers=2)
    run_cli(live, "demo-data", "--tutors", "3", "--students", "4", "--days", "2", env=srv.env)
    srv.start()
    try:
        base = srv.base_url
        tutor = token(base, tutor_email(1))
        me = httpx.post(f"{base}/get-user-profiles-and-teacher-search", json={}, headers=tutor)
        slots = httpx.post(
            f"{base}/get-teacher-slots",
            json={"tutor_id": me.json()["profile"]["user_id"]},
            headers=tutor,
        ).json()["slots"]
        students = [token(base, student_email(i)) for i in range(1, 5)]
        before = [
            httpx.post(
                f"{base}/create-booking-request",
                json={"slot_id": s["slot_id"]},
                headers=students[0],
            )
            for s in slots[:3]
        ]
        assert [r.status_code for r in before] == [201, 201, 201]
        acknowledged = {r.json()["booking"]["booking_id"] for r in before}

        stop = threading.Event()

        def keep_writing(headers, todo):
            for slot in todo:
                if stop.is_set():
                    return
                httpx.post(
                    f"{base}/create-booking-request",
                    json={"slot_id": slot["slot_id"]},
                    headers=headers,
                )

        writers = [
            threading.Thread(target=keep_writing, args=(students[i], slots[3 + i :: 3]))
            for i in range(1, 4)
        ]
        for w in writers:
            w.start()
        out = run_cli(live, "backup", str(tmp_path / "copy.db"), env=srv.env)
        stop.set()
        for w in writers:
            w.join()
        assert "backup written" in out.stdout
    finally:
        srv.stop()

    copy = sqlite3.connect(tmp_path / "copy.db")
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    saved = {row[0] for row in copy.execute("SELECT booking_id FROM bookings")}
    assert acknowledged <= saved
    copy.close()

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
        assert acknowledged <= {b["booking_id"] for b in pending.json()["bookings"]}
    finally:
        again.stop()
    bad = tmp_path / "garbage.db"
    bad.write_bytes(b"not a database at all" * 100)
    refused = run_cli(restored, "restore", str(bad), check=False)
    assert refused.returncode == 1 and "not a sound SQLite database" in refused.stderr
