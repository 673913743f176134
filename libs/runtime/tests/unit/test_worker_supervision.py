"""ServiceRuntime's supervision of background workers: a crashed worker is restarted."""

from __future__ import annotations

import asyncio

from tangible_runtime.retries import NO_WAIT
from tangible_runtime.service import ServiceRuntime, Worker
from tangible_runtime.settings import ServiceSettings


def runtime() -> ServiceRuntime:
    settings = ServiceSettings(database_url="postgresql://nowhere/none")  # never connected
    return ServiceRuntime("test", settings, configure_logs=False, restart_backoff=NO_WAIT)


async def test_a_crashing_worker_is_restarted_until_it_returns_and_is_then_done() -> None:
    runs = 0

    async def crashes_twice() -> None:
        nonlocal runs
        runs += 1
        if runs <= 2:
            raise (ConnectionError if runs == 1 else ValueError)("crash")

    rt = runtime()
    rt.start_worker(Worker("flaky", crashes_twice))
    await asyncio.wait_for(rt._tasks["flaky"], 1)
    assert runs == 3
    await rt.stop()


async def test_a_worker_that_keeps_crashing_is_never_reported_as_stopped() -> None:
    crashes = 0
    crashed_enough = asyncio.Event()

    async def always_crashes() -> None:
        nonlocal crashes
        crashes += 1
        if crashes == 50:
            crashed_enough.set()
        await asyncio.sleep(0)
        raise RuntimeError("still broken")

    rt = runtime()
    rt.start_worker(Worker("broken", always_crashes))
    await asyncio.wait_for(crashed_enough.wait(), 1)
    assert rt.unhealthy_workers() == []  # still being restarted, so /healthz stays truthful
    await rt.stop()
    assert crashes >= 50
