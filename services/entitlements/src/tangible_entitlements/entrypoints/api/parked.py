"""Parked usage over HTTP (admin): what waits for its account's license, and until when."""

from __future__ import annotations

from fastapi import APIRouter, Query

from tangible_entitlements.entrypoints.api.common import PagingDep
from tangible_entitlements.entrypoints.dependencies import ContainerDep
from tangible_entitlements.entrypoints.schemas.parked import ParkedUsageRead
from tangible_runtime.app import AdminPrincipal
from tangible_runtime.paging import Page

router = APIRouter(tags=["parked usage"])


@router.get(
    "/parked-usage",
    response_model=Page[ParkedUsageRead],
    summary="Usage of accounts without a license yet, oldest event first",
)
async def list_parked_usage(
    principal: AdminPrincipal,
    container: ContainerDep,
    paging: PagingDep,
    account_id: str | None = Query(default=None, max_length=200, description="Only this account's."),
) -> Page[ParkedUsageRead]:
    window = container.settings.parking().window
    async with container.new_uow() as uow:
        parked, total = await uow.parked.page(principal.tenant_id, account_id, paging.limit, paging.offset)
    items = [
        ParkedUsageRead(
            event_id=p.usage.event_id,
            account_id=p.usage.account_id,
            usage_type=p.usage.usage_type,
            occurred_at=p.usage.occurred_at,
            quantity=p.usage.quantity,
            user_id=p.usage.user_id,
            properties=dict(p.usage.properties),
            parked_at=p.parked_at,
            expires_at=p.usage.occurred_at + window,
        )
        for p in parked
    ]
    return Page.of(items, total, paging)
