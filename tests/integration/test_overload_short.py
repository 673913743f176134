"""Overload, short form (`make overload` is the long one): many tangible-clients at once
against a usage-ingest whose bound of events in flight is tiny. Ingest sheds what does not
fit with 503 + Retry-After, the clients back off and resend the same batches, and every
event reaches Kafka and entitlements' counter exactly once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tangible_client import Batching, DeliveryReport, DeliveryStatus, RetryPolicy, TangibleClient
from tangible_devstack.pytest_plugin import IssueToken
from tangible_devstack.scenario import Clients, provision, report_usage
from tangible_devstack.testing import eventually, read_topic
from tangible_runtime.kafka import KafkaClients
from tangible_runtime.settings import KafkaSettings
from tangible_schemas.registry import USAGE
from tests.integration.conftest import StartedService

pytestmark = pytest.mark.integration

ACCOUNT = "acct-overload"
PRODUCERS, EVENTS_EACH, BATCH, BOUND = 8, 100, 20, 40  # 8 × 20 events offered at once, room for 40


def shed_requests(metrics: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(metrics)
        for sample in family.samples
        if sample.name == "ingest_shed_requests_total"
    )


async def produce(app: Any, token: str, producer: int, at: datetime) -> list[DeliveryReport]:
    async with TangibleClient(
        "http://ingest",
        token=token,
        source=f"app://producer-{producer}",
        batching=Batching(max_events=BATCH, linger=0.01),
        # attempts count only real failures: a shed batch is retried however often it is shed
        retry=RetryPolicy(max_attempts=3, deadline=120),
        transport=httpx.ASGITransport(app=app),
    ) as client:
        for _ in range(EVENTS_EACH):
            await client.record("report.generated", ACCOUNT, time=at)
        return await client.flush()


async def test_shed_batches_are_retried_and_every_event_counts_exactly_once(
    start_system: Any,
    started_services: dict[str, StartedService],
    issue_token: IssueToken,
    tenant_id: str,
    kafka_settings: KafkaSettings,
) -> None:
    system: Clients = await start_system(overrides={"usage-ingest": {"max_events_in_flight": BOUND}})
    await provision(system, issue_token(tenant_id, "admin"), ACCOUNT)
    ingest = started_services["usage-ingest"].app
    at = datetime.now(UTC)
    token = issue_token(tenant_id, "ingest")
    batches = await asyncio.gather(*(produce(ingest, token, p, at) for p in range(PRODUCERS)))
    reports = [report for batch in batches for report in batch]

    total = PRODUCERS * EVENTS_EACH
    assert len(reports) == total
    assert {r.status for r in reports} == {DeliveryStatus.ACCEPTED}  # none dropped, none failed
    assert max(r.attempts for r in reports) > 1  # some batches were shed, then resent
    assert shed_requests((await system.ingest.get("/metrics")).text) > 0

    records = await read_topic(KafkaClients(kafka_settings), USAGE.name)
    ids = [dict(record.headers)["ce_id"] for record in records]
    assert len(ids) == len(set(ids)) == total  # on the topic once each

    reader = issue_token(tenant_id, "read", account_id=ACCOUNT)

    async def counted() -> None:
        check = await report_usage(system, reader, ACCOUNT)
        if at < datetime.fromisoformat(check["period_start"]):  # a month ended meanwhile
            check = await report_usage(system, reader, ACCOUNT, at=at)
        assert check["usage"] == total

    await eventually(counted, timeout=45)
