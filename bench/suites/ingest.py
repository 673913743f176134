"""usage-ingest throughput: accepted events/s over HTTP against the raw aiokafka producer.

Sustained load: several client connections post batches of 500 events with unique ids to a
real usage-ingest process (`python -m tangible_ingest api`); only 202 responses count, and
only those completed inside the measured window (after a warm-up). In the same run, the raw
aiokafka producer sends records of the same size, with the service's producer settings
(acks=all, idempotence, linger, lz4), to the same broker, from the same number of
concurrent tasks, 500 records per round trip, two ways:

- `send()` per record: the producer API as applications use it (the ratio the targets use);
- `send_batch()` per partition with pre-encoded records: the ceiling of the client library,
  a loop that does nothing but hand bytes to aiokafka's C record builder.

The ratios say what HTTP, validation, deduplication in PostgreSQL and per-event results
cost on top of Kafka.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import uvloop
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaTimeoutError
from aiokafka.partitioner import murmur2

from bench.harness import Bench
from bench.http_load import Result, closed_loop, open_loop
from bench.report import Report
from bench.resources import peak_rss
from tangible_ingest.adapters.publisher import encode_usage, usage_headers
from tangible_ingest.entrypoints.translate import to_command
from tangible_runtime.kafka import KafkaClients
from tangible_schemas.binding import record_key
from tangible_schemas.registry import USAGE

SUITE = "ingest"
BATCH = 500
ACCOUNTS = 2_000
# an hour ago: usage-ingest refuses events dated too far ahead of its (wall) clock
MOMENT = (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="seconds")
WARMUP_SECONDS = float(os.environ.get("BENCH_INGEST_WARMUP", "3"))
DURATION_SECONDS = float(os.environ.get("BENCH_INGEST_SECONDS", "10"))
CONNECTIONS = int(os.environ.get("BENCH_INGEST_CONNECTIONS", "8"))
# the first count is the measured configuration; the others show how the API scales with
# uvicorn workers on the same machine (USAGE_INGEST_WORKERS)
WORKERS = [int(w) for w in os.environ.get("BENCH_INGEST_WORKERS", "1,2").split(",")]
# batch sizes of the sweep, each measured for SWEEP_SECONDS with the same raw-socket client
BATCH_SIZES = [int(b) for b in os.environ.get("BENCH_INGEST_BATCHES", "1,100,500,1000").split(",")]
SWEEP_SECONDS = float(os.environ.get("BENCH_INGEST_SWEEP_SECONDS", "5"))
# open-loop request latency at these shares of the measured maximum (batches of BATCH)
LOAD_SHARES = (0.25, 0.5, 0.75, 1.0)
OPEN_LOOP_SECONDS = float(os.environ.get("BENCH_INGEST_OPEN_SECONDS", "6"))
TARGET_EVENTS_PER_SECOND = 20_000
TARGET_RATIO = 0.4


def sample_event(run: str, n: int) -> dict[str, object]:
    """A realistic producer event (~230 bytes of JSON); ids are unique across the run."""
    return {
        "specversion": "1.0",
        "id": f"{run}-{n}",
        "source": "app://reports",
        "type": "report.generated",
        "subject": f"acct-{n % ACCOUNTS}",
        "time": MOMENT,
        "data": {"quantity": 1, "user_id": f"user-{n % 97}", "format": "pdf", "pages": 12},
    }


@dataclass
class Tally:
    events: int = 0
    requests: int = 0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.events / DURATION_SECONDS

    def percentile(self, p: float) -> float:
        """Milliseconds."""
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000


# One round trip: returns (events that count, HTTP status or 0).
RoundTrip = Callable[[], Awaitable[tuple[int, int]]]


async def measure(round_trip: RoundTrip, connections: int = CONNECTIONS) -> Tally:
    """`connections` loops of round trips; counts those completed inside the window."""
    loop = asyncio.get_running_loop()
    window_start = loop.time() + WARMUP_SECONDS
    window_end = window_start + DURATION_SECONDS
    measured = Tally()

    async def loop_until_done() -> None:
        while loop.time() < window_end:
            started = loop.time()
            events, status = await round_trip()
            done = loop.time()
            if window_start <= done <= window_end:
                measured.requests += 1
                measured.events += events
                measured.latencies.append(done - started)
                measured.statuses[status] = measured.statuses.get(status, 0) + 1

    await asyncio.gather(*(loop_until_done() for _ in range(connections)))
    return measured


async def http_load(base: str, token: str) -> Tally:
    run = uuid.uuid4().hex[:12]
    counter = iter(range(10**12))
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/cloudevents-batch+json"}
    limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:

        async def post() -> tuple[int, int]:
            body = orjson.dumps([sample_event(run, next(counter)) for _ in range(BATCH)])
            response = await client.post("/v1/events", content=body, headers=headers)
            if response.status_code != 202:
                return 0, response.status_code
            return int(orjson.loads(response.content)["accepted"]), 202

        return await measure(post)


@dataclass
class RawRecords:
    """Records as the service would publish them: same value, headers and key spread."""

    topic: str
    value: bytes
    headers: list[tuple[str, bytes]]
    keys: list[bytes]
    partition_of: list[int]


async def raw_records(producer: AIOKafkaProducer, topic: str) -> RawRecords:
    [event] = to_command("bench-raw", [sample_event(uuid.uuid4().hex, 0)], datetime.now(UTC)).events
    partitions = sorted(await producer.partitions_for(topic))
    keys = [record_key("bench-raw", f"acct-{n}") for n in range(ACCOUNTS)]
    return RawRecords(
        topic=topic,
        value=encode_usage("bench-raw", event),
        headers=usage_headers("bench-raw", event, datetime.now(UTC).isoformat(), []),
        keys=keys,
        partition_of=[partitions[(murmur2(k) & 0x7FFFFFFF) % len(partitions)] for k in keys],
    )


async def raw_load(bench: Bench, method: str) -> Tally:
    settings = bench.kafka_settings.model_copy(update={"topic_prefix": f"bench.raw.{method}."})
    clients = KafkaClients(settings)
    await clients.ensure_topics([USAGE])
    producer = clients.producer()
    await producer.start()
    try:
        records = await raw_records(producer, clients.topic(USAGE.name))
        counter = iter(range(10**12))

        async def per_record() -> tuple[int, int]:
            futures = []
            for _ in range(BATCH):
                key = records.keys[next(counter) % ACCOUNTS]
                futures.append(
                    await producer.send(records.topic, records.value, key, headers=records.headers)
                )
            await asyncio.gather(*futures)
            return BATCH, 0

        async def per_partition() -> tuple[int, int]:
            batches: dict[int, Any] = {}
            for _ in range(BATCH):
                n = next(counter) % ACCOUNTS
                partition = records.partition_of[n]
                batch = batches.get(partition) or batches.setdefault(partition, producer.create_batch())
                batch.append(
                    key=records.keys[n], value=records.value, timestamp=None, headers=records.headers
                )
            futures = []
            for partition, batch in batches.items():
                batch.close()
                while True:
                    try:
                        futures.append(await producer.send_batch(batch, records.topic, partition=partition))
                        break
                    except KafkaTimeoutError:
                        pass  # not queued: the partition's queue stayed full (many tasks wait on it)
            await asyncio.gather(*futures)
            return BATCH, 0

        return await measure(per_record if method == "send" else per_partition)
    finally:
        await producer.stop()


def http_run(bench: Bench, workers: int) -> Tally:
    base = bench.start_service(
        "usage-ingest",
        roles="api",
        env={"USAGE_INGEST_WORKERS": str(workers), "USAGE_INGEST_RATE_LIMIT_EVENTS_PER_SECOND": "100000000"},
    )
    return asyncio.run(http_load(base, bench.token("bench-ingest", "ingest")))


def post_request(host: str, token: str, batch: int) -> Callable[[int], bytes]:
    """Raw HTTP/1.1 POSTs of `batch` events with ids unique across the run (request i)."""
    run = uuid.uuid4().hex[:12]

    def build(i: int) -> bytes:
        body = orjson.dumps([sample_event(run, i * batch + k) for k in range(batch)])
        head = (
            f"POST /v1/events HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/cloudevents-batch+json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        return head.encode() + body

    return build


def _host_port(base: str) -> tuple[str, int]:
    host, port = base.removeprefix("http://").split(":")
    return host, int(port)


async def batch_sweep(base: str, token: str, report: Report) -> dict[int, float]:
    """Accepted events/s per batch size (closed loop: each connection posts when answered)."""
    host, port = _host_port(base)
    rates = {}
    for batch in BATCH_SIZES:
        connections = 32 if batch == 1 else CONNECTIONS
        warm_up = post_request(host, token, batch)  # its own event ids: the measured ones are all new
        await closed_loop(host, port, warm_up, connections=connections, seconds=1.0)
        requests = post_request(host, token, batch)
        result = await closed_loop(host, port, requests, connections=connections, seconds=SWEEP_SECONDS)
        rates[batch] = accepted = result.statuses.get(202, 0) * batch / result.elapsed
        report.add(
            SUITE,
            f"accepted events/s over HTTP, batch {batch}",
            accepted,
            "events/s",
            batch=batch,
            connections=connections,
            seconds=SWEEP_SECONDS,
            requests_per_second=round(result.rate),
            non_202=sum(n for status, n in result.statuses.items() if status != 202),
        )
    return rates


async def latency_at_load(base: str, token: str, maximum: float, report: Report) -> None:
    """p50/p99 request latency (batches of BATCH) at fixed shares of the maximum, open loop:
    latency counts from when a request was due, so a stalled server cannot hide it."""
    host, port = _host_port(base)
    points = []
    for share in LOAD_SHARES:
        rate = share * maximum / BATCH  # requests per second
        result: Result = await open_loop(
            host, port, post_request(host, token, BATCH), rate=rate, seconds=OPEN_LOOP_SECONDS
        )
        offered, achieved = rate * BATCH, result.statuses.get(202, 0) * BATCH / result.elapsed
        p50, p99 = result.percentile(50) * 1000, result.percentile(99) * 1000
        conditions = {
            "offered_events_per_second": round(offered),
            "share_of_max": share,
            "batch": BATCH,
            "seconds": OPEN_LOOP_SECONDS,
            "generator": "open loop",
            "generator_delay_p99_ms": round(result.percentile(99, "send_delays") * 1000, 1),
            "errors": result.errors,
        }
        report.add(SUITE, f"request latency p50 at {share:.0%} of max", p50, "ms", **conditions)
        report.add(SUITE, f"request latency p99 at {share:.0%} of max", p99, "ms", **conditions)
        points.append({"offered": offered, "achieved": achieved, "p50_ms": p50, "p99_ms": p99})
    report.add_series("ingest: events/s over HTTP, batches of 500", points)


def start_ingest(bench: Bench, workers: int) -> str:
    return bench.start_service(
        "usage-ingest",
        roles="api",
        env={"USAGE_INGEST_WORKERS": str(workers), "USAGE_INGEST_RATE_LIMIT_EVENTS_PER_SECOND": "100000000"},
    )


def run(bench: Bench, report: Report) -> None:
    conditions = {"batch": BATCH, "connections": CONNECTIONS, "seconds": DURATION_SECONDS}
    token = bench.token("bench-ingest", "ingest")

    base = start_ingest(bench, WORKERS[0])
    with peak_rss(bench, report, SUITE, {"usage-ingest api": base}, "max accepted events/s, batches of 500"):
        http = asyncio.run(http_load(base, token))
    raw_send = asyncio.run(raw_load(bench, "send"))
    raw_batch = asyncio.run(raw_load(bench, "send_batch"))
    ratio = http.rate / raw_send.rate if raw_send.rate else 0.0
    ceiling_ratio = http.rate / raw_batch.rate if raw_batch.rate else 0.0

    report.add(SUITE, "accepted events/s over HTTP", http.rate, "events/s", workers=WORKERS[0], **conditions)
    report.add(SUITE, "HTTP request latency p50 (500 events)", http.percentile(0.5), "ms", **conditions)
    report.add(SUITE, "HTTP request latency p99 (500 events)", http.percentile(0.99), "ms", **conditions)
    report.add(SUITE, "raw aiokafka events/s, send() per record", raw_send.rate, "events/s", **conditions)
    report.add(SUITE, "raw aiokafka events/s, send_batch() ceiling", raw_batch.rate, "events/s", **conditions)
    report.add(SUITE, "HTTP / raw producer (send per record)", ratio, "ratio", target=TARGET_RATIO)
    report.add(SUITE, "HTTP / raw producer ceiling (send_batch)", ceiling_ratio, "ratio")
    sweep = uvloop.run(batch_sweep(base, token, report))  # uvloop: a lighter generator
    # shares of the maximum the same raw-socket client reached just before (same generator cost)
    uvloop.run(latency_at_load(base, token, sweep.get(BATCH) or http.rate, report))
    for workers in WORKERS[1:]:
        scaled = asyncio.run(http_load(start_ingest(bench, workers), token))
        report.add(
            SUITE, f"accepted events/s over HTTP, {workers} workers", scaled.rate, "events/s", **conditions
        )
    others = {status: n for status, n in http.statuses.items() if status != 202}
    report.notes.append(
        f"ingest: {http.requests} requests measured, non-202 responses: {others or 'none'}; "
        f"targets ≥ {TARGET_EVENTS_PER_SECOND:,} events/s "
        f"({'met' if http.rate >= TARGET_EVENTS_PER_SECOND else 'missed'}) and ≥ {TARGET_RATIO} of the raw "
        f"producer's send() ({'met' if ratio >= TARGET_RATIO else 'missed'}; "
        f"{ceiling_ratio:.2f} of the send_batch ceiling)"
    )
