"""Revocation: publish `credential_revoked`, and follow the topic into every service."""

from __future__ import annotations

from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer, TopicPartition
from opentelemetry.trace import SpanKind

from tangible_runtime.kafka import KafkaClients
from tangible_runtime.logs import get_logger
from tangible_runtime.service import ServiceRuntime, Worker
from tangible_runtime.telemetry import current_trace_headers, tracer
from tangible_schemas import from_record, new_event, to_record
from tangible_schemas.credentials import CredentialRevoked, PortalTokensInvalidated
from tangible_schemas.registry import CREDENTIALS

log = get_logger(__name__)


async def publish_revocation(
    producer: AIOKafkaProducer, clients: KafkaClients, *, tenant_id: str, credential_id: str
) -> None:
    """In a span (its own trace when nothing else is current), so the record carries a
    `traceparent` like every other event; the process must have set up tracing (services
    do at bootstrap, the CLI before calling this), or the span, and the header, is a no-op."""
    data = CredentialRevoked(tenant_id=tenant_id, credential_id=credential_id, revoked_at=datetime.now(UTC))
    with tracer(__name__).start_as_current_span(
        f"publish {CREDENTIALS.name}", kind=SpanKind.PRODUCER, attributes={"tangible.tenant": tenant_id}
    ):
        record = to_record(new_event(data, source="tangible/credentials"), current_trace_headers())
        await producer.send_and_wait(
            clients.topic(record.topic), value=record.value, key=record.key, headers=record.headers
        )


def revocation_follower(runtime: ServiceRuntime) -> Worker:
    """Reads every revocation from the start, then follows; readiness waits for catch-up."""

    async def follow() -> None:
        clients = runtime.clients
        topic = clients.topic(CREDENTIALS.name)
        await clients.ensure_topics([CREDENTIALS])
        partitions = (await clients.partitions([CREDENTIALS.name]))[CREDENTIALS.name]
        consumer = clients.consumer(group=None)
        await consumer.start()
        try:
            assignment = [TopicPartition(topic, p) for p in partitions]
            consumer.assign(assignment)
            await consumer.seek_to_beginning(*assignment)
            ends = await consumer.end_offsets(assignment)
            if all(offset == 0 for offset in ends.values()):
                runtime.revocations.caught_up = True  # nothing was ever revoked: ready now
            while True:
                batches = await consumer.getmany(timeout_ms=500, max_records=1000)
                for records in batches.values():
                    for record in records:
                        try:
                            event = from_record(list(record.headers), record.value)
                        except ValueError:
                            log.warning("undecodable_revocation", offset=record.offset)
                            continue
                        if isinstance(event.data, CredentialRevoked):
                            runtime.revocations.add([event.data.credential_id])
                        elif isinstance(event.data, PortalTokensInvalidated):
                            runtime.revocations.invalidate_portal_tokens(
                                event.data.tenant_id,
                                event.data.account_id,
                                event.data.issued_before.timestamp(),
                            )
                if not runtime.revocations.caught_up:
                    positions = {tp: await consumer.position(tp) for tp in assignment}
                    if all(positions[tp] >= ends[tp] for tp in assignment):
                        runtime.revocations.caught_up = True
        finally:
            await consumer.stop()

    async def caught_up() -> None:
        if not runtime.revocations.caught_up:
            raise RuntimeError("credential revocations not loaded yet")

    runtime.readiness_checks["credentials"] = caught_up
    return Worker("credential-revocations", follow)
