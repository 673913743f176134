"""Kafka consumers of entitlements: each translates deliveries into one command."""

from __future__ import annotations

from collections.abc import Sequence

from tangible_entitlements.domain.commands import RecordUsage
from tangible_entitlements.domain.metering import Usage
from tangible_entitlements.entrypoints.dependencies import Container
from tangible_entitlements.service_layer import handlers
from tangible_runtime.consumer import ConsumerRunner, Delivery
from tangible_runtime.service import ServiceRuntime, Worker
from tangible_schemas.registry import USAGE
from tangible_schemas.usage import UsageRecorded

USAGE_CONSUMER = "entitlements-usage"


def _usage(delivery: Delivery) -> Usage:
    data = delivery.event.data
    assert isinstance(data, UsageRecorded)
    return Usage(
        event_id=delivery.event.id,
        tenant_id=data.tenant_id,
        account_id=data.account_id,
        usage_type=data.usage_type,
        occurred_at=data.occurred_at,
        quantity=data.quantity,
        user_id=data.user_id,
        properties=data.properties,
    )


def usage_consumer(runtime: ServiceRuntime, container: Container) -> Worker:
    async def on_usage_recorded(deliveries: Sequence[Delivery]) -> None:
        command = RecordUsage(
            consumer=USAGE_CONSUMER,
            usages=[_usage(d) for d in deliveries],
            raw={d.event.id: (d.key, d.value, d.headers) for d in deliveries},
        )
        await handlers.record_usage(command, uow=container.new_uow(), clock=container.clock)

    runner = ConsumerRunner(
        name=USAGE_CONSUMER,
        topics=[USAGE.name],
        handler=on_usage_recorded,
        clients=runtime.clients,
        producer=runtime.producer,
        metrics=runtime.metrics,
        event_types={UsageRecorded.event_type},
        batch_size=container.settings.consumer_batch_size,
    )
    return Worker(USAGE_CONSUMER, runner.run, runner.request_stop)
