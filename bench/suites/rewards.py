"""rewards: milestone evaluation throughput, keeping up with 5,000 usage events/s, and the
portal reads (balance and progress).

Usage goes straight onto `tangible.usage.v1` (usage-ingest has its own suite), so that the
figures are rewards' own: a real `python -m tangible_rewards consumer` process on the shared
Kafka and PostgreSQL, with threshold (lifetime and monthly) and streak rules for 2,000 accounts.

The reads are measured on the regular API process (one worker), answering from its in-memory
view; with BENCH_REWARDS_DATABASE_READS=1 also on one whose view keeps nothing (max ages 0),
i.e. every read from the database as before the view. Load comes from vegeta
(bench/vegeta.py, GOMAXPROCS=1), round-robin over every account: closed loop (the best of a
few connection counts) for the maximum, open loop at 2,000 req/s for latency. The pure-Python
generator's own send delay (p99 13 ms) hid the server's latency at that rate. A progress
answer lives in the view until the database announces a change of its account (or time
moves it; services/rewards/README.md), so once every account was read, progress reads come
from memory as balances do.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import httpx
from aiokafka import TopicPartition
from aiokafka.errors import GroupCoordinatorNotAvailableError

from bench import vegeta
from bench.flame import flame_graph
from bench.harness import Bench
from bench.report import Report
from bench.resources import peak_rss
from bench.vegeta import Target
from tangible_runtime.kafka import KafkaClients
from tangible_schemas import new_event, to_record
from tangible_schemas.binding import KafkaRecord
from tangible_schemas.registry import USAGE
from tangible_schemas.usage import UsageRecorded

SUITE = "rewards"
TENANT = "bench-rewards"
ACCOUNTS = 2_000
BACKLOG = 100_000
TARGET_RATE = 5_000
SUSTAIN_SECONDS = 30
BOUND_SECONDS = 5
GROUP = "rewards-usage"
READS = ("balance", "progress")
READ_SECONDS = 5.0
READ_WORKERS = (8, 32)  # keep-alive connections for the maximum, each sending back to back
READ_RATE = 2_000  # the open-loop rate the target's p99 is stated at
# An API process whose view never answers: every read from the database, as before the view.
# A comparison, not a target: only when asked, to keep `make bench` under 15 minutes.
COMPARE_DATABASE_READS = os.environ.get("BENCH_REWARDS_DATABASE_READS") == "1"
DATABASE_READS = {
    "REWARDS_BALANCE_MAX_AGE_SECONDS": "0",
    "REWARDS_PROGRESS_MAX_AGE_SECONDS": "0",
    "REWARDS_LISTENING_PROGRESS_MAX_AGE_SECONDS": "0",
}
RULES = [
    {
        "key": "fifty-reports",
        "name": "Fifty reports",
        "kind": "usage_threshold",
        "params": {"usage_type": "report.generated", "target": 50, "unit_label": "reports"},
        "reward": {"kind": "credits", "credits": "10", "credits_expire_days": 90},
    },
    {
        "key": "busy-month",
        "name": "Busy month",
        "kind": "usage_threshold",
        "params": {"usage_type": "report.generated", "target": 100, "window": "month"},
        "reward": {"kind": "credits", "credits": "5"},
        "repeat": "per_period",
    },
    {
        "key": "habit",
        "name": "Habit",
        "kind": "streak",
        "params": {"mode": "consecutive_days", "days": 3},
        "reward": {"kind": "custom", "name": "Habit badge"},
    },
]


def records(count: int) -> list[KafkaRecord]:
    """Pre-encoded usage records spread over the accounts (encoding is not what we measure)."""
    now = datetime.now(UTC)
    built = []
    for i in range(count):
        data = UsageRecorded(
            tenant_id=TENANT,
            account_id=f"acct-{i % ACCOUNTS}",
            event_id=str(uuid.uuid4()),
            event_source="bench",
            usage_type="report.generated",
            occurred_at=now,
            user_id=f"user-{i % 7}",
        )
        built.append(to_record(new_event(data, source="tangible/usage-ingest")))
    return built


class Lag:
    """Committed offsets of the rewards-usage group against the topic's end offsets."""

    def __init__(self, clients: KafkaClients) -> None:
        self._clients = clients
        self._admin = clients.admin()
        self._consumer = clients.consumer(USAGE.name, group=None)
        self._partitions = [TopicPartition(clients.topic(USAGE.name), p) for p in range(USAGE.partitions)]

    async def __aenter__(self) -> Lag:
        await self._admin.start()
        await self._consumer.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._consumer.stop()
        await self._admin.close()

    async def committed(self) -> int:
        try:
            offsets = await self._admin.list_consumer_group_offsets(self._clients.group(GROUP))
        except GroupCoordinatorNotAvailableError:
            return 0  # a fresh broker creates its offsets topic on first use
        return sum(max(meta.offset, 0) for tp, meta in offsets.items() if tp in self._partitions)

    async def end(self) -> int:
        return sum((await self._consumer.end_offsets(self._partitions)).values())

    async def lag(self) -> int:
        return max(await self.end() - await self.committed(), 0)


