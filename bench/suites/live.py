"""live: how soon an event on Kafka shows in the customer's open stream
(`GET /v1/accounts/{id}/stream`, server-sent events), with 1,000 streams open on ONE
notifications process.

Processes: one notifications `api` (its `LiveHub` follows the topics). The bench process
opens 1,000 streams, one per account of one tenant, each with that account's read-only
token, over raw asyncio connections (a `Protocol` per stream: no HTTP client library on
the receiving path). It then produces rewards `CreditsAdjusted` records straight to Kafka
at a fixed rate, round robin over the accounts, open loop (a slow delivery never delays the
next record). Each event's latency runs from the broker's acknowledgement of its record
(`acks=all`) to the moment its frame arrived on its stream; both times are taken in the
bench process, matched by the CloudEvent id.

The bench process is the client: its own event-loop lag (a 10 ms ticker's overshoot) and
CPU are reported, so a slow client does not pass for a slow server. The server's CPU (from
/proc, user + system) and resident memory (before the streams, with them open, peak under
load) are reported too.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import uvloop

from bench.harness import Bench
from bench.ingest_load import percentiles_ms
from bench.report import Report
from bench.resources import PeakRss, rss_mib
from bench.suites.entitlements import host_port
from tangible_runtime.kafka import KafkaClients
from tangible_schemas import new_event, to_record
from tangible_schemas.rewards import CreditsAdjusted

SUITE = "live"
TENANT = "bench-live"
STREAMS = 1_000  # one per account
RATE = 1_000.0  # events/s over all accounts: one per stream and second
WARMUP = 3.0  # seconds published but not measured
SECONDS = 20.0  # measured: 20,000 events over 1,000 streams
DRAIN = 10.0  # at most this long for the last events to arrive
OPENING = 64  # streams being opened at once
TARGET_P99_MS = 1_000.0
# the CloudEvent's own `"id"` in a frame's data (not `"transaction_id"`, `"tenant_id"`: the
# quote before `id` rules those out)
_EVENT_ID = re.compile(rb'"id":"([0-9a-f-]{36})"')


@dataclass
class Deliveries:
    acked: dict[bytes, float] = field(default_factory=dict)  # event id → broker ack (perf_counter)
    due: dict[bytes, float] = field(default_factory=dict)  # event id → when it was due
    seen: dict[bytes, float] = field(default_factory=dict)  # event id → first seen on its stream
    send_delays: list[float] = field(default_factory=list)  # the producer's own lag
    failed: int = 0  # produce errors


class Stream(asyncio.Protocol):
    """One open stream: notes when each event id arrived; parses nothing else."""

    def __init__(self, seen: dict[bytes, float]) -> None:
        self.seen = seen
        self.buffer = b""
        self.status = 0
        self.opened = asyncio.get_running_loop().create_future()
        self.closed = False
        self.transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # uvloop's transports do not subclass asyncio.Transport

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        buffer = self.buffer + data
        end = buffer.rfind(b"\n\n")  # frames end with a blank line; keep a partial one
        if end < 0:
            self.buffer = buffer
            return
        complete, self.buffer = buffer[: end + 2], buffer[end + 2 :]
        if not self.opened.done():
            self.status = int(complete[9:12]) if complete.startswith(b"HTTP/1.1 ") else -1
            if self.status == 200 and b"retry:" in complete:
                self.opened.set_result(None)  # subscribed: the server sends `retry` after that
            elif self.status != 200:
                self.opened.set_exception(RuntimeError(f"stream refused: {complete[:200]!r}"))
                return
        for match in _EVENT_ID.finditer(complete):
            self.seen.setdefault(match.group(1), now)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.opened.done():
            self.opened.set_exception(ConnectionError(f"stream closed before it opened: {exc}"))


def _request(host: str, account: str, token: str) -> bytes:
    return (
        f"GET /v1/accounts/{account}/stream HTTP/1.1\r\nHost: {host}\r\n"
        f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
    ).encode()


async def _open_streams(bench: Bench, base: str, seen: dict[bytes, float]) -> list[Stream]:
    host, port = host_port(base)
    loop = asyncio.get_running_loop()
    semaphore = asyncio.Semaphore(OPENING)

    async def one(k: int) -> Stream:
        account = f"acct-{k}"
        token = bench.issuer.issue(tenant_id=TENANT, scopes=("read",), account_id=account).token
        async with semaphore:
            transport, stream = await loop.create_connection(lambda: Stream(seen), host, port)
            transport.write(_request(host, account, token))
            await asyncio.wait_for(stream.opened, 60)
            return stream

    return await asyncio.gather(*(one(k) for k in range(STREAMS)))


def _adjustment(i: int) -> CreditsAdjusted:
    return CreditsAdjusted(
        tenant_id=TENANT,
        account_id=f"acct-{i % STREAMS}",
        transaction_id=str(uuid.uuid4()),
        amount=Decimal(1),
        balance_after=Decimal(i // STREAMS + 1),
        actor="bench",
        reason="live stream benchmark",
    )


async def _publish(
    clients: KafkaClients, producer: Any, deliveries: Deliveries, started: float, until: float
) -> None:
    """Record i is due at started + i / RATE; sent then whatever the streams do (open loop)."""
    pending: list[asyncio.Future[Any]] = []

    def on_ack(event_id: bytes, future: asyncio.Future[Any]) -> None:
        if future.cancelled() or future.exception() is not None:
            deliveries.failed += 1
        else:
            deliveries.acked[event_id] = time.perf_counter()

    try:
        i = 0
        while (due := started + i / RATE) < until:
            # always yield, even when behind: otherwise the sends bunch up before any is acked
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            deliveries.send_delays.append(time.perf_counter() - due)
            record = to_record(new_event(_adjustment(i), source="bench"))
            event_id = dict(record.headers)["ce_id"]
            deliveries.due[event_id] = due
            future = await producer.send(
                clients.topic(record.topic), value=record.value, key=record.key, headers=record.headers
            )
            future.add_done_callback(lambda f, event_id=event_id: on_ack(event_id, f))
            pending.append(future)
            i += 1
    finally:
        await asyncio.gather(*pending, return_exceptions=True)


async def _ticker(lags: list[float], stop: asyncio.Event, every: float = 0.01) -> None:
    """The client's own event-loop lag: how late a 10 ms sleep wakes up."""
    while not stop.is_set():
        before = time.perf_counter()
        await asyncio.sleep(every)
        lags.append(time.perf_counter() - before - every)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (from /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _profile(pid: int) -> subprocess.Popen[bytes] | None:
    """With BENCH_LIVE_PROFILE=<file>: py-spy samples the server through the measured window
    into <file> (collapsed stacks; `uv tool run py-spy` must work). Sampling costs CPU on
    the same cores: figures of a profiled run are not the suite's figures."""
    out = os.environ.get("BENCH_LIVE_PROFILE")
    if not out:
        return None
    command = ["uv", "tool", "run", "py-spy", "record", "--format", "raw", "--rate", "200"]
    command += ["--pid", str(pid), "--duration", str(int(SECONDS)), "--output", out, "--nonblocking"]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL)


