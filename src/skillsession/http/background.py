"""In-process jobs of the embedded shape: the expiry job, outbox delivery and the store's upkeep
(SQLite: checkpoints of the write-ahead log, off the request path).

Every worker process runs them; all are safe to run concurrently (conditional updates, leases,
SQLite's checkpoint lock)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from skillsession.service import expiry, outbox
from skillsession.service.deps import Deps

log = logging.getLogger("skillsession.jobs")

UPKEEP_SECONDS = 0.25  # at ~2,000 booking requests/s the log grows ~2,000 pages in that time


async def _every(seconds: float, job: Callable[[], object], name: str) -> None:
    while True:
        try:
            await asyncio.to_thread(job)
        except Exception:  # keep the loop alive; the next run retries
            log.exception("%s failed", name)
        await asyncio.sleep(seconds)


@contextlib.asynccontextmanager
async def running_jobs(deps: Deps):
    tasks = []
    if deps.settings.expiry_interval_seconds > 0:
        tasks.append(
            asyncio.create_task(
                _every(
                    deps.settings.expiry_interval_seconds,
                    lambda: expiry.expire_slots(deps),
                    "expiry",
                )
            )
        )
    if deps.settings.outbox_interval_seconds > 0:
        tasks.append(
            asyncio.create_task(
                _every(
                    deps.settings.outbox_interval_seconds,
                    lambda: outbox.deliver_all(deps),
                    "outbox",
                )
            )
        )
    upkeep = deps.stores.admin.upkeep_job()
    if upkeep is not None:
        tasks.append(asyncio.create_task(_every(UPKEEP_SECONDS, upkeep, "store upkeep")))
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
