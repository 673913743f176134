"""Consumer runner: `getmany` batches → one handler call → offsets committed after it.

The handler owns the database transaction (state, inbox and outbox rows together);
offsets are committed only after it returns, so a crash means redelivery, and the
inbox turns redelivery into a no-op. Failures that say nothing about the data
(database or broker down) are retried without end; other failures are retried a few
times, then the batch is bisected to isolate the poison record for the dead-letter topic.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from aiokafka import ConsumerRecord, TopicPartition
from opentelemetry.context import Context
from opentelemetry.trace import SpanKind

from tangible_runtime.errors import is_transient
from tangible_runtime.kafka import ConsumerClients, RecordProducer
from tangible_runtime.logs import get_logger
from tangible_runtime.metrics import RuntimeMetrics
from tangible_runtime.retries import Backoff, retrying
from tangible_runtime.telemetry import (
    context_from_headers,
    links_for,
    span_context_from_headers,
    traceparent_of,
    tracer,
)
from tangible_schemas import CloudEvent, EventData, UndecodableRecord, dead_letter_topic, from_record
from tangible_schemas.binding import attribute_of, event_type_of

log = get_logger(__name__)
_tracer = tracer(__name__)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One consumed record with its decoded event; raw parts kept for dead-lettering."""

    event: CloudEvent[EventData]
    topic: str
    partition: int
    offset: int
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


BatchHandler = Callable[[Sequence[Delivery]], Awaitable[None]]


class Triage(Protocol):
    """Which records a consumer needs, decided from their type and tenant before decoding:
    decoding is most of what a record the handler would ignore costs. `refresh` runs before
    each batch, so that what it reads (e.g. the tenants' rules) is as current as the batch."""

    async def refresh(self) -> None: ...

    def wants(self, event_type: str, tenant_id: str) -> bool: ...


def _shared_parent(deliveries: Sequence[Delivery]) -> Context | None:
    """A batch whose records all belong to one trace continues it (one upstream request
    often emits several events); a mixed batch links to its producers instead."""
    first = span_context_from_headers(deliveries[0].headers)
    raw = traceparent_of(deliveries[0].headers)
    if first is None or raw is None:
        return None
    trace_id = raw[3:35]  # version-traceid-spanid-flags: compared without parsing each one
    for delivery in deliveries[1:]:
        other = traceparent_of(delivery.headers)
        if other is None or other[3:35] != trace_id:
            return None
    return context_from_headers(deliveries[0].headers)


