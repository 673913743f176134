"""Kafka consumers of entitlements: each translates deliveries into one command."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter

from tangible_entitlements.domain.commands import ApplyRewardGrants, GrantBenefit, RecordUsage
from tangible_entitlements.domain.metering import Usage
from tangible_entitlements.entrypoints.dependencies import Container
from tangible_entitlements.service_layer import handlers
from tangible_runtime.consumer import ConsumerRunner, Delivery
from tangible_runtime.service import ServiceRuntime, Worker
from tangible_schemas.registry import REWARDS, USAGE
from tangible_schemas.rewards import RewardGranted
from tangible_schemas.usage import UsageRecorded

USAGE_CONSUMER = "entitlements-usage"
REWARDS_CONSUMER = "entitlements-rewards"
_GRANT_IDS = uuid.UUID("6f1c2d4e-0b7a-4c1e-9a53-2b8e5f0c7d11")


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


class UnmeteredUsage:
    """`entitlements_usage_unmetered_total{tenant, type}`: events of a type no feature meters.

    Producers choose the type, so the series are bounded: past `max_series` (tenant, type)
    pairs per process, further types are counted under `type="_other"`."""

    OTHER = "_other"

    def __init__(self, registry: CollectorRegistry, max_series: int = 1000) -> None:
        self._counter = Counter(
            "entitlements_usage_unmetered_total",
            "Usage events of a type no feature meters (counted and skipped, not dead-lettered).",
            ["tenant", "type"],
            registry=registry,
        )
        self._max_series = max_series
        self._seen: set[tuple[str, str]] = set()

    def count(self, unmetered: dict[tuple[str, str], int]) -> None:
        for (tenant, kind), events in unmetered.items():
            if (tenant, kind) not in self._seen:
                if len(self._seen) >= self._max_series:
                    kind = self.OTHER
                else:
                    self._seen.add((tenant, kind))
            self._counter.labels(tenant, kind).inc(events)


def usage_consumer(runtime: ServiceRuntime, container: Container) -> Worker:
    unmetered = UnmeteredUsage(runtime.metrics.registry)
    # the tenant label is bounded by the tenants there are; the reason by parking's two bounds
    refused = Counter(
        "entitlements_usage_parking_refused_total",
        "Usage of an account without a license that parking could not hold (dead-lettered).",
        ["tenant", "reason"],
        registry=runtime.metrics.registry,
    )
    parking = container.settings.parking()

    async def on_usage_recorded(deliveries: Sequence[Delivery]) -> None:
        command = RecordUsage(
            consumer=USAGE_CONSUMER,
            usages=[_usage(d) for d in deliveries],
            raw={d.event.id: (d.key, d.value, d.headers) for d in deliveries},
        )
        outcome = await handlers.record_usage(
            command, uow=container.new_uow(), clock=container.clock, parking=parking
        )
        unmetered.count(outcome.no_meter)
        for (tenant, reason), events in outcome.parking_refused.items():
            refused.labels(tenant, reason).inc(events)

    # Let the broker gather up to `usage_linger_ms` of usage per fetch: every batch emits one
    # usage_aggregated per counter it moved, so fewer, larger batches coalesce those events
    options = {"fetch_max_wait_ms": container.settings.usage_linger_ms, "fetch_min_bytes": 1 << 20}
    return _worker(
        runtime, container, USAGE_CONSUMER, USAGE.name, UsageRecorded.event_type, on_usage_recorded, options
    )


def _worker(
    runtime: ServiceRuntime,
    container: Container,
    name: str,
    topic: str,
    event_type: str,
    handler: Callable[[Sequence[Delivery]], Awaitable[None]],
    options: dict[str, Any] | None = None,
) -> Worker:
    runner = ConsumerRunner(
        name=name,
        topics=[topic],
        handler=handler,
        clients=runtime.clients,
        producer=runtime.producer,
        metrics=runtime.metrics,
        event_types={event_type},
        batch_size=container.settings.consumer_batch_size,
        consumer_options=options,
    )
    return Worker(name, runner.run, runner.request_stop)


def reward_grant(
    data: RewardGranted, *, granted_at: datetime, support_feature_key: str
) -> GrantBenefit | None:
    """Early access and support-level rewards become grants; credits and custom ones are
    rewards' own business."""
    if data.kind == "early_access" and data.feature_key:
        feature_key, kind, value = data.feature_key, "early_access", None
    elif data.kind == "support_level" and data.support_level:
        feature_key, kind, value = (
            data.feature_key or support_feature_key,
            "support_level",
            data.support_level,
        )
    else:
        return None
    return GrantBenefit(
        tenant_id=data.tenant_id,
        account_id=data.account_id,
        grant_id=str(uuid.uuid5(_GRANT_IDS, f"{data.tenant_id}/{data.reward_id}")),
        feature_key=feature_key,
        kind=kind,
        value=value,
        source=f"reward:{data.reward_id}",
        starts_at=granted_at,
        expires_at=data.ends_at,
        actor=f"rule:{data.rule_id}",
    )


def rewards_consumer(runtime: ServiceRuntime, container: Container) -> Worker:
    async def on_reward_granted(deliveries: Sequence[Delivery]) -> None:
        grants = []
        for d in deliveries:
            assert isinstance(d.event.data, RewardGranted)
            grant = reward_grant(
                d.event.data,
                granted_at=min(d.event.time, container.clock.now()),
                support_feature_key=container.settings.support_feature_key,
            )
            grants.append((d.event.id, grant))
        command = ApplyRewardGrants(consumer=REWARDS_CONSUMER, grants=grants)
        await handlers.apply_reward_grants(command, uow=container.new_uow(), clock=container.clock)

    return _worker(
        runtime, container, REWARDS_CONSUMER, REWARDS.name, RewardGranted.event_type, on_reward_granted
    )
