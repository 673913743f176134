"""A small HTTP/1.1 load generator for benchmarks: keep-alive connections over asyncio
streams, closed-loop (max throughput) and open-loop (fixed rate) modes.

Open loop measures each latency from the moment the request was *due*, not from when it
was sent, so a stalled server shows up as latency instead of silently slowing the
generator down (coordinated omission).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field


@dataclass
class Result:
    completed: int = 0
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)  # seconds
    # open loop: how late each request left the generator (its own lag on a busy machine;
    # counted in the latency, so a large value says the generator, not the server, fell behind)
    send_delays: list[float] = field(default_factory=list)
    elapsed: float = 0.0

    @property
    def rate(self) -> float:
        return self.completed / self.elapsed if self.elapsed else 0.0

    def percentile(self, p: float, of: str = "latencies") -> float:
        samples: list[float] = getattr(self, of)
        if not samples:
            return float("nan")
        ordered = sorted(samples)
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
                break
        body = await self.reader.readexactly(length) if length else b""
        return status, body

    def close(self) -> None:
        self.writer.close()


def get_request(host: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
    return "\r\n".join(lines).encode()


RequestFactory = Callable[[int], bytes]


async def closed_loop(
    host: str, port: int, requests: RequestFactory, *, connections: int, seconds: float
) -> Result:
    """`connections` clients each sending the next request as soon as the last one answered."""
    result = Result()
    stop_at = time.perf_counter() + seconds
    counter = iter(range(1 << 62))

    async def client() -> None:
        connection = await Connection.open(host, port)
        try:
            while time.perf_counter() < stop_at:
                status, _ = await connection.request(requests(next(counter)))
                result.completed += 1
                result.statuses[status] = result.statuses.get(status, 0) + 1
        finally:
            connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(connections)))
    result.elapsed = time.perf_counter() - started
    return result


async def open_loop(
    host: str,
    port: int,
    requests: RequestFactory,
    *,
    rate: float,
    seconds: float,
    max_connections: int = 256,
    warmup: Sequence[int] = (),
) -> Result:
    """Request i is due at start + i / rate; latency counts from then. Idle connections are
    reused; a new one is opened when all are busy (up to `max_connections` requests in flight)."""
    result = Result()
    idle: list[Connection] = []
    in_flight: set[asyncio.Task[None]] = set()

    async def one(i: int, due: float) -> None:
        connection = idle.pop() if idle else None
        try:
            if connection is None:
                connection = await Connection.open(host, port)
            raw = requests(i)
            result.send_delays.append(time.perf_counter() - due)
            status, _ = await connection.request(raw)
            result.latencies.append(time.perf_counter() - due)
            result.completed += 1
            result.statuses[status] = result.statuses.get(status, 0) + 1
            idle.append(connection)
        except (OSError, asyncio.IncompleteReadError):
            result.errors += 1
            if connection is not None:
                connection.close()

    for i in warmup:
        await one(i, time.perf_counter())
    result.latencies.clear()
    result.send_delays.clear()
    result.completed = 0
    result.statuses.clear()
    total = int(rate * seconds)
    started = time.perf_counter()
    for i in range(total):
        due = started + i / rate
        # always yield, even when behind schedule: otherwise the loop queues every remaining
        # request before any of them is sent, and the generator's lag reads as latency
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        if len(in_flight) >= max_connections:
            result.errors += 1  # the generator's own limit: count it, don't wait (no omission)
            continue
        task = asyncio.create_task(one(i, due))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
    if in_flight:
        await asyncio.wait(in_flight)
    result.elapsed = time.perf_counter() - started
    for connection in idle:
        connection.close()
    return result