async def produce(clients: KafkaClients, batch: Sequence[KafkaRecord], rate: float | None = None) -> float:
    """Send `batch` (paced to `rate` per second if given); returns the achieved rate."""
    producer = clients.producer(linger_ms=10)
    await producer.start()
    started = time.monotonic()
    try:
        per_tick = int(rate * 0.05) if rate else len(batch)  # 50 ms ticks when paced
        for offset in range(0, len(batch), per_tick):
            for record in batch[offset : offset + per_tick]:
                await producer.send(
                    clients.topic(record.topic), value=record.value, key=record.key, headers=record.headers
                )
            if rate:
                due = started + (offset + per_tick) / rate
                await asyncio.sleep(max(0.0, due - time.monotonic()))
        await producer.flush()
    finally:
        await producer.stop()
    return len(batch) / (time.monotonic() - started)


async def drain(lag: Lag, *, timeout: float) -> float | None:
    """Wait until the group committed everything; when (monotonic), or None on timeout."""
    deadline = time.monotonic() + timeout
    while await lag.lag() > 0:
        if time.monotonic() > deadline:
            return None
        await asyncio.sleep(0.1)
    return time.monotonic()


async def backlog(bench: Bench) -> None:
    await produce(KafkaClients(bench.kafka_settings), records(BACKLOG))


async def evaluation_throughput(bench: Bench, report: Report) -> None:
    """Rate at which the consumer (already started on the backlog) works it off."""
    async with Lag(KafkaClients(bench.kafka_settings)) as lag:
        start = (time.monotonic(), await lag.committed())
        finished = await drain(lag, timeout=600) or time.monotonic()
        done = await lag.committed()
    rate = (done - start[1]) / (finished - start[0])
    conditions = {"measured_events": done - start[1], "accounts": ACCOUNTS, "rules": len(RULES)}
    report.add(SUITE, "milestone evaluation throughput", rate, "events/s", **conditions)


async def sustained(bench: Bench, report: Report) -> None:
    clients = KafkaClients(bench.kafka_settings)
    batch = records(TARGET_RATE * SUSTAIN_SECONDS)
    samples: list[dict[str, float]] = []
    async with Lag(clients) as lag:
        started = time.monotonic()
        producing = asyncio.create_task(produce(clients, batch, rate=TARGET_RATE))
        while not producing.done():
            samples.append({"t": round(time.monotonic() - started, 2), "lag": await lag.lag()})
            await asyncio.sleep(0.5)
        achieved = producing.result()
        stopped = time.monotonic()
        caught_up = await drain(lag, timeout=120)
        left = await lag.lag()
    lags = [s["lag"] for s in samples]
    print(f"  lag samples (t s, lag): {[(s['t'], s['lag']) for s in samples]}", flush=True)
    # bounded: never more than BOUND_SECONDS of input behind, and caught up soon after the load stops
    bounded = caught_up is not None and caught_up - stopped <= 10 and max(lags) <= BOUND_SECONDS * TARGET_RATE
    conditions = {"offered": f"{TARGET_RATE}/s for {SUSTAIN_SECONDS}s", "achieved_rate": round(achieved)}
    report.add(SUITE, "sustained: max consumer lag", max(lags), "events", **conditions)
    report.add(
        SUITE, "sustained: p95 consumer lag", statistics.quantiles(lags, n=20)[-1], "events", **conditions
    )
    if caught_up is None:
        report.add(SUITE, "sustained: lag 120 s after load stopped", left, "events", **conditions)
    else:
        report.add(SUITE, "sustained: catch-up after load stops", caught_up - stopped, "s", **conditions)
    report.add(
        SUITE,
        "sustained: keeps up (1 = lag stayed under 5 s of input, caught up within 10 s)",
        float(bounded),
        "bool",
        **conditions,
    )
    report.add_series("rewards_sustained_lag", samples)


