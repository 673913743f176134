"""TangibleClient on httpx.MockTransport: background batching, flush, outcomes, backpressure, close."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime

import httpx
import pytest

from tangible_client import (
    Batching,
    ClientClosedError,
    DeliveryReport,
    DeliveryStatus,
    RetryPolicy,
    SyncTangibleClient,
    TangibleClient,
)
from tangible_client.testing import FakeIngest

FAST_RETRY = RetryPolicy(initial_backoff=0.01, max_backoff=0.05)


def client(server: FakeIngest | httpx.MockTransport, **options: object) -> TangibleClient:
    transport = server.transport if isinstance(server, FakeIngest) else server
    return TangibleClient(
        "http://ingest",
        token="secret",
        source="app://tests",
        transport=transport,
        **options,  # type: ignore[arg-type]
    )


async def test_events_go_out_in_batches_and_flush_reports_each_in_record_order() -> None:
    server = FakeIngest()
    seen: list[DeliveryReport] = []
    async with client(server, batching=Batching(max_events=500, linger=10), on_delivery=seen.append) as c:
        ids = [await c.record("report.generated", f"acct-{i % 7}", 2) for i in range(1200)]
        reports = await c.flush()
        assert await c.flush() == []
    assert [r.id for r in reports] == ids == [r.id for r in seen]
    assert {r.status for r in reports} == {DeliveryStatus.ACCEPTED}
    assert [len(b) for b in server.batches()] == [500, 500, 200]
    request = server.requests[0]
    assert request.url.path == "/v1/events"
    assert request.headers["authorization"] == "Bearer secret"
    assert request.headers["content-type"] == "application/cloudevents-batch+json"


async def test_a_partial_batch_leaves_after_linger_without_flush() -> None:
    server = FakeIngest()
    seen = asyncio.Event()
    async with client(server, batching=Batching(linger=0.05), on_delivery=lambda _: seen.set()) as c:
        await c.record("report.generated", "acct-1")
        await asyncio.wait_for(seen.wait(), 2)
        assert len(server.requests) == 1


async def test_ids_stay_stable_across_retries_and_a_resend_is_reported_duplicate() -> None:
    server = FakeIngest()
    server.fail_next(2, status=503, retry_after="0")
    async with client(server, retry=FAST_RETRY) as c:
        event_id = await c.record("report.generated", "acct-1", properties={"format": "pdf"})
        [report] = await c.flush()
        assert report.status is DeliveryStatus.ACCEPTED and report.attempts == 3
        bodies = {r.content for r in server.requests}
        assert len(bodies) == 1 and json.loads(bodies.pop())[0]["id"] == event_id
        # the producer re-sends the same event, e.g. after a crash: counted once
        first = server.batches()[0][0]
        await c.record(
            first["type"],
            first["subject"],
            properties={"format": "pdf"},
            id=event_id,
            time=datetime.fromisoformat(first["time"]),
        )
        [again] = await c.flush()
    assert again.status is DeliveryStatus.DUPLICATE and again.delivered
    assert len(server.stored) == 1


async def test_a_shedding_server_gets_every_event_exactly_once_after_its_503s() -> None:
    """usage-ingest under overload: 503 overloaded with Retry-After, more often than
    max_attempts, then 202. Nothing is dropped and nothing is counted twice."""
    server = FakeIngest()
    server.fail_next(6, status=503, retry_after="0")
    policy = RetryPolicy(max_attempts=2, initial_backoff=0.01, max_backoff=0.05)
    async with client(server, batching=Batching(max_events=100, linger=10), retry=policy) as c:
        ids = [await c.record("report.generated", f"acct-{i % 3}") for i in range(250)]
        reports = await c.flush()
    assert [r.id for r in reports] == ids
    assert {r.status for r in reports} == {DeliveryStatus.ACCEPTED}
    assert len(server.requests) == 6 + 3  # the first batch sent 7 times, then two more
    assert len(server.stored) == 250


async def test_record_waits_while_the_buffer_is_full() -> None:
    gate = asyncio.Event()
    server = FakeIngest()

    async def slow(request: httpx.Request) -> httpx.Response:
        await gate.wait()
        return server(request)

    batching = Batching(max_events=2, max_buffered=4, linger=0)
    async with client(httpx.MockTransport(slow), batching=batching) as c:
        for _ in range(4):
            await c.record("t", "a")
        blocked = asyncio.ensure_future(c.record("t", "a"))
        await asyncio.sleep(0.05)
        assert not blocked.done()  # backpressure: four events are unsettled
        gate.set()
        await asyncio.wait_for(blocked, 2)
        reports = await c.flush()
    assert len(reports) == 5 and all(r.delivered for r in reports)


async def test_aclose_flushes_and_later_records_are_refused() -> None:
    server = FakeIngest()
    c = client(server, batching=Batching(linger=60))
    await c.record("t", "a")
    [report] = await c.aclose()
    assert report.status is DeliveryStatus.ACCEPTED
    with pytest.raises(ClientClosedError):
        await c.record("t", "a")


async def test_aclose_with_a_timeout_reports_unconfirmed_events_failed() -> None:
    server = FakeIngest()
    server.fail_next(1000, status=503, retry_after="1")
    c = client(server)
    await c.record("t", "a")
    [report] = await asyncio.wait_for(c.aclose(timeout=0.2), 2)
    assert report.status is DeliveryStatus.FAILED
    assert report.errors[0].code == "closed-before-confirmed"


async def test_a_failing_callback_does_not_stop_delivery() -> None:
    def explode(_: DeliveryReport) -> None:
        raise RuntimeError("callback bug")

    async with client(FakeIngest(), on_delivery=explode) as c:
        await c.record("t", "a")
        [report] = await c.flush()
    assert report.delivered


async def test_an_event_larger_than_a_batch_is_refused_at_record() -> None:
    async with client(FakeIngest(), batching=Batching(max_bytes=1024)) as c:
        with pytest.raises(ValueError, match="larger than max_bytes"):
            await c.record("t", "a", properties={"blob": "x" * 2000})


def test_sync_client_records_flushes_and_closes_from_plain_threads() -> None:
    server = FakeIngest()
    with SyncTangibleClient("http://ingest", token="t", source="app://sync", transport=server.transport) as c:
        ids = [c.record("report.generated", "acct-1", 1) for _ in range(3)]
        assert [r.id for r in c.flush()] == ids
        c.record("report.generated", "acct-1")
    assert len(server.stored) == 4
