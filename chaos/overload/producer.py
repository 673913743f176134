"""One load-generating process: tangible-clients recording usage at a fixed rate.

Each client records at its share of the rate from its own task (a client whose buffer is
full makes only its own `record()` wait: backpressure, as in a real producer). The clients'
HTTP goes through a transport that times every request, so the run can report the latency
of accepted requests as a producer sees it (including this process's own event-loop delay).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx
import uvloop

from tangible_client import Batching, DeliveryReport, RetryPolicy, TangibleClient


@dataclass
class ProducerPlan:
    base: str
    token: str
    rate: float  # events/s of this process
    seconds: float
    clients: int
    accounts: int
    start_at: float  # time.time() at which every producer starts recording
    index: int


@dataclass
class ProducerResult:
    recorded: int = 0  # events given to the clients (each once)
    reports: dict[str, int] = field(default_factory=dict)  # delivery status → events
    attempts_max: int = 0
    responses: dict[str, int] = field(default_factory=dict)  # HTTP status → requests (all, retries too)
    throttled_without_retry_after: int = 0  # 429/503 answers that did not say when to come back
    # (seconds since the window opened, latency seconds) of each 202
    accepted_latencies: list[tuple[float, float]] = field(default_factory=list)
    transport_errors: int = 0


class TimingTransport(httpx.AsyncBaseTransport):
    def __init__(self, result: ProducerResult, window_start: float) -> None:
        self._inner = httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=4))
        self._result = result
        self._window_start = window_start

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        started = time.time()
        try:
            response = await self._inner.handle_async_request(request)
        except httpx.TransportError:
            self._result.transport_errors += 1
            raise
        await response.aread()
        elapsed = time.time() - started
        status = response.status_code
        responses = self._result.responses
        responses[str(status)] = responses.get(str(status), 0) + 1
        if status == 202:
            self._result.accepted_latencies.append((round(started - self._window_start, 3), elapsed))
        elif status in (429, 503) and "retry-after" not in response.headers:
            self._result.throttled_without_retry_after += 1
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


async def _one_client(
    plan: ProducerPlan, k: int, result: ProducerResult, window_end: float
) -> list[DeliveryReport]:
    rate = plan.rate / plan.clients
    reports: list[DeliveryReport] = []  # every report: the run checks nothing was dropped
    client = TangibleClient(
        plan.base,
        token=plan.token,
        source=f"app://overload-{plan.index}-{k}",
        batching=Batching(max_events=500, linger=0.05, max_buffered=5_000),
        # throttling (429, 503 with Retry-After) never uses up attempts; the deadline is far
        # beyond the run, so nothing given to a client is dropped
        retry=RetryPolicy(deadline=900),
        keep_reports=0,
        on_delivery=reports.append,
        transport=TimingTransport(result, plan.start_at),
    )
    await asyncio.sleep(max(0.0, plan.start_at - time.time()) + k * 0.05 / plan.clients)
    started = time.time()
    sent = 0
    while (now := time.time()) < window_end:
        due = int((now - started) * rate) - sent
        for _ in range(due):
            # record() waits while the client's buffer is full: what fell due meanwhile is
            # offered in a burst, but never past the window
            if time.time() >= window_end:
                break
            account = f"acct-{(plan.index * 7919 + k * 104729 + sent) % plan.accounts}"
            await client.record("report.generated", account)
            sent += 1
            result.recorded += 1
        await asyncio.sleep(0.01)
    await client.aclose()
    return reports


async def _produce(plan: ProducerPlan) -> ProducerResult:
    result = ProducerResult()
    window_end = plan.start_at + plan.seconds
    batches = await asyncio.gather(*(_one_client(plan, k, result, window_end) for k in range(plan.clients)))
    statuses = Counter(r.status.value for batch in batches for r in batch)
    result.reports = dict(statuses)
    result.attempts_max = max((r.attempts for batch in batches for r in batch), default=0)
    return result


def run_producer(plan: ProducerPlan, results: Any) -> None:
    """Process entry point (multiprocessing): put this producer's result on `results`."""
    results.put(asdict(uvloop.run(_produce(plan))))
