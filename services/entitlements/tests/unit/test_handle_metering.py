"""Metering through its handlers on the in-memory unit of work: usage folds into counters
exactly once, thresholds are crossed once per period and recovered once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest
from entitlements_unit.conftest import TENANT
from entitlements_unit.fakes import Store

from tangible_entitlements.config import Settings
from tangible_entitlements.domain import commands
from tangible_entitlements.domain.metering import Usage
from tangible_entitlements.domain.model import License
from tangible_entitlements.domain.parking import ParkingPolicy
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


async def test_usage_of_an_account_without_a_license_is_parked_then_applied_once_with_the_license(
    license: License, uow: NewUow, clock: ManualClock, store: Store
) -> None:
    now = clock.now()
    early = [
        usage(license, f"e{i}", q, now - timedelta(hours=h), "newcomer")
        for i, (q, h) in enumerate([(30, 1), (30, 2), (30, 3)])
    ]
    await record(uow, clock, *early)
    await record(uow, clock, early[0])  # redelivered while parked: still once

    assert store.counters == {} and store.dead_letters == [] and len(store.parked) == 3
    await handlers.create_license(
        commands.CreateLicense(TENANT, "newcomer", "pro", date(2026, 1, 1), date(2027, 12, 31), seats=3),
        uow=uow(),
        clock=clock,
    )
    await handlers.create_license(  # a second license of the account finds nothing parked
        commands.CreateLicense(TENANT, "newcomer", "pro", date(2026, 1, 1), date(2027, 12, 31), seats=3),
        uow=uow(),
        clock=clock,
    )

    assert store.parked == {}
    assert [e.usage for e in store.of(UsageAggregated) if e.account_id == "newcomer"] == [90]
    crossed = [
        (e.threshold_percent, e.usage) for e in store.of(ThresholdCrossed) if e.account_id == "newcomer"
    ]
    assert crossed == [(50, 90), (80, 90)]
    await record(uow, clock, usage(license, "e9", 1, now, "newcomer"))  # now metered directly
    assert [e.usage for e in store.of(UsageAggregated) if e.account_id == "newcomer"] == [90, 91]


async def test_early_usage_beyond_parkings_bounds_is_dead_lettered_with_the_reason(
    license: License, uow: NewUow, clock: ManualClock, store: Store
) -> None:
    now = clock.now()
    policy = ParkingPolicy(window=timedelta(days=30), max_events=1)
    raw: dict[str, tuple[bytes, bytes, list[tuple[str, bytes]]]] = {
        f"e{i}": (b"key", b"value", []) for i in range(3)
    }
    batch = [
        usage(license, "e0", 1, now - timedelta(days=31), "a"),  # older than the window
        usage(license, "e1", 1, now, "b"),  # parked
        usage(license, "e2", 1, now, "c"),  # the tenant's one place is taken
    ]
    command = commands.RecordUsage("entitlements.usage", batch, raw)

    outcome = await handlers.record_usage(command, uow=uow(), clock=clock, parking=policy)

    assert [reason for _, _, reason in store.dead_letters] == ["parking_window_exceeded", "parking_full"]
    assert outcome.parking_refused == {(TENANT, "parking_window_exceeded"): 1, (TENANT, "parking_full"): 1}
    assert list(store.parked) == [(TENANT, "e1")]
    # refused ids are released, so that a replay of their dead letter is not a duplicate
    assert ("entitlements.usage", "e0") not in store.inbox and ("entitlements.usage", "e1") in store.inbox


async def test_parked_usage_that_ages_past_the_window_is_dead_lettered_as_expired(
    license: License, uow: NewUow, clock: ManualClock, store: Store
) -> None:
    await record(uow, clock, usage(license, "e1", 1, clock.now() - timedelta(days=29), "gone"))
    assert await handlers.expire_parked(uow=uow(), clock=clock) == 0
    clock.set(clock.now() + timedelta(days=2))

    assert await handlers.expire_parked(uow=uow(), clock=clock) == 1
    assert store.parked == {} and [r for _, _, r in store.dead_letters] == ["parked_expired"]
    assert ("entitlements.usage", "e1") not in store.inbox


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


def test_the_parking_policys_defaults_are_the_documented_settings() -> None:
    """Handlers called without settings (DEFAULT_PARKING) bound parking as a deployment does."""
    fields = Settings.model_fields
    assert ParkingPolicy() == ParkingPolicy(
        window=timedelta(days=fields["parking_window_days"].default),
        max_events=fields["parking_max_events"].default,
    )
    assert ParkingPolicy().max_events == 100_000 and ParkingPolicy().window == timedelta(days=30)


async def test_an_import_applies_what_each_account_parked_once_even_to_an_account_licensed_twice(
    license: License, uow: NewUow, clock: ManualClock, store: Store
) -> None:
    now = clock.now()
    await record(
        uow,
        clock,
        usage(license, "n1", 30, now - timedelta(hours=2), "newcomer"),
        usage(license, "n2", 30, now - timedelta(hours=1), "newcomer"),
        usage(license, "o1", 10, now - timedelta(hours=1), "other"),
    )
    term = (date(2026, 1, 1), date(2027, 12, 31))
    batch = [
        commands.CreateLicense(TENANT, account, "pro", *term, seats=1)
        for account in ("newcomer", "other", "newcomer")
    ]

    created = await handlers.import_licenses(batch, uow=uow(), clock=clock)

    assert [x.account_id for x in created] == ["newcomer", "other", "newcomer"]
    assert store.parked == {}
    aggregated = {
        (e.account_id, e.usage) for e in store.of(UsageAggregated) if e.account_id != license.account_id
    }
    assert aggregated == {("newcomer", 60), ("other", 10)}
