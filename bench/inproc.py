"""In-process measurements over one data dir (no HTTP, no sockets), for bench/run.py:

* server time of get-teacher-slots for a tutor's next 30 days: the service function
  `skillsession.service.availability.tutor_slots` plus `skillsession.http.views.slot` for every
  slot (p50 of many calls), and its parts (query, views, orjson);
* every benchmarked endpoint called through the real ASGI app in-process (FastAPI, middleware,
  validation, auth dependency, service, store, orjson; no uvicorn, no socket);
* the SQL each endpoint runs (recorded at the connection, with its parameters) and SQLite's
  EXPLAIN QUERY PLAN of each distinct statement;
* the slot lists the write benchmarks walk.

    python bench/inproc.py --data-dir bench/out/small --tokens tokens.json --out inproc.json

Reads `--tokens` (JSON: name -> bearer token, from `skillsession token`) and writes JSON."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import sys
import time
import zlib
from datetime import timedelta
from pathlib import Path

import orjson


def percentiles(samples_ns: list[int]) -> dict:
    samples = sorted(samples_ns)
    n = len(samples)

    def at(q: float) -> float:
        return round(samples[min(n - 1, int(q * n))] / 1000, 1)

    return {
        "n": n,
        "p50_us": at(0.50),
        "p90_us": at(0.90),
        "p99_us": at(0.99),
        "mean_us": round(statistics.fmean(samples) / 1000, 1),
    }


def time_calls(fn, n: int, warm: int = 30, budget_s: float = 1.0) -> dict:
    """p50/p90/p99 of up to n calls, stopping early after `budget_s` (at least 100 calls)."""
    for _ in range(warm):
        fn()
    samples = []
    clock = time.perf_counter_ns
    deadline = clock() + int(budget_s * 1e9)
    for i in range(n):
        t0 = clock()
        fn()
        t1 = clock()
        samples.append(t1 - t0)
        if t1 > deadline and i >= 100:
            break
    return percentiles(samples)


class RecordingConnection:
    """Stands in for the store's sqlite3 connection: records (sql, params), then delegates."""

    def __init__(self, conn):
        self._conn = conn
        self.statements: list[tuple[str, tuple]] = []

    def execute(self, sql, params=()):
        self.statements.append((sql, tuple(params)))
        return self._conn.execute(sql, params)

    def executemany(self, sql, rows):
        self.statements.append((sql, ()))
        return self._conn.executemany(sql, rows)

    def __getattr__(self, name):
        return getattr(self._conn, name)


