"""Publishes accepted usage to Kafka, CloudEvents binary mode, one producer batch per
partition per request.

Records go straight into aiokafka batch builders (`create_batch` / `send_batch`, shared
between concurrent requests by `PartitionBatcher`), placed on the partition aiokafka's
default partitioner would pick for the key, instead of one `send()` per record, whose
per-record bookkeeping (a future, a metadata wait, a pure-Python murmur2) would cost more
than everything else on the hot path. The record value is
encoded straight from the validated fields with orjson for the same reason; contract tests
check that the bytes validate as `UsageRecorded` and that partitions match aiokafka's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.partitioner import murmur2

from tangible_ingest.adapters.batcher import PartitionBatcher
from tangible_ingest.adapters.in_flight import Delivery, InFlight
from tangible_ingest.domain.errors import PublishUnavailable
from tangible_ingest.domain.model import UsageEvent
from tangible_runtime.kafka import KafkaClients
from tangible_runtime.metrics import RuntimeMetrics
from tangible_runtime.telemetry import current_trace_headers
from tangible_schemas.binding import record_key
from tangible_schemas.registry import USAGE
from tangible_schemas.usage import UsageRecorded

SOURCE = "tangible/usage-ingest"
_SPECVERSION = ("ce_specversion", b"1.0")
_SOURCE = ("ce_source", SOURCE.encode())
_TYPE = ("ce_type", UsageRecorded.event_type.encode())
_CONTENT_TYPE = ("content-type", b"application/json")


def encode_usage(tenant_id: str, event: UsageEvent) -> bytes:
    record: dict[str, object] = {
        "tenant_id": tenant_id,
        "account_id": event.account_id,
        "event_id": event.id,
        "event_source": event.source,
        "usage_type": event.type,
        "occurred_at": event.time,
        "quantity": event.quantity,
        "user_id": event.user_id,
        "properties": event.properties,
    }
    if event.imported:  # only then: live records keep the bytes older consumers know
        record["imported"] = True
    return orjson.dumps(record, option=orjson.OPT_UTC_Z)


class HeaderTemplate:
    """The `ce_*` headers of one request's records: shared parts are built once."""

    def __init__(self, tenant_id: str, now: str, trace: list[tuple[str, bytes]]) -> None:
        self.tenant_id = tenant_id
        self._time = ("ce_time", now.encode())
        self._tenant = ("ce_tenantid", tenant_id.encode())
        self._trace = trace

    def headers(self, event: UsageEvent) -> list[tuple[str, bytes]]:
        return [
            _SPECVERSION,
            ("ce_id", event.wire_id(self.tenant_id).encode()),
            _SOURCE,
            _TYPE,
            ("ce_subject", event.account_id.encode()),
            self._time,
            self._tenant,
            _CONTENT_TYPE,
            *self._trace,
        ]


def usage_headers(
    tenant_id: str, event: UsageEvent, now: str, trace: list[tuple[str, bytes]]
) -> list[tuple[str, bytes]]:
    return HeaderTemplate(tenant_id, now, trace).headers(event)


class KeyPartitioner:
    """aiokafka's default partitioner (murmur2 of the key, like Java's), remembered per
    key: keys are tenant/account, few and recurring, and murmur2 is pure Python there."""

    def __init__(self, max_keys: int = 200_000) -> None:
        self._max_keys = max_keys
        self._partitions: list[int] = []
        self._cache: dict[bytes, int] = {}

    def partition(self, key: bytes, partitions: list[int]) -> int:
        if partitions != self._partitions:
            self._partitions = partitions
            self._cache = {}
        found = self._cache.get(key)
        if found is None:
            if len(self._cache) >= self._max_keys:
                self._cache = {}
            found = self._cache[key] = partitions[(murmur2(key) & 0x7FFFFFFF) % len(partitions)]
        return found


class UsagePublisher:
    def __init__(
        self,
        producer: AIOKafkaProducer,
        clients: KafkaClients,
        metrics: RuntimeMetrics,
        timeout: float,
        max_backlog: int = 100_000,
    ) -> None:
        self._producer = producer
        self._topic = clients.topic(USAGE.name)
        self._metrics = metrics
        self._timeout = timeout
        self._max_backlog = max_backlog
        self._partitioner = KeyPartitioner()
        self._batcher = PartitionBatcher(producer, self._topic)
        # room for every record the backlog admits, and for those landed since, awaiting retries
        self.in_flight = InFlight(max_events=2 * max_backlog)

    def _append(self, tenant_id: str, events: Sequence[UsageEvent], partitions: list[int]) -> list[Delivery]:
        """Encode and append every record (no await); returns the batches carrying them."""
        template = HeaderTemplate(tenant_id, datetime.now(UTC).isoformat(), current_trace_headers())
        partition_of = self._partitioner.partition
        append = self._batcher.append
        keys: dict[str, bytes] = {}
        deliveries: dict[asyncio.Future[None], list[UsageEvent]] = {}
        for event in events:
            key = keys.get(event.account_id)
            if key is None:
                key = keys[event.account_id] = record_key(tenant_id, event.account_id)
            partition = partition_of(key, partitions)
            acked = append(partition, key, encode_usage(tenant_id, event), template.headers(event))
            carried = deliveries.get(acked)
            if carried is None:
                deliveries[acked] = [event]
            else:
                carried.append(event)
        return list(deliveries.items())

    async def publish(self, tenant_id: str, events: Sequence[UsageEvent]) -> None:
        """Returns once Kafka acknowledged every event (acks=all), else raises.

        Events whose record an earlier, failed publish left on its way are not sent again:
        this waits for that record instead (see `InFlight`)."""
        if not events:
            return
        earlier, fresh = self.in_flight.take(events)
        if fresh and self._batcher.backlog >= self._max_backlog:
            # Kafka has been away long enough: refuse fast rather than pile up records
            # (aiokafka's buffer has no bound) until memory runs out.
            self.in_flight.keep(earlier)
            raise PublishUnavailable(f"{self._batcher.backlog} events are still waiting for Kafka")
        sent: list[Delivery] = []
        try:
            with self._metrics.publish_latency.time():
                async with asyncio.timeout(self._timeout):
                    if fresh:
                        partitions = sorted(await self._producer.partitions_for(self._topic))
                        sent = self._append(tenant_id, fresh, partitions)
                    waiting = [future for future, _ in (*sent, *earlier)]
                    # asyncio.wait, not gather: a timeout must not cancel the batches
                    await asyncio.wait(waiting)
                for future in waiting:
                    failure = future.exception()
                    if failure is not None:
                        raise failure
        except (KafkaError, TimeoutError, asyncio.CancelledError) as error:
            # Records already appended may reach Kafka later: remember them, so that the
            # producer's retry waits for them rather than sending another copy.
            self.in_flight.keep([*sent, *earlier])
            if isinstance(error, asyncio.CancelledError):
                raise
            raise PublishUnavailable(
                f"Kafka did not acknowledge the events: {type(error).__name__}"
            ) from error
