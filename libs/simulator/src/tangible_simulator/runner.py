"""Drives the usage stream into usage-ingest through the producer client, at a target rate,
with simulated time running `speed` times faster than the wall clock.

Above what one Python process can generate and send (~20,000 events/s), `processes` splits
the accounts into shards, each driven by its own process with its share of the rate; their
tallies are merged at the end. An account always belongs to one shard and one client, so its
events keep their order.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tangible_client import Batching, RetryPolicy, TangibleClient
from tangible_client.reports import DeliveryReport
from tangible_simulator.generator import SOURCE, Options, UsageStream
from tangible_simulator.population import Account, build_population
from tangible_simulator.tally import Tally

TICK = 0.1  # real seconds of simulated time generated at once


@dataclass
class Plan:
    url: str
    token: str
    accounts: int = 50
    seed: int = 42
    # simulated time starts a week back by default: events are never dated in the future
    start: datetime = field(default_factory=lambda: datetime.now(UTC) - timedelta(days=7))
    speed: float = 3600.0  # simulated seconds per real second
    duration: float = 60.0  # real seconds
    rate: float = 1000.0  # at most this many events per real second (all processes together)
    max_events: int | None = None
    connections: int = 4  # parallel clients per process; an account always uses the same one (order)
    options: Options = field(default_factory=Options)
    transport: httpx.AsyncBaseTransport | None = None
    until: datetime | None = None  # stop once simulated time reaches this (a replayed history ends now)
    processes: int = 1  # shards of the accounts, each in its own process
    batching: Batching | None = None
    # called about once a second with (simulated time, events sent); in-process runs only
    progress: Callable[[datetime, int], None] | None = None
    retry: RetryPolicy | None = None  # the client's default unless given (a chaos run is patient)


class _Lane:
    """One client and the FIFO of what it sent: reports settle in record order."""

    def __init__(self, plan: Plan, tally: Tally) -> None:
        self.sent: deque[tuple[str, dict[str, Any]]] = deque()
        self.tally = tally
        self.client = TangibleClient(
            plan.url,
            token=plan.token,
            source=SOURCE,
            batching=plan.batching,
            on_delivery=self._settle,
            keep_reports=0,
            transport=plan.transport,
            retry=plan.retry,
        )

    def _settle(self, report: DeliveryReport) -> None:
        kind, event = self.sent.popleft()
        self.tally.record(kind, event, report)

    async def send(self, kind: str, event: dict[str, Any]) -> None:
        self.sent.append((kind, event))
        data = dict(event["data"])
        await self.client.record(
            event["type"],
            event["subject"],
            data.pop("quantity", 1),
            user_id=data.pop("user_id", None),
            properties=data,
            time=datetime.fromisoformat(event["time"]),
            id=event["id"],
        )


def shard_accounts(plan: Plan, shard: int) -> list[Account]:
    """The accounts shard `shard` of `plan.processes` drives (every n-th of the population)."""
    population = build_population(plan.accounts, seed=plan.seed)
    return population[shard :: plan.processes]


def _share(total: int, shard: int, shards: int) -> int:
    return total // shards + (1 if shard < total % shards else 0)


async def simulate(plan: Plan, tally: Tally | None = None) -> Tally:
    """`tally`: a subclass that keeps more (the chaos run's per-period counts)."""
    tally = tally if tally is not None else Tally()
    if plan.processes > 1:
        await _simulate_sharded(plan, tally)
    else:
        await run_shard(plan, tally, 0)
    return tally


async def _simulate_sharded(plan: Plan, tally: Tally) -> None:
    if plan.transport is not None or plan.progress is not None:
        raise ValueError("a transport or a progress callback cannot cross into shard processes")
    loop = asyncio.get_running_loop()
    # spawn, not fork: a forked child would inherit this process's running event loop
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(plan.processes, mp_context=context) as pool:
        shards = [
            loop.run_in_executor(pool, _shard_main, plan, shard, type(tally))
            for shard in range(plan.processes)
        ]
        for part in await asyncio.gather(*shards):
            tally.merge(part)


def _shard_main(plan: Plan, shard: int, tally_class: type[Tally]) -> Tally:
    tally = tally_class()
    asyncio.run(run_shard(plan, tally, shard))
    return tally


async def run_shard(plan: Plan, tally: Tally, shard: int) -> None:
    """Generate and send one shard's usage (the whole population when `processes` is 1)."""
    shards = plan.processes
    accounts = shard_accounts(plan, shard)
    # shard 0 of an unsharded run keeps the seed, so a single-process run is what it always was
    stream = UsageStream(accounts, plan.start, plan.seed + 1_000_003 * shard, plan.options)
    rate = plan.rate / shards
    max_events = None if plan.max_events is None else _share(plan.max_events, shard, shards)
    lanes = [_Lane(plan, tally) for _ in range(plan.connections)]
    lane_of = {account.id: lanes[i % len(lanes)] for i, account in enumerate(accounts)}
    began = time.monotonic()
    reported = began
    simulated = plan.start
    sent = 0

    def more() -> bool:
        if plan.until is not None and simulated >= plan.until:
            return False
        return time.monotonic() - began < plan.duration and (max_events is None or sent < max_events)

    try:
        while more():
            step_end = simulated + timedelta(seconds=plan.speed * TICK)
            if plan.until is not None:
                step_end = min(step_end, plan.until)
            for item in stream.window(simulated, step_end):
                await lane_of[item.event["subject"]].send(item.kind, item.event)
                sent += 1
                ahead = sent / rate - (time.monotonic() - began)
                if ahead > 0:
                    await asyncio.sleep(ahead)
                if max_events is not None and sent >= max_events:
                    break
            simulated = step_end
            if plan.progress is not None and time.monotonic() - reported >= 1:
                reported = time.monotonic()
                plan.progress(simulated, sent)
            await asyncio.sleep(
                max(0.0, began + (simulated - plan.start).total_seconds() / plan.speed - time.monotonic())
            )
    finally:
        await asyncio.gather(*(lane.client.aclose() for lane in lanes))
