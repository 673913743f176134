"""entitlements' scheduled work: grant expiries and threshold recoveries after a reset.

Both claim due rows with FOR UPDATE SKIP LOCKED and mark them in the same transaction as
the outbox row, so several replicas share the work and each event is emitted once; after
downtime the first pass catches up on everything that fell due.
"""

from __future__ import annotations

import asyncio

from tangible_entitlements.entrypoints.dependencies import Container
from tangible_entitlements.service_layer import handlers
from tangible_runtime.logs import get_logger
from tangible_runtime.service import ServiceRuntime, Worker

log = get_logger(__name__)


async def run_once(container: Container) -> int:
    size = container.settings.scheduler_batch_size
    done = 0
    while True:  # drain what is due, batch by batch
        expired = await handlers.expire_grants(
            uow=container.new_uow(), clock=container.clock, batch_size=size
        )
        recovered = await handlers.recover_thresholds_after_reset(
            uow=container.new_uow(), clock=container.clock, batch_size=size
        )
        done += expired + recovered
        if expired < size and recovered < size:
            return done


def scheduler(runtime: ServiceRuntime, container: Container) -> Worker:
    async def run() -> None:
        while True:
            done = await run_once(container)
            if done:
                log.info("scheduled_work_done", events=done)
            await asyncio.sleep(container.settings.scheduler_interval_seconds)

    return Worker("entitlements-scheduler", run)
