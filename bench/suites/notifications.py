"""notifications: events/s through the consumer, one consumer process, two backlogs drained:
entitlement events a rule matches (each makes a notification, a delivery and an inbox item),
and events no rule matches (usage_aggregated, most of the entitlements topic).

Processes (all real, on the shared infrastructure): a notifications `api` (to configure a
rule), then a `consumer` started once the backlog is on Kafka, so the figure is the drain rate;
the second backlog has topics of its own and a second consumer.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable
from datetime import UTC, datetime

import asyncpg
import httpx

from bench.flame import flame_graph
from bench.harness import Bench
from bench.report import Report
from bench.resources import peak_rss
from tangible_runtime.kafka import KafkaClients
from tangible_schemas import EventData, new_event, to_record
from tangible_schemas.entitlements import ThresholdCrossed, UsageAggregated

SUITE = "notifications"
TENANT = "bench-notifications"
EVENTS = 20_000
UNMATCHED_EVENTS = 100_000
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


def _threshold(i: int) -> EventData:
    return ThresholdCrossed(
        tenant_id=TENANT,
        account_id=f"acct-{i % ACCOUNTS}",
        feature_key="reports",
        threshold_percent=50 + i % 50,
        usage=i,
        limit=EVENTS,
        period_start=PERIOD,
    )


def _aggregated(i: int) -> EventData:
    return UsageAggregated(
        tenant_id=TENANT,
        account_id=f"acct-{i % ACCOUNTS}",
        feature_key="reports",
        period_start=PERIOD,
        usage=i,
    )


async def _produce(bench: Bench, events: int, make: Callable[[int], EventData] = _threshold) -> None:
    clients = KafkaClients(bench.kafka_settings)
    producer = clients.producer()
    await producer.start()
    try:
        futures = []
        for i in range(events):
            record = to_record(new_event(make(i), source="bench"))
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


async def _committed(clients: KafkaClients) -> int:
    """Records committed by the consumer groups of these topics (fresh topics: offsets are counts)."""
    admin = clients.admin()
    await admin.start()
    try:
        prefix = clients.settings.topic_prefix
        groups = [g[0] for g in await admin.list_consumer_groups() if g[0].startswith(prefix)]
        total = 0
        for group in groups:
            offsets = await admin.list_consumer_group_offsets(group)
            total += sum(max(meta.offset, 0) for tp, meta in offsets.items() if tp.topic.startswith(prefix))
        return total
    finally:
        await admin.close()


async def _drain_unmatched(bench: Bench, report: Report, timeout: float = 300) -> float:
    """Events/s from the consumer's first commit to its last: what it committed after the
    first batch, over the time it took (start-up and group join are not counted)."""
    clients = KafkaClients(bench.kafka_settings)
    started = time.monotonic()
    samples: list[tuple[float, int]] = []  # (seconds, records committed) once it committed any
    while not samples or samples[-1][1] < UNMATCHED_EVENTS:
        if time.monotonic() - started > timeout:
            raise TimeoutError("the consumer did not drain the unmatched backlog")
        committed = await _committed(clients)
        if committed:
            samples.append((time.monotonic() - started, committed))
        await asyncio.sleep(0.05)
    lags = [{"t": round(t, 2), "lag": UNMATCHED_EVENTS - done} for t, done in samples]
    report.add_series("notifications_unmatched_lag", lags)
    (first_at, first_done), (last_at, last_done) = samples[0], samples[-1]
    if len(samples) < 5:
        raise RuntimeError("the backlog drained between a few samples: make it larger")
    return (last_done - first_done) / (last_at - first_at)


def run(bench: Bench, report: Report) -> None:
    database = bench.database("notifications")
    api = bench.start_service("notifications", roles="api", database_url=database)
    asyncio.run(_configure(api, bench.token(TENANT, "admin")))
    asyncio.run(_produce(bench, EVENTS))
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
    _measure_unmatched(bench, report, database)


def _measure_unmatched(bench: Bench, report: Report, database: str) -> None:
    """The same tenant and rule; events of a type it does not match, on topics of their own."""
    unmatched = dataclasses.replace(bench, topic_prefix=f"{bench.topic_prefix}unmatched.")
    asyncio.run(KafkaClients(unmatched.kafka_settings).ensure_topics())
    asyncio.run(_produce(unmatched, UNMATCHED_EVENTS, _aggregated))
    consumer = unmatched.start_service("notifications", roles="consumer", database_url=database)
    load = f"draining {UNMATCHED_EVENTS:,} events no rule matches"
    with flame_graph(unmatched, report, SUITE, "notifications consumer (unmatched)", consumer, load):
        rate = asyncio.run(_drain_unmatched(unmatched, report))
    report.add(
        SUITE,
        "consumer drain rate, events no rule matches (skipped before decoding)",
        rate,
        "events/s",
        events=UNMATCHED_EVENTS,
        target=20_000,
    )
