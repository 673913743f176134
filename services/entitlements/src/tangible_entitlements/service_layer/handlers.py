"""Handlers: each owns its transaction (`async with uow` … `await uow.commit()`)."""

from __future__ import annotations

import uuid
from dataclasses import replace

from tangible_entitlements.domain import commands
from tangible_entitlements.domain.errors import (
    AlreadyExists,
    CatalogItemImmutable,
    CatalogItemNotFound,
    InvalidCatalog,
)
from tangible_entitlements.domain.metering import CounterKey, meter_usage, thresholds_reached
from tangible_entitlements.domain.model import CatalogItem, CatalogStatus, License, LicenseStatus
from tangible_entitlements.service_layer import translate
from tangible_entitlements.service_layer.resolver import EntitlementResolver
from tangible_entitlements.service_layer.unit_of_work import UnitOfWork
from tangible_runtime.domain import Clock


async def create_feature(command: commands.CreateFeature, *, uow: UnitOfWork) -> None:
    async with uow:
        if await uow.catalog.feature(command.tenant_id, command.feature.key) is not None:
            raise AlreadyExists(f"feature '{command.feature.key}' already exists")
        await uow.catalog.add_feature(command.tenant_id, command.feature)
        await uow.commit()


async def create_catalog_item(command: commands.CreateCatalogItem, *, uow: UnitOfWork) -> CatalogItem:
    async with uow:
        for feature_key in command.features:
            if await uow.catalog.feature(command.tenant_id, feature_key) is None:
                raise InvalidCatalog(f"unknown feature '{feature_key}'", feature=feature_key)
        version = await uow.catalog.latest_version(command.tenant_id, command.key) + 1
        item = CatalogItem(
            key=command.key,
            version=version,
            kind=command.kind,
            name=command.name,
            status=CatalogStatus.DRAFT,
            features=command.features,
            price=command.price,
        )
        await uow.catalog.add_item(command.tenant_id, item)
        await uow.commit()
    return item


async def publish_catalog_item(
    command: commands.PublishCatalogItem, *, uow: UnitOfWork, clock: Clock
) -> CatalogItem:
    async with uow:
        item = await uow.catalog.item(command.tenant_id, command.key, command.version)
        if item is None:
            raise CatalogItemNotFound(f"'{command.key}' version {command.version} does not exist")
        if item.status is not CatalogStatus.DRAFT:
            raise CatalogItemImmutable(f"'{command.key}' version {command.version} is {item.status.value}")
        await uow.catalog.set_status(
            command.tenant_id, item.key, item.version, CatalogStatus.PUBLISHED, clock.now()
        )
        await uow.commit()
    return replace(item, status=CatalogStatus.PUBLISHED)


async def create_license(command: commands.CreateLicense, *, uow: UnitOfWork, clock: Clock) -> License:
    async with uow:
        plan = await uow.catalog.item(command.tenant_id, command.plan_key, command.plan_version)
        if plan is None or plan.kind != "plan" or plan.status is not CatalogStatus.PUBLISHED:
            raise CatalogItemNotFound(f"no published plan '{command.plan_key}'")
        addons: dict[str, int] = {}
        for addon_key in command.addons:
            addon = await uow.catalog.item(command.tenant_id, addon_key)
            if addon is None or addon.kind != "addon":
                raise CatalogItemNotFound(f"no published add-on '{addon_key}'")
            addons[addon.key] = addon.version
        license = License(
            id=str(uuid.uuid4()),
            tenant_id=command.tenant_id,
            account_id=command.account_id,
            plan_key=plan.key,
            plan_version=plan.version,
            status=LicenseStatus.ACTIVE,
            term_start=command.term_start,
            term_end=command.term_end,
            seats=command.seats,
            addons=addons,
            timezone=command.timezone,
        )
        await uow.licenses.add(license)
        await uow.licenses.record_history(
            license, action="created", actor=command.actor, reason=command.reason, before=None, at=clock.now()
        )
        uow.outbox.add(translate.license_created(license, command.actor, command.reason))
        await uow.commit()
    return license


async def record_usage(command: commands.RecordUsage, *, uow: UnitOfWork, clock: Clock) -> None:
    """Meter a consumed batch exactly once: inbox, counters, threshold marks and outbox
    rows commit together; set-based statements, no round trip per event."""
    async with uow:
        fresh = await uow.inbox(command.consumer).claim(u.event_id for u in command.usages)
        usages = [u for u in command.usages if u.event_id in fresh]
        accounts = sorted({(u.tenant_id, u.account_id) for u in usages})
        licenses = await uow.licenses.for_accounts(accounts)
        features = await uow.catalog.features({tenant for tenant, _ in accounts})
        deltas, unmetered = meter_usage(usages, licenses, features)
        values = await uow.counters.apply(deltas)
        resolver = await EntitlementResolver.load(uow, licenses.values(), features)
        limits: dict[CounterKey, float] = {}
        marks: list[tuple[CounterKey, int]] = []
        for key, value in values.items():
            feature = resolver.feature(key.tenant_id, key.feature_key)
            if feature is None:
                continue
            entitlement = resolver.evaluate(
                key.tenant_id, key.account_id, feature, usage=value, at=clock.now()
            )
            if entitlement.limit is not None and entitlement.sources:
                limits[key] = entitlement.limit
                marks.extend((key, pct) for pct in thresholds_reached(feature, entitlement.limit, value))
        for key, percent in await uow.counters.mark_thresholds(marks):
            uow.outbox.add(translate.threshold_crossed(key, percent, values[key], limits[key]))
        for refused in unmetered:
            record_key, record_value, headers = command.raw[refused.usage.event_id]
            uow.outbox.add_dead_letter(
                command.consumer, key=record_key, value=record_value, headers=headers, reason=refused.reason
            )
        await uow.commit()
