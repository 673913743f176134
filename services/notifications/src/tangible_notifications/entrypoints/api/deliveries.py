"""The delivery log (admin): every delivery with every attempt, and resending one."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query

from tangible_notifications.domain import commands
from tangible_notifications.entrypoints.dependencies import ContainerDep
from tangible_notifications.entrypoints.schemas.channels import DeliveryPage, DeliveryRead
from tangible_notifications.service_layer import handlers, views
from tangible_runtime.app import AdminPrincipal

router = APIRouter()


@router.get("/deliveries", response_model=DeliveryPage, tags=["deliveries"], summary="The delivery log")
async def list_deliveries(
    principal: AdminPrincipal,
    container: ContainerDep,
    status: Literal["scheduled", "pending", "succeeded", "failed"] | None = None,
    account_id: str | None = Query(default=None, max_length=256),
    channel: Literal["inbox", "webhook", "email"] | None = None,
    limit: int = Query(default=50, ge=1, le=500),
    offset: int = Query(default=0, ge=0, le=1_000_000),
) -> DeliveryPage:
    """Newest first, each with every attempt (outcome, status code, error, duration)."""
    logged = await views.delivery_log(
        container.new_uow(),
        tenant_id=principal.tenant_id,
        status=status,
        account_id=account_id,
        channel=channel,
        limit=limit,
        offset=offset,
    )
    return DeliveryPage(
        items=[DeliveryRead.model_validate(entry) for entry in logged], limit=limit, offset=offset
    )


@router.get(
    "/deliveries/{delivery_id}", response_model=DeliveryRead, tags=["deliveries"], summary="One delivery"
)
async def get_delivery(delivery_id: str, principal: AdminPrincipal, container: ContainerDep) -> DeliveryRead:
    logged = await views.one_delivery(
        container.new_uow(), tenant_id=principal.tenant_id, delivery_id=delivery_id
    )
    return DeliveryRead.model_validate(logged)


@router.post(
    "/deliveries/{delivery_id}/resend",
    status_code=202,
    response_model=DeliveryRead,
    tags=["deliveries"],
    summary="Send again now, with the same webhook-id and a fresh retry window",
)
async def resend_delivery(
    delivery_id: str, principal: AdminPrincipal, container: ContainerDep
) -> DeliveryRead:
    command = commands.ResendDelivery(principal.tenant_id, delivery_id)
    await handlers.resend_delivery(command, uow=container.new_uow(), clock=container.clock)
    container.wake_delivery()
    logged = await views.one_delivery(
        container.new_uow(), tenant_id=principal.tenant_id, delivery_id=delivery_id
    )
    return DeliveryRead.model_validate(logged)