async def read_every_account(base: str, token: str, read: str) -> None:
    """Warm-up: each account's first read after a change comes from the database and fills
    the view; the figures are about the reads after it (progress still expires meanwhile)."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
        for start in range(0, ACCOUNTS, 16):
            responses = await asyncio.gather(
                *(
                    client.get(f"/v1/accounts/acct-{i}/{read}")
                    for i in range(start, min(start + 16, ACCOUNTS))
                )
            )
            assert all(r.status_code == 200 for r in responses), [r.text for r in responses]


def portal_reads(
    base: str, pid: int, token: str, report: Report, *, read: str, path: str, kept: bool
) -> None:
    """Max throughput (vegeta closed loop, the best of READ_WORKERS connections) and latency
    at READ_RATE (vegeta open loop) of one read over every account in turn, on one worker.
    `kept`: the API keeps answers, so every account is read once first; an API that keeps
    nothing needs no warm-up, and more connections than the first only queue on its database
    (two runs that measured nothing new: 35 s of the suite in the 23:27 UTC run)."""
    auth = {"Authorization": f"Bearer {token}"}
    targets = [Target("GET", f"{base}/v1/accounts/acct-{i}/{read}", auth) for i in range(ACCOUNTS)]
    if kept:
        asyncio.run(read_every_account(base, token, read))
    best = max(
        (
            vegeta.max_throughput(targets, seconds=READ_SECONDS, workers=w, server_pid=pid)
            for w in (READ_WORKERS if kept else READ_WORKERS[:1])
        ),
        key=lambda r: r.throughput,
    )
    assert set(best.status_codes) == {200}, best.status_codes
    conditions = {
        "accounts": ACCOUNTS,
        "path": path,
        "seconds": READ_SECONDS,
        "generator": "vegeta closed loop, GOMAXPROCS=1",
        **best.costs(),
    }
    report.add(
        SUITE, f"{read} read max throughput, {path} (1 worker)", best.throughput, "req/s", **conditions
    )
    fixed = vegeta.fixed_rate(targets, rate=READ_RATE, seconds=READ_SECONDS, server_pid=pid)
    # 0: no answer within vegeta's timeout, counted in `errors`; any other status is a bug
    assert set(fixed.result.status_codes) - {0} <= {200}, fixed.result.status_codes
    conditions = {"accounts": ACCOUNTS, "path": path, **fixed.honesty()}
    for p, value in ((50, fixed.result.p50), (99, fixed.result.p99)):
        report.add(
            SUITE, f"{read} read p{p} at {READ_RATE:,} req/s, {path}", value * 1000, "ms", **conditions
        )


def run(bench: Bench, report: Report) -> None:
    database_url = bench.database("rewards")
    api = bench.start_service("rewards", roles="api", database_url=database_url)
    token = bench.token(TENANT, "admin")
    with httpx.Client(base_url=api, headers={"Authorization": f"Bearer {token}"}) as client:
        for rule in RULES:
            client.post("/v1/milestones", json=rule).raise_for_status()
    asyncio.run(backlog(bench))
    # started from the main thread: a child started from a worker thread dies with that thread
    consumer = bench.start_service("rewards", roles="consumer", database_url=database_url)
    with flame_graph(bench, report, SUITE, "rewards consumer", consumer, "working off the backlog"):
        asyncio.run(evaluation_throughput(bench, report))
    with peak_rss(
        bench, report, SUITE, {"rewards consumer": consumer}, f"{TARGET_RATE:,} events/s sustained"
    ):
        asyncio.run(sustained(bench, report))
    for read in READS:
        portal_reads(api, bench.pid(api), token, report, read=read, path="in-memory view", kept=True)
    if COMPARE_DATABASE_READS:
        database_api = bench.start_service(
            "rewards", roles="api", database_url=database_url, env=DATABASE_READS
        )
        for read in READS:
            database_pid = bench.pid(database_api)
            portal_reads(
                database_api, database_pid, token, report, read=read, path="database (no view)", kept=False
            )
    report.notes.append(
        "rewards: usage produced straight to Kafka; one consumer process (batches of 1,000); "
        f"{ACCOUNTS} accounts, 3 rules (lifetime and monthly thresholds, a 3-day streak); "
        "portal reads round-robin over every account with an admin token, load from vegeta "
        f"(GOMAXPROCS=1): closed loop, the best of {' and '.join(map(str, READ_WORKERS))} connections "
        f"(the database path: {READ_WORKERS[0]}, and no warm-up); "
        f"open loop at {READ_RATE:,} req/s"
    )
