"""notifications' HTTP API (admin): rules, templates and previews, tenant settings.

Channels and deliveries are in api_channels.py, the inbox and preferences in api_inbox.py.
"""

from __future__ import annotations

from fastapi import APIRouter, Query, Response

from tangible_notifications.domain import commands
from tangible_notifications.domain.model import (
    Channel,
    NotificationRule,
    Priority,
    RuleFilters,
    Template,
    TenantSettings,
)
from tangible_notifications.domain.planning import TenantConfig, stored_or_default
from tangible_notifications.entrypoints import api_channels, api_inbox
from tangible_notifications.entrypoints.dependencies import ContainerDep
from tangible_notifications.entrypoints.schemas import (
    PreviewRead,
    PreviewRequest,
    RuleCreate,
    RulePage,
    RuleRead,
    RuleUpdate,
    TemplateIn,
    TemplatePage,
    TemplateRead,
    TenantSettingsIO,
)
from tangible_notifications.service_layer import handlers
from tangible_notifications.service_layer.preview import preview
from tangible_runtime.app import AdminPrincipal
from tangible_runtime.domain import NotFound

router = APIRouter(prefix="/v1")
router.include_router(api_channels.router)
router.include_router(api_inbox.router)


def _template(body: TemplateIn | None) -> Template | None:
    return Template(body.title, body.body, body.html) if body else None


def _create(tenant_id: str, body: RuleCreate) -> commands.CreateRule:
    return commands.CreateRule(
        tenant_id=tenant_id,
        name=body.name,
        event_types=tuple(body.event_types),
        channels=tuple(Channel(c) for c in body.channels),
        template=_template(body.template),
        priority=Priority(body.priority),
        category=body.category,
        filters=RuleFilters(body.filters.feature_key, body.filters.min_threshold_percent),
    )


def _rule_read(rule: NotificationRule) -> RuleRead:
    t = rule.template
    return RuleRead.model_validate(
        {
            "id": rule.id,
            "name": rule.name,
            "event_types": list(rule.event_types),
            "channels": [c.value for c in rule.channels],
            "template": {"title": t.title, "body": t.body, "html": t.html} if t else None,
            "priority": rule.priority.value,
            "category": rule.category,
            "filters": {
                "feature_key": rule.filters.feature_key,
                "min_threshold_percent": rule.filters.min_threshold_percent,
            },
            "enabled": rule.enabled,
        }
    )


@router.post("/rules", status_code=201, response_model=RuleRead, tags=["rules"], summary="Create a rule")
async def create_rule(body: RuleCreate, principal: AdminPrincipal, container: ContainerDep) -> RuleRead:
    """Which events (with optional filters) become which messages, on which channels."""
    rule = await handlers.create_rule(_create(principal.tenant_id, body), uow=container.new_uow())
    return _rule_read(rule)


@router.get("/rules", response_model=RulePage, tags=["rules"], summary="The tenant's rules")
async def list_rules(
    principal: AdminPrincipal,
    container: ContainerDep,
    limit: int = Query(default=50, ge=1, le=500),
    offset: int = Query(default=0, ge=0, le=1_000_000),
) -> RulePage:
    async with container.new_uow() as uow:
        rules = await uow.rules.page(principal.tenant_id, limit=limit, offset=offset)
    return RulePage(items=[_rule_read(r) for r in rules], limit=limit, offset=offset)


@router.put("/rules/{rule_id}", response_model=RuleRead, tags=["rules"], summary="Replace or disable a rule")
async def update_rule(
    rule_id: str, body: RuleUpdate, principal: AdminPrincipal, container: ContainerDep
) -> RuleRead:
    command = commands.UpdateRule(
        principal.tenant_id, rule_id, _create(principal.tenant_id, body), body.enabled
    )
    return _rule_read(await handlers.update_rule(command, uow=container.new_uow()))


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


@router.get("/templates", response_model=TemplatePage, tags=["templates"], summary="The tenant's templates")
async def list_templates(
    principal: AdminPrincipal,
    container: ContainerDep,
    limit: int = Query(default=50, ge=1, le=500),
    offset: int = Query(default=0, ge=0, le=1_000_000),
) -> TemplatePage:
    async with container.new_uow() as uow:
        rows = await uow.templates.page(principal.tenant_id, limit=limit, offset=offset)
    items = [
        TemplateRead(
            event_type=r["event_type"], channel=r["channel"], title=r["title"], body=r["body"], html=r["html"]
        )
        for r in rows
    ]
    return TemplatePage(items=items, limit=limit, offset=offset)


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
    template = _template(body.template)
    if template is None:
        async with container.new_uow() as uow:
            stored = await uow.templates.for_tenants([principal.tenant_id])
        config = TenantConfig(templates=stored.get(principal.tenant_id, {}))
        template = stored_or_default(body.event_type, Channel(body.channel), config)
    title, text, html, data = preview(
        template, body.event_type, data=body.data, account_id="acct-sample", now=container.clock.now()
    )
    return PreviewRead(title=title, body=text, html=html, data=data)


@router.get("/settings", response_model=TenantSettingsIO, tags=["settings"], summary="Tenant-wide settings")
async def get_settings(principal: AdminPrincipal, container: ContainerDep) -> TenantSettingsIO:
    async with container.new_uow() as uow:
        s = await uow.tenant_settings.get(principal.tenant_id)
    return TenantSettingsIO(
        inbox_enabled=s.inbox_enabled,
        quarterly_summary=s.quarterly_summary,
        quarterly_channels=[c.value for c in s.quarterly_channels],
        digest_hour=s.digest_hour,
    )


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