def explain(conn, sql: str, params: tuple) -> list[str]:
    rows = conn.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
    depth: dict[int, int] = {0: 0}
    out = []
    for node, parent, _, detail in rows:
        depth[node] = depth.get(parent, 0) + 1
        out.append("  " * (depth[node] - 1) + detail)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--tokens", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--slots-dir", help="write the write benchmarks' slot lists here")
    parser.add_argument("--slot-plan", help="JSON: list name -> [first tutor, last tutor, max]")
    args = parser.parse_args()
    os.environ["SKILLSESSION_DATA_DIR"] = str(Path(args.data_dir).resolve())
    os.environ.setdefault("SKILLSESSION_LOG_LEVEL", "warning")

    import uvloop

    from skillsession import bootstrap, demo
    from skillsession.domain.model import SlotStatus
    from skillsession.http import views
    from skillsession.http.app import create_app
    from skillsession.ports import Identity
    from skillsession.service import availability, bookings, profiles
    from skillsession.service.availability import SlotQuery
    from skillsession.settings import Settings

    tokens = json.loads(Path(args.tokens).read_text())
    deps = bootstrap.build(Settings())
    deps.stores.admin.migrate()
    store = deps.stores

    def ident(email: str) -> Identity:
        user = store.accounts.get_user_by_email(email)
        return Identity(user.user_id, user.email)

    student = ident(demo.student_email(1))
    busy = ident(demo.tutor_email(1))
    typical = ident(demo.tutor_email(2))
    out: dict = {
        "ids": {"student_1": student.user_id, "tutor_1": busy.user_id, "tutor_2": typical.user_id}
    }

    # -- the requests the benchmark sends (run.py reuses these for wrk) ----------------------
    skill_1, skills_2 = "Python", ["Python", "Statistics"]
    requests = {
        "health": {"method": "GET", "path": "/health", "body": None, "token": None},
        "get-teacher-slots": {
            "method": "POST",
            "path": "/get-teacher-slots",
            "body": {"tutor_id": typical.user_id},
            "token": "student",
        },
        "search-1-skill": {
            "method": "POST",
            "path": "/get-user-profiles-and-teacher-search",
            "body": {"skill": skill_1},
            "token": "student",
        },
        "search-2-skills": {
            "method": "POST",
            "path": "/get-user-profiles-and-teacher-search",
            "body": {"skills": skills_2},
            "token": "student",
        },
        "get-pending-booking-slots": {
            "method": "GET",
            "path": "/get-pending-booking-slots?limit=100",
            "body": None,
            "token": "busy_tutor",
        },
        "get-teacher-bookings": {
            "method": "GET",
            "path": "/get-teacher-bookings?limit=100",
            "body": None,
            "token": "busy_tutor",
        },
    }
    out["requests"] = requests

    # -- server time of get-teacher-slots (service + views), and its parts -----------------
    query = SlotQuery(tutor_id=typical.user_id)

    def slots_service_and_views():
        slots, tz = availability.tutor_slots(deps, student, query)
        return [views.slot(s, tz) for s in slots]

    slots, tz = availability.tutor_slots(deps, student, query)
    now = deps.now()
    rendered = [views.slot(s, tz) for s in slots]
    start, end = slots[0].start, slots[-1].start + timedelta(seconds=1)
    server = {
        "slots_returned": len(slots),
        "tutor": "tutor-2 (typical), viewed by student-1, default range (30 days from today)",
        "service_and_views": time_calls(slots_service_and_views, args.calls),
        "parts": {
            "tutor_slots (service: 2 profile reads + slot query + rows)": time_calls(
                lambda: availability.tutor_slots(deps, student, query), args.calls
            ),
            "store.slots_for_tutor (query + row objects)": time_calls(
                lambda: store.slots.slots_for_tutor(
                    typical.user_id, start, end, SlotStatus.AVAILABLE
                ),
                args.calls,
            ),
            "sqlite only (fetchall of the same SELECT)": time_calls(
                lambda: store.admin.database.conn.execute(
                    "SELECT slot_id FROM slots WHERE tutor_id = ? AND start >= ? AND start < ? "
                    "AND slot_status = 'available' ORDER BY start, slot_id",
                    (typical.user_id, int(start.timestamp()), int(end.timestamp())),
                ).fetchall(),
                args.calls,
            ),
            "store.get_profile": time_calls(
                lambda: store.profiles.get_profile(typical.user_id), args.calls
            ),
            "views.slot x all": time_calls(lambda: [views.slot(s, tz) for s in slots], args.calls),
            "orjson.dumps": time_calls(lambda: orjson.dumps({"slots": rendered}), args.calls),
            "token verify (cached)": time_calls(
                lambda: deps.verifier.verify(tokens["student"]), args.calls
            ),
        },
        "response_bytes": len(orjson.dumps({"slots": rendered})),
    }
    busy_query = SlotQuery(tutor_id=busy.user_id)

    def busy_service_and_views():
        slots, tz = availability.tutor_slots(deps, student, busy_query)
        return [views.slot(s, tz) for s in slots]

    server["busy_tutor_service_and_views"] = time_calls(busy_service_and_views, args.calls)
    out["server_time_get_teacher_slots"] = server

    def search(*args):  # the service's search, uncached: checks, then the page
        return profiles.read_search(deps, profiles.resolve_search(deps, *args))

    # service-level time of the other reads (no HTTP), with the result sizes
    service_reads = {
        "search-1-skill": lambda: search(student, [skill_1], None, None, 50, None),
        "search-2-skills": lambda: search(student, skills_2, None, None, 50, None),
        "get-pending-booking-slots": lambda: bookings.pending(deps, busy, 100, None),
        "get-teacher-bookings": lambda: bookings.for_role(
            deps, busy, demo_role_tutor(), bookings.BookingQuery(limit=100)
        ),
    }
    sizes = {
        "search-1-skill": len(service_reads["search-1-skill"]()[0]),
        "search-2-skills": len(service_reads["search-2-skills"]()[0]),
        "get-pending-booking-slots": len(service_reads["get-pending-booking-slots"]().bookings),
        "get-teacher-bookings": len(service_reads["get-teacher-bookings"]().bookings),
        "get-teacher-slots": len(slots),
    }
    out["items"] = sizes
    out["service_time"] = {
        name: time_calls(fn, max(200, args.calls // 4)) for name, fn in service_reads.items()
    }
    out["service_time"]["get-teacher-slots"] = server["service_and_views"]
    # the same search at an equal result size on every data set (a page of 3)
    out["service_time_equal_page"] = {
        "search-1-skill (page of 3)": time_calls(
            lambda: search(student, [skill_1], None, None, 3, None), 500
        ),
        "search-2-skills (page of 3)": time_calls(
            lambda: search(student, skills_2, None, None, 3, None), 500
        ),
    }

    # -- every endpoint through the ASGI app, in-process -----------------------------------
    app = create_app(deps, run_jobs=False)
    bearer = {"student": tokens["student"], "busy_tutor": tokens["busy_tutor"]}

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from asgi_driver import call, scope_for
    from bare_app import app as bare_app

    async def time_asgi(target, spec: dict, n: int, budget_s: float = 1.0) -> dict:
        scope, body = scope_for(spec, bearer)
        status, size = await call(target, scope, body)
        for _ in range(30):
            await call(target, scope, body)
        samples = []
        clock = time.perf_counter_ns
        deadline = clock() + int(budget_s * 1e9)
        for i in range(n):
            t0 = clock()
            await call(target, scope, body)
            t1 = clock()
            samples.append(t1 - t0)
            if t1 > deadline and i >= 100:
                break
        return {"status": status, "bytes": size, **percentiles(samples)}

    # framework floors: the smallest Starlette and FastAPI apps answering the same JSON
    from fastapi import FastAPI
    from starlette.applications import Starlette
    from starlette.routing import Route

    from skillsession.http.responses import OrjsonResponse

    async def starlette_route(request):
        return OrjsonResponse({"status": "ok"})

    async def fastapi_route():
        return OrjsonResponse({"status": "ok"})

    starlette_hello = Starlette(routes=[Route("/", starlette_route)])
    fastapi_hello = FastAPI()
    fastapi_hello.get("/")(fastapi_route)
    root = {"method": "GET", "path": "/", "body": None, "token": None}

    async def all_asgi() -> dict:
        result = {
            "bare ASGI app": await time_asgi(bare_app, root, args.calls),
            "Starlette hello (reference)": await time_asgi(starlette_hello, root, args.calls),
            "FastAPI hello (reference)": await time_asgi(fastapi_hello, root, args.calls),
        }
        for name, spec in requests.items():
            result[name] = await time_asgi(app, spec, max(300, args.calls // 2))
        return result

    uvloop.install()
    out["asgi_in_process"] = asyncio.run(all_asgi())

    # -- the SQL of each endpoint, and its query plans -------------------------------------
    database = store.admin.database  # the SQLite roles' shared database
    real = database.conn
    recorder = RecordingConnection(real)
    database._local.conn = recorder  # the roles' per-thread connection, for this thread
    plans: dict[str, list] = {}

    def record(name: str, fn) -> None:
        recorder.statements.clear()
        fn()
        seen = []
        for sql, params in recorder.statements:
            head = sql.lstrip().split(None, 1)[0].upper()
            entry = {"sql": " ".join(sql.split()), "params": [str(p)[:40] for p in params]}
            if head in ("SELECT", "UPDATE", "DELETE", "WITH"):
                entry["plan"] = explain(real, sql, params)
            seen.append(entry)
        plans[name] = seen

    record("get-teacher-slots", slots_service_and_views)
    record("search-1-skill", service_reads["search-1-skill"])
    record("search-2-skills", service_reads["search-2-skills"])
    record("get-pending-booking-slots", service_reads["get-pending-booking-slots"])
    record("get-teacher-bookings", service_reads["get-teacher-bookings"])
    # the write path, on one slot of the last tutor (not used by any other measurement)
    last = ident(demo.tutor_email(int(os.environ.get("BENCH_LAST_TUTOR", "100"))))
    free = store.slots.slots_for_tutor(
        last.user_id, now + timedelta(hours=3), now + timedelta(days=40), SlotStatus.AVAILABLE
    )
    if free:
        made = {}
        record(
            "create-booking-request",
            lambda: made.setdefault(
                "b", bookings.request(deps, student, free[-1].slot_id, None, None)
            ),
        )
        record(
            "process-booking-response (accept)",
            lambda: bookings.respond(deps, last, made["b"].booking.booking_id, "accept", None),
        )
    database._local.conn = real
    out["queries"] = plans

    # -- the write benchmarks' slot lists ---------------------------------------------------
    if args.slots_dir and args.slot_plan:
        plan = json.loads(args.slot_plan)
        target = Path(args.slots_dir)
        target.mkdir(parents=True, exist_ok=True)
        lists = {}
        for name, (first, last_number, cap) in plan.items():
            lines, tutors = [], {}
            for i in range(first, last_number + 1):
                tutor = store.accounts.get_user_by_email(demo.tutor_email(i))
                if tutor is None:
                    break
                tutors[tutor.user_id] = demo.tutor_email(i)
                for s in store.slots.slots_for_tutor(
                    tutor.user_id,
                    now + timedelta(hours=3),  # not due for expiry during the run
                    now + timedelta(days=40),
                    SlotStatus.AVAILABLE,
                ):
                    lines.append(f"{s.slot_id} {s.tutor_id}")
                if len(lines) >= cap:
                    break
            # interleave tutors (a real stream of requests is spread over many tutors)
            lines.sort(key=lambda line: zlib.crc32(line.encode()))
            (target / f"{name}.txt").write_text("\n".join(lines) + "\n")
            lists[name] = {"slots": len(lines), "tutors": tutors}
        out["slot_lists"] = lists

    gc.collect()
    store.admin.close()
    Path(args.out).write_text(json.dumps(out, indent=1))


def demo_role_tutor():
    from skillsession.domain.model import Role

    return Role.TUTOR


if __name__ == "__main__":
    main()
