"""Per-account routes: grants (admin), seat allocation and usage & impact reports (read)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from fastapi import APIRouter, Query, Response

from tangible_entitlements.domain import commands, reports
from tangible_entitlements.domain.errors import GrantNotFound
from tangible_entitlements.entrypoints.api.common import PagingDep, actor
from tangible_entitlements.entrypoints.dependencies import ContainerDep
from tangible_entitlements.entrypoints.schemas.checks import ImpactTotal, UsageReport
from tangible_entitlements.entrypoints.schemas.licenses import (
    AllocationRead,
    GrantCreate,
    GrantRead,
    SeatHolder,
)
from tangible_entitlements.service_layer import handlers, views
from tangible_runtime.app import AdminPrincipal, ReadPrincipal
from tangible_runtime.auth import Principal
from tangible_runtime.paging import Page
from tangible_runtime.problems import ProblemError

router = APIRouter()


@router.post(
    "/accounts/{account_id}/grants",
    status_code=201,
    response_model=GrantRead,
    tags=["grants"],
    summary="A manual, time-bound grant on top of the plan",
)
async def create_grant(
    account_id: str, body: GrantCreate, principal: AdminPrincipal, container: ContainerDep
) -> GrantRead:
    now = container.clock.now()
    command = commands.GrantBenefit(
        tenant_id=principal.tenant_id,
        account_id=account_id,
        grant_id=str(uuid.uuid4()),
        feature_key=body.feature_key,
        kind=body.kind,
        value=body.value,
        source=f"manual:{principal.credential_id}",
        starts_at=body.starts_at or now,
        expires_at=body.expires_at,
        actor=actor(principal),
        reason=body.reason,
    )
    await handlers.grant_benefit(command, uow=container.new_uow(), clock=container.clock)
    return GrantRead(
        id=command.grant_id,
        account_id=account_id,
        feature_key=command.feature_key,
        kind=command.kind,
        value=command.value,
        source=command.source,
        starts_at=command.starts_at,
        expires_at=command.expires_at,
        actor=command.actor,
        reason=command.reason,
    )


@router.get("/accounts/{account_id}/grants", response_model=Page[GrantRead], tags=["grants"])
async def list_grants(
    account_id: str, principal: ReadPrincipal, container: ContainerDep, paging: PagingDep
) -> Page[GrantRead]:
    principal.require_account(account_id)
    async with container.new_uow() as uow:
        grants, total = await uow.grants.page_for_account(
            principal.tenant_id, account_id, limit=paging.limit, offset=paging.offset
        )
    return Page.of([GrantRead.model_validate(g) for g in grants], total, paging)


@router.delete(
    "/accounts/{account_id}/grants/{grant_id}", status_code=204, tags=["grants"], summary="End a grant now"
)
async def end_grant(
    account_id: str,
    grant_id: str,
    principal: AdminPrincipal,
    container: ContainerDep,
    reason: str | None = None,
) -> Response:
    async with container.new_uow() as uow:
        grant = await uow.grants.get(principal.tenant_id, grant_id)
    if grant is None or grant.account_id != account_id:
        raise GrantNotFound(f"grant '{grant_id}' does not exist")
    await handlers.end_grant(
        commands.EndGrant(principal.tenant_id, grant_id, actor(principal), reason),
        uow=container.new_uow(),
        clock=container.clock,
    )
    return Response(status_code=204)


@router.get(
    "/accounts/{account_id}/seats",
    response_model=AllocationRead,
    tags=["seats"],
    summary="Seat allocation: purchased, assigned, active recently, idle",
)
async def seat_allocation(
    account_id: str, principal: ReadPrincipal, container: ContainerDep
) -> AllocationRead:
    principal.require_account(account_id)
    days = container.settings.active_user_days
    allocation = await views.seat_allocation(
        container.new_uow(),
        tenant_id=principal.tenant_id,
        account_id=account_id,
        now=container.clock.now(),
        active_days=days,
    )
    return AllocationRead(
        account_id=account_id,
        license_id=allocation.license_id,
        purchased=allocation.purchased,
        assigned=allocation.assigned,
        active=allocation.active,
        idle=allocation.idle,
        active_window_days=days,
        users=[SeatHolder(user_id=u, last_active_at=at, active=a) for u, at, a in allocation.users],
    )


@router.get(
    "/accounts/{account_id}/usage",
    response_model=UsageReport,
    response_model_by_alias=True,
    tags=["reports"],
    summary="Usage and impact over a date range: series, totals, impact metrics, benefits in force",
)
async def usage_report(
    account_id: str,
    principal: ReadPrincipal,
    container: ContainerDep,
    from_: date = Query(alias="from", description="First day (inclusive), in the license's time zone."),
    to: date = Query(description="Last day (inclusive)."),
    granularity: Literal["day", "week", "month"] = "day",
) -> UsageReport:
    principal.require_account(account_id)
    if to < from_ or (to - from_).days > 3700:
        raise ProblemError(
            422,
            "invalid range",
            type_="invalid-range",
            detail="'to' must be on or after 'from', within ~10 years",
        )
    report = await views.usage_report(
        container.new_uow(),
        container.cohorts,
        tenant_id=principal.tenant_id,
        account_id=account_id,
        start=from_,
        end=to,
        granularity=reports.Granularity(granularity),
        now=container.clock.now(),
    )
    return _visible(UsageReport.model_validate(report), principal)


def _visible(report: UsageReport, principal: Principal) -> UsageReport:
    """A portal token limited to some features sees those, and impact totals of those only."""
    if principal.features is None:
        return report
    features = [f for f in report.features if principal.sees_feature(f.feature_key)]
    totals: dict[str, float] = {}
    for feature in features:
        if feature.impact is not None:
            totals[feature.impact.metric] = totals.get(feature.impact.metric, 0.0) + feature.impact.value
    return report.model_copy(
        update={
            "features": features,
            "impact": [ImpactTotal(metric=m, value=v) for m, v in totals.items()],
            "benefits_in_force": [
                b for b in report.benefits_in_force if principal.sees_feature(b.feature_key)
            ],
        }
    )
