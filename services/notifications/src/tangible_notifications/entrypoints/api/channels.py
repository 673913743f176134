"""Channels (webhook endpoints, email, the CSM channel), secret rotation."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter

from tangible_notifications.adapters.ssrf import SsrfGuard
from tangible_notifications.domain import commands
from tangible_notifications.domain.errors import ChannelNotFound
from tangible_notifications.domain.model import Channel
from tangible_notifications.entrypoints.dependencies import ContainerDep
from tangible_notifications.entrypoints.schemas.channels import (
    ChannelCreate,
    ChannelCreated,
    ChannelPatch,
    ChannelRead,
    SecretRotated,
    SecretRotation,
)
from tangible_notifications.entrypoints.schemas.common import UncountedPage
from tangible_notifications.service_layer import handlers
from tangible_runtime.app import AdminPrincipal
from tangible_runtime.paging import PagingDep

router = APIRouter()


@router.post(
    "/channels",
    status_code=201,
    response_model=ChannelCreated,
    tags=["channels"],
    summary="Add a webhook endpoint or an email channel (purpose csm: the customer-success channel)",
)
async def create_channel(
    body: ChannelCreate, principal: AdminPrincipal, container: ContainerDep
) -> ChannelCreated:
    """Webhook URLs must resolve to public addresses (SSRF guard); the `whsec_` secret is
    returned once and stored encrypted."""
    command = commands.CreateChannel(
        tenant_id=principal.tenant_id,
        kind=Channel(body.kind),
        name=body.name,
        purpose=body.purpose,
        url=body.url,
        sender=body.sender,
        recipients=tuple(body.recipients),
        to_account_contacts=body.to_account_contacts,
        secret=body.secret,
    )
    endpoint, secret = await handlers.create_channel(
        command,
        uow=container.new_uow(),
        secrets=container.box,
        guard=SsrfGuard(allow_private=container.settings.allow_private_targets),
        clock=container.clock,
    )
    return ChannelCreated(**ChannelRead.model_validate(endpoint).model_dump(), secret=secret)


@router.get(
    "/channels", response_model=UncountedPage[ChannelRead], tags=["channels"], summary="The tenant's channels"
)
async def list_channels(
    principal: AdminPrincipal,
    container: ContainerDep,
    paging: PagingDep,
) -> UncountedPage[ChannelRead]:
    async with container.new_uow() as uow:
        endpoints = await uow.channels.page(principal.tenant_id, limit=paging.limit, offset=paging.offset)
    return UncountedPage[ChannelRead].at([ChannelRead.model_validate(e) for e in endpoints], paging)


@router.get("/channels/{channel_id}", response_model=ChannelRead, tags=["channels"], summary="One channel")
async def get_channel(channel_id: str, principal: AdminPrincipal, container: ContainerDep) -> ChannelRead:
    async with container.new_uow() as uow:
        endpoint = await uow.channels.get(principal.tenant_id, channel_id)
    if endpoint is None:
        raise ChannelNotFound(f"channel '{channel_id}' does not exist")
    return ChannelRead.model_validate(endpoint)


@router.patch(
    "/channels/{channel_id}",
    response_model=ChannelRead,
    tags=["channels"],
    summary="Enable or disable a channel",
)
async def patch_channel(
    channel_id: str, body: ChannelPatch, principal: AdminPrincipal, container: ContainerDep
) -> ChannelRead:
    command = commands.SetChannelEnabled(principal.tenant_id, channel_id, body.enabled)
    endpoint = await handlers.set_channel_enabled(command, uow=container.new_uow(), clock=container.clock)
    return ChannelRead.model_validate(endpoint)


@router.post(
    "/channels/{channel_id}/secret/rotate",
    response_model=SecretRotated,
    tags=["channels"],
    summary="New signing secret; the old one keeps signing during the overlap",
    description="Only webhook channels sign their deliveries: an email channel has no secret (409).",
    responses={
        404: {"description": "No such channel"},
        409: {"description": "The channel is not a webhook channel: it has no secret"},
    },
)
async def rotate_secret(
    channel_id: str, body: SecretRotation, principal: AdminPrincipal, container: ContainerDep
) -> SecretRotated:
    command = commands.RotateSecret(principal.tenant_id, channel_id, timedelta(hours=body.overlap_hours))
    secret, until = await handlers.rotate_secret(
        command, uow=container.new_uow(), secrets=container.box, clock=container.clock
    )
    return SecretRotated(secret=secret, previous_valid_until=until)
