"""Handlers: each owns its transaction (`async with uow` … `await uow.commit()`)."""

from __future__ import annotations

import uuid

from tangible_notifications.domain import commands
from tangible_notifications.domain.model import Channel, Notification, NotificationRule
from tangible_notifications.domain.rendering import render
from tangible_notifications.service_layer.unit_of_work import UnitOfWork
from tangible_schemas.notifications import NotificationDelivered


async def create_rule(command: commands.CreateRule, *, uow: UnitOfWork) -> NotificationRule:
    rule = NotificationRule(
        id=str(uuid.uuid4()),
        name=command.name,
        event_types=command.event_types,
        channels=command.channels,
        template=command.template,
        priority=command.priority,
    )
    async with uow:
        await uow.rules.add(command.tenant_id, rule)
        await uow.commit()
    return rule


def _notification_id(tenant_id: str, event_id: str, rule_id: str, recipient: str, channel: Channel) -> str:
    """Deterministic, so a replayed event maps onto the notification it already made."""
    return str(
        uuid.uuid5(uuid.NAMESPACE_URL, f"{tenant_id}/{event_id}/{rule_id}/{recipient}/{channel.value}")
    )


async def notify_events(command: commands.NotifyEvents, *, uow: UnitOfWork) -> None:
    """Persist one notification per (event, rule, recipient, channel) before any delivery;
    in-app inbox items are the delivery, in the same transaction."""
    async with uow:
        fresh = await uow.inbox(command.consumer).claim(e.id for e in command.events)
        events = [e for e in command.events if e.id in fresh]
        rules = await uow.rules.for_tenants(e.tenant_id for e in events)
        planned: list[Notification] = []
        for event in events:
            for rule in rules.get(event.tenant_id, []):
                if not rule.matches(event.type):
                    continue
                title, body = render(rule.template, event)
                recipient = f"account:{event.account_id}"
                planned.extend(
                    Notification(
                        id=_notification_id(event.tenant_id, event.id, rule.id, recipient, channel),
                        tenant_id=event.tenant_id,
                        account_id=event.account_id,
                        rule_id=rule.id,
                        source_event_id=event.id,
                        channel=channel,
                        recipient=recipient,
                        title=title,
                        body=body,
                    )
                    for channel in rule.channels
                )
        created = await uow.notifications.claim(planned)
        inbox = [n for n in planned if n.id in created and n.channel is Channel.INBOX]
        await uow.inbox_items.add(inbox)
        await uow.notifications.mark_delivered([n.id for n in inbox])
        for n in inbox:
            uow.outbox.add(
                NotificationDelivered(
                    tenant_id=n.tenant_id,
                    account_id=n.account_id,
                    notification_id=n.id,
                    channel="inbox",
                    source_event_id=n.source_event_id,
                    attempts=1,
                )
            )
        await uow.commit()
