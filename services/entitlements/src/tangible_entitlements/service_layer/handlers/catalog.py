"""Catalog handlers: features, and plan / add-on versions from draft to retired."""

from __future__ import annotations

from dataclasses import replace

from tangible_entitlements.domain import commands
from tangible_entitlements.domain.errors import (
    AlreadyExists,
    CatalogItemImmutable,
    CatalogItemNotFound,
    FeatureNotFound,
    InvalidCatalog,
)
from tangible_entitlements.domain.model import CatalogItem, CatalogStatus, Feature, FeatureValue
from tangible_entitlements.service_layer import translate
from tangible_entitlements.service_layer.ports import UnitOfWork
from tangible_runtime.domain import Clock


async def create_feature(command: commands.CreateFeature, *, uow: UnitOfWork) -> None:
    async with uow:
        if await uow.catalog.feature(command.tenant_id, command.feature.key) is not None:
            raise AlreadyExists(f"feature '{command.feature.key}' already exists")
        await uow.catalog.add_feature(command.tenant_id, command.feature)
        uow.outbox.add(translate.feature_changed(command.tenant_id, command.feature.key))
        await uow.commit()


async def update_feature(command: commands.UpdateFeature, *, uow: UnitOfWork) -> Feature:
    """Benefit mapping and thresholds may change; kind and meter would rewrite history."""
    async with uow:
        feature = await uow.catalog.feature(command.tenant_id, command.key)
        if feature is None:
            raise FeatureNotFound(f"feature '{command.key}' does not exist")
        updated = replace(feature, **command.changes)
        await uow.catalog.save_feature(command.tenant_id, updated)
        uow.outbox.add(translate.feature_changed(command.tenant_id, command.key))
        await uow.commit()
    return updated


async def _check_features(uow: UnitOfWork, tenant_id: str, features: dict[str, FeatureValue]) -> None:
    known = {f.key for f in (await uow.catalog.features([tenant_id])).get(tenant_id, [])}
    for feature_key in features:
        if feature_key not in known:
            raise InvalidCatalog(f"unknown feature '{feature_key}'", feature=feature_key)


async def create_catalog_item(command: commands.CreateCatalogItem, *, uow: UnitOfWork) -> CatalogItem:
    """A new draft version of a plan or add-on (version = latest + 1)."""
    async with uow:
        await _check_features(uow, command.tenant_id, command.features)
        latest, kind = await uow.catalog.latest_version(command.tenant_id, command.key, lock=True)
        if kind is not None and kind != command.kind:
            raise AlreadyExists(f"'{command.key}' is already the key of an {kind}")
        item = CatalogItem(
            key=command.key,
            version=latest + 1,
            kind=command.kind,
            name=command.name,
            status=CatalogStatus.DRAFT,
            features=command.features,
            price=command.price,
        )
        await uow.catalog.add_item(command.tenant_id, item)
        await uow.commit()
    return item


async def _existing(uow: UnitOfWork, tenant_id: str, key: str, kind: str, version: int) -> CatalogItem:
    item = await uow.catalog.item(tenant_id, key, version)
    if item is None or item.kind != kind:
        raise CatalogItemNotFound(f"{kind} '{key}' version {version} does not exist")
    return item


async def edit_catalog_item(command: commands.EditCatalogItem, *, uow: UnitOfWork) -> CatalogItem:
    async with uow:
        item = await _existing(uow, command.tenant_id, command.key, command.kind, command.version)
        if item.status is not CatalogStatus.DRAFT:
            raise CatalogItemImmutable(
                f"'{item.key}' version {item.version} is {item.status.value}; create a new version instead"
            )
        if command.features is not None:
            await _check_features(uow, command.tenant_id, command.features)
        edited = replace(
            item,
            name=command.name if command.name is not None else item.name,
            features=command.features if command.features is not None else item.features,
            price=command.price if command.price is not None else item.price,
        )
        await uow.catalog.save_draft(command.tenant_id, edited)
        await uow.commit()
    return edited


async def publish_catalog_item(
    command: commands.PublishCatalogItem, *, uow: UnitOfWork, clock: Clock, kind: str | None = None
) -> CatalogItem:
    async with uow:
        item = await uow.catalog.item(command.tenant_id, command.key, command.version)
        if item is None or (kind is not None and item.kind != kind):
            raise CatalogItemNotFound(f"'{command.key}' version {command.version} does not exist")
        if item.status is not CatalogStatus.DRAFT:
            raise CatalogItemImmutable(f"'{command.key}' version {command.version} is {item.status.value}")
        published = replace(item, status=CatalogStatus.PUBLISHED)
        await uow.catalog.set_status(command.tenant_id, item.key, item.version, published.status, clock.now())
        uow.outbox.add(translate.catalog_changed(command.tenant_id, published))
        await uow.commit()
    return published


async def retire_catalog_item(
    command: commands.RetireCatalogItem, *, uow: UnitOfWork, clock: Clock
) -> CatalogItem:
    """No new license may use a retired version; licenses on it keep it until they move."""
    async with uow:
        item = await _existing(uow, command.tenant_id, command.key, command.kind, command.version)
        if item.status is not CatalogStatus.PUBLISHED:
            raise CatalogItemImmutable(
                f"only a published version can be retired; this one is {item.status.value}"
            )
        retired = replace(item, status=CatalogStatus.RETIRED)
        await uow.catalog.set_status(command.tenant_id, item.key, item.version, retired.status, clock.now())
        uow.outbox.add(translate.catalog_changed(command.tenant_id, retired))
        await uow.commit()
    return retired
