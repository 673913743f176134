"""Kafka consumers of rewards: each translates deliveries into one command."""

from __future__ import annotations

from collections.abc import Sequence

from tangible_rewards.domain.commands import EvaluateUsage
from tangible_rewards.domain.evaluation import Usage
from tangible_rewards.entrypoints.dependencies import Container
from tangible_rewards.service_layer import handlers
from tangible_runtime.consumer import ConsumerRunner, Delivery
from tangible_runtime.service import ServiceRuntime, Worker
from tangible_schemas.registry import USAGE
from tangible_schemas.usage import UsageRecorded

USAGE_CONSUMER = "rewards-usage"


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
    )


def usage_consumer(runtime: ServiceRuntime, container: Container) -> Worker:
    async def on_usage_recorded(deliveries: Sequence[Delivery]) -> None:
        command = EvaluateUsage(consumer=USAGE_CONSUMER, usages=[_usage(d) for d in deliveries])
        await handlers.evaluate_usage(command, uow=container.new_uow(), clock=container.clock)

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
