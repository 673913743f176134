"""Templates per event type and channel (admin), and previews against sample events."""

from __future__ import annotations

from fastapi import APIRouter, Response

from tangible_notifications.domain import commands
from tangible_notifications.domain.model import Channel, Template
from tangible_notifications.domain.planning import TenantConfig, stored_or_default
from tangible_notifications.entrypoints.api.rules import template_of
from tangible_notifications.entrypoints.dependencies import ContainerDep
from tangible_notifications.entrypoints.schemas.common import UncountedPage
from tangible_notifications.entrypoints.schemas.rules import (
    PreviewRead,
    PreviewRequest,
    TemplateIn,
    TemplateRead,
)
from tangible_notifications.service_layer import handlers
from tangible_notifications.service_layer.preview import preview
from tangible_runtime.app import AdminPrincipal
from tangible_runtime.domain import NotFound
from tangible_runtime.paging import PagingDep

router = APIRouter()


@router.put(
    "/templates/{event_type}/{channel}",
    response_model=TemplateRead,
    tags=["templates"],
    summary="Set the tenant's template for an event type on a channel",
)
async def put_template(
    event_type: str, channel: str, body: TemplateIn, principal: AdminPrincipal, container: ContainerDep
) -> TemplateRead:
    if channel not in ("inbox", "webhook", "email"):
        raise NotFound(f"no channel '{channel}' (inbox, webhook or email)")
    template = Template(body.title, body.body, body.html)
    command = commands.PutTemplate(principal.tenant_id, event_type, channel, template)
    await handlers.put_template(command, uow=container.new_uow(), clock=container.clock)
    return TemplateRead(event_type=event_type, channel=channel, **body.model_dump())


@router.get(
    "/templates",
    response_model=UncountedPage[TemplateRead],
    tags=["templates"],
    summary="The tenant's templates",
)
async def list_templates(
    principal: AdminPrincipal,
    container: ContainerDep,
    paging: PagingDep,
) -> UncountedPage[TemplateRead]:
    async with container.new_uow() as uow:
        rows = await uow.templates.page(principal.tenant_id, limit=paging.limit, offset=paging.offset)
    return UncountedPage[TemplateRead].at([TemplateRead.model_validate(r) for r in rows], paging)


@router.delete(
    "/templates/{event_type}/{channel}", status_code=204, tags=["templates"], summary="Back to the default"
)
async def delete_template(
    event_type: str, channel: str, principal: AdminPrincipal, container: ContainerDep
) -> Response:
    await handlers.delete_template(principal.tenant_id, event_type, channel, uow=container.new_uow())
    return Response(status_code=204)


@router.post(
    "/templates/preview",
    response_model=PreviewRead,
    tags=["templates"],
    summary="Render a template against a sample event (422 with the reason if it fails)",
)
async def preview_template(
    body: PreviewRequest, principal: AdminPrincipal, container: ContainerDep
) -> PreviewRead:
    template = template_of(body.template)
    if template is None:
        async with container.new_uow() as uow:
            stored = await uow.templates.for_tenants([principal.tenant_id])
        config = TenantConfig(templates=stored.get(principal.tenant_id, {}))
        template = stored_or_default(body.event_type, Channel(body.channel), config)
    title, text, html, data = preview(
        template, body.event_type, data=body.data, account_id="acct-sample", now=container.clock.now()
    )
    return PreviewRead(title=title, body=text, html=html, data=data)
