"""Handler tests' fixtures; and this folder importable as `entitlements_unit`, for its fakes.

The suites run in importlib mode, where a test folder's own modules cannot be imported
(and every service has a `fakes.py`): the folder gets a package name of its own, before
the imports that use it.
"""
# ruff: noqa: E402

import sys
import types
from pathlib import Path

_package = types.ModuleType("entitlements_unit")
_package.__path__ = [str(Path(__file__).parent)]
sys.modules.setdefault("entitlements_unit", _package)

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from entitlements_unit.fakes import Store, new_uow

from tangible_entitlements.domain import commands
from tangible_entitlements.domain.model import Aggregation, Feature, FeatureKind, FeatureValue, License, Meter
from tangible_entitlements.service_layer import handlers
from tangible_entitlements.service_layer.ports import UnitOfWork
from tangible_runtime.domain import ManualClock

TENANT, ACCOUNT = "t1", "acct-1"
NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


@pytest.fixture
def store() -> Store:
    return Store()


@pytest.fixture
def uow(store: Store) -> Callable[[], UnitOfWork]:
    """A new unit of work on the shared store, as the container's `new_uow` makes one."""
    return new_uow(store)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
async def license(uow: Callable[[], UnitOfWork], clock: ManualClock, store: Store) -> License:
    """Feature `reports` (the sum of quantities per month, thresholds 50/80/100), plan `pro` v1 with 100
    reports and 3 seats, published; `acct-1` licensed on it until the end of 2027."""
    reports = Feature("reports", "Reports", FeatureKind.METERED, Meter("report.generated", Aggregation.SUM))
    await handlers.create_feature(commands.CreateFeature(TENANT, reports), uow=uow())
    plan = commands.CreateCatalogItem(TENANT, "pro", "plan", "Pro", {"reports": FeatureValue(limit=100)})
    await handlers.create_catalog_item(plan, uow=uow())
    await handlers.publish_catalog_item(commands.PublishCatalogItem(TENANT, "pro", 1), uow=uow(), clock=clock)
    created = await handlers.create_license(
        commands.CreateLicense(TENANT, ACCOUNT, "pro", date(2026, 1, 1), date(2027, 12, 31), seats=3),
        uow=uow(),
        clock=clock,
    )
    store.events.clear()  # each test looks at the events of what it does
    return created
