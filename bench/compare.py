"""Large vs small data, in one process, interleaved: every read endpoint through the real ASGI app
(no socket, no event-loop queueing), alternating between the two data sets in short rounds so that
drift in the machine's speed hits both alike. Searches also at an equal page (3 tutors), because
the default page holds more tutors on the large data (more of them match).

    python bench/compare.py --small bench/out/small --small-work bench/out/small-work \\
        --large bench/out/large --large-work bench/out/large-work --out compare.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from pathlib import Path

ROUNDS = 8
ROUND_SECONDS = 0.15


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("small", "large"):
        parser.add_argument(f"--{name}", required=True)
        parser.add_argument(f"--{name}-work", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    args = parser.parse_args()

    import uvloop
    from asgi_driver import call, scope_for

    from skillsession import bootstrap
    from skillsession.http.app import create_app
    from skillsession.settings import Settings

    sides = {}
    for name in ("small", "large"):
        work = Path(getattr(args, f"{name}_work"))
        tokens = json.loads((work / "tokens.json").read_text())
        requests = json.loads((work / "inproc.json").read_text())["requests"]
        for base in ("search-1-skill", "search-2-skills"):
            spec = dict(requests[base])
            spec["body"] = {**spec["body"], "limit": 3}
            requests[f"{base} (page of 3)"] = spec
        deps = bootstrap.build(Settings(data_dir=Path(getattr(args, name)).resolve()))
        deps.stores.admin.migrate()
        sides[name] = {
            "app": create_app(deps, run_jobs=False),
            "tokens": tokens,
            "requests": requests,
            "deps": deps,
        }

    async def run() -> dict:
        result = {}
        clock = time.perf_counter_ns
        for endpoint in sides["small"]["requests"]:
            if endpoint == "health":
                continue
            prepared = {}
            for name, side in sides.items():
                scope, body = scope_for(side["requests"][endpoint], side["tokens"])
                status, size = await call(side["app"], scope, body)
                for _ in range(20):
                    await call(side["app"], scope, body)
                prepared[name] = (scope, body, status, size)
            samples = {"small": [], "large": []}
            for _ in range(args.rounds):
                for name in ("small", "large"):
                    scope, body, _, _ = prepared[name]
                    app = sides[name]["app"]
                    deadline = clock() + int(ROUND_SECONDS * 1e9)
                    while True:
                        t0 = clock()
                        await call(app, scope, body)
                        t1 = clock()
                        samples[name].append(t1 - t0)
                        if t1 > deadline:
                            break
            entry = {}
            for name in ("small", "large"):
                entry[name] = {
                    "status": prepared[name][2],
                    "bytes": prepared[name][3],
                    "n": len(samples[name]),
                    "p50_us": round(statistics.median(samples[name]) / 1000, 1),
                }
            entry["ratio"] = round(entry["large"]["p50_us"] / entry["small"]["p50_us"], 3)
            result[endpoint] = entry
        return result

    uvloop.install()
    result = asyncio.run(run())
    for side in sides.values():
        side["deps"].stores.admin.close()
    Path(args.out).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
