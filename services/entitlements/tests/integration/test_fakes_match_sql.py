"""The handler tests' in-memory unit of work (tests/unit/fakes.py) does what the SQL one does:
one scenario through the handlers on each, the same results, reads and committed events."""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

# tests/unit imported under its own name, as its conftest does (this folder does not load it)
_unit = types.ModuleType("entitlements_unit")
_unit.__path__ = [str(Path(__file__).parents[1] / "unit")]
sys.modules.setdefault("entitlements_unit", _unit)

from entitlements_unit.fakes import Store, new_uow  # noqa: E402

from tangible_devstack.contract import as_sent, committed, comparable  # noqa: E402
from tangible_entitlements.adapters.tables import outbox  # noqa: E402
from tangible_entitlements.domain import commands  # noqa: E402
from tangible_entitlements.domain.metering import CounterKey, Usage  # noqa: E402
from tangible_entitlements.domain.model import (  # noqa: E402
    Aggregation,
    Feature,
    FeatureKind,
    FeatureValue,
    Meter,
)
from tangible_entitlements.service_layer import handlers  # noqa: E402
from tangible_entitlements.service_layer.ports import UnitOfWork  # noqa: E402
from tangible_entitlements.service_layer.unit_of_work import UnitOfWork as SqlUnitOfWork  # noqa: E402
from tangible_runtime.db import create_engine, create_session_factory  # noqa: E402
from tangible_runtime.domain import ManualClock  # noqa: E402

pytestmark = pytest.mark.integration

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
TENANT, ACCOUNT = "t1", "acct-1"
NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)  # fixed date: a ManualClock's, never the wall clock's
NewUow = Callable[[], UnitOfWork]


def _usage(event_id: str, quantity: float, at: datetime, account: str = ACCOUNT) -> Usage:
    return Usage(event_id, TENANT, account, "report.generated", at, quantity, "u1", {})


async def _record(uow: NewUow, clock: ManualClock, *usages: Usage) -> None:
    raw: dict[str, tuple[bytes, bytes, list[tuple[str, bytes]]]] = {
        u.event_id: (b"key", b"value", []) for u in usages
    }
    await handlers.record_usage(
        commands.RecordUsage("entitlements.usage", usages, raw), uow=uow(), clock=clock
    )


async def scenario(uow: NewUow) -> list[Any]:
    """Catalog, a license and its seats, usage over thresholds (once redelivered; early usage
    of a stranger: parked, refused, expired, then its license), a reward grant, a new period;
    what the handlers return and the ports then read."""
    clock = ManualClock(NOW)
    seen: list[Any] = []
    reports = Feature("reports", "Reports", FeatureKind.METERED, Meter("report.generated", Aggregation.SUM))
    await handlers.create_feature(commands.CreateFeature(TENANT, reports), uow=uow())
    plan = commands.CreateCatalogItem(TENANT, "pro", "plan", "Pro", {"reports": FeatureValue(limit=100)})
    seen.append(await handlers.create_catalog_item(plan, uow=uow()))
    await handlers.publish_catalog_item(commands.PublishCatalogItem(TENANT, "pro", 1), uow=uow(), clock=clock)
    license = await handlers.create_license(
        commands.CreateLicense(
            TENANT, ACCOUNT, "pro", date(2026, 1, 1), date(2027, 12, 31), seats=3
        ),  # fixed date: a term on the ManualClock
        uow=uow(),
        clock=clock,
    )
    seen.append(license)
    for user in ("u1", "u2"):
        assign = commands.AssignSeat(TENANT, license.id, "admin", None, user_id=user)
        seen.append(await handlers.assign_seat(assign, uow=uow(), clock=clock))

    now = clock.now()
    await _record(uow, clock, _usage("e1", 55, now), _usage("e1", 55, now))
    await _record(uow, clock, _usage("e1", 55, now), _usage("e2", 30, now))
    await _record(uow, clock, _usage("e3", 1, now, account="stranger"))  # parked
    old = now - timedelta(days=31)
    await _record(uow, clock, _usage("e4", 1, old, account="stranger"))  # parking_window_exceeded
    await _record(uow, clock, _usage("e5", 1, now - timedelta(days=28), account="ghost"))  # parked_expired
    async with uow() as reading:
        seen.append(await reading.parked.counts([TENANT]))
    seen.append(
        await handlers.create_license(  # applies e3
            commands.CreateLicense(TENANT, "stranger", "pro", date(2026, 1, 1), date(2027, 12, 31), seats=3),
            uow=uow(),
            clock=clock,
        )
    )
    grant = commands.GrantBenefit(
        TENANT,
        ACCOUNT,
        "g1",
        "reports",
        "feature_override",
        {"limit": 1000},
        source="reward:g1",
        starts_at=now,
        expires_at=now + timedelta(days=2),  # expired by the next period
    )
    await handlers.apply_reward_grants(
        commands.ApplyRewardGrants("entitlements.rewards", [("ev1", grant), ("ev1", grant)]),
        uow=uow(),
        clock=clock,
    )

    clock.set(datetime(2026, 12, 1, 1, tzinfo=UTC))  # fixed date: the next period on the ManualClock
    seen.append(await handlers.recover_thresholds_after_reset(uow=uow(), clock=clock))
    seen.append(await handlers.expire_grants(uow=uow(), clock=clock, batch_size=10))
    seen.append(await handlers.expire_parked(uow=uow(), clock=clock))

    async with uow() as reading:
        seen.append(await reading.catalog.item(TENANT, "pro"))
        seen.append(await reading.licenses.get(TENANT, license.id))
        seen.append(await reading.licenses.for_account(TENANT, ACCOUNT))
        seen.append(sorted(await reading.seats.users(TENANT, license.id)))
        key = CounterKey(
            TENANT, ACCOUNT, "reports", datetime(2026, 11, 1, tzinfo=UTC)
        )  # fixed date: ManualClock's period
        seen.append(await reading.counters.values([key]))
        seen.append(await reading.thresholds.open_marks(TENANT, ACCOUNT, clock.now()))
        seen.append(await reading.grants.get(TENANT, "g1"))
        seen.append(await reading.parked.counts([TENANT]))
        seen.append(await reading.inbox("entitlements.usage").claim(["e1", "e2", "e3", "e4", "e5", "e6"]))
    return seen


async def test_the_fake_unit_of_work_reads_and_commits_what_the_sql_one_does(
    database_factory: Any, owner_url: Any
) -> None:
    engine = create_engine(owner_url(await database_factory("entitlements", MIGRATIONS)), pool_size=2)
    sessions = create_session_factory(engine)
    try:
        on_sql = await scenario(lambda: SqlUnitOfWork(sessions, outbox_table=outbox, source="tests"))
        sql = await committed(engine)
    finally:
        await engine.dispose()
    store = Store()

    on_fake = await scenario(new_uow(store))

    assert comparable(on_fake) == comparable(on_sql)
    assert comparable(as_sent(store.events)) == comparable(as_sent(sql.events))
    assert [(consumer, reason) for consumer, _, reason in store.dead_letters] == sql.dead_letters
