"""Catalog routes (admin): features, glossary, plan and add-on versions."""

from __future__ import annotations

from dataclasses import asdict
from typing import Literal

from fastapi import APIRouter

from tangible_entitlements.domain import commands
from tangible_entitlements.domain.errors import CatalogItemNotFound, FeatureNotFound
from tangible_entitlements.domain.model import (
    Aggregation,
    CatalogItem,
    Feature,
    FeatureKind,
    FeatureValue,
    Meter,
    ResetPeriod,
)
from tangible_entitlements.entrypoints.api.common import Paging, PagingDep
from tangible_entitlements.entrypoints.dependencies import ContainerDep
from tangible_entitlements.entrypoints.schemas.catalog import (
    CatalogItemCreate,
    CatalogItemRead,
    CatalogItemUpdate,
    FeatureCreate,
    FeatureRead,
    FeatureUpdate,
    FeatureValueIn,
    GlossaryEntry,
    MeterIn,
)
from tangible_entitlements.service_layer import handlers
from tangible_runtime.app import AdminPrincipal, ReadPrincipal
from tangible_runtime.numbers import VersionPath
from tangible_runtime.paging import Page

router = APIRouter(tags=["catalog"])


def _feature_read(feature: Feature) -> FeatureRead:
    # Field by field, not model_validate(from_attributes=True): FeatureRead is the strict
    # FeatureCreate (no enum for `kind`, no tuple for `thresholds`), and the meter must skip
    # MeterIn's rules, which a meter stored before they were tightened must not fail.
    meter = feature.meter
    return FeatureRead(
        key=feature.key,
        name=feature.name,
        kind=feature.kind.value,
        # as stored: a meter created before a rule was tightened must still be readable
        meter=MeterIn.model_construct(
            event_type=meter.event_type,
            aggregation=meter.aggregation.value,
            value_path=meter.value_path,
            reset_period=meter.reset_period.value,
        )
        if meter
        else None,
        outcome=feature.outcome,
        impact_metric=feature.impact_metric,
        impact_per_unit=feature.impact_per_unit,
        thresholds=list(feature.thresholds),
    )


@router.post("/features", status_code=201, response_model=FeatureRead)
async def create_feature(
    body: FeatureCreate, principal: AdminPrincipal, container: ContainerDep
) -> FeatureRead:
    meter = body.meter
    feature = Feature(
        key=body.key,
        name=body.name,
        kind=FeatureKind(body.kind),
        meter=Meter(
            meter.event_type,
            Aggregation(meter.aggregation),
            meter.value_path,
            ResetPeriod(meter.reset_period),
        )
        if meter
        else None,
        outcome=body.outcome,
        impact_metric=body.impact_metric,
        impact_per_unit=body.impact_per_unit,
        thresholds=tuple(sorted(set(body.thresholds))),
    )
    await handlers.create_feature(
        commands.CreateFeature(principal.tenant_id, feature), uow=container.new_uow()
    )
    return _feature_read(feature)


@router.get("/features", response_model=Page[FeatureRead])
async def list_features(
    principal: AdminPrincipal, container: ContainerDep, paging: PagingDep
) -> Page[FeatureRead]:
    async with container.new_uow() as uow:
        features, total = await uow.catalog.page_features(
            principal.tenant_id, limit=paging.limit, offset=paging.offset
        )
    return Page.of([_feature_read(f) for f in features], total, paging)


@router.get("/features/{key}", response_model=FeatureRead)
async def get_feature(key: str, principal: AdminPrincipal, container: ContainerDep) -> FeatureRead:
    async with container.new_uow() as uow:
        feature = await uow.catalog.feature(principal.tenant_id, key)
    if feature is None:
        raise FeatureNotFound(f"feature '{key}' does not exist")
    return _feature_read(feature)


@router.patch("/features/{key}", response_model=FeatureRead, summary="Edit a feature's benefit mapping")
async def update_feature(
    key: str, body: FeatureUpdate, principal: AdminPrincipal, container: ContainerDep
) -> FeatureRead:
    changes = body.model_dump(exclude_unset=True)
    if "thresholds" in changes:
        changes["thresholds"] = tuple(sorted(set(changes["thresholds"] or ())))
    feature = await handlers.update_feature(
        commands.UpdateFeature(principal.tenant_id, key, changes), uow=container.new_uow()
    )
    return _feature_read(feature)


@router.get(
    "/glossary",
    response_model=Page[GlossaryEntry],
    summary="Every benefit in plain language, with the impact metric its usage turns into",
)
async def glossary(
    principal: ReadPrincipal, container: ContainerDep, paging: PagingDep
) -> Page[GlossaryEntry]:
    async with container.new_uow() as uow:
        features, total = await uow.catalog.page_features(
            principal.tenant_id, limit=paging.limit, offset=paging.offset
        )
    entries = [
        GlossaryEntry(
            feature_key=f.key,
            name=f.name,
            kind=f.kind.value,
            outcome=f.outcome,
            impact_metric=f.impact_metric,
            impact_per_unit=f.impact_per_unit,
            unit=f.meter.event_type if f.meter else None,
        )
        for f in features
    ]
    return Page.of(entries, total, paging)


def _item_read(item: CatalogItem) -> CatalogItemRead:
    return CatalogItemRead(
        key=item.key,
        version=item.version,
        kind="addon" if item.kind == "addon" else "plan",
        name=item.name,
        status=item.status.value,
        price=item.price,
        features={k: FeatureValueIn(**asdict(v)) for k, v in item.features.items()},
    )


