"""POST /v1/events on real Kafka and PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tangible_devstack.pytest_plugin import IssueToken
from tangible_runtime.kafka import KafkaClients
from tangible_runtime.settings import KafkaSettings
from tangible_schemas import from_record
from tangible_schemas.registry import USAGE
from tangible_schemas.usage import UsageRecorded

pytestmark = pytest.mark.integration


def event(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "app://reports",
        "type": "report.generated",
        "subject": "acct-1",
        "time": "2026-11-26T10:00:00Z",
        "data": {"quantity": 2, "user_id": "u-1", "format": "pdf"},
    }
    base.update(overrides)
    return base


async def read_usage(kafka_settings: KafkaSettings, expected: int) -> list[Any]:
    clients = KafkaClients(kafka_settings)
    consumer = clients.consumer(USAGE.name, group=None)
    await consumer.start()
    try:
        records: list[Any] = []
        for _ in range(50):
            batches = await consumer.getmany(timeout_ms=200)
            records.extend(r for rs in batches.values() for r in rs)
            if len(records) >= expected:
                break
        return records
    finally:
        await consumer.stop()


async def test_single_event_is_on_kafka_with_cloudevents_headers_when_202(
    ingest: httpx.AsyncClient, issue_token: IssueToken, tenant_id: str, kafka_settings: KafkaSettings
) -> None:
    sent = event()
    response = await ingest.post(
        "/v1/events",
        json=sent,
        headers={
            "Authorization": f"Bearer {issue_token(tenant_id, 'ingest')}",
            "Content-Type": "application/cloudevents+json",
        },
    )
    assert response.status_code == 202, response.text
    assert response.json()["accepted"] == 1

    [record] = await read_usage(kafka_settings, 1)
    assert record.key == f"{tenant_id}/acct-1".encode()
    headers = dict(record.headers)
    assert headers["ce_type"] == b"tangible.usage.v1.recorded"
    assert headers["ce_tenantid"] == tenant_id.encode()
    event_in_kafka = from_record(list(record.headers), record.value)
    assert isinstance(event_in_kafka.data, UsageRecorded)
    assert event_in_kafka.data.quantity == 2
    assert event_in_kafka.data.event_id == sent["id"]
    assert event_in_kafka.data.properties == {"format": "pdf"}
