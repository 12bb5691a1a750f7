"""Hostile load on one worker (issue 11, items 8 and 15): what an attacker's requests cost the
others. Not timed tests: figures for `make bench` (bench/run.py adds them to RESULTS.md).

    python bench/hostile.py --out hostile.json [--part images|slots|all]

* images: peak RSS (VmHWM, reset before each round) of a one-worker `skillsession serve` while
  16 uploads of one worst-case image run at once, for each kind of worst case within the
  service's bounds (a 4096 x 4096 lossless WebP with alpha, a PNG with alpha, a progressive
  JPEG; and the 6300 x 6300 PNG that used to cost ~400 MB each). Target: under 512 MiB.
* slots: p50/p99 of `GET /health` on a one-worker server, alone and while 4 clients read
  92 days of a tutor with 100 all-day windows of 15-minute slots, each read in a different
  `time_zone` (so the slot cache does not answer).
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

BIN = Path(sys.executable).parent
SKILLSESSION = str(BIN / "skillsession")
RSS_LIMIT_MIB = 512
UPLOADS = 16


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    """One kept-alive HTTP/1.1 connection (the standard library's: `make bench` installs the
    package without the test tools)."""

    def __init__(self, port: int, timeout: float = 120):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def request(self, method: str, path: str, body=None, headers=None) -> tuple[int, bytes]:
        headers = dict(headers or {})
        if body is not None and not isinstance(body, bytes):
            body = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        return response.status, response.read()

    def close(self) -> None:
        self.connection.close()


def status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def reset_peak(pid: int) -> None:
    """Set VmHWM back to the current RSS (Linux: `5` to clear_refs)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


