"""Drives the usage stream into usage-ingest through the producer client, at a target rate,
with simulated time running `speed` times faster than the wall clock."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx

from tangible_client import TangibleClient
from tangible_client.reports import DeliveryReport
from tangible_simulator.generator import SOURCE, Options, UsageStream
from tangible_simulator.population import build_population
from tangible_simulator.tally import Tally


@dataclass
class Plan:
    url: str
    token: str
    accounts: int = 50
    seed: int = 42
    start: datetime = field(default_factory=lambda: datetime.fromisoformat("2026-09-01T00:00:00+00:00"))
    speed: float = 3600.0  # simulated seconds per real second
    duration: float = 60.0  # real seconds
    rate: float = 1000.0  # at most this many events per real second
    max_events: int | None = None
    connections: int = 4  # parallel clients; an account always uses the same one (order)
    options: Options = field(default_factory=Options)
    transport: httpx.AsyncBaseTransport | None = None


class _Lane:
    """One client and the FIFO of what it sent: reports settle in record order."""

    def __init__(self, plan: Plan, tally: Tally) -> None:
        self.sent: deque[tuple[str, dict[str, Any]]] = deque()
        self.tally = tally
        self.client = TangibleClient(
            plan.url,
            token=plan.token,
            source=SOURCE,
            on_delivery=self._settle,
            keep_reports=0,
            transport=plan.transport,
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


async def simulate(plan: Plan, tally: Tally | None = None) -> Tally:
    """`tally`: a subclass that keeps more (the chaos run's per-period counts)."""
    tally = tally if tally is not None else Tally()
    accounts = build_population(plan.accounts, seed=plan.seed)
    stream = UsageStream(accounts, plan.start, plan.seed, plan.options)
    lanes = [_Lane(plan, tally) for _ in range(plan.connections)]
    lane_of = {account.id: lanes[i % len(lanes)] for i, account in enumerate(accounts)}
    tick = 0.1
    began = time.monotonic()
    simulated = plan.start
    sent = 0
    try:
        while time.monotonic() - began < plan.duration and (
            plan.max_events is None or sent < plan.max_events
        ):
            step_end = simulated + timedelta(seconds=plan.speed * tick)
            for item in stream.window(simulated, step_end):
                await lane_of[item.event["subject"]].send(item.kind, item.event)
                sent += 1
                ahead = sent / plan.rate - (time.monotonic() - began)
                if ahead > 0:
                    await asyncio.sleep(ahead)
                if plan.max_events is not None and sent >= plan.max_events:
                    break
            simulated = step_end
            await asyncio.sleep(
                max(0.0, began + (simulated - plan.start).total_seconds() / plan.speed - time.monotonic())
            )
    finally:
        await asyncio.gather(*(lane.client.aclose() for lane in lanes))
    return tally
