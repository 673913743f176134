"""ServiceRuntime's supervision of background workers: a crashed worker is restarted, and
a worker stuck while stopping cannot keep the process from stopping."""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from typing import Any

from tangible_runtime.retries import NO_WAIT
from tangible_runtime.service import ServiceRuntime, Worker
from tangible_runtime.settings import ServiceSettings


def runtime(grace: float = 10.0) -> ServiceRuntime:
    settings = ServiceSettings(database_url="postgresql://nowhere/none")  # never connected
    return ServiceRuntime(
        "test", settings, configure_logs=False, restart_backoff=NO_WAIT, shutdown_grace_seconds=grace
    )


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


async def test_a_worker_stuck_in_its_cleanup_is_named_and_left_behind(
    captured_logs: list[MutableMapping[str, Any]],
) -> None:
    started = asyncio.Event()

    async def stuck_on_the_way_out() -> None:
        try:
            started.set()
            await asyncio.Event().wait()
        finally:  # a client whose close never returns
            await asyncio.Event().wait()

    rt = runtime(grace=0.1)
    rt.start_worker(Worker("stubborn", stuck_on_the_way_out))
    await started.wait()
    await asyncio.wait_for(rt.stop(), 2)
    [stuck] = [line for line in captured_logs if line["event"] == "workers_stuck_at_shutdown"]
    assert "stuck_on_the_way_out (" in stuck["workers"]["stubborn"]


async def test_a_runtime_without_workers_stops_at_once(
    captured_logs: list[MutableMapping[str, Any]],
) -> None:
    # an API-only role starts no worker: its stop has nothing to wait for, and says nothing
    await asyncio.wait_for(runtime().stop(), 2)
    assert not [line for line in captured_logs if line["event"] == "workers_stuck_at_shutdown"]
