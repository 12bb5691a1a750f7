"""In-process jobs of the embedded shape: the expiry job and outbox delivery.

Every worker process runs them; both are safe to run concurrently (conditional updates, leases)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from skillsession.service import expiry, outbox
from skillsession.service.deps import Deps

log = logging.getLogger("skillsession.jobs")


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
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
