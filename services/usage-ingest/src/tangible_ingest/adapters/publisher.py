"""Publishes accepted usage to Kafka, CloudEvents binary mode, one producer batch per request.

The record value is encoded straight from the validated fields with orjson: building a
pydantic envelope per event would double the cost of the hot path. A contract test checks
that these bytes validate as `UsageRecorded`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from tangible_ingest.domain.errors import PublishUnavailable
from tangible_ingest.domain.model import UsageEvent
from tangible_runtime.kafka import KafkaClients
from tangible_runtime.metrics import RuntimeMetrics
from tangible_runtime.telemetry import current_trace_headers
from tangible_schemas.registry import USAGE
from tangible_schemas.usage import UsageRecorded

SOURCE = "tangible/usage-ingest"


def encode_usage(tenant_id: str, event: UsageEvent) -> bytes:
    return orjson.dumps(
        {
            "tenant_id": tenant_id,
            "account_id": event.account_id,
            "event_id": event.id,
            "event_source": event.source,
            "usage_type": event.type,
            "occurred_at": event.time,
            "quantity": event.quantity,
            "user_id": event.user_id,
            "properties": event.properties,
        },
        option=orjson.OPT_UTC_Z,
    )


def usage_headers(
    tenant_id: str, event: UsageEvent, now: str, trace: list[tuple[str, bytes]]
) -> list[tuple[str, bytes]]:
    return [
        ("ce_specversion", b"1.0"),
        ("ce_id", event.wire_id(tenant_id).encode()),
        ("ce_source", SOURCE.encode()),
        ("ce_type", UsageRecorded.event_type.encode()),
        ("ce_subject", event.account_id.encode()),
        ("ce_time", now.encode()),
        ("ce_tenantid", tenant_id.encode()),
        ("content-type", b"application/json"),
        *trace,
    ]


class UsagePublisher:
    def __init__(
        self, producer: AIOKafkaProducer, clients: KafkaClients, metrics: RuntimeMetrics, timeout: float
    ) -> None:
        self._producer = producer
        self._topic = clients.topic(USAGE.name)
        self._metrics = metrics
        self._timeout = timeout

    async def publish(self, tenant_id: str, events: Sequence[UsageEvent]) -> None:
        """Returns once Kafka acknowledged every event (acks=all), else raises."""
        if not events:
            return
        now = datetime.now(UTC).isoformat()
        trace = current_trace_headers()
        topic = self._topic

        async def send_all() -> None:
            futures = [
                await self._producer.send(
                    topic,
                    value=encode_usage(tenant_id, event),
                    key=f"{tenant_id}/{event.account_id}".encode(),
                    headers=usage_headers(tenant_id, event, now, trace),
                )
                for event in events
            ]
            await asyncio.gather(*futures)

        try:
            with self._metrics.publish_latency.time():
                await asyncio.wait_for(send_all(), self._timeout)
        except (KafkaError, TimeoutError) as error:
            # Records still buffered may reach Kafka later; their ids are stable, so the
            # producer's retry is deduplicated downstream. The dedup key stays unclaimed.
            raise PublishUnavailable(
                f"Kafka did not acknowledge the events: {type(error).__name__}"
            ) from error
