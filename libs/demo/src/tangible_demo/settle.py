"""Wait until the system has worked off what the simulator sent: the summary then reads
finished figures, not a snapshot halfway through the pipeline."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping

import httpx
from prometheus_client.parser import text_string_to_metric_families

WATCHED = ("consumer_records_total", "consumer_lag_records", "outbox_backlog_records", "ingest_events_total")


async def metric_sums(client: httpx.AsyncClient, names: tuple[str, ...] = WATCHED) -> dict[str, float]:
    """Each named metric summed over its labels, from the service's /metrics."""
    sums = dict.fromkeys(names, 0.0)
    text = (await client.get("/metrics")).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name in sums:
                sums[sample.name] += sample.value
    return sums


async def metric_by_label(client: httpx.AsyncClient, name: str, **match: str) -> dict[str, float]:
    """One metric's samples whose labels include `match`, keyed by their remaining labels."""
    found: dict[str, float] = {}
    for family in text_string_to_metric_families((await client.get("/metrics")).text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in match.items()):
                rest = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()) if k not in match)
                found[rest] = found.get(rest, 0.0) + sample.value
    return found


async def _pending_deliveries(notifications: httpx.AsyncClient) -> int:
    response = await notifications.get("/v1/deliveries", params={"status": "pending", "limit": 500})
    return len(response.json()["items"]) if response.status_code == 200 else 0


async def settle(
    services: Mapping[str, httpx.AsyncClient],
    notifications_admin: httpx.AsyncClient,
    received: Callable[[], int],
    *,
    timeout: float = 180.0,
    quiet_for: float = 4.0,
) -> tuple[bool, float]:
    """(settled, seconds waited): settled once every consumer lag and outbox is empty, no
    delivery is pending, and nothing has moved for `quiet_for` seconds."""
    started = time.monotonic()
    last: tuple[float, ...] | None = None
    quiet_since = started
    while time.monotonic() - started < timeout:
        sums = await asyncio.gather(*(metric_sums(client) for client in services.values()))
        pending = await _pending_deliveries(notifications_admin)
        backlog = sum(s["consumer_lag_records"] + s["outbox_backlog_records"] for s in sums) + pending
        fingerprint = (*(s["consumer_records_total"] + s["ingest_events_total"] for s in sums), received())
        now = time.monotonic()
        if fingerprint != last or backlog > 0:
            last, quiet_since = fingerprint, now
        elif now - quiet_since >= quiet_for:
            return True, now - started
        await asyncio.sleep(0.5)
    return False, time.monotonic() - started
