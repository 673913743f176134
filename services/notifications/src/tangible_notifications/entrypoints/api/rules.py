"""Notification rules (admin): which events become which messages, on which channels."""

from __future__ import annotations

from fastapi import APIRouter

from tangible_notifications.domain import commands
from tangible_notifications.domain.model import Channel, Priority, RuleFilters, Template
from tangible_notifications.entrypoints.dependencies import ContainerDep
from tangible_notifications.entrypoints.schemas.common import UncountedPage
from tangible_notifications.entrypoints.schemas.rules import (
    RuleCreate,
    RuleRead,
    RuleUpdate,
    TemplateIn,
)
from tangible_notifications.service_layer import handlers
from tangible_runtime.app import AdminPrincipal
from tangible_runtime.paging import PagingDep

router = APIRouter()


def template_of(body: TemplateIn | None) -> Template | None:
    return Template(body.title, body.body, body.html) if body else None


def _create(tenant_id: str, body: RuleCreate) -> commands.CreateRule:
    return commands.CreateRule(
        tenant_id=tenant_id,
        name=body.name,
        event_types=tuple(body.event_types),
        channels=tuple(Channel(c) for c in body.channels),
        template=template_of(body.template),
        priority=Priority(body.priority),
        category=body.category,
        filters=RuleFilters(body.filters.feature_key, body.filters.min_threshold_percent),
    )


@router.post("/rules", status_code=201, response_model=RuleRead, tags=["rules"], summary="Create a rule")
async def create_rule(body: RuleCreate, principal: AdminPrincipal, container: ContainerDep) -> RuleRead:
    """Which events (with optional filters) become which messages, on which channels."""
    rule = await handlers.create_rule(_create(principal.tenant_id, body), uow=container.new_uow())
    return RuleRead.model_validate(rule)


@router.get("/rules", response_model=UncountedPage[RuleRead], tags=["rules"], summary="The tenant's rules")
async def list_rules(
    principal: AdminPrincipal,
    container: ContainerDep,
    paging: PagingDep,
) -> UncountedPage[RuleRead]:
    async with container.new_uow() as uow:
        rules = await uow.rules.page(principal.tenant_id, limit=paging.limit, offset=paging.offset)
    return UncountedPage[RuleRead].at([RuleRead.model_validate(r) for r in rules], paging)


@router.put("/rules/{rule_id}", response_model=RuleRead, tags=["rules"], summary="Replace or disable a rule")
async def update_rule(
    rule_id: str, body: RuleUpdate, principal: AdminPrincipal, container: ContainerDep
) -> RuleRead:
    command = commands.UpdateRule(
        principal.tenant_id, rule_id, _create(principal.tenant_id, body), body.enabled
    )
    return RuleRead.model_validate(await handlers.update_rule(command, uow=container.new_uow()))
