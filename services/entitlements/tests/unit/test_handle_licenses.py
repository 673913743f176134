"""Catalog and license handlers on the in-memory unit of work: what each change stores,
records in history and announces, and what it refuses."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from entitlements_unit.fakes import Store

from tangible_entitlements.domain import commands
from tangible_entitlements.domain.errors import (
    CatalogItemImmutable,
    CatalogItemNotFound,
    LicenseStateConflict,
)
from tangible_entitlements.domain.model import CatalogStatus, FeatureValue, License, LicenseStatus
from tangible_entitlements.service_layer import handlers
from tangible_entitlements.service_layer.ports import UnitOfWork
from tangible_runtime.domain import ManualClock
from tangible_schemas.entitlements import CatalogChanged, LicenseCreated, LicenseRenewed, LicenseStatusChanged

NewUow = Callable[[], UnitOfWork]


async def new_version(uow: NewUow, clock: ManualClock, tenant: str, limit: float) -> None:
    draft = commands.CreateCatalogItem(tenant, "pro", "plan", "Pro", {"reports": FeatureValue(limit=limit)})
    item = await handlers.create_catalog_item(draft, uow=uow())
    await handlers.publish_catalog_item(
        commands.PublishCatalogItem(tenant, "pro", item.version), uow=uow(), clock=clock
    )


async def test_publishing_announces_the_version_once_and_then_it_is_immutable(
    license: License, uow: NewUow, clock: ManualClock, store: Store
) -> None:
    await new_version(uow, clock, license.tenant_id, 500)

    [event] = store.of(CatalogChanged)
    assert (event.key, event.version, event.status) == ("pro", 2, "published")
    assert store.items[(license.tenant_id, "pro", 2)].status is CatalogStatus.PUBLISHED
    with pytest.raises(CatalogItemImmutable):
        await handlers.publish_catalog_item(
            commands.PublishCatalogItem(license.tenant_id, "pro", 2), uow=uow(), clock=clock
        )


async def test_a_created_license_is_stored_recorded_and_announced(license: License, store: Store) -> None:
    assert store.licenses[(license.tenant_id, license.id)] == license
    assert (license.plan_key, license.plan_version, license.status) == ("pro", 1, LicenseStatus.ACTIVE)
    [entry] = store.history
    assert (entry.action, entry.license_id, entry.before) == ("created", license.id, None)


async def test_a_license_needs_a_published_plan(uow: NewUow, clock: ManualClock, store: Store) -> None:
    command = commands.CreateLicense(
        "t1", "acct-2", "enterprise", date(2026, 1, 1), date(2027, 1, 1), seats=1
    )

    with pytest.raises(CatalogItemNotFound):
        await handlers.create_license(command, uow=uow(), clock=clock)

    assert store.licenses == {} and store.of(LicenseCreated) == []


async def test_renewal_extends_the_term_onto_the_latest_published_version(
    license: License, uow: NewUow, clock: ManualClock, store: Store
) -> None:
    await new_version(uow, clock, license.tenant_id, 500)
    command = commands.RenewLicense(license.tenant_id, license.id, "admin", "renewed", date(2028, 12, 31))

    renewed = await handlers.renew_license(command, uow=uow(), clock=clock)

    assert (renewed.plan_version, renewed.term_end) == (2, date(2028, 12, 31))
    [event] = store.of(LicenseRenewed)
    assert (event.previous_term_end, event.plan_version) == (license.term_end, 2)
    assert store.history[-1].action == "renewed"


async def test_suspension_keeps_the_seats_aside_and_reinstating_brings_them_back(
    license: License, uow: NewUow, clock: ManualClock, store: Store
) -> None:
    assign = commands.AssignSeat(license.tenant_id, license.id, "admin", None, user_id="u1")
    await handlers.assign_seat(assign, uow=uow(), clock=clock)

    def change(transition: str) -> commands.ChangeStatus:
        return commands.ChangeStatus(license.tenant_id, license.id, "admin", "unpaid", transition)

    window = timedelta(days=30)
    suspended = await handlers.change_status(
        change("suspended"), uow=uow(), clock=clock, restore_window=window
    )
    with pytest.raises(LicenseStateConflict):
        await handlers.change_status(change("suspended"), uow=uow(), clock=clock, restore_window=window)
    back = await handlers.change_status(change("reinstated"), uow=uow(), clock=clock, restore_window=window)

    assert (suspended.status, back.status) == (LicenseStatus.SUSPENDED, LicenseStatus.ACTIVE)
    assert [e.transition for e in store.of(LicenseStatusChanged)] == ["suspended", "reinstated"]
    assert store.seats[(license.tenant_id, license.id)].keys() == {"u1"}
