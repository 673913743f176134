"""Metering handlers: usage → counters exactly once; thresholds crossed and recovered."""

from __future__ import annotations

from datetime import datetime

from tangible_entitlements.domain import commands
from tangible_entitlements.domain.metering import (
    CounterKey,
    meter_usage,
    thresholds_reached,
    thresholds_recovered,
    unique_day_deltas,
)
from tangible_entitlements.domain.model import License
from tangible_entitlements.domain.periods import period_bounds
from tangible_entitlements.service_layer import translate
from tangible_entitlements.service_layer.ports import UnitOfWork
from tangible_entitlements.service_layer.resolver import EntitlementResolver
from tangible_runtime.domain import Clock


async def record_usage(
    command: commands.RecordUsage, *, uow: UnitOfWork, clock: Clock
) -> dict[tuple[str, str], int]:
    """Meter a consumed batch exactly once: inbox, counters, daily rollup, activity, threshold
    marks and outbox rows commit together; set-based statements, no round trip per event.

    Returns how many fresh events of each (tenant, usage type) no feature meters: they are
    skipped, not dead-lettered, and the caller counts them."""
    async with uow:
        fresh = await uow.inbox(command.consumer).claim(u.event_id for u in command.usages)
        # one delivery per fresh id: a batch may hold the same record twice (producer retry)
        usages = list({u.event_id: u for u in command.usages if u.event_id in fresh}.values())
        accounts = sorted({(u.tenant_id, u.account_id) for u in usages})
        licenses = await uow.licenses.for_accounts(accounts)
        features = await uow.catalog.features({tenant for tenant, _ in accounts})
        metered = meter_usage(usages, licenses, features)
        values, new_uniques = await uow.counters.apply(metered.counters)
        await uow.counters.apply_days([*metered.days, *unique_day_deltas(metered.counters, new_uniques)])
        await uow.counters.record_activity(metered.activity)
        resolver = await EntitlementResolver.load(uow, licenses.values(), features)
        now = clock.now()
        ends = {d.key: d.period_end for d in metered.counters}
        limits: dict[CounterKey, tuple[float, bool]] = {}
        marks: list[tuple[CounterKey, int, datetime | None, float]] = []
        for key, value in values.items():
            uow.outbox.add(translate.usage_aggregated(key, value, ends.get(key)))
            feature = resolver.feature(key.tenant_id, key.feature_key)
            if feature is None:
                continue
            entitlement = resolver.evaluate(key.tenant_id, key.account_id, feature, usage=value, at=now)
            if entitlement.limit is None or not entitlement.sources:
                continue
            limits[key] = (entitlement.limit, entitlement.hard)
            marks.extend(
                (key, pct, ends.get(key), entitlement.limit)
                for pct in thresholds_reached(feature, entitlement.limit, value)
            )
        await uow.counters.set_limits(limits)
        for key, percent in await uow.thresholds.mark(marks):
            uow.outbox.add(
                translate.threshold_crossed(key, percent, values[key], limits[key][0], ends.get(key))
            )
        # refused, not applied: a replay of the dead letter must not be taken for a duplicate
        await uow.inbox(command.consumer).release(r.usage.event_id for r in metered.unmetered)
        for refused in metered.unmetered:
            record_key, record_value, headers = command.raw[refused.usage.event_id]
            uow.outbox.add_dead_letter(
                command.consumer, key=record_key, value=record_value, headers=headers, reason=refused.reason
            )
        await uow.commit()
    return metered.no_meter


async def recover_after_limit_change(uow: UnitOfWork, license: License, now: datetime) -> None:
    """After a change that may raise a limit (plan, add-on, grant, restore): announce, once,
    each crossed threshold of the current period that usage is now under."""
    marks = await uow.thresholds.open_marks(license.tenant_id, license.account_id, now)
    if not marks:
        return
    features = await uow.catalog.features([license.tenant_id])
    resolver = await EntitlementResolver.load(uow, [license], features)
    values = await uow.counters.values(sorted({k for k, _ in marks}, key=repr))
    by_key: dict[CounterKey, list[int]] = {}
    for key, percent in marks:
        by_key.setdefault(key, []).append(percent)
    recovered: list[tuple[CounterKey, int]] = []
    for key, percents in by_key.items():
        feature = resolver.feature(key.tenant_id, key.feature_key)
        if feature is None or feature.meter is None:
            continue
        usage = values.get(key, 0.0)
        entitlement = resolver.evaluate(key.tenant_id, key.account_id, feature, usage=usage, at=now)
        _, end = period_bounds(feature.meter.reset_period, key.period_start, license.timezone)
        for percent in thresholds_recovered(percents, entitlement.limit, usage):
            recovered.append((key, percent))
            uow.outbox.add(
                translate.threshold_recovered(
                    key,
                    percent,
                    usage,
                    entitlement.limit if entitlement.limit is not None else 0.0,
                    period_start=key.period_start,
                    period_end=end,
                    cause="limit_increased",
                )
            )
    await uow.thresholds.mark_recovered(recovered, now)


async def recover_thresholds_after_reset(*, uow: UnitOfWork, clock: Clock, batch_size: int = 500) -> int:
    """Crossings of periods that have ended → one recovered event each, for the new period."""
    async with uow:
        now = clock.now()
        ended = await uow.thresholds.claim_ended_marks(now, batch_size)
        if not ended:
            return 0
        next_keys = [CounterKey(k.tenant_id, k.account_id, k.feature_key, end) for k, _, end, _ in ended]
        values = await uow.counters.values(next_keys)
        for (key, percent, end, limit), next_key in zip(ended, next_keys, strict=True):
            uow.outbox.add(
                translate.threshold_recovered(
                    key,
                    percent,
                    values.get(next_key, 0.0),
                    limit,
                    period_start=end,
                    period_end=None,
                    cause="period_reset",
                )
            )
        await uow.commit()
    return len(ended)
