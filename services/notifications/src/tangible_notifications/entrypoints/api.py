"""notifications' HTTP API: rules (admin), in-app inbox (read)."""

from __future__ import annotations

from fastapi import APIRouter, Query

from tangible_notifications.domain import commands
from tangible_notifications.domain.model import Channel, Template
from tangible_notifications.entrypoints.dependencies import ContainerDep
from tangible_notifications.entrypoints.schemas import (
    InboxItemRead,
    InboxPage,
    RuleCreate,
    RuleRead,
    TemplateIn,
)
from tangible_notifications.service_layer import handlers
from tangible_runtime.app import AdminPrincipal, ReadPrincipal

router = APIRouter(prefix="/v1")


@router.post(
    "/rules",
    status_code=201,
    response_model=RuleRead,
    tags=["rules"],
    summary="Which events become which messages, on which channels",
)
async def create_rule(body: RuleCreate, principal: AdminPrincipal, container: ContainerDep) -> RuleRead:
    command = commands.CreateRule(
        tenant_id=principal.tenant_id,
        name=body.name,
        event_types=tuple(body.event_types),
        channels=tuple(Channel(c) for c in body.channels),
        template=Template(body.template.title, body.template.body),
        priority=body.priority,
    )
    rule = await handlers.create_rule(command, uow=container.new_uow())
    return RuleRead(
        id=rule.id,
        name=rule.name,
        event_types=list(rule.event_types),
        channels=[c.value for c in rule.channels],
        template=TemplateIn(title=rule.template.title, body=rule.template.body),
        priority=body.priority,
        enabled=rule.enabled,
    )


@router.get(
    "/accounts/{account_id}/inbox",
    response_model=InboxPage,
    tags=["inbox"],
    summary="The account's in-app inbox, newest first",
)
async def get_inbox(
    account_id: str,
    principal: ReadPrincipal,
    container: ContainerDep,
    unread: bool = Query(default=False, description="Only unread items"),
    limit: int = Query(default=50, ge=1, le=500),
    offset: int = Query(default=0, ge=0, le=1_000_000),
) -> InboxPage:
    principal.require_account(account_id)
    async with container.new_uow() as uow:
        rows = await uow.inbox_items.list(
            principal.tenant_id, account_id, unread_only=unread, limit=limit, offset=offset
        )
    items = [
        InboxItemRead(
            id=r["id"],
            title=r["title"],
            body=r["body"],
            read=r["read_at"] is not None,
            created_at=r["created_at"],
        )
        for r in rows
    ]
    return InboxPage(account_id=account_id, items=items, limit=limit, offset=offset)