class ConsumerRunner:
    def __init__(
        self,
        *,
        name: str,
        topics: Sequence[str],
        handler: BatchHandler,
        clients: ConsumerClients,
        producer: RecordProducer,
        metrics: RuntimeMetrics,
        event_types: Collection[str] | None = None,
        batch_size: int = 1000,
        max_attempts: int = 3,
        retry_base_seconds: float = 0.2,
        group: bool = True,
        consumer_options: Mapping[str, Any] | None = None,
        triage: Triage | None = None,
    ) -> None:
        """`consumer_options` go to the Kafka consumer, e.g. `fetch_max_wait_ms` and
        `fetch_min_bytes` to let the broker gather larger batches. Records of a type not in
        `event_types`, or that `triage` does not want, are counted as skipped and not decoded."""
        self.name = name
        self._topics = topics
        self._handler = handler
        self._clients = clients
        self._producer = producer
        self._metrics = metrics
        self._event_types = frozenset(event_types) if event_types is not None else None
        self._batch_size = batch_size
        self._max_attempts = max_attempts
        self._backoff = Backoff(
            first=2 * retry_base_seconds,
            maximum=min(64 * retry_base_seconds, 10.0),
            jitter=retry_base_seconds,
        )
        self._group = group
        self._consumer_options = dict(consumer_options or {})
        self._triage = triage
        self._stopping = asyncio.Event()
        self.assigned = asyncio.Event()

    def request_stop(self) -> None:
        """Finish the batch in hand, commit it, then leave the loop."""
        self._stopping.set()

    async def run(self) -> None:
        await self._clients.ensure_topics([dead_letter_topic(self.name)])
        consumer = self._clients.consumer(
            *self._topics,
            group=self.name if self._group else None,
            max_poll_records=self._batch_size,
            **self._consumer_options,
        )
        await consumer.start()
        try:
            while not self._stopping.is_set():
                batches = await consumer.getmany(timeout_ms=200, max_records=self._batch_size)
                if consumer.assignment():
                    self.assigned.set()
                if not batches:
                    continue
                await self._process([r for records in batches.values() for r in records])
                if self._group:
                    await consumer.commit({tp: records[-1].offset + 1 for tp, records in batches.items()})
                for tp, records in batches.items():
                    self._record_lag(consumer.highwater(tp), tp, records[-1].offset)
        finally:
            await consumer.stop()

    def _record_lag(self, highwater: int | None, tp: TopicPartition, last_offset: int) -> None:
        if highwater is not None:
            self._metrics.consumer_lag.labels(self.name, f"{tp.topic}:{tp.partition}").set(
                max(0, highwater - last_offset - 1)
            )

    async def _process(self, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        if self._triage is not None:
            await retrying(self._triage.refresh, backoff=self._backoff, give_up=self._gives_up)
        deliveries: list[Delivery] = []
        skipped = 0
        for record in records:
            headers = list(record.headers)
            if not self._needs(headers):
                skipped += 1
                continue
            try:
                event = from_record(headers, record.value)
            except UndecodableRecord as error:
                await self._dead_letter_raw(record, headers, error.reason, error.detail)
                continue
            deliveries.append(
                Delivery(
                    event=event,
                    topic=self._clients.logical_topic(record.topic),
                    partition=record.partition,
                    offset=record.offset,
                    key=record.key or b"",
                    value=record.value or b"",
                    headers=headers,
                )
            )
        if skipped:
            self._metrics.consumed.labels(self.name, "skipped").inc(skipped)
        if deliveries:
            await self._handle(deliveries)

    def _needs(self, headers: list[tuple[str, bytes]]) -> bool:
        event_type = event_type_of(headers)
        if self._event_types is not None and event_type not in self._event_types:
            return False
        if self._triage is None or event_type is None:
            return True  # a record without a type is the decoder's to refuse (dead letter)
        tenant_id = attribute_of(headers, "ce_tenantid")
        return tenant_id is None or self._triage.wants(event_type, tenant_id)

    def _gives_up(self, error: Exception, attempts: int) -> bool:
        return not is_transient(error) and attempts >= self._max_attempts

    async def _handle(self, deliveries: Sequence[Delivery]) -> None:
        parent = _shared_parent(deliveries)
        with (
            _tracer.start_as_current_span(
                f"process {deliveries[0].topic}",
                context=parent,
                kind=SpanKind.CONSUMER,
                links=links_for(d.headers for d in deliveries) if parent is None else (),
                attributes={
                    "messaging.system": "kafka",
                    "messaging.batch.message_count": len(deliveries),
                    "messaging.consumer.group.name": self.name,
                },
            ),
            self._metrics.batch_latency.labels(self.name).time(),
        ):
            if await self._attempt(deliveries):
                self._metrics.consumed.labels(self.name, "handled").inc(len(deliveries))
                return
        if len(deliveries) == 1:
            only = deliveries[0]
            await self._dead_letter(only, "handler_failed", "retries exhausted")
            return
        middle = len(deliveries) // 2
        await self._handle(deliveries[:middle])
        await self._handle(deliveries[middle:])

    async def _attempt(self, deliveries: Sequence[Delivery]) -> bool:
        """Whether the handler took the batch: infrastructure failures are waited out
        without end, a data failure gives up after `max_attempts` attempts in all."""

        def log_failure(error: Exception, attempt: int) -> None:
            if is_transient(error):
                log.warning(
                    "consumer_waiting_for_infrastructure",
                    consumer=self.name,
                    attempt=attempt,
                    error=repr(error),
                )
            else:
                log.error(
                    "consumer_handler_failed",
                    consumer=self.name,
                    attempt=attempt,
                    batch=len(deliveries),
                    exc_info=error,
                )

        try:
            await retrying(
                lambda: self._handler(deliveries),
                backoff=self._backoff,
                give_up=self._gives_up,
                on_failure=log_failure,
            )
        except Exception:
            return False
        return True

    async def _dead_letter(self, delivery: Delivery, reason: str, detail: str) -> None:
        await self._publish_dead_letter(
            delivery.key, delivery.value, delivery.headers, reason, detail, delivery.topic
        )

    async def _dead_letter_raw(
        self, record: ConsumerRecord[bytes, bytes], headers: list[tuple[str, bytes]], reason: str, detail: str
    ) -> None:
        await self._publish_dead_letter(
            record.key or b"", record.value or b"", headers, reason, detail, record.topic
        )

    async def _publish_dead_letter(
        self,
        key: bytes,
        value: bytes,
        headers: list[tuple[str, bytes]],
        reason: str,
        detail: str,
        physical_topic: str,
    ) -> None:
        self._metrics.dead_letters.labels(self.name, reason).inc()
        self._metrics.consumed.labels(self.name, "dead_lettered").inc()
        log.warning("dead_lettered", consumer=self.name, reason=reason, detail=detail[:200])
        await self._producer.send_and_wait(
            self._clients.topic(dead_letter_topic(self.name).name),
            value=value,
            key=key,
            headers=[
                *headers,
                ("dlq_consumer", self.name.encode()),
                ("dlq_reason", reason.encode()),
                ("dlq_detail", detail[:1000].encode()),
                # where a replay sends it back (tangible_runtime.dead_letters)
                ("dlq_topic", self._clients.logical_topic(physical_topic).encode()),
            ],
        )
