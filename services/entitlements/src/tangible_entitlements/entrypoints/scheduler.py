"""entitlements' scheduled work.

Every pass: grant expiries, threshold recoveries after a reset, trial expiries (rolled back),
trial-ending-soon notices and parked usage past its window (dead-lettered). Every
`lifecycle_interval_seconds`: renewal notices, upgrade suggestions and renewals at risk
(their granularity is a day; a scan a minute is plenty).

Each claims due rows with FOR UPDATE SKIP LOCKED, or inserts a unique notice or mark, in the
same transaction as the outbox row, so several replicas share the work and each event is
emitted once; after downtime the first pass catches up on everything that fell due (renewal
lead times whose day has passed are announced late, marked so).
"""

from __future__ import annotations

import asyncio

from tangible_entitlements.domain.policy import LifecyclePolicy
from tangible_entitlements.entrypoints.dependencies import Container
from tangible_entitlements.service_layer import handlers
from tangible_runtime.logs import get_logger
from tangible_runtime.service import ServiceRuntime, Worker
from tangible_runtime.telemetry import scheduled_span

log = get_logger(__name__)
DEFAULTS = LifecyclePolicy()


async def run_once(container: Container) -> int:
    """Everything due now that the frequent pass handles, as one trace."""
    with scheduled_span("entitlements scheduled round"):
        return await _run_once(container)


async def run_lifecycle(container: Container) -> int:
    """Renewal notices and customer-success signals, as one trace: the events a round emits
    carry its traceparent (nothing else is current in a scheduler)."""
    with scheduled_span("entitlements lifecycle round"):
        return await _run_lifecycle(container)


async def _run_once(container: Container) -> int:
    size = container.settings.scheduler_batch_size
    clock = container.clock
    done = 0
    while True:  # drain what is due, batch by batch
        counts = (
            await handlers.expire_grants(uow=container.new_uow(), clock=clock, batch_size=size),
            await handlers.recover_thresholds_after_reset(
                uow=container.new_uow(), clock=clock, batch_size=size
            ),
            await handlers.expire_trials(uow=container.new_uow(), clock=clock, batch_size=size),
            await handlers.announce_trials_ending(
                uow=container.new_uow(),
                clock=clock,
                default_days=DEFAULTS.trial_ending_soon_days,
                batch_size=size,
            ),
            await handlers.expire_parked(
                uow=container.new_uow(), clock=clock, parking=container.settings.parking(), batch_size=size
            ),
        )
        done += sum(counts)
        if all(count < size for count in counts):
            return done


async def _run_lifecycle(container: Container) -> int:
    size = container.settings.scheduler_batch_size
    clock = container.clock
    done = 0
    while True:
        announced = await handlers.announce_renewals(
            uow=container.new_uow(), clock=clock, default_leads=DEFAULTS.renewal_lead_days, batch_size=size
        )
        done += announced
        if announced < size:
            break
    done += await handlers.suggest_upgrades(
        uow=container.new_uow(), clock=clock, default_percent=DEFAULTS.upgrade_near_limit_percent
    )
    done += await handlers.detect_renewal_risks(
        uow=container.new_uow(), clock=clock, default_window_days=DEFAULTS.risk_window_days
    )
    return done


def scheduler(runtime: ServiceRuntime, container: Container) -> Worker:
    async def run() -> None:
        loop = asyncio.get_running_loop()
        lifecycle_at = 0.0
        while True:
            done = await run_once(container)
            if loop.time() >= lifecycle_at:
                done += await run_lifecycle(container)
                lifecycle_at = loop.time() + container.settings.lifecycle_interval_seconds
            if done:
                log.info("scheduled_work_done", events=done)
            await asyncio.sleep(container.settings.scheduler_interval_seconds)

    return Worker("entitlements-scheduler", run)
