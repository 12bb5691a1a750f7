"""The in-process jobs a serving process runs (http/background.py)."""

from __future__ import annotations

import asyncio
import threading

from skillsession.http.background import UPKEEP_SECONDS, running_jobs


def test_the_store_upkeep_runs_in_a_thread_while_serving(deps, monkeypatch):
    runs: list[str] = []
    handed_over = threading.Event()

    def upkeep_job():
        handed_over.set()
        return lambda: runs.append(threading.current_thread().name)

    monkeypatch.setattr(deps.store, "upkeep_job", upkeep_job)

    async def serve_a_while():
        async with running_jobs(deps):
            await asyncio.sleep(UPKEEP_SECONDS * 4.5)
        count = len(runs)
        await asyncio.sleep(UPKEEP_SECONDS * 2)
        return count

    count = asyncio.run(serve_a_while())
    assert handed_over.is_set()
    assert count >= 2  # every UPKEEP_SECONDS (a busy machine may lose a run or two)
    assert len(runs) == count  # stopped with the jobs
    assert threading.main_thread().name not in runs  # off the event loop's thread


def test_a_store_without_upkeep_runs_none(deps, monkeypatch):
    monkeypatch.setattr(deps.store, "upkeep_job", lambda: None)

    async def serve_a_while():
        async with running_jobs(deps):
            await asyncio.sleep(UPKEEP_SECONDS)

    asyncio.run(serve_a_while())
