"""The in-process jobs a serving process runs (http/background.py)."""

from __future__ import annotations

import asyncio
import threading

from skillsession.http.background import running_jobs


def _no_timed_jobs(deps) -> None:
    """Only the store's upkeep left to run: the expiry and outbox loops are off."""
    deps.settings.expiry_interval_seconds = 0
    deps.settings.outbox_interval_seconds = 0


def _other_tasks() -> set[asyncio.Task]:
    return asyncio.all_tasks() - {asyncio.current_task()}


def test_the_store_upkeep_runs_in_a_thread_while_serving(deps, monkeypatch):
    _no_timed_jobs(deps)
    runs: list[str] = []
    ran_twice = threading.Event()

    def upkeep():
        runs.append(threading.current_thread().name)
        if len(runs) >= 2:
            ran_twice.set()

    monkeypatch.setattr(deps.stores.admin, "upkeep_job", lambda: upkeep)

    async def serve_until_it_ran_twice():
        async with running_jobs(deps):
            assert len(_other_tasks()) == 1  # the upkeep loop, and nothing else
            # runs again and again while serving (bounded wait: a hang fails, never a sleep)
            assert await asyncio.to_thread(ran_twice.wait, 30)
        return _other_tasks()

    left = asyncio.run(serve_until_it_ran_twice())
    assert left == set()  # the loop stopped with the jobs
    assert len(runs) >= 2
    assert threading.main_thread().name not in runs  # off the event loop's thread


def test_a_store_without_upkeep_runs_none(deps, monkeypatch):
    _no_timed_jobs(deps)
    asked = []
    monkeypatch.setattr(deps.stores.admin, "upkeep_job", lambda: asked.append(1))  # returns None

    async def serve():
        async with running_jobs(deps):
            return _other_tasks()

    assert asyncio.run(serve()) == set()  # no loop started for it
    assert asked == [1]  # the store was asked, once


def test_each_timed_job_gets_its_loop_and_all_stop_together(deps, monkeypatch):
    deps.settings.expiry_interval_seconds = 60
    deps.settings.outbox_interval_seconds = 60
    monkeypatch.setattr(deps.stores.admin, "upkeep_job", lambda: None)

    async def serve():
        async with running_jobs(deps):
            during = _other_tasks()
        return during, _other_tasks()

    during, after = asyncio.run(serve())
    assert len(during) == 2  # expiry and outbox
    assert after == set()
