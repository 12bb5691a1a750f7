"""The soak: students race for few slots while tutors accept, reject and cancel, the expiry job
runs, the server is killed with SIGKILL again and again and the mail server goes away for a
while. Afterwards: `skillsession check` is clean after every restart, every acknowledged (2xx)
change is durable and never undone (the stored state of a booking is the last acknowledged one
or a state the booking machine can reach from it), every notification is delivered (at least
once, with a stable Message-ID) and none is given up on.

    python soak/run.py --seconds 300 --kills 20        # what `make soak` runs
    python soak/run.py --seconds 20 --kills 3 --json   # the bounded version CI runs
    python soak/run.py --shape dynamodb ...            # the AWS shape's store and media

`--shape dynamodb` runs the same load on the AWS shape's storage: the server workers keep their
data in a DynamoDB table and an S3 bucket of moto's server (tests/contract/moto_server.py,
in a process of its own so that the load's threads do not share its interpreter; on loopback,
with dummy credentials), so the workers' requests, the in-process expiry job and
outbox delivery race through the table's conditions; mail still goes over SMTP, so that what
arrives can be counted (SES/SNS delivery failures are tested in tests/aws).

Traffic goes to 127.0.0.1 only, bounded in time and count."""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from e2e.server import ReservedPort, Server, run_cli  # noqa: E402
from skillsession.demo import DEMO_PASSWORD, student_email, tutor_email  # noqa: E402
from smtp_server import SmtpTestServer  # noqa: E402

# the booking state machine (API.md): where each state may go next
NEXT = {
    "pending": {"accepted", "rejected", "cancelled", "expired"},
    "accepted": {"cancelled", "completed"},
}


def reachable(status: str) -> set[str]:
    """`status` and every state a booking in it can come to."""
    seen, todo = {status}, [status]
    while todo:
        for after in NEXT.get(todo.pop(), ()):
            if after not in seen:
                seen.add(after)
                todo.append(after)
    return seen


def undone(acknowledged: set[str], stored: str) -> bool:
    """The stored state is not one the booking can be in after every acknowledged state: an
    acknowledged change was lost or reverted (an accept back to pending, say). Independent of
    the order in which the answers arrived."""
    return any(stored not in reachable(status) for status in acknowledged)