@dataclass
class Outcome:
    latencies: list[float]
    missing: int
    closed_streams: int
    failed: int
    published: int
    seconds: float
    open_seconds: float
    send_delay_p99_ms: float
    client_lag: list[float]
    client_cpu: float  # share of one core
    server_cpu: float  # share of one core
    server_cpu_per_event: float  # seconds, from the first record to the last delivery
    rss_before: float
    rss_open: float
    rss_peak: float


async def _measure(bench: Bench, base: str) -> Outcome:
    pid = bench.pid(base)
    deliveries = Deliveries()
    rss_before = rss_mib(pid)
    opening = time.perf_counter()
    streams = await _open_streams(bench, base, deliveries.seen)
    open_seconds = time.perf_counter() - opening
    print(f"  {len(streams):,} streams open in {open_seconds:.1f} s", flush=True)
    await asyncio.sleep(1)
    rss_open = rss_mib(pid)

    clients = KafkaClients(bench.kafka_settings)
    producer = clients.producer()
    await producer.start()  # connected before the first record is due
    lags: list[float] = []
    stop = asyncio.Event()
    ticker = asyncio.create_task(_ticker(lags, stop))
    started = time.perf_counter() + 0.1
    window = (started + WARMUP, started + WARMUP + SECONDS)
    with PeakRss({"notifications": pid}) as sampler:
        server_cpu_at_start = _cpu_seconds(pid)
        publishing = asyncio.create_task(_publish(clients, producer, deliveries, started, window[1]))
        await asyncio.sleep(max(0.0, window[0] - time.perf_counter()))  # warm-up: not measured
        lags.clear()
        deliveries.send_delays.clear()
        cpu = (_cpu_seconds(pid), time.process_time(), time.perf_counter())
        profiler = _profile(pid)
        await asyncio.sleep(max(0.0, window[1] - time.perf_counter()))
        elapsed = time.perf_counter() - cpu[2]
        server_cpu = (_cpu_seconds(pid) - cpu[0]) / elapsed
        client_cpu = (time.process_time() - cpu[1]) / elapsed
        if profiler is not None:
            await asyncio.to_thread(profiler.wait)
        stop.set()
        await publishing
        await producer.stop()
        measured = [e for e, due in deliveries.due.items() if window[0] <= due < window[1]]
        deadline = time.perf_counter() + DRAIN
        while time.perf_counter() < deadline and any(  # noqa: ASYNC110 (polls what protocols write)
            e in deliveries.acked and e not in deliveries.seen for e in measured
        ):
            await asyncio.sleep(0.1)
        # robust to a server that falls behind (its CPU share in the window then drops)
        server_cpu_per_event = (_cpu_seconds(pid) - server_cpu_at_start) / max(1, len(deliveries.seen))
    await ticker
    latencies = [deliveries.seen[e] - deliveries.acked[e] for e in measured if e in deliveries.seen]
    missing = sum(1 for e in measured if e not in deliveries.seen)
    closed = sum(1 for s in streams if s.closed)
    for stream in streams:
        if stream.transport is not None:
            stream.transport.close()
    return Outcome(
        latencies=latencies,
        missing=missing,
        closed_streams=closed,
        failed=deliveries.failed,
        published=len(measured),
        seconds=SECONDS,
        open_seconds=open_seconds,
        send_delay_p99_ms=percentiles_ms(deliveries.send_delays, 99)[0],
        client_lag=lags,
        client_cpu=client_cpu,
        server_cpu=server_cpu,
        server_cpu_per_event=server_cpu_per_event,
        rss_before=rss_before,
        rss_open=rss_open,
        rss_peak=sampler.peaks["notifications"],
    )


