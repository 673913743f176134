"""Kafka consumers of notifications: each translates deliveries into one command."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from tangible_notifications.domain.commands import NotifyEvents
from tangible_notifications.domain.model import SourceEvent
from tangible_notifications.entrypoints.dependencies import Container
from tangible_notifications.service_layer.handlers.notify import notify_events
from tangible_notifications.service_layer.triage import RuleTriage
from tangible_runtime.consumer import ConsumerRunner, Delivery
from tangible_runtime.service import ServiceRuntime, Worker
from tangible_schemas import AccountEvent
from tangible_schemas.registry import ENTITLEMENTS, REWARDS

EVENTS_CONSUMER = "notifications-events"


def _source_event(delivery: Delivery) -> SourceEvent | None:
    data = delivery.event.data
    if not isinstance(data, AccountEvent):
        return None
    return SourceEvent(
        id=delivery.event.id,
        type=delivery.event.type,
        tenant_id=data.tenant_id,
        account_id=data.account_id,
        data=data.model_dump(mode="json"),
        time=delivery.event.time,
    )


def events_consumer(runtime: ServiceRuntime, container: Container) -> Worker:
    horizon = timedelta(hours=container.settings.past_signal_hours)

    async def on_event(deliveries: Sequence[Delivery]) -> None:
        events = [e for d in deliveries if (e := _source_event(d)) is not None]
        due = await notify_events(
            NotifyEvents(consumer=EVENTS_CONSUMER, events=events, past_signal_horizon=horizon),
            uow=container.new_uow(),
            clock=container.clock,
        )
        if due:
            container.wake_delivery()

    runner = ConsumerRunner(
        name=EVENTS_CONSUMER,
        topics=[ENTITLEMENTS.name, REWARDS.name],
        handler=on_event,
        clients=runtime.clients,
        producer=runtime.producer,
        metrics=runtime.metrics,
        batch_size=container.settings.consumer_batch_size,
        triage=RuleTriage(container.new_uow),
    )
    return Worker(EVENTS_CONSUMER, runner.run, runner.request_stop)