class Soak:
    def __init__(self, args, data_dir: Path):
        self.args = args
        self.data_dir = data_dir
        self.smtp = SmtpTestServer().start()  # binds a free port itself
        self.smtp_port = self.smtp.port
        self.moto: subprocess.Popen | None = None
        self.server = Server(
            data_dir,
            **self.storage(args.shape),
            workers=args.workers,
            SKILLSESSION_MAIL=f"smtp://127.0.0.1:{self.smtp_port}?timeout=2",
            SKILLSESSION_EXPIRY_INTERVAL_SECONDS="1",
            SKILLSESSION_OUTBOX_INTERVAL_SECONDS="0.2",
            SKILLSESSION_LOGIN_MAX_FAILURES="1000",
            SKILLSESSION_AUTH_CALLS_PER_ADDRESS="0",  # every soak client calls from 127.0.0.1
            SKILLSESSION_SIGNUPS_PER_ADDRESS="0",
            SKILLSESSION_PASSWORD_HASH_WAIT_SECONDS="120",
            SKILLSESSION_OUTBOX_LEASE_SECONDS="10",  # a killed worker's claims come back soon
        )
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.acknowledged: dict[str, set[str]] = {}  # booking id -> every status a 2xx told
        self.stats = Counter()

    # -- setup ------------------------------------------------------------------------------
    def storage(self, shape: str) -> dict[str, str]:
        """The server's store and media settings: SQLite and disk, or DynamoDB and S3 on moto."""
        if shape == "sqlite":
            return {}
        contract = Path(__file__).resolve().parent.parent / "tests" / "contract"
        code = (
            f"import sys; sys.path.insert(0, {str(contract)!r}); import moto_server; "
            "print(moto_server.endpoint_url(), flush=True); import os; "
            "os.dup2(os.open(os.devnull, os.O_WRONLY), 1); sys.stdin.read(); os._exit(0)"
        )  # once the URL is out, nothing more may fill the pipe nobody reads
        self.moto = subprocess.Popen(
            [sys.executable, "-c", code],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=(self.data_dir / "moto.log").open("ab"),
            text=True,
        )
        url = self.moto.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), url
        credentials = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
        os.environ.update(credentials)  # this process reads the table at the end
        aws = f"region=eu-west-1&endpoint_url={url}"
        name = f"soak-{int(time.time())}"
        return {
            **credentials,
            "AWS_DEFAULT_REGION": "eu-west-1",
            "SKILLSESSION_STORE": f"dynamodb://{name}?{aws}",
            "SKILLSESSION_MEDIA": f"s3://{name}-media/media?{aws}",
        }

    def setup(self) -> None:
        a = self.args
        run_cli(self.data_dir, "migrate", env=self.server.env)
        run_cli(
            self.data_dir,
            "demo-data",
            "--tutors",
            str(a.tutors),
            "--students",
            str(a.students),
            "--days",
            "1",
            env=self.server.env,
        )
        self.server.start()
        base = self.server.base_url
        self.tutors = [self.login(tutor_email(i)) for i in range(1, a.tutors + 1)]
        self.students = [self.login(student_email(i)) for i in range(1, a.students + 1)]
        for headers in self.tutors + self.students:
            assert (
                httpx.get(f"{base}/subscribe-email-notifications", headers=headers).status_code
                == 200
            )
        self.confirm_subscriptions()
        self.tutor_ids = []
        for headers in self.tutors:
            me = httpx.post(
                f"{base}/get-user-profiles-and-teacher-search", json={}, headers=headers
            )
            self.tutor_ids.append(me.json()["profile"]["user_id"])

    def login(self, email: str) -> dict:
        r = httpx.post(
            f"{self.server.base_url}/auth/login", json={"email": email, "password": DEMO_PASSWORD}
        )
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    def confirm_subscriptions(self) -> None:
        wanted = len(self.tutors) + len(self.students)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            links = [
                m.get_body(("plain",)).get_content()
                for m in self.smtp.messages
                if "onfirm your subscription" in str(m["Subject"])
            ]
            if len(links) >= wanted:
                break
            time.sleep(0.2)
        for text in links:
            path = text[text.index("/confirm-subscription") :].split()[0]
            assert httpx.post(self.server.base_url + path).status_code == 200

    # -- load ---------------------------------------------------------------------------------
    def call(self, method: str, path: str, headers: dict, **kwargs):
        try:
            r = httpx.request(
                method, self.server.base_url + path, headers=headers, timeout=15, **kwargs
            )
        except httpx.HTTPError:
            self.stats["connection_errors"] += 1  # the server is down (being killed): retry later
            time.sleep(0.2)
            return None
        self.stats["operations"] += 1  # answered requests
        if r.status_code >= 500:
            self.stats["5xx"] += 1
        return r

    def remember(self, r) -> None:
        if r is not None and r.status_code in (200, 201):
            booking = r.json()["booking"]
            with self.lock:
                told = self.acknowledged.setdefault(booking["booking_id"], set())
                told.add(booking["booking_status"])
                self.stats["acknowledged"] += 1

    def student(self, headers: dict, rng: random.Random) -> None:
        while not self.stop.is_set():
            tutor_id = rng.choice(self.tutor_ids)
            r = self.call("POST", "/get-teacher-slots", headers, json={"tutor_id": tutor_id})
            if r is None or r.status_code != 200 or not r.json()["slots"]:
                continue
            slot = rng.choice(r.json()["slots"][:3])  # few slots: real races
            r = self.call(
                "POST", "/create-booking-request", headers, json={"slot_id": slot["slot_id"]}
            )
            self.remember(r)
            if rng.random() < 0.2:
                mine = self.call(
                    "GET", "/get-student-bookings", headers, params={"status": "accepted"}
                )
                if mine is not None and mine.status_code == 200 and mine.json()["bookings"]:
                    b = rng.choice(mine.json()["bookings"])
                    self.remember(
                        self.call(
                            "POST", "/cancel-booking", headers, json={"booking_id": b["booking_id"]}
                        )
                    )

    def tutor(self, headers: dict, rng: random.Random) -> None:
        while not self.stop.is_set():
            r = self.call("GET", "/get-pending-booking-slots", headers)
            if r is None or r.status_code != 200:
                continue
            for b in r.json()["bookings"][:5]:
                action = "accept" if rng.random() < 0.6 else "reject"
                self.remember(
                    self.call(
                        "POST",
                        "/process-booking-response",
                        headers,
                        json={"booking_id": b["booking_id"], "action": action},
                    )
                )
            if rng.random() < 0.3:
                mine = self.call(
                    "GET", "/get-teacher-bookings", headers, params={"status": "accepted"}
                )
                if mine is not None and mine.status_code == 200 and mine.json()["bookings"]:
                    b = rng.choice(mine.json()["bookings"])
                    self.remember(
                        self.call(
                            "POST", "/cancel-booking", headers, json={"booking_id": b["booking_id"]}
                        )
                    )
            time.sleep(0.02)

    # -- faults -------------------------------------------------------------------------------
    def killer(self) -> None:
        a = self.args
        pause = a.seconds / (a.kills + 1)
        began = time.monotonic()
        # On a fixed schedule, whatever a restart costs; the load goes on until every kill is
        # done, so a slow restart on a busy machine makes the run longer, never a kill fewer.
        for i in range(a.kills):
            time.sleep(max(0.0, began + (i + 1) * pause - time.monotonic()))
            self.server.kill()
            self.stats["kills"] += 1
            check = run_cli(self.data_dir, "check", env=self.server.env, check=False)
            if check.returncode != 0:
                self.stats["violations"] += len(check.stdout.splitlines())
                print(check.stdout, file=sys.stderr)
            self.restart()

    def restart(self, tries: int = 3) -> None:
        """Start the server again; on a crowded machine a start can take long, which is not
        what the soak is about: it waits up to 2 minutes, and tries again."""
        self.server.start_seconds = 120
        for attempt in range(tries):
            try:
                self.server.start()
                return
            except RuntimeError:
                self.stats["slow_restarts"] += 1
                if attempt == tries - 1:
                    raise

    def mail_outage(self) -> None:
        if self.stop.wait(self.args.seconds * 0.3):
            return
        self.smtp.stop()
        reserved = ReservedPort(self.smtp_port)  # while it is down, no other process takes it
        self.stats["mail_outage_seconds"] = round(self.args.seconds * 0.2)
        self.stop.wait(self.args.seconds * 0.2)
        self.earlier_mail = self.smtp.received  # what arrived before the outage
        self.smtp = SmtpTestServer(port=self.smtp_port).start()
        reserved.release()

    # -- the run ------------------------------------------------------------------------------
    def run(self) -> dict:
        self.earlier_mail = []
        self.setup()
        threads = [
            threading.Thread(target=self.student, args=(h, random.Random(i)))
            for i, h in enumerate(self.students)
        ]
        threads += [
            threading.Thread(target=self.tutor, args=(h, random.Random(100 + i)))
            for i, h in enumerate(self.tutors)
        ]
        killer = threading.Thread(target=self.killer)
        threads += [killer, threading.Thread(target=self.mail_outage)]
        started = time.monotonic()
        for t in threads:
            t.start()
        time.sleep(self.args.seconds)
        killer.join()
        self.stop.set()
        for t in threads:
            t.join()
        self.drain_mail()
        self.server.stop()
        final = run_cli(self.data_dir, "check", env=self.server.env, check=False)
        if final.returncode != 0:
            self.stats["violations"] += len(final.stdout.splitlines())
        summary = {"shape": self.args.shape, **self.verify()}
        summary["seconds"] = round(time.monotonic() - started, 1)
        self.smtp.stop()
        if self.moto is not None:
            self.moto.stdin.close()
            self.moto.wait(timeout=30)
        return summary

    def stored(self) -> tuple[dict[str, str], dict[str, str]]:
        """Every booking's status and every notification's, read from the store itself."""
        if self.args.shape == "sqlite":
            db = sqlite3.connect(self.data_dir / "skillsession.db")
            bookings = dict(db.execute("SELECT booking_id, booking_status FROM bookings"))
            notes = dict(db.execute("SELECT notification_id, status FROM notifications"))
            db.close()
            return bookings, notes
        from skillsession.adapters.store.dynamodb import open_store
        from skillsession.adapters.store.dynamodb.items import decode

        store = open_store(self.server.env["SKILLSESSION_STORE"])
        bookings, notes = {}, {}
        scan = store.admin.client.get_paginator("scan")
        for page in scan.paginate(TableName=store.admin.table):
            for item in map(decode, page["Items"]):
                if item["SK"] == "BOOKING":
                    bookings[item["booking_id"]] = item["booking_status"]
                elif item["SK"] == "NOTE":
                    notes[item["notification_id"]] = item["status"]
        store.admin.close()
        return bookings, notes

    def drain_mail(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            # retries back off; outbox delivery is due again within the backoff window
            _, notes = self.stored()
            if "pending" not in notes.values():
                break
            time.sleep(0.5)

    def verify(self) -> dict:
        stored, notes = self.stored()
        lost = [b for b in self.acknowledged if b not in stored]
        undone_changes = [
            b for b, told in self.acknowledged.items() if b in stored and undone(told, stored[b])
        ]
        for b in undone_changes[:5]:
            print(
                f"booking {b}: acknowledged {self.acknowledged[b]}, stored {stored[b]}",
                file=sys.stderr,
            )
        received = Counter()
        for mail in list(self.earlier_mail) + list(self.smtp.received):
            mid = str(mail.message["Message-ID"]).strip("<>").split("@")[0]
            received[mid] += 1
        sent = [n for n, s in notes.items() if s == "sent"]
        return {
            **self.stats,
            "durability_violations": len(lost),
            "state_violations": len(undone_changes),
            "notifications": len(notes),
            "mails_sent": len(sent),
            "mails_skipped": sum(1 for s in notes.values() if s == "skipped"),
            "mails_failed": sum(1 for s in notes.values() if s == "failed"),
            "mails_still_pending": sum(1 for s in notes.values() if s == "pending"),
            "mails_lost": sum(1 for n in sent if received[n] == 0),
            "mails_duplicated": sum(1 for n in sent if received[n] > 1),
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--tutors", type=int, default=4)
    parser.add_argument("--students", type=int, default=24)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--shape", choices=["sqlite", "dynamodb"], default="sqlite")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="skillsession-soak-") as tmp:
        summary = Soak(args, Path(tmp)).run()
    if args.json:
        print(json.dumps(summary))
    else:
        for key, value in summary.items():
            print(f"{key:>24}: {value}")
    bad = summary.get("violations", 0) + summary.get("5xx", 0) + summary["durability_violations"]
    bad += summary["state_violations"] + summary["mails_failed"]
    bad += summary["mails_lost"] + summary["mails_still_pending"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
