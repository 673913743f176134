"""Admin handlers: each owns its transaction (`async with uow` … `await uow.commit()`)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime

from tangible_notifications.adapters.secrets import SecretBox, new_webhook_secret
from tangible_notifications.adapters.ssrf import resolve
from tangible_notifications.domain import commands
from tangible_notifications.domain.errors import (
    ChannelDisabled,
    ChannelHasNoSecret,
    ChannelNotFound,
    DeliveryNotFound,
    InboxItemNotFound,
    RuleNotFound,
    TargetRefused,
    TemplateNotFound,
)
from tangible_notifications.domain.model import Channel, Endpoint, NotificationRule
from tangible_notifications.domain.rendering import validate
from tangible_notifications.service_layer.unit_of_work import UnitOfWork
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


async def create_channel(
    command: commands.CreateChannel, *, uow: UnitOfWork, box: SecretBox, clock: Clock, allow_private: bool
) -> tuple[Endpoint, str | None]:
    """Returns the channel and, for a webhook, its secret: shown once, stored encrypted."""
    endpoint = Endpoint(
        id=str(uuid.uuid4()),
        tenant_id=command.tenant_id,
        kind=command.kind,
        name=command.name,
        purpose=command.purpose,
        url=command.url,
        sender=command.sender,
        recipients=command.recipients,
        to_account_contacts=command.to_account_contacts,
    )
    secret: str | None = None
    ciphertext: str | None = None
    if command.kind is Channel.WEBHOOK:
        if not command.url:
            raise TargetRefused("a webhook channel needs a url")
        await resolve(command.url, allow_private=allow_private)
        secret = command.secret or new_webhook_secret()
        ciphertext = box.encrypt(secret)
    now = clock.now()
    async with uow:
        await uow.channels.add(endpoint, now)
        if ciphertext is not None:
            await uow.channels.add_secret(endpoint.id, str(uuid.uuid4()), ciphertext, now)
        await uow.commit()
    return endpoint, secret


async def set_channel_enabled(
    command: commands.SetChannelEnabled, *, uow: UnitOfWork, clock: Clock
) -> Endpoint:
    async with uow:
        endpoint = await uow.channels.get(command.tenant_id, command.channel_id, for_update=True)
        if endpoint is None:
            raise ChannelNotFound(f"channel '{command.channel_id}' does not exist")
        values: dict[str, object] = {"enabled": command.enabled}
        if command.enabled:
            values |= {"disabled_reason": None, "disabled_at": None, "failing_since": None}
        else:
            values |= {"disabled_reason": "disabled by an admin", "disabled_at": clock.now()}
        await uow.channels.update(command.tenant_id, command.channel_id, **values)
        await uow.commit()
    return replace(endpoint, enabled=command.enabled, disabled_reason=values.get("disabled_reason"))  # type: ignore[arg-type]


async def rotate_secret(
    command: commands.RotateSecret, *, uow: UnitOfWork, box: SecretBox, clock: Clock
) -> tuple[str, datetime]:
    """A new current secret; the old ones keep signing until the overlap ends."""
    now = clock.now()
    secret = new_webhook_secret()
    async with uow:
        endpoint = await uow.channels.get(command.tenant_id, command.channel_id, for_update=True)
        if endpoint is None:
            raise ChannelNotFound(f"channel '{command.channel_id}' does not exist")
        if endpoint.kind is not Channel.WEBHOOK:
            raise ChannelHasNoSecret(f"{endpoint.kind} channels have no secret", kind=endpoint.kind.value)
        await uow.channels.expire_secrets(endpoint.id, now + command.overlap)
        await uow.channels.add_secret(endpoint.id, str(uuid.uuid4()), box.encrypt(secret), now)
        await uow.commit()
    return secret, now + command.overlap


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


async def put_preference(command: commands.PutPreference, *, uow: UnitOfWork) -> None:
    async with uow:
        await uow.preferences.put(command.tenant_id, command.preference)
        await uow.commit()


async def put_tenant_settings(command: commands.PutTenantSettings, *, uow: UnitOfWork) -> None:
    async with uow:
        await uow.tenant_settings.put(command.tenant_id, command.settings)
        await uow.commit()


async def mark_inbox_item(command: commands.MarkInboxItem, *, uow: UnitOfWork, clock: Clock) -> bool:
    async with uow:
        row = await uow.inbox_items.mark(
            command.tenant_id, command.account_id, command.item_id, clock.now() if command.read else None
        )
        if row is None:
            raise InboxItemNotFound(f"inbox item '{command.item_id}' does not exist")
        await uow.commit()
    return command.read


async def resend_delivery(command: commands.ResendDelivery, *, uow: UnitOfWork, clock: Clock) -> None:
    """Send again (same webhook-id, so receivers can tell), with a fresh retry window."""
    async with uow:
        delivery = await uow.deliveries.get(command.tenant_id, command.delivery_id, for_update=True)
        if delivery is None or delivery["channel"] == "inbox":
            raise DeliveryNotFound(f"delivery '{command.delivery_id}' does not exist or cannot be resent")
        if delivery["channel_id"]:
            endpoint = await uow.channels.get(command.tenant_id, delivery["channel_id"])
            if endpoint is None or not endpoint.enabled:
                raise ChannelDisabled("the delivery's channel is disabled: enable it before resending")
        await uow.deliveries.resend(command.delivery_id, clock.now())
        await uow.notifications.set_status([delivery["notification_id"]], "pending")
        await uow.commit()
