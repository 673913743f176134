"""Metering handlers: usage → counters exactly once; thresholds crossed and recovered."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from tangible_entitlements.domain import commands
from tangible_entitlements.domain.metering import (
    CounterKey,
    Metered,
    Usage,
    meter_usage,
    thresholds_reached,
    thresholds_recovered,
    unique_day_deltas,
)
from tangible_entitlements.domain.model import License
from tangible_entitlements.domain.parking import EXPIRED, ParkedUsage, ParkingPolicy, decide
from tangible_entitlements.domain.periods import period_bounds
from tangible_entitlements.service_layer import translate
from tangible_entitlements.service_layer.ports import UnitOfWork
from tangible_entitlements.service_layer.resolver import EntitlementResolver
from tangible_runtime.domain import Clock
from tangible_runtime.logs import get_logger

log = get_logger(__name__)
DEFAULT_PARKING = ParkingPolicy()


RawRecords = Mapping[str, tuple[bytes, bytes, list[tuple[str, bytes]]]]


@dataclass
class UsageOutcome:
    """`no_meter`: fresh events of each (tenant, usage type) no feature meters (skipped, not
    dead-lettered; the caller counts them). `parking_refused`: early events dead-lettered
    per (tenant, reason) because they fell outside parking's bounds (the caller counts them)."""

    no_meter: dict[tuple[str, str], int] = field(default_factory=dict)
    parking_refused: dict[tuple[str, str], int] = field(default_factory=dict)
    parked: int = 0


async def record_usage(
    command: commands.RecordUsage, *, uow: UnitOfWork, clock: Clock, parking: ParkingPolicy = DEFAULT_PARKING
) -> UsageOutcome:
    """Meter a consumed batch exactly once: inbox, counters, daily rollup, activity, threshold
    marks and outbox rows commit together; set-based statements, no round trip per event.

    Usage of an account without a license is parked (within `parking`'s bounds) and applied
    when its license is created (`apply_parked`)."""
    async with uow:
        fresh = await uow.inbox(command.consumer).claim(u.event_id for u in command.usages)
        # one delivery per fresh id: a batch may hold the same record twice (producer retry)
        usages = list({u.event_id: u for u in command.usages if u.event_id in fresh}.values())
        accounts = sorted({(u.tenant_id, u.account_id) for u in usages})
        licenses = await uow.licenses.for_accounts(accounts)
        unlicensed = [a for a in accounts if a not in licenses]
        if unlicensed:
            # serialised with license creation, then looked at again: a license created
            # meanwhile has taken what was parked before it, and this batch meters normally
            await uow.parked.lock_accounts(unlicensed)
            licenses.update(await uow.licenses.for_accounts(unlicensed))
        now = clock.now()
        known = [u for u in usages if (u.tenant_id, u.account_id) in licenses]
        early = [u for u in usages if (u.tenant_id, u.account_id) not in licenses]
        metered = await meter(uow, command.consumer, known, licenses, command.raw, now)
        outcome = UsageOutcome(no_meter=metered.no_meter)
        await _park(uow, command.consumer, early, command.raw, parking, now, outcome)
        await uow.commit()
    return outcome


async def meter(
    uow: UnitOfWork,
    consumer: str,
    usages: list[Usage],
    licenses: Mapping[tuple[str, str], License],
    raw: RawRecords,
    now: datetime,
) -> Metered:
    """The metering fold of licensed usage, inside the caller's transaction: counters, days,
    activity, limits, threshold marks, their events, and invalid values dead-lettered."""
    features = await uow.catalog.features({u.tenant_id for u in usages})
    metered = meter_usage(usages, licenses, features)
    values, new_uniques = await uow.counters.apply(metered.counters)
    await uow.counters.apply_days([*metered.days, *unique_day_deltas(metered.counters, new_uniques)])
    await uow.counters.record_activity(metered.activity)
    resolver = await EntitlementResolver.load(uow, licenses.values(), features)
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
        uow.outbox.add(translate.threshold_crossed(key, percent, values[key], limits[key][0], ends.get(key)))
    await _dead_letter(uow, consumer, [(r.usage, r.reason) for r in metered.unmetered], raw)
    return metered


async def _dead_letter(
    uow: UnitOfWork, consumer: str, refused: Sequence[tuple[Usage, str]], raw: RawRecords
) -> None:
    # refused, not applied: a replay of the dead letter must not be taken for a duplicate
    await uow.inbox(consumer).release(usage.event_id for usage, _ in refused)
    for usage, reason in refused:
        record_key, record_value, headers = raw[usage.event_id]
        uow.outbox.add_dead_letter(
            consumer, key=record_key, value=record_value, headers=headers, reason=reason
        )


async def _park(
    uow: UnitOfWork,
    consumer: str,
    early: list[Usage],
    raw: RawRecords,
    policy: ParkingPolicy,
    now: datetime,
    outcome: UsageOutcome,
) -> None:
    """Keep early usage (its inbox claim too: it is handled, by parking); dead-letter, with
    the bound's reason and a log line, what parking cannot hold."""
    if not early:
        return
    decided = decide(early, await uow.parked.counts({u.tenant_id for u in early}), policy, now)
    await uow.parked.park(
        [ParkedUsage(u, consumer, *raw[u.event_id][:2], list(raw[u.event_id][2]), now) for u in decided.park]
    )
    await _dead_letter(uow, consumer, decided.refused, raw)
    outcome.parked += len(decided.park)
    for usage, reason in decided.refused:
        key = (usage.tenant_id, reason)
        outcome.parking_refused[key] = outcome.parking_refused.get(key, 0) + 1
        log.warning(
            "early_usage_dead_lettered",
            reason=reason,
            tenant_id=usage.tenant_id,
            account_id=usage.account_id,
            event_id=usage.event_id,
            occurred_at=usage.occurred_at.isoformat(),
        )


async def apply_parked(uow: UnitOfWork, licenses: Sequence[License], now: datetime) -> int:
    """Inside license creation's transaction: lock the accounts (see `record_usage`), take what
    was parked for them and meter it, in event-time order, as if the licenses had existed. An
    account given two licenses at once meters with the first, as if they came one by one."""
    by_account: dict[tuple[str, str], License] = {}
    for license in licenses:
        by_account.setdefault((license.tenant_id, license.account_id), license)
    accounts = sorted(by_account)
    await uow.parked.lock_accounts(accounts)
    parked = await uow.parked.take(accounts)
    by_consumer: dict[str, list[ParkedUsage]] = {}
    for item in parked:
        by_consumer.setdefault(item.consumer, []).append(item)
    for consumer, items in by_consumer.items():
        raw = {p.usage.event_id: (p.key, p.value, p.headers) for p in items}
        await meter(uow, consumer, [p.usage for p in items], by_account, raw, now)
    return len(parked)


async def expire_parked(
    *, uow: UnitOfWork, clock: Clock, parking: ParkingPolicy = DEFAULT_PARKING, batch_size: int = 500
) -> int:
    """Parked events whose time fell out of the window while no license came: dead-lettered
    as `parked_expired` (and released from the inbox, so that a replay is not a duplicate)."""
    async with uow:
        expired = await uow.parked.take_expired(clock.now() - parking.window, batch_size)
        for item in expired:
            raw = {item.usage.event_id: (item.key, item.value, item.headers)}
            await _dead_letter(uow, item.consumer, [(item.usage, EXPIRED)], raw)
            log.warning(
                "parked_usage_expired",
                reason=EXPIRED,
                tenant_id=item.usage.tenant_id,
                account_id=item.usage.account_id,
                event_id=item.usage.event_id,
            )
        await uow.commit()
    return len(expired)


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
