"""TangibleClient against the real usage-ingest, on real Kafka and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import httpx
import pytest

from tangible_client import Batching, DeliveryStatus, RetryPolicy, TangibleClient
from tangible_devstack.pytest_plugin import IssueToken
from tangible_devstack.testing import running, wait_ready
from tangible_ingest.bootstrap import bootstrap
from tangible_ingest.config import Settings
from tangible_runtime.kafka import KafkaClients
from tangible_runtime.settings import KafkaSettings
from tangible_schemas import from_record
from tangible_schemas.registry import USAGE
from tangible_schemas.usage import UsageRecorded

pytestmark = pytest.mark.integration

SOURCE = "app://reports"
# an hour ago, to the second: usage-ingest runs on the wall clock and refuses future events
MOMENT = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0)


class KafkaLink(Protocol):
    """The `kafka_proxy` fixture: the service's only way to Kafka."""

    bootstrap_servers: str

    def cut(self) -> None: ...

    def restore(self) -> None: ...


class Watched(httpx.AsyncBaseTransport):
    """Forwards to the service unchanged and notes each status, so a test can react to a 503."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.statuses: list[int] = []
        self.unavailable = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        self.statuses.append(response.status_code)
        if response.status_code == 503:
            self.unavailable.set()
        return response


@asynccontextmanager
async def serve(settings: Settings) -> AsyncIterator[Watched]:
    """usage-ingest in-process (lifespan, Kafka producer, database) behind an ASGI transport."""
    app = bootstrap(settings, configure_logs=False)
    # The credential-revocation worker has no stop hook, so shutdown would wait out the
    # whole grace period (10 s) before cancelling it; nothing here needs a graceful stop.
    app.state.runtime.shutdown_grace_seconds = 0.5
    async with running(app) as http:
        await wait_ready(http)
        # as over a real socket: the client sees the response, never a server-side exception
        yield Watched(httpx.ASGITransport(app=app, raise_app_exceptions=False))


def producer(transport: httpx.AsyncBaseTransport, token: str, **options: Any) -> TangibleClient:
    return TangibleClient("http://ingest", token=token, source=SOURCE, transport=transport, **options)


async def read_usage(kafka_settings: KafkaSettings, expected: int) -> list[tuple[str, UsageRecorded]]:
    """(CloudEvent id, usage) of every record on the topic: until `expected`, then until quiet."""
    consumer = KafkaClients(kafka_settings).consumer(USAGE.name, group=None)
    await consumer.start()
    try:
        records: list[Any] = []
        for _ in range(100):
            batches = await consumer.getmany(timeout_ms=500 if len(records) >= expected else 200)
            fresh = [r for rs in batches.values() for r in rs]
            if not fresh and len(records) >= expected:
                break
            records.extend(fresh)
    finally:
        await consumer.stop()
    usage = []
    for record in records:
        event = from_record(list(record.headers), record.value)
        assert isinstance(event.data, UsageRecorded)
        usage.append((event.id, event.data))
    return usage


async def test_recorded_events_are_delivered_counted_and_reported(
    ingest_settings: Settings, issue_token: IssueToken, tenant_id: str, kafka_settings: KafkaSettings
) -> None:
    async with serve(ingest_settings) as transport:
        async with producer(
            transport, issue_token(tenant_id, "ingest"), batching=Batching(max_events=250)
        ) as c:
            ids = [
                await c.record(
                    "report.generated", f"acct-{i % 3}", 2, user_id="u-1", properties={"format": "pdf"}
                )
                for i in range(600)
            ]
            invalid = await c.record("report.generated", "acct-1", -1)  # quantity must be ≥ 0
            reports = await c.flush()
    assert transport.statuses == [202, 202, 202]  # 601 events in batches of ≤ 250
    by_id = {r.id: r for r in reports}
    assert {by_id[i].status for i in ids} == {DeliveryStatus.ACCEPTED}
    rejected = by_id[invalid]
    assert rejected.status is DeliveryStatus.REJECTED
    assert rejected.errors[0].field == "data.quantity"

    usage = [u for _, u in await read_usage(kafka_settings, len(ids))]
    assert sorted(u.event_id for u in usage) == sorted(ids)
    assert {u.tenant_id for u in usage} == {tenant_id}
    assert sum(u.quantity for u in usage) == 2 * len(ids)
    assert usage[0].properties == {"format": "pdf"} and usage[0].user_id == "u-1"


async def test_sending_the_same_events_again_reports_duplicates_and_a_changed_one_conflicts(
    ingest_settings: Settings, issue_token: IssueToken, tenant_id: str, kafka_settings: KafkaSettings
) -> None:
    token = issue_token(tenant_id, "ingest")
    order_ids = [f"order-{uuid.uuid4()}" for _ in range(3)]
    async with serve(ingest_settings) as transport:
        async with producer(transport, token) as first:
            for order in order_ids:
                await first.record("order.placed", "acct-1", 1, id=order, time=MOMENT)
            assert {r.status for r in await first.flush()} == {DeliveryStatus.ACCEPTED}
        # a producer restarting and re-sending what it could not confirm
        async with producer(transport, token) as again:
            for order in order_ids[:2]:
                await again.record("order.placed", "acct-1", 1, id=order, time=MOMENT)
            await again.record("order.placed", "acct-1", 5, id=order_ids[2], time=MOMENT)
            reports = await again.flush()
    assert [r.status for r in reports] == [
        DeliveryStatus.DUPLICATE,
        DeliveryStatus.DUPLICATE,
        DeliveryStatus.CONFLICT,
    ]
    assert reports[0].delivered and not reports[2].delivered
    usage = await read_usage(kafka_settings, 3)
    assert sorted(u.event_id for _, u in usage) == sorted(order_ids)  # nothing counted twice


async def test_a_token_without_ingest_scope_fails_without_retrying(
    ingest_settings: Settings, issue_token: IssueToken, tenant_id: str
) -> None:
    async with serve(ingest_settings) as transport:
        async with producer(transport, issue_token(tenant_id, "read")) as c:
            await c.record("report.generated", "acct-1")
            [report] = await c.flush()
    assert report.status is DeliveryStatus.FAILED and report.attempts == 1
    assert report.errors[0].code == "forbidden"
    assert transport.statuses == [403]


async def test_events_sent_while_kafka_is_unreachable_are_retried_after_503_and_counted_once(
    ingest_settings: Settings,
    issue_token: IssueToken,
    tenant_id: str,
    kafka_settings: KafkaSettings,
    kafka_proxy: KafkaLink,
) -> None:
    # The service reaches Kafka only through the proxy; the test reads Kafka directly.
    proxied = kafka_settings.model_copy(
        update={"bootstrap_servers": kafka_proxy.bootstrap_servers, "publish_timeout_seconds": 2.0}
    )
    settings = ingest_settings.model_copy(update={"kafka": proxied})
    retry = RetryPolicy(initial_backoff=0.2, max_backoff=2.0, deadline=60)
    async with serve(settings) as transport:
        async with producer(transport, issue_token(tenant_id, "ingest"), retry=retry) as c:
            warm = await c.record("report.generated", "acct-1")  # producer connected via the proxy
            assert [r.status for r in await c.flush()] == [DeliveryStatus.ACCEPTED]
            warm_up = len(transport.statuses)  # more than one if a slow first publish timed out

            kafka_proxy.cut()
            ids = [await c.record("report.generated", f"acct-{i % 4}", 3) for i in range(50)]
            flushing = asyncio.create_task(c.flush())
            await asyncio.wait_for(transport.unavailable.wait(), 30)
            kafka_proxy.restore()  # before the client's retry, which waits ≥ Retry-After (1 s)
            reports = await asyncio.wait_for(flushing, 60)

    assert transport.statuses[warm_up - 1 : warm_up + 1] == [202, 503] and transport.statuses[-1] == 202
    assert [r.id for r in reports] == ids
    assert {r.status for r in reports} == {DeliveryStatus.ACCEPTED}
    assert min(r.attempts for r in reports) >= 2

    usage = await read_usage(kafka_settings, 1 + len(ids))
    # Records of the timed-out publish may still reach Kafka once the link is back. Each
    # copy carries the same CloudEvent id, which consumers deduplicate on: counted once.
    wire_ids: dict[str, set[str]] = {u.event_id: set() for _, u in usage}
    for wire_id, u in usage:
        wire_ids[u.event_id].add(wire_id)
    assert set(wire_ids) == {warm, *ids}
    assert all(len(copies) == 1 for copies in wire_ids.values())
    counted = {wire_id: u.quantity for wire_id, u in usage}
    assert sum(counted.values()) == 1 + 3 * len(ids)
    print(f"\n[client] {len(usage)} records for {len(counted)} events; HTTP {transport.statuses}")
