"""rewards' scheduler role: time-based jobs on an interval, safe with several replicas."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

from tangible_rewards.entrypoints.dependencies import Container
from tangible_rewards.service_layer import handlers
from tangible_rewards.service_layer.policy import Policy
from tangible_rewards.service_layer.unit_of_work import UnitOfWork
from tangible_runtime.domain import Clock
from tangible_runtime.logs import get_logger
from tangible_runtime.service import Worker
from tangible_runtime.telemetry import scheduled_span

log = get_logger(__name__)

Job = Callable[..., Awaitable[int]]
JOBS: tuple[tuple[str, Job], ...] = (
    ("credits_expiring_soon", handlers.announce_expiring_credits),
    ("credits_expired", handlers.expire_credits),
    ("anniversaries", handlers.grant_anniversaries),
    ("streak_breaks", handlers.reset_broken_streaks),
)
MAX_ROUNDS = 100  # per job and tick: a long catch-up yields to the other jobs, then resumes
PRUNE_EVERY = timedelta(hours=1)


async def run_due_jobs(uow: Callable[[], UnitOfWork], clock: Clock, policy: Policy) -> dict[str, int]:
    """Every job until nothing is due (or MAX_ROUNDS); what each did."""
    done: dict[str, int] = {}
    for name, job in JOBS:
        total = 0
        # one trace per job and tick: the events it emits carry a traceparent to follow
        with scheduled_span(f"rewards {name}", {"tangible.job": name}) as span:
            for _ in range(MAX_ROUNDS):
                count = await job(uow=uow(), clock=clock, policy=policy)
                total += count
                if count == 0:
                    break
            span.set_attribute("tangible.job.done", total)
        done[name] = total
    return done


def scheduler_worker(container: Container) -> Worker:
    async def run() -> None:
        loop = asyncio.get_running_loop()
        next_prune = loop.time()
        while True:
            try:
                done = await run_due_jobs(container.new_uow, container.clock, container.policy)
                if any(done.values()):
                    log.info("scheduled_jobs_ran", **done)
                if loop.time() >= next_prune:
                    with scheduled_span("rewards prune"):
                        await handlers.prune(
                            uow=container.new_uow(), clock=container.clock, policy=container.policy
                        )
                    next_prune = loop.time() + PRUNE_EVERY.total_seconds()
            except asyncio.CancelledError:
                raise
            except Exception:
                # the next tick retries: every job is idempotent and catches up
                log.warning("scheduled_jobs_failed", exc_info=True)
            await asyncio.sleep(container.settings.scheduler_interval_seconds)

    return Worker("scheduler", run)
