"""Asking a several-worker server until every worker has answered.

The server runs with `SKILLSESSION_WORKER_ID_HEADER=true`, so each answer names its worker
process (`X-Worker-Id`). Each ask is a new connection; which worker accepts it is the kernel's
choice, so a test asks until it has heard from all of them (bounded), never a fixed number of
times hoping they took turns."""

from __future__ import annotations

from collections.abc import Callable

import httpx

WORKER_ID_ON = {"SKILLSESSION_WORKER_ID_HEADER": "true"}
MAX_ASKS = 200


def from_every_worker(ask: Callable[[], httpx.Response], workers: int) -> list[httpx.Response]:
    """Ask until `workers` different processes have answered (at least twice each when the
    kernel allows, so a worker's cache is read after it filled it); every answer is returned."""
    answers: list[httpx.Response] = []
    seen: dict[str, int] = {}
    for _ in range(MAX_ASKS):
        r = ask()
        answers.append(r)
        worker = r.headers["x-worker-id"]
        seen[worker] = seen.get(worker, 0) + 1
        if len(seen) >= workers and min(seen.values()) >= 2:
            return answers
    raise AssertionError(f"{MAX_ASKS} asks reached only workers {seen}, not {workers}")
