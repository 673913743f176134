"""Usage offered to usage-ingest over HTTP at a fixed rate, for the end-to-end freshness runs."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import httpx
import orjson

BATCH = 250


def usage_batch(accounts: Callable[[int], str], n: int) -> bytes:
    """`n` report.generated events, event k for account `accounts(k)`, stamped now."""
    now = datetime.now(UTC).isoformat()
    return orjson.dumps(
        [
            {
                "specversion": "1.0",
                "id": str(uuid.uuid4()),
                "source": "app://bench",
                "type": "report.generated",
                "subject": accounts(k),
                "time": now,
                "data": {"user_id": f"u{k % 5}"},
            }
            for k in range(n)
        ]
    )


def ingest_client(base: str, token: str) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/cloudevents-batch+json"}
    return httpx.AsyncClient(
        base_url=base, headers=headers, timeout=30, limits=httpx.Limits(max_connections=16)
    )


def _account(first: int, accounts: int, k: int) -> str:
    return f"acct-{(first + k) % accounts}"


@dataclass
class Offered:
    """What the background load achieved."""

    sent: int = 0
    accepted: int = 0
    failed: int = 0  # requests without an answer
    rate: float = 0.0  # accepted events/s
    partial: int = 0  # 202s for part of a batch: which of its events were accepted is unknown


async def offer(
    client: httpx.AsyncClient, rate: float, until: float, accounts: int, tally: Counter[str] | None = None
) -> Offered:
    """Post batches of BATCH events to accounts acct-0… at `rate` events/s until `until`
    (perf_counter), open loop: a slow answer does not delay the next batch. `tally`, if given,
    counts the accepted events per account (of batches accepted whole)."""
    offered = Offered()

    async def post(body: bytes, first: int) -> None:
        try:
            response = await client.post("/v1/events", content=body)
        except httpx.HTTPError:
            offered.failed += 1  # e.g. the server closed an idle keep-alive connection as we sent
            return
        if response.status_code == 202:
            accepted = int(response.json()["accepted"])
            offered.accepted += accepted
            if tally is not None and accepted == BATCH:
                tally.update(_account(first, accounts, k) for k in range(BATCH))
            elif accepted != BATCH:
                offered.partial += 1

    started = time.perf_counter()
    tasks: set[asyncio.Task[Any]] = set()
    i = 0
    while time.perf_counter() < until:
        due = started + i * BATCH / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        body = usage_batch(partial(_account, offered.sent, accounts), BATCH)
        task = asyncio.create_task(post(body, offered.sent))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        offered.sent += BATCH
        i += 1
    await asyncio.gather(*tasks)
    offered.rate = offered.accepted / (time.perf_counter() - started)
    return offered


def percentiles_ms(samples: list[float], *quantiles: float) -> list[float]:
    """Nearest-rank percentiles of seconds, in milliseconds."""
    ordered = sorted(samples)
    if not ordered:
        return [float("nan")] * len(quantiles)
    return [
        ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))] * 1000 for q in quantiles
    ]
