"""The delivery log (admin): every delivery with every attempt, and resending one."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query

from tangible_notifications.domain import commands
from tangible_notifications.entrypoints.dependencies import ContainerDep
from tangible_notifications.entrypoints.schemas.channels import DeliveryRead
from tangible_notifications.entrypoints.schemas.common import UncountedPage
from tangible_notifications.service_layer import handlers, views
from tangible_runtime.app import AdminPrincipal
from tangible_runtime.paging import PagingDep

router = APIRouter()


@router.get(
    "/deliveries", response_model=UncountedPage[DeliveryRead], tags=["deliveries"], summary="The delivery log"
)
async def list_deliveries(
    principal: AdminPrincipal,
    container: ContainerDep,
    paging: PagingDep,
    status: Literal["scheduled", "pending", "succeeded", "failed"] | None = None,
    account_id: str | None = Query(default=None, max_length=256),
    channel: Literal["inbox", "webhook", "email"] | None = None,
) -> UncountedPage[DeliveryRead]:
    """Newest first, each with every attempt (outcome, status code, error, duration)."""
    logged = await views.delivery_log(
        container.new_uow(),
        tenant_id=principal.tenant_id,
        status=status,
        account_id=account_id,
        channel=channel,
        limit=paging.limit,
        offset=paging.offset,
    )
    return UncountedPage[DeliveryRead].at([DeliveryRead.model_validate(entry) for entry in logged], paging)


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