class Served:
    """`skillsession serve --workers 1` on a data dir: one process, which is the worker."""

    def __init__(self, data_dir: Path, **env: str):
        self.data_dir = data_dir
        self.port = free_port()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("SKILLSESSION_")}
        self.env.update(
            SKILLSESSION_DATA_DIR=str(data_dir),
            SKILLSESSION_EXPIRY_INTERVAL_SECONDS="0",
            SKILLSESSION_OUTBOX_INTERVAL_SECONDS="0",
            **env,
        )

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [SKILLSESSION, *args], env=self.env, capture_output=True, text=True, check=True
        )
        return done.stdout.strip()

    def __enter__(self) -> Served:
        log = (self.data_dir / "server.log").open("ab")
        self.process = subprocess.Popen(
            [SKILLSESSION, "serve", "--port", str(self.port), "--workers", "1"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                client = Client(self.port, timeout=1)
                if client.request("GET", "/health")[0] == 200:
                    client.close()
                    return self
            except OSError:
                time.sleep(0.1)
        raise SystemExit("the server did not start")

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        self.process.wait(15)


# -- images -------------------------------------------------------------------------------------
def worst_images() -> dict[str, tuple[bytes, str]]:
    from PIL import Image

    def encode(img, fmt, **params) -> bytes:
        out = io.BytesIO()
        img.save(out, fmt, **params)
        return out.getvalue()

    side = 4096
    return {
        "webp-lossless-rgba-4096": (
            encode(Image.new("RGBA", (side, side), (1, 2, 3, 4)), "WEBP", lossless=True),
            "image/webp",
        ),
        "png-rgba-4096": (
            encode(Image.new("RGBA", (side, side), (1, 2, 3, 4)), "PNG", compress_level=9),
            "image/png",
        ),
        "jpeg-progressive-4096": (
            encode(Image.new("RGB", (side, side), "teal"), "JPEG", progressive=True, quality=30),
            "image/jpeg",
        ),
        "png-rgba-6300 (the old worst case)": (
            encode(Image.new("RGBA", (6300, 6300), (1, 2, 3, 4)), "PNG", compress_level=9),
            "image/png",
        ),
    }


def bench_images() -> dict:
    images = worst_images()
    with tempfile.TemporaryDirectory(prefix="skillsession-hostile-") as tmp:
        server = Served(Path(tmp))
        server.cli("demo-data", "--tutors", "1", "--students", "1", "--days", "1")
        from skillsession.demo import student_email

        token = server.cli("token", student_email(1))
        headers = {"Authorization": f"Bearer {token}"}
        with server:
            pid = server.process.pid
            baseline = status_kib(pid, "VmRSS")
            rounds = []
            for name, (data, content_type) in images.items():
                reset_peak(pid)
                began = time.perf_counter()

                def upload(_, data=data, content_type=content_type) -> int:
                    client = Client(server.port)
                    status, _ = client.request(
                        "PUT",
                        "/save-profile-img",
                        data,
                        {**headers, "Content-Type": content_type},
                    )
                    client.close()
                    return status

                with ThreadPoolExecutor(UPLOADS) as pool:
                    statuses = list(pool.map(upload, range(UPLOADS)))
                rounds.append(
                    {
                        "image": name,
                        "upload_kib": len(data) // 1024,
                        "peak_rss_mib": round(status_kib(pid, "VmHWM") / 1024, 1),
                        "statuses": {str(s): statuses.count(s) for s in sorted(set(statuses))},
                        "wall_s": round(time.perf_counter() - began, 2),
                    }
                )
    peak = max(r["peak_rss_mib"] for r in rounds)
    return {
        "uploads_at_once": UPLOADS,
        "baseline_rss_mib": round(baseline / 1024, 1),
        "rounds": rounds,
        "peak_rss_mib": peak,
        "limit_mib": RSS_LIMIT_MIB,
        "met": peak < RSS_LIMIT_MIB,
    }


# -- heavy slot reads ----------------------------------------------------------------------------
READERS = 4
ZONES = [
    "Europe/Berlin",
    "America/Halifax",
    "Asia/Tokyo",
    "Australia/Sydney",
    "America/St_Johns",
    "Asia/Kathmandu",
    "Pacific/Kiritimati",
    "Etc/GMT+12",
    "Africa/Cairo",
    "America/Santiago",
]


def health_latencies(port: int, seconds: float) -> list[float]:
    """Sequential /health requests on one kept-alive connection for `seconds`: ms each."""
    out = []
    client = Client(port, timeout=30)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        began = time.perf_counter()
        client.request("GET", "/health")
        out.append((time.perf_counter() - began) * 1000)
        time.sleep(0.005)
    client.close()
    return out


def summary(ms: list[float]) -> dict:
    ordered = sorted(ms)
    return {
        "requests": len(ms),
        "p50_ms": round(statistics.median(ordered), 2),
        "p99_ms": round(ordered[max(0, int(len(ordered) * 0.99) - 1)], 2),
        "max_ms": round(ordered[-1], 2),
    }


def bench_slots(seconds: float = 8.0) -> dict:
    with tempfile.TemporaryDirectory(prefix="skillsession-hostile-") as tmp:
        server = Served(Path(tmp))
        server.cli("demo-data", "--tutors", "1", "--students", "1", "--days", "1")
        from skillsession.demo import student_email, tutor_email

        tutor = {"Authorization": f"Bearer {server.cli('token', tutor_email(1))}"}
        student = {"Authorization": f"Bearer {server.cli('token', student_email(1))}"}
        with server:
            client = Client(server.port)
            _, profile = client.request("POST", "/get-user-profiles-and-teacher-search", {}, tutor)
            tutor_id = json.loads(profile)["profile"]["user_id"]
            windows = published = 0
            day = datetime.now(UTC).date() + timedelta(days=2)
            for i in range(100):  # all-day windows of 15-minute slots, one request each
                window = {
                    "date": (day + timedelta(days=i)).isoformat(),
                    "start_time": "00:00",
                    "end_time": "24:00",
                    "time_zone": "UTC",
                    "slot_minutes": 15,
                }
                status, answer = client.request("POST", "/create-availability", window, tutor)
                if status == 201:
                    windows += 1
                    published += len(json.loads(answer)["slots"])
            client.close()
            alone = health_latencies(server.port, seconds / 2)
            stop = threading.Event()
            reads = {"answers": 0, "slots": 0, "bytes": 0, "statuses": {}}
            lock = threading.Lock()

            def reader(n: int) -> None:
                client, i = Client(server.port, timeout=60), n
                while not stop.is_set():
                    body = {
                        "tutor_id": tutor_id,
                        "from_date": day.isoformat(),
                        "to_date": (day + timedelta(days=92)).isoformat(),
                        "time_zone": ZONES[i % len(ZONES)],
                    }
                    i += READERS
                    status, answer = client.request("POST", "/get-teacher-slots", body, student)
                    with lock:
                        reads["answers"] += 1
                        reads["bytes"] += len(answer)
                        if status == 200:
                            reads["slots"] += len(json.loads(answer)["slots"])
                        key = str(status)
                        reads["statuses"][key] = reads["statuses"].get(key, 0) + 1
                client.close()

            threads = [threading.Thread(target=reader, args=(n,)) for n in range(READERS)]
            for thread in threads:
                thread.start()
            time.sleep(0.5)
            loaded = health_latencies(server.port, seconds)
            stop.set()
            for thread in threads:
                thread.join()
    answers = max(1, reads["answers"])
    return {
        "windows": windows,
        "slots_published": published,
        "readers": READERS,
        "health_alone": summary(alone),
        "health_under_readers": summary(loaded),
        "reads": {
            **reads,
            "slots_per_answer": round(reads["slots"] / answers),
            "kib_per_answer": round(reads["bytes"] / answers / 1024, 1),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--part", choices=["images", "slots", "all"], default="all")
    args = parser.parse_args()
    result = {}
    if args.part in ("images", "all"):
        result["images"] = bench_images()
    if args.part in ("slots", "all"):
        result["slots"] = bench_slots()
    text = json.dumps(result, indent=1)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
