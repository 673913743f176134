"""What the soak samples while the load runs: every process's resident memory, consumer-group
lag, the inbox and outbox tables of each service, the load average; and the latency of
entitlement checks, probed open-loop at a low fixed rate."""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from bench.resources import rss_mib
from bench.suites.entitlements import ACCOUNTS, FEATURE
from chaos.overload.observe import group_lags
from tangible_runtime.kafka import KafkaClients


@dataclass
class Sample:
    at: float  # seconds since the load started
    rss_mib: dict[str, float]
    lags: dict[str, int]
    inbox_rows: dict[str, int]
    outbox_rows: dict[str, int]
    load_average: float


@dataclass
class Observations:
    samples: list[Sample] = field(default_factory=list)
    # (seconds since the load started, latency seconds) of each check answered 200
    check_latencies: list[tuple[float, float]] = field(default_factory=list)
    check_failures: int = 0


async def _table_rows(connection: asyncpg.Connection) -> tuple[int, int]:
    row = await connection.fetchrow("SELECT (SELECT count(*) FROM inbox), (SELECT count(*) FROM outbox)")
    assert row is not None
    return int(row[0]), int(row[1])


async def sample_until(
    observations: Observations,
    *,
    started: float,
    until: float,
    every: float,
    pids: Mapping[str, int],
    databases: Mapping[str, str],
    clients: KafkaClients,
) -> None:
    """A sample every `every` seconds from `started` (time.time()) until `until`.
    `databases`: service → its database URL as the owner (every tenant's rows)."""
    connections = {
        service: await asyncpg.connect(make_url(url).set(drivername="postgresql").render_as_string(False))
        for service, url in databases.items()
    }
    try:
        while (now := time.time()) < until:
            rows = {service: await _table_rows(c) for service, c in connections.items()}
            observations.samples.append(
                Sample(
                    at=round(now - started, 1),
                    rss_mib={name: round(rss_mib(pid), 1) for name, pid in pids.items()},
                    lags=await group_lags(clients),
                    inbox_rows={service: inbox for service, (inbox, _) in rows.items()},
                    outbox_rows={service: outbox for service, (_, outbox) in rows.items()},
                    load_average=round(os.getloadavg()[0], 2),
                )
            )
            await asyncio.sleep(max(0.0, every - (time.time() - now)))
    finally:
        for connection in connections.values():
            await connection.close()


async def probe_checks(
    observations: Observations, *, base: str, token: str, rate: float, started: float, until: float
) -> None:
    """Checks of random accounts at `rate`/s, open loop: each latency counts from the moment
    the check was due, so a stalled service shows as latency, not as fewer probes."""
    headers = {"Authorization": f"Bearer {token}"}
    in_flight: set[asyncio.Task[None]] = set()
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:

        async def one(due: float) -> None:
            try:
                response = await client.get(
                    f"/v1/accounts/acct-{random.randrange(ACCOUNTS)}/entitlements/{FEATURE}"
                )
            except httpx.HTTPError:
                observations.check_failures += 1
                return
            if response.status_code == 200:
                observations.check_latencies.append((round(due - started, 3), time.time() - due))
            else:
                observations.check_failures += 1

        first = max(time.time(), started)
        n = 0
        while (due := first + n / rate) < until:
            await asyncio.sleep(max(0.0, due - time.time()))
            task = asyncio.create_task(one(due))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
            n += 1
        if in_flight:
            await asyncio.wait(in_flight)
