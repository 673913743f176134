"""Metering through its handlers on the in-memory unit of work: usage folds into counters
exactly once, thresholds are crossed once per period and recovered once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from entitlements_unit.fakes import Store

from tangible_entitlements.domain import commands
from tangible_entitlements.domain.metering import Usage
from tangible_entitlements.domain.model import License
from tangible_entitlements.service_layer import handlers
from tangible_entitlements.service_layer.ports import UnitOfWork
from tangible_runtime.domain import ManualClock
from tangible_schemas.entitlements import ThresholdCrossed, ThresholdRecovered, UsageAggregated

NewUow = Callable[[], UnitOfWork]


def usage(
    license: License, event_id: str, quantity: float, at: datetime, account: str | None = None
) -> Usage:
    return Usage(
        event_id,
        license.tenant_id,
        account or license.account_id,
        "report.generated",
        at,
        quantity,
        "u1",
        {},
    )


async def record(uow: NewUow, clock: ManualClock, *usages: Usage) -> None:
    raw: dict[str, tuple[bytes, bytes, list[tuple[str, bytes]]]] = {
        u.event_id: (b"key", b"value", []) for u in usages
    }
    command = commands.RecordUsage("entitlements.usage", usages, raw)
    await handlers.record_usage(command, uow=uow(), clock=clock)


async def test_usage_folds_into_the_period_counter(
    license: License, uow: NewUow, clock: ManualClock, store: Store
) -> None:
    now = clock.now()
    await record(uow, clock, usage(license, "e1", 10, now), usage(license, "e2", 5, now))
    await record(uow, clock, usage(license, "e3", 2, now))

    assert [e.usage for e in store.of(UsageAggregated)] == [15, 17]
    assert store.of(UsageAggregated)[0].period_start == datetime(2026, 11, 1, tzinfo=now.tzinfo)


async def test_a_redelivered_event_is_counted_once(
    license: License, uow: NewUow, clock: ManualClock, store: Store
) -> None:
    now = clock.now()
    await record(uow, clock, usage(license, "e1", 10, now), usage(license, "e1", 10, now))
    await record(uow, clock, usage(license, "e1", 10, now))

    assert [e.usage for e in store.of(UsageAggregated)] == [10]
    assert [c.value for c in store.counters.values()] == [10]


async def test_each_threshold_is_crossed_once_per_period(
    license: License, uow: NewUow, clock: ManualClock, store: Store
) -> None:
    now = clock.now()
    await record(uow, clock, usage(license, "e1", 55, now))
    await record(uow, clock, usage(license, "e2", 30, now))
    await record(uow, clock, usage(license, "e3", 1, now))

    crossed = store.of(ThresholdCrossed)
    assert [(e.threshold_percent, e.usage, e.limit) for e in crossed] == [(50, 55, 100), (80, 85, 100)]


async def test_usage_of_an_account_without_a_license_is_dead_lettered(
    license: License, uow: NewUow, clock: ManualClock, store: Store
) -> None:
    await record(uow, clock, usage(license, "e1", 1, clock.now(), account="stranger"))

    assert store.counters == {}
    assert [(consumer, reason) for consumer, _, reason in store.dead_letters] == [
        ("entitlements.usage", "unknown_account")
    ]


async def test_a_crossing_is_recovered_once_when_its_period_ends(
    license: License, uow: NewUow, clock: ManualClock, store: Store
) -> None:
    await record(uow, clock, usage(license, "e1", 60, clock.now()))
    clock.set(datetime(2026, 12, 1, 1, tzinfo=clock.now().tzinfo))

    recovered = await handlers.recover_thresholds_after_reset(uow=uow(), clock=clock)
    again = await handlers.recover_thresholds_after_reset(uow=uow(), clock=clock)

    assert (recovered, again) == (1, 0)
    [event] = store.of(ThresholdRecovered)
    assert (event.threshold_percent, event.cause, event.usage) == (50, "period_reset", 0)
    assert event.period_start == datetime(2026, 12, 1, tzinfo=clock.now().tzinfo)


async def test_a_batch_that_fails_leaves_nothing_behind(
    license: License, uow: NewUow, clock: ManualClock, store: Store
) -> None:
    good, stranger = usage(license, "e1", 10, clock.now()), usage(license, "e2", 1, clock.now(), "stranger")
    command = commands.RecordUsage("entitlements.usage", [good, stranger], raw={})  # fails at the refusal

    with pytest.raises(KeyError):
        await handlers.record_usage(command, uow=uow(), clock=clock)

    assert store.inbox == set() and store.counters == {} and store.events == []
