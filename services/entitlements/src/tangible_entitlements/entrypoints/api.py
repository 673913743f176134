"""entitlements' HTTP API: catalog and licenses (admin), checks (read)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Literal

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from tangible_entitlements.domain import commands
from tangible_entitlements.domain.errors import LicenseNotFound
from tangible_entitlements.domain.model import (
    Aggregation,
    CatalogItem,
    Feature,
    FeatureKind,
    FeatureValue,
    License,
    Meter,
    ResetPeriod,
)
from tangible_entitlements.entrypoints.dependencies import ContainerDep
from tangible_entitlements.entrypoints.schemas import (
    CatalogItemCreate,
    CatalogItemRead,
    EntitlementList,
    EntitlementRead,
    FeatureCreate,
    FeatureRead,
    FeatureValueIn,
    LicenseCreate,
    LicenseRead,
    SourceRead,
)
from tangible_entitlements.service_layer import handlers, views
from tangible_runtime.app import AdminPrincipal, ReadPrincipal

router = APIRouter(prefix="/v1")


@router.post("/features", status_code=201, response_model=FeatureRead, tags=["catalog"])
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
    return FeatureRead.model_validate(body.model_dump())


def _item_read(item: CatalogItem) -> CatalogItemRead:
    return CatalogItemRead(
        key=item.key,
        version=item.version,
        kind=item.kind,
        name=item.name,
        status=item.status.value,
        price=item.price,
        features={k: FeatureValueIn(**asdict(v)) for k, v in item.features.items()},
    )


async def _create_item(
    kind: str, body: CatalogItemCreate, tenant_id: str, container: ContainerDep
) -> CatalogItemRead:
    command = commands.CreateCatalogItem(
        tenant_id=tenant_id,
        key=body.key,
        kind=kind,
        name=body.name,
        price=body.price,
        features={k: FeatureValue(**v.model_dump()) for k, v in body.features.items()},
    )
    return _item_read(await handlers.create_catalog_item(command, uow=container.new_uow()))


@router.post(
    "/plans",
    status_code=201,
    response_model=CatalogItemRead,
    tags=["catalog"],
    summary="Create a draft version of a plan (tier)",
)
async def create_plan(
    body: CatalogItemCreate, principal: AdminPrincipal, container: ContainerDep
) -> CatalogItemRead:
    return await _create_item("plan", body, principal.tenant_id, container)


@router.post(
    "/addons",
    status_code=201,
    response_model=CatalogItemRead,
    tags=["catalog"],
    summary="Create a draft version of an add-on",
)
async def create_addon(
    body: CatalogItemCreate, principal: AdminPrincipal, container: ContainerDep
) -> CatalogItemRead:
    return await _create_item("addon", body, principal.tenant_id, container)


@router.post(
    "/{kind}/{key}/versions/{version}/publish",
    response_model=CatalogItemRead,
    tags=["catalog"],
    summary="Publish a draft version; published versions are immutable",
)
async def publish_item(
    kind: Literal["plans", "addons"],
    key: str,
    version: int,
    principal: AdminPrincipal,
    container: ContainerDep,
) -> CatalogItemRead:
    item = await handlers.publish_catalog_item(
        commands.PublishCatalogItem(principal.tenant_id, key, version),
        uow=container.new_uow(),
        clock=container.clock,
    )
    return _item_read(item)


def _license_read(license: License) -> LicenseRead:
    return LicenseRead(
        id=license.id,
        account_id=license.account_id,
        plan_key=license.plan_key,
        plan_version=license.plan_version,
        status=license.status.value,
        term_start=license.term_start,
        term_end=license.term_end,
        seats=license.seats,
        addons=license.addons,
        timezone=license.timezone,
    )


@router.post("/licenses", status_code=201, response_model=LicenseRead, tags=["licenses"])
async def create_license(
    body: LicenseCreate, principal: AdminPrincipal, container: ContainerDep
) -> LicenseRead:
    command = commands.CreateLicense(
        tenant_id=principal.tenant_id,
        account_id=body.account_id,
        plan_key=body.plan_key,
        plan_version=body.plan_version,
        term_start=body.term_start,
        term_end=body.term_end,
        seats=body.seats,
        addons=body.addons,
        timezone=body.timezone,
        actor=f"credential:{principal.credential_id}",
        reason=body.reason,
    )
    return _license_read(
        await handlers.create_license(command, uow=container.new_uow(), clock=container.clock)
    )


@router.get("/licenses/{license_id}", response_model=LicenseRead, tags=["licenses"])
async def get_license(license_id: str, principal: ReadPrincipal, container: ContainerDep) -> LicenseRead:
    async with container.new_uow() as uow:
        license = await uow.licenses.get(principal.tenant_id, license_id)
    if license is None:
        raise LicenseNotFound(f"license '{license_id}' does not exist")
    principal.require_account(license.account_id)
    return _license_read(license)


def _entitlement_read(result: views.CheckResult) -> EntitlementRead:
    e = result.entitlement
    return EntitlementRead(
        feature_key=e.feature_key,
        kind=e.kind.value,
        has_access=e.has_access,
        limit=e.limit,
        usage=e.usage,
        remaining=e.remaining,
        overage=e.overage,
        limit_type="hard" if e.hard else "soft",
        period_start=result.period_start,
        period_end=result.period_end,
        config=e.config,
        sources=[
            SourceRead(kind=s.kind, key=s.key, version=s.version, expires_at=s.expires_at) for s in e.sources
        ],
    )


@router.get(
    "/accounts/{account_id}/entitlements",
    response_model=EntitlementList,
    tags=["checks"],
    summary="Every entitlement of an account, with usage, remaining and sources",
)
async def list_entitlements(
    account_id: str,
    principal: ReadPrincipal,
    container: ContainerDep,
    at: AwareDatetime | None = Query(default=None, description="As-of time (RFC 3339); default now"),
) -> EntitlementList:
    principal.require_account(account_id)
    moment = at or container.clock.now()
    results = await views.check_entitlements(
        container.new_uow(), tenant_id=principal.tenant_id, account_id=account_id, at=moment
    )
    return EntitlementList(
        account_id=account_id, at=moment, entitlements=[_entitlement_read(r) for r in results]
    )


@router.get(
    "/accounts/{account_id}/entitlements/{feature_key}",
    response_model=EntitlementRead,
    tags=["checks"],
    summary="May this account use this feature, and how much is left?",
)
async def check_entitlement(
    account_id: str,
    feature_key: str,
    principal: ReadPrincipal,
    container: ContainerDep,
    at: AwareDatetime | None = Query(default=None, description="As-of time (RFC 3339); default now"),
) -> EntitlementRead:
    principal.require_account(account_id)
    [result] = await views.check_entitlements(
        container.new_uow(),
        tenant_id=principal.tenant_id,
        account_id=account_id,
        at=at or container.clock.now(),
        feature_key=feature_key,
    )
    return _entitlement_read(result)
