"""Logins and sign-ups on one worker (issue 14): what a password costs over HTTP, and what a
flood of them does to the worker's memory and to everyone else. Figures for `make bench`, not
timed tests (bench/run.py adds them to RESULTS.md; `python bench/run.py --only logins` runs this
section alone and merges its rows into the last full run's results).

    python bench/logins.py --out logins.json [--seconds 15] [--clients 32]

Every part runs `skillsession serve --workers 1` on SQLite with the /auth/* limits as shipped
(the settings' defaults, named in the output). Clients are told apart by their socket peer, and
loopback has many addresses: each client socket is bound to its own 127.x.y.z source address.

* throughput: successful logins per second (4 clients, each connection from a fresh address
  every 50 requests, so the per-address limit never answers), as a ratio to the argon2 verify
  rate measured in this process with as many threads as the server hashes at once (3 rounds of
  each, interleaved); the worker's CPU per login against argon2's CPU per verify.
* login flood: 32 clients for `--seconds` post wrong passwords for real e-mails and unknown
  e-mails, each request from a fresh address (a botnet: no per-address limit holds it) and, in
  a second round, all from one address. Meanwhile another client (127.0.0.1) reads `GET /health`
  one request at a time, and the owner of an account logs in every 0.5 s. Reported: the answers
  by status, the worker's peak RSS (VmHWM, reset before; and VmRSS sampled every 20 ms) against
  its RSS at rest and the bound the hashing semaphore promises (at rest + hashes at once x the
  argon2 memory + slack), its RSS after, and /health p50/p99 during the flood over quiet.
* sign-up flood: the same from one address and from many; codes mailed (the .eml files the
  outbox wrote), answers by status, peak RSS.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from hostile import Served, health_latencies, reset_peak, status_kib, summary

from skillsession.adapters.auth.local import PasswordHasher
from skillsession.demo import DEMO_PASSWORD, student_email
from skillsession.service.auth_limits import SIGNUP_WINDOW_SECONDS
from skillsession.settings import Settings

SLACK_MIB = 64  # threads, sockets, allocator slack beyond the hashes themselves
THROUGHPUT_CLIENTS = 4
REQUESTS_PER_ADDRESS = 50  # under the per-address limit's 60 a window
STUDENTS = 50
HEALTH_ADDRESS = "127.0.0.1"  # the bystander; the floods come from 127.10.0.1 upwards


def shipped_limits() -> dict:
    """The /auth/* limits and the hashing bound as shipped: the settings' defaults."""
    fields = Settings.model_fields
    names = [
        "login_max_failures",
        "login_window_seconds",
        "auth_calls_per_address",
        "auth_window_seconds",
        "signups_per_address",
        "password_hashes_at_once",
        "password_hash_wait_seconds",
    ]
    limits = {name: fields[name].default for name in names}
    limits["signup_window_seconds"] = SIGNUP_WINDOW_SECONDS
    limits["argon2_memory_mib"] = PasswordHasher()._hasher.memory_cost // 1024
    return limits


class Addresses:
    """Fresh loopback source addresses, 127.10.0.1 upwards, never the same twice in a run."""

    def __init__(self):
        self._next = 0
        self._lock = threading.Lock()

    def fresh(self) -> str:
        with self._lock:
            n, self._next = self._next, self._next + 1
        return f"127.{10 + n // (254 * 256)}.{n // 254 % 256}.{n % 254 + 1}"


ADDRESSES = Addresses()


class Bound:
    """One kept-alive connection from a given source address."""

    def __init__(self, port: int, address: str, timeout: float = 30):
        self.connection = http.client.HTTPConnection(
            "127.0.0.1", port, timeout=timeout, source_address=(address, 0)
        )

    def post(self, path: str, body: dict) -> int:
        self.connection.request(
            "POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"}
        )
        response = self.connection.getresponse()
        response.read()
        return response.status

    def close(self) -> None:
        self.connection.close()


def drive(port: int, clients: int, seconds: float, request, address, per_connection: int):
    """`clients` threads for `seconds`, each POSTing `request(n, i) -> (path, body)` over
    connections from `address(n)` that carry `per_connection` requests each. Returns the
    answers by status and each answer's latency in ms."""
    statuses: Counter = Counter()
    latencies: list[float] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(n: int) -> None:
        i, mine, ms = 0, Counter(), []
        while time.monotonic() < stop:
            connection = Bound(port, address(n))
            try:
                for _ in range(per_connection):
                    if time.monotonic() >= stop:
                        break
                    path, body = request(n, i)
                    i += 1
                    began = time.perf_counter()
                    status = connection.post(path, body)
                    ms.append((time.perf_counter() - began) * 1000)
                    mine[str(status)] += 1
            except (OSError, http.client.HTTPException):
                mine["error"] += 1
            finally:
                connection.close()
        with lock:
            statuses.update(mine)
            latencies.extend(ms)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return dict(sorted(statuses.items())), latencies


class Memory:
    """The worker's RSS: VmHWM reset at `start`, VmRSS sampled every 20 ms until `stop`."""

    def __init__(self, pid: int):
        self.pid = pid
        self.samples: list[int] = []
        self._stop = threading.Event()

    def start(self) -> Memory:
        self.at_rest_kib = status_kib(self.pid, "VmRSS")
        reset_peak(self.pid)
        self._thread = threading.Thread(target=self._sample)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.samples.append(status_kib(self.pid, "VmRSS"))
            self._stop.wait(0.02)

    def stop(self) -> dict:
        self._stop.set()
        self._thread.join()
        return {
            "at_rest_mib": mib(self.at_rest_kib),
            "peak_mib": mib(status_kib(self.pid, "VmHWM")),
            "peak_sampled_mib": mib(max(self.samples)),
        }


def mib(kib: int) -> float:
    return round(kib / 1024, 1)


def cpu_seconds(pid: int) -> float:
    """utime + stime of the process, all its threads (argon2's lanes included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(ms: list[float], q: float) -> float | None:
    if not ms:
        return None
    ordered = sorted(ms)
    return round(ordered[max(0, int(len(ordered) * q) - 1)], 1)


# -- argon2 in this process ---------------------------------------------------------------------
def verify_rate(seconds: float, threads: int) -> dict:
    """argon2 verifies in `seconds` with `threads` at once (the server's semaphore), the
    project's hasher and parameters; CPU time of this process (argon2's lanes included)."""
    hasher = PasswordHasher(at_once=threads)
    password_hash = hasher.hash(DEMO_PASSWORD)
    hasher.verify(password_hash, DEMO_PASSWORD)  # warm
    counts = [0] * threads
    stop = time.monotonic() + seconds

    def work(n: int) -> None:
        while time.monotonic() < stop:
            hasher.verify(password_hash, DEMO_PASSWORD)
            counts[n] += 1

    cpu0, began = time.process_time(), time.perf_counter()
    pool = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    wall, cpu = time.perf_counter() - began, time.process_time() - cpu0
    return {"verifies": sum(counts), "wall_s": wall, "cpu_s": cpu}


# -- the parts ---------------------------------------------------------------------------------
def prepare(root: Path) -> Path:
    data = root / "data"
    data.mkdir()
    Served(data).cli("demo-data", "--tutors", "1", "--students", str(STUDENTS), "--days", "1")
    return data


def part_throughput(data: Path, seconds: float, at_once: int, rounds: int) -> dict:
    """`rounds` rounds of argon2 in this process then logins over HTTP, `seconds / rounds`
    each (interleaved, so the machine's drift hits both alike); the server idles meanwhile."""
    per_round = seconds / rounds
    inproc, http_rounds = [], []
    statuses: Counter = Counter()
    latencies: list[float] = []
    with Served(data) as server:
        pid = server.process.pid

        def login(n: int, i: int):
            email = student_email(1 + (n * 1000 + i) % STUDENTS)
            return "/auth/login", {"email": email, "password": DEMO_PASSWORD}

        def address(n: int) -> str:
            return ADDRESSES.fresh()

        drive(server.port, THROUGHPUT_CLIENTS, 1.0, login, address, REQUESTS_PER_ADDRESS)  # warm
        for _ in range(rounds):
            inproc.append(verify_rate(per_round, at_once))
            cpu0, began = cpu_seconds(pid), time.perf_counter()
            answers, ms = drive(
                server.port, THROUGHPUT_CLIENTS, per_round, login, address, REQUESTS_PER_ADDRESS
            )
            wall, cpu = time.perf_counter() - began, cpu_seconds(pid) - cpu0
            http_rounds.append({"logins": answers.get("200", 0), "wall_s": wall, "cpu_s": cpu})
            statuses.update(answers)
            latencies.extend(ms)
    ok = sum(r["logins"] for r in http_rounds)
    wall = sum(r["wall_s"] for r in http_rounds)
    per_s = ok / wall
    reference = sum(r["verifies"] for r in inproc) / sum(r["wall_s"] for r in inproc)
    argon2_cpu = sum(r["cpu_s"] for r in inproc) / sum(r["verifies"] for r in inproc) * 1000
    cpu_per_login = sum(r["cpu_s"] for r in http_rounds) / ok * 1000 if ok else None
    return {
        "clients": THROUGHPUT_CLIENTS,
        "rounds": rounds,
        "seconds": round(wall, 1),
        "statuses": dict(sorted(statuses.items())),
        "logins_per_s": round(per_s, 2),
        "p50_ms": percentile(latencies, 0.5),
        "p99_ms": percentile(latencies, 0.99),
        "argon2_threads": at_once,
        "argon2_verifies_per_s": round(reference, 2),
        "ratio_to_argon2": round(per_s / reference, 3),
        "ratio_by_round": [
            round(h["logins"] / h["wall_s"] / (i["verifies"] / i["wall_s"]), 3)
            for h, i in zip(http_rounds, inproc, strict=True)
        ],
        "worker_cpu_ms_per_login": round(cpu_per_login, 1) if cpu_per_login else None,
        "argon2_cpu_ms_per_verify": round(argon2_cpu, 1),
        "cpu_ratio_to_argon2": round(cpu_per_login / argon2_cpu, 3) if cpu_per_login else None,
    }


def flood(
    data: Path,
    *,
    kind: str,
    many_addresses: bool,
    clients: int,
    seconds: float,
    limits: dict,
    mail: bool,
) -> dict:
    """One flood of `kind` (login | signup) on a fresh server; see the module's doc."""
    mailbox = data / "mail"
    mailed_before = len(list(mailbox.glob("*.eml"))) if mailbox.exists() else 0
    tag = f"{kind}-{'many' if many_addresses else 'one'}-{random.randrange(1 << 30)}"
    served = Served(data)
    if mail:  # deliver the codes while the flood runs (hostile.py's servers deliver none)
        served.env["SKILLSESSION_OUTBOX_INTERVAL_SECONDS"] = "0.5"
    with served as server:
        pid = server.process.pid
        one = ADDRESSES.fresh()
        if many_addresses:
            per_connection = 1

            def address(n: int) -> str:
                return ADDRESSES.fresh()
        else:
            per_connection = 1_000_000

            def address(n: int) -> str:
                return one

        def request(n: int, i: int):
            if kind == "signup":
                body = {"email": f"{tag}-{n}-{i}@flood.test", "password": "flood-password-1"}
                return "/auth/signup", body
            if i % 2:  # a real account, a wrong password
                email = student_email(2 + (n + i) % (STUDENTS - 1))
                return "/auth/login", {"email": email, "password": f"wrong-{i}-password"}
            return "/auth/login", {"email": f"{tag}-{n}-{i}@flood.test", "password": "x" * 12}

        # the bystanders: /health one at a time, and the owner of student-1 logging in
        health_quiet = health_latencies(server.port, min(3.0, seconds))
        owner: Counter = Counter()
        owner_ms: list[float] = []
        stop = threading.Event()

        def owner_logs_in() -> None:
            connection = Bound(server.port, HEALTH_ADDRESS)
            body = {"email": student_email(1), "password": DEMO_PASSWORD}
            while not stop.wait(0.5):
                began = time.perf_counter()
                try:
                    owner[str(connection.post("/auth/login", body))] += 1
                except (OSError, http.client.HTTPException):
                    owner["error"] += 1
                    connection.close()
                    connection = Bound(server.port, HEALTH_ADDRESS)
                owner_ms.append((time.perf_counter() - began) * 1000)
            connection.close()

        memory = Memory(pid).start()
        cpu0 = cpu_seconds(pid)
        loaded: list[float] = []
        bystanders = [
            threading.Thread(
                target=lambda: loaded.extend(health_latencies(server.port, seconds - 0.5))
            ),
            threading.Thread(target=owner_logs_in),
        ]
        for thread in bystanders:
            thread.start()
        began = time.perf_counter()
        statuses, _ = drive(server.port, clients, seconds, request, address, per_connection)
        wall = time.perf_counter() - began
        stop.set()
        for thread in bystanders:
            thread.join()
        worker_cpu = cpu_seconds(pid) - cpu0
        rss = memory.stop()
        time.sleep(2.0)
        rss["after_mib"] = mib(status_kib(pid, "VmRSS"))
        mailed = None
        if mail:
            mailed = wait_for_mail(mailbox, mailed_before, statuses.get("201", 0))
    bound = (
        rss["at_rest_mib"]
        + limits["password_hashes_at_once"] * limits["argon2_memory_mib"]
        + SLACK_MIB
    )
    quiet, busy = summary(health_quiet), summary(loaded)
    result = {
        "kind": kind,
        "addresses": "a fresh one per request" if many_addresses else "one",
        "clients": clients,
        "seconds": round(wall, 1),
        "statuses": statuses,
        "answers_per_s": round(sum(statuses.values()) / wall, 1),
        "worker_cpu_cores": round(worker_cpu / wall, 2),
        "rss": rss,
        "rss_bound_mib": round(bound, 1),
        "rss_met": rss["peak_mib"] <= bound,
        "health_quiet": quiet,
        "health_flood": busy,
        "health_p50_ratio": round(busy["p50_ms"] / quiet["p50_ms"], 1),
        "health_p99_ratio": round(busy["p99_ms"] / quiet["p99_ms"], 1),
        "owner_logins": dict(sorted(owner.items())),
        "owner_login_p50_ms": percentile(owner_ms, 0.5),
        "owner_login_max_ms": round(max(owner_ms), 1) if owner_ms else None,
    }
    if mail:
        result["codes_mailed"] = mailed
    return result


def wait_for_mail(mailbox: Path, before: int, expected: int, patience: float = 30.0) -> int:
    """The .eml files the outbox wrote since `before`: waits until `expected` are there, or
    the count has not moved for 4 s (at most `patience` s)."""
    deadline, last, still_since = time.monotonic() + patience, -1, time.monotonic()
    while time.monotonic() < deadline:
        count = len(list(mailbox.glob("*.eml"))) - before if mailbox.exists() else 0
        if count >= expected:
            return count
        if count != last:
            last, still_since = count, time.monotonic()
        elif time.monotonic() - still_since > 4:
            return count
        time.sleep(0.25)
    return last


def run(
    seconds: float, clients: int, throughput_seconds: float, rounds: int, part: str = "all"
) -> dict:
    limits = shipped_limits()
    root = Path(tempfile.mkdtemp(prefix="skillsession-logins-"))
    try:
        data = prepare(root)
        result: dict = {"limits": limits, "slack_mib": SLACK_MIB}
        if part in ("throughput", "all"):
            at_once = limits["password_hashes_at_once"]
            result["throughput"] = part_throughput(data, throughput_seconds, at_once, rounds)
        floods = []
        for kind, many, mail in (
            ("login", True, False),
            ("login", False, False),
            ("signup", False, True),
            ("signup", True, True),
        ):
            if part not in (kind, "all"):
                continue
            floods.append(
                flood(
                    data,
                    kind=kind,
                    many_addresses=many,
                    clients=clients,
                    seconds=seconds,
                    limits=limits,
                    mail=mail,
                )
            )
            print(json.dumps(floods[-1]), file=sys.stderr, flush=True)
        result["floods"] = floods
        return result
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--seconds", type=float, default=15.0, help="each flood")
    parser.add_argument("--clients", type=int, default=32, help="flood clients")
    parser.add_argument("--throughput-seconds", type=float, default=12.0, help="all rounds")
    parser.add_argument("--rounds", type=int, default=3, help="throughput: argon2, HTTP, ...")
    parser.add_argument("--part", choices=["throughput", "login", "signup", "all"], default="all")
    args = parser.parse_args()
    result = run(args.seconds, args.clients, args.throughput_seconds, args.rounds, args.part)
    text = json.dumps(result, indent=1)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
