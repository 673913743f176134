"""Rules, templates and tenant settings: the admin's configuration of what is sent."""

from __future__ import annotations

import uuid

from tangible_notifications.domain import commands
from tangible_notifications.domain.errors import RuleNotFound, TemplateNotFound
from tangible_notifications.domain.model import NotificationRule
from tangible_notifications.domain.rendering import validate
from tangible_notifications.service_layer.ports import UnitOfWork
from tangible_runtime.domain import Clock


def _rule(rule_id: str, command: commands.CreateRule, enabled: bool = True) -> NotificationRule:
    if command.template is not None:
        validate(command.template)
    return NotificationRule(
        id=rule_id,
        name=command.name,
        event_types=command.event_types,
        channels=command.channels,
        template=command.template,
        priority=command.priority,
        category=command.category,
        filters=command.filters,
        enabled=enabled,
    )


async def create_rule(command: commands.CreateRule, *, uow: UnitOfWork) -> NotificationRule:
    rule = _rule(str(uuid.uuid4()), command)
    async with uow:
        await uow.rules.add(command.tenant_id, rule)
        await uow.commit()
    return rule


async def update_rule(command: commands.UpdateRule, *, uow: UnitOfWork) -> NotificationRule:
    rule = _rule(command.rule_id, command.rule, command.enabled)
    async with uow:
        if not await uow.rules.replace(command.tenant_id, rule):
            raise RuleNotFound(f"rule '{command.rule_id}' does not exist")
        await uow.commit()
    return rule


async def put_template(command: commands.PutTemplate, *, uow: UnitOfWork, clock: Clock) -> None:
    validate(command.template)
    async with uow:
        await uow.templates.put(
            command.tenant_id, command.event_type, command.channel, command.template, clock.now()
        )
        await uow.commit()


async def delete_template(tenant_id: str, event_type: str, channel: str, *, uow: UnitOfWork) -> None:
    async with uow:
        if not await uow.templates.delete(tenant_id, event_type, channel):
            raise TemplateNotFound(f"no template for '{event_type}' on '{channel}'")
        await uow.commit()


async def put_tenant_settings(command: commands.PutTenantSettings, *, uow: UnitOfWork) -> None:
    async with uow:
        await uow.tenant_settings.put(command.tenant_id, command.settings)
        await uow.commit()
