"""In-process cost of the three booking lists through the real ASGI app (middleware, thin path
or FastAPI, auth, service, store, rendering; no server, no socket): the answer cache on (every
call after the first a hit) against off (`SKILLSESSION_ANSWER_CACHE_BYTES=0`: rendered each time).

    SKILLSESSION_DATA_DIR=/tmp/d skillsession demo-data --tutors 100 --students 100 --days 30
    SKILLSESSION_DATA_DIR=/tmp/d python bench/seed_bookings.py --tutors 100 --students 100
    SKILLSESSION_DATA_DIR=/tmp/d python bench/list_cache_inproc.py

Prints one line per (route, path, cache): p50 and p90 in µs (best of the rounds) and the
answer's size. Reads only (the seed's data is left as it is)."""

from __future__ import annotations

import argparse
import asyncio
import gc
import time

from asgi_driver import call, scope_for

from skillsession import bootstrap, demo
from skillsession.http.app import create_app
from skillsession.settings import Settings

ROUTES = (
    ("tutor", "/get-pending-booking-slots", "limit=100"),
    ("tutor", "/get-teacher-bookings", "limit=100"),
    ("student", "/get-student-bookings", "limit=100"),
)


async def measure(app, spec, tokens, calls: int, rounds: int) -> tuple[float, float, int]:
    scope, body = scope_for(spec, tokens)
    status, size = await call(app, scope, body)  # warm (and fill the cache)
    assert status == 200, (spec["path"], status)
    best50 = best90 = float("inf")
    for _ in range(rounds):
        samples = []
        gc.collect()
        for _ in range(calls):
            t0 = time.perf_counter_ns()
            await call(app, scope, body)
            samples.append(time.perf_counter_ns() - t0)
        samples.sort()
        best50 = min(best50, samples[len(samples) // 2] / 1000)
        best90 = min(best90, samples[int(len(samples) * 0.9)] / 1000)
    return best50, best90, size


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    for fast in (True, False):
        for cache_bytes in (32 * 1024 * 1024, 0):
            settings = Settings(
                answer_cache_bytes=cache_bytes, fast_routes=fast, log_level="warning"
            )
            deps = bootstrap.build(settings)
            deps.stores.admin.migrate()
            people = {}
            for name, email in (("tutor", demo.tutor_email(1)), ("student", demo.student_email(1))):
                user = deps.stores.accounts.get_user_by_email(email)
                people[name] = deps.issuer.issue(user.user_id, user.email)[0]
            app = create_app(deps, run_jobs=False)
            for who, path, query in ROUTES:
                spec = {"method": "GET", "path": f"{path}?{query}", "body": None, "token": who}
                p50, p90, size = await measure(app, spec, people, args.calls, args.rounds)
                print(
                    f"{path:28} {'thin' if fast else 'FastAPI':7} "
                    f"cache {'on ' if cache_bytes else 'off'}  p50 {p50:7.1f} µs  "
                    f"p90 {p90:7.1f} µs  {size:7,} B",
                    flush=True,
                )
            deps.stores.admin.close()


if __name__ == "__main__":
    asyncio.run(main())
