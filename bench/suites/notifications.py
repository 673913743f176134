"""notifications: events/s through the consumer (a backlog of entitlement events drained into
notifications, deliveries and inbox items), one consumer process.

Processes (all real, on the shared infrastructure): a notifications `api` (to configure a
rule), then a `consumer` started once the backlog is on Kafka, so the figure is the drain rate.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import asyncpg
import httpx

from bench.flame import flame_graph
from bench.harness import Bench
from bench.report import Report
from bench.resources import peak_rss
from tangible_runtime.kafka import KafkaClients
from tangible_schemas import new_event, to_record
from tangible_schemas.entitlements import ThresholdCrossed

SUITE = "notifications"
TENANT = "bench-notifications"
EVENTS = 20_000
PERIOD = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
ACCOUNTS = 1_000


async def _configure(base: str, admin: str) -> None:
    rule = {
        "name": "thresholds",
        "event_types": ["tangible.entitlements.v1.threshold_crossed"],
        "channels": ["inbox"],
        "template": {"title": "{{ data.feature_key }} at {{ data.threshold_percent }} %", "body": ""},
    }
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {admin}"}) as client:
        (await client.post("/v1/rules", json=rule)).raise_for_status()


async def _produce(bench: Bench) -> None:
    clients = KafkaClients(bench.kafka_settings)
    producer = clients.producer()
    await producer.start()
    try:
        futures = []
        for i in range(EVENTS):
            data = ThresholdCrossed(
                tenant_id=TENANT,
                account_id=f"acct-{i % ACCOUNTS}",
                feature_key="reports",
                threshold_percent=50 + i % 50,
                usage=i,
                limit=EVENTS,
                period_start=PERIOD,
            )
            record = to_record(new_event(data, source="bench"))
            futures.append(
                await producer.send(
                    clients.topic(record.topic), value=record.value, key=record.key, headers=record.headers
                )
            )
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def _count(url: str) -> int:
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        return int(await connection.fetchval("SELECT count(*) FROM notifications"))
    finally:
        await connection.close()


async def _drain(url: str, report: Report, timeout: float = 600) -> float:
    """Seconds between the first and the last notification written (their created_at); the
    backlog left over time goes to the report as a series."""
    started = time.monotonic()
    lags: list[dict[str, float]] = []
    while (count := await _count(url)) < EVENTS:
        lags.append({"t": round(time.monotonic() - started, 2), "lag": EVENTS - count})
        if time.monotonic() - started > timeout:
            raise TimeoutError("the consumer did not drain the backlog")
        await asyncio.sleep(0.5)
    report.add_series("notifications_drain_lag", lags)
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        span = await connection.fetchval(
            "SELECT extract(epoch FROM max(created_at) - min(created_at)) FROM notifications"
        )
    finally:
        await connection.close()
    return float(span)


def run(bench: Bench, report: Report) -> None:
    database = bench.database("notifications")
    api = bench.start_service("notifications", roles="api", database_url=database)
    asyncio.run(_configure(api, bench.token(TENANT, "admin")))
    asyncio.run(_produce(bench))
    consumer = bench.start_service("notifications", roles="consumer", database_url=database)
    load = f"draining {EVENTS:,} events"
    with (
        peak_rss(bench, report, SUITE, {"notifications consumer": consumer}, load),
        flame_graph(bench, report, SUITE, "notifications consumer", consumer, load),
    ):
        seconds = asyncio.run(_drain(bench.owner(database), report))
    report.add(
        SUITE,
        "consumer drain rate (events → notification + delivery + inbox item + outbox event)",
        EVENTS / seconds,
        "events/s",
        events=EVENTS,
        accounts=ACCOUNTS,
        seconds=round(seconds, 1),
    )