def _values(features: dict[str, FeatureValueIn]) -> dict[str, FeatureValue]:
    return {k: FeatureValue(**v.model_dump()) for k, v in features.items()}


async def _page_items(
    container: ContainerDep, tenant_id: str, kind: str, key: str | None, paging: Paging
) -> Page[CatalogItemRead]:
    async with container.new_uow() as uow:
        items, total = await uow.catalog.page_items(
            tenant_id, kind, key=key, limit=paging.limit, offset=paging.offset
        )
    return Page.of([_item_read(i) for i in items], total, paging)


def _item_routes(plural: Literal["plans", "addons"], kind: str, label: str) -> None:
    """The same routes for plans and add-ons."""

    @router.post(
        f"/{plural}",
        status_code=201,
        response_model=CatalogItemRead,
        summary=f"Create a draft {label} (a new version when the key exists)",
        name=f"create_{kind}",
    )
    async def create(
        body: CatalogItemCreate, principal: AdminPrincipal, container: ContainerDep
    ) -> CatalogItemRead:
        command = commands.CreateCatalogItem(
            tenant_id=principal.tenant_id,
            key=body.key,
            kind=kind,
            name=body.name,
            price=body.price,
            features=_values(body.features),
        )
        return _item_read(await handlers.create_catalog_item(command, uow=container.new_uow()))

    @router.get(
        f"/{plural}",
        response_model=Page[CatalogItemRead],
        summary=f"Every {label}, newest version of each",
        name=f"list_{kind}s",
    )
    async def list_items(
        principal: AdminPrincipal, container: ContainerDep, paging: PagingDep
    ) -> Page[CatalogItemRead]:
        return await _page_items(container, principal.tenant_id, kind, None, paging)

    @router.get(
        f"/{plural}/{{key}}",
        response_model=CatalogItemRead,
        summary=f"A {label}: its latest published version",
        name=f"get_{kind}",
    )
    async def get_item(key: str, principal: AdminPrincipal, container: ContainerDep) -> CatalogItemRead:
        async with container.new_uow() as uow:
            item = await uow.catalog.item(principal.tenant_id, key)
        if item is None or item.kind != kind:
            raise CatalogItemNotFound(f"no published {label} '{key}'")
        return _item_read(item)

    @router.get(
        f"/{plural}/{{key}}/versions",
        response_model=Page[CatalogItemRead],
        summary=f"Every version of a {label}, newest first",
        name=f"list_{kind}_versions",
    )
    async def list_versions(
        key: str, principal: AdminPrincipal, container: ContainerDep, paging: PagingDep
    ) -> Page[CatalogItemRead]:
        return await _page_items(container, principal.tenant_id, kind, key, paging)

    @router.get(
        f"/{plural}/{{key}}/versions/{{version}}", response_model=CatalogItemRead, name=f"get_{kind}_version"
    )
    async def get_version(
        key: str, version: VersionPath, principal: AdminPrincipal, container: ContainerDep
    ) -> CatalogItemRead:
        async with container.new_uow() as uow:
            item = await uow.catalog.item(principal.tenant_id, key, version)
        if item is None or item.kind != kind:
            raise CatalogItemNotFound(f"{label} '{key}' version {version} does not exist")
        return _item_read(item)

    @router.patch(
        f"/{plural}/{{key}}/versions/{{version}}",
        response_model=CatalogItemRead,
        summary=f"Edit a draft {label} version (published ones are immutable: 409)",
        name=f"edit_{kind}_version",
    )
    async def edit(
        key: str,
        version: VersionPath,
        body: CatalogItemUpdate,
        principal: AdminPrincipal,
        container: ContainerDep,
    ) -> CatalogItemRead:
        command = commands.EditCatalogItem(
            tenant_id=principal.tenant_id,
            key=key,
            kind=kind,
            version=version,
            name=body.name,
            features=_values(body.features) if body.features is not None else None,
            price=body.price,
        )
        return _item_read(await handlers.edit_catalog_item(command, uow=container.new_uow()))

    @router.post(
        f"/{plural}/{{key}}/versions/{{version}}/publish",
        response_model=CatalogItemRead,
        summary=f"Publish a draft {label} version; licenses on older versions keep theirs",
        name=f"publish_{kind}_version",
    )
    async def publish(
        key: str, version: VersionPath, principal: AdminPrincipal, container: ContainerDep
    ) -> CatalogItemRead:
        item = await handlers.publish_catalog_item(
            commands.PublishCatalogItem(principal.tenant_id, key, version),
            uow=container.new_uow(),
            clock=container.clock,
            kind=kind,
        )
        return _item_read(item)

    @router.post(
        f"/{plural}/{{key}}/versions/{{version}}/retire",
        response_model=CatalogItemRead,
        summary=f"Retire a published {label} version: no new licenses on it",
        name=f"retire_{kind}_version",
    )
    async def retire(
        key: str, version: VersionPath, principal: AdminPrincipal, container: ContainerDep
    ) -> CatalogItemRead:
        item = await handlers.retire_catalog_item(
            commands.RetireCatalogItem(principal.tenant_id, key, kind, version),
            uow=container.new_uow(),
            clock=container.clock,
        )
        return _item_read(item)


_item_routes("plans", "plan", "plan")
_item_routes("addons", "addon", "add-on")