def run(bench: Bench, report: Report) -> None:
    notifications = bench.start_service("notifications", roles="api")
    outcome = uvloop.run(_measure(bench, notifications))
    p50, p95, p99, worst = percentiles_ms(outcome.latencies, 50, 95, 99, 100)
    lag_p99, lag_max = percentiles_ms(outcome.client_lag, 99, 100)
    conditions: dict[str, Any] = {
        "open_streams": STREAMS,
        "processes": 1,
        "rate": RATE,
        "seconds": outcome.seconds,
        "events": outcome.published,
        "delivered": len(outcome.latencies),
        "missing": outcome.missing,
        "streams_closed": outcome.closed_streams,
        "generator": "open loop",
        "generator_delay_p99_ms": round(outcome.send_delay_p99_ms, 1),
        "client_loop_lag_p99_ms": round(lag_p99, 1),
        "client_loop_lag_max_ms": round(lag_max, 1),
        "client_cpu_share": round(outcome.client_cpu, 2),
    }
    for name, value in (("p50", p50), ("p95", p95), ("p99", p99), ("max", worst)):
        report.add(SUITE, f"broker ack → visible in open stream, {name}", value, "ms", **conditions)
    load = f"{STREAMS:,} open streams, {RATE:,.0f} events/s"
    report.add(SUITE, "notifications CPU (one process)", outcome.server_cpu * 100, "% of a core", during=load)
    report.add(
        SUITE,
        "notifications CPU per delivered event",
        outcome.server_cpu_per_event * 1e6,
        "µs",
        during=f"{load}, first record to last delivery, one stream per account",
    )
    report.add(SUITE, f"time to open {STREAMS:,} streams", outcome.open_seconds, "s", concurrently=OPENING)
    report.add(
        "resources",
        "notifications api RSS before the streams",
        outcome.rss_before,
        "MiB",
        during=f"{SUITE}: idle",
    )
    report.add(
        "resources",
        "notifications api RSS per open stream",
        (outcome.rss_open - outcome.rss_before) * 1024 / STREAMS,
        "KiB",
        during=f"{SUITE}: {STREAMS:,} open streams, no events",
    )
    report.add("resources", "notifications api peak RSS", outcome.rss_peak, "MiB", during=f"{SUITE}: {load}")
    met = "met" if p99 <= TARGET_P99_MS and outcome.missing == 0 else "NOT met"
    report.notes.append(
        f"live: {STREAMS:,} streams on one notifications process, {RATE:,.0f} CreditsAdjusted/s produced "
        f"to Kafka for {SECONDS:.0f} s (after {WARMUP:.0f} s warm-up); target p99 ≤ {TARGET_P99_MS:,.0f} ms "
        f"({met}: p99 {p99:,.0f} ms, {outcome.missing} events not seen)"
    )
