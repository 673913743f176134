"""Kafka consumers of rewards: each translates a batch of deliveries into one command."""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client import Counter

from tangible_rewards.domain.adoption import SeatChange
from tangible_rewards.domain.commands import ApplyEntitlementEvents, EvaluateUsage, SeatFact
from tangible_rewards.domain.evaluation import Usage
from tangible_rewards.domain.licenses import LicenseFact
from tangible_rewards.entrypoints.dependencies import Container
from tangible_rewards.service_layer import handlers
from tangible_rewards.service_layer.handlers.granting import KnownRewards
from tangible_runtime.consumer import BatchHandler, ConsumerRunner, Delivery
from tangible_runtime.service import ServiceRuntime, Worker
from tangible_schemas.entitlements import (
    LicenseCreated,
    LicenseRenewed,
    LicenseStatusChanged,
    SeatAssigned,
    SeatUnassigned,
)
from tangible_schemas.registry import ENTITLEMENTS, USAGE
from tangible_schemas.usage import UsageRecorded

USAGE_CONSUMER = "rewards-usage"
ENTITLEMENTS_CONSUMER = "rewards-entitlements"
ENTITLEMENT_EVENTS = (LicenseCreated, LicenseRenewed, LicenseStatusChanged, SeatAssigned, SeatUnassigned)


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
        imported=data.imported,
    )


def _fact(delivery: Delivery) -> tuple[str, LicenseFact | SeatFact]:
    data = delivery.event.data
    event_id = delivery.event.id
    if isinstance(data, SeatAssigned | SeatUnassigned):
        change = SeatChange(data.license_id, data.user_id, assigned=isinstance(data, SeatAssigned))
        return event_id, SeatFact(data.tenant_id, data.account_id, change)
    assert isinstance(data, LicenseCreated | LicenseRenewed | LicenseStatusChanged)
    kind = {LicenseCreated: "created", LicenseRenewed: "renewed"}.get(type(data), "status_changed")
    terms = data if isinstance(data, LicenseCreated | LicenseRenewed) else None
    return event_id, LicenseFact(
        tenant_id=data.tenant_id,
        account_id=data.account_id,
        license_id=data.license_id,
        kind=kind,
        status=data.status,
        term_start=terms.term_start if terms else None,
        term_end=terms.term_end if terms else None,
    )


def _runner(
    runtime: ServiceRuntime,
    container: Container,
    name: str,
    topic: str,
    types: set[str],
    handler: BatchHandler,
) -> Worker:
    runner = ConsumerRunner(
        name=name,
        topics=[topic],
        handler=handler,
        clients=runtime.clients,
        producer=runtime.producer,
        metrics=runtime.metrics,
        event_types=types,
        batch_size=container.settings.consumer_batch_size,
    )
    return Worker(name, runner.run, runner.request_stop)


def usage_consumer(runtime: ServiceRuntime, container: Container) -> Worker:
    late = Counter(
        "rewards_usage_too_late_total",
        "Usage events that arrived after their period's late window (not counted).",
        registry=runtime.metrics.registry,
    )

    known = KnownRewards()

    async def on_usage_recorded(deliveries: Sequence[Delivery]) -> None:
        command = EvaluateUsage(consumer=USAGE_CONSUMER, usages=[_usage(d) for d in deliveries])
        outcome = await handlers.evaluate_usage(
            command, uow=container.new_uow(), clock=container.clock, policy=container.policy, known=known
        )
        late.inc(outcome.too_late)

    return _runner(
        runtime, container, USAGE_CONSUMER, USAGE.name, {UsageRecorded.event_type}, on_usage_recorded
    )


def entitlements_consumer(runtime: ServiceRuntime, container: Container) -> Worker:
    async def on_entitlement_events(deliveries: Sequence[Delivery]) -> None:
        command = ApplyEntitlementEvents(consumer=ENTITLEMENTS_CONSUMER, facts=[_fact(d) for d in deliveries])
        await handlers.apply_entitlement_events(
            command, uow=container.new_uow(), clock=container.clock, policy=container.policy
        )

    types = {e.event_type for e in ENTITLEMENT_EVENTS}
    return _runner(runtime, container, ENTITLEMENTS_CONSUMER, ENTITLEMENTS.name, types, on_entitlement_events)
