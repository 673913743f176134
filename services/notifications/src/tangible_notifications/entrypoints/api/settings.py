"""Tenant-wide settings (admin): the inbox, quarterly summaries, the digest hour."""

from __future__ import annotations

from fastapi import APIRouter

from tangible_notifications.domain import commands
from tangible_notifications.domain.model import Channel, TenantSettings
from tangible_notifications.entrypoints.dependencies import ContainerDep
from tangible_notifications.entrypoints.schemas.rules import TenantSettingsIO
from tangible_notifications.service_layer import handlers
from tangible_runtime.app import AdminPrincipal

router = APIRouter()


@router.get("/settings", response_model=TenantSettingsIO, tags=["settings"], summary="Tenant-wide settings")
async def get_settings(principal: AdminPrincipal, container: ContainerDep) -> TenantSettingsIO:
    async with container.new_uow() as uow:
        settings = await uow.tenant_settings.get(principal.tenant_id)
    return TenantSettingsIO.model_validate(settings)


@router.put(
    "/settings", response_model=TenantSettingsIO, tags=["settings"], summary="Set tenant-wide settings"
)
async def put_settings(
    body: TenantSettingsIO, principal: AdminPrincipal, container: ContainerDep
) -> TenantSettingsIO:
    settings = TenantSettings(
        inbox_enabled=body.inbox_enabled,
        quarterly_summary=body.quarterly_summary,
        quarterly_channels=tuple(Channel(c) for c in body.quarterly_channels),
        digest_hour=body.digest_hour,
    )
    await handlers.put_tenant_settings(
        commands.PutTenantSettings(principal.tenant_id, settings), uow=container.new_uow()
    )
    return body
