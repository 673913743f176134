"""Planned notifications into the store: one per key, with their deliveries, and inbox
items that need no composing; and the tenant configuration plans are made from."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from tangible_notifications.domain.model import Delivery, DeliveryStatus, Notification, Status
from tangible_notifications.domain.planning import TenantConfig
from tangible_notifications.domain.records import AttemptRecord, InboxItem
from tangible_notifications.service_layer import translate
from tangible_notifications.service_layer.ports import UnitOfWork


def delivery_for(n: Notification, now: datetime) -> Delivery | None:
    if n.status in (Status.HELD, Status.SUPPRESSED):
        return None
    inbox_now = n.delivered_on_creation
    if inbox_now:
        status = DeliveryStatus.SUCCEEDED
    elif n.status is Status.COMPOSING:
        status = DeliveryStatus.SCHEDULED
    else:
        status = DeliveryStatus.PENDING
    return Delivery(
        id=n.id,
        tenant_id=n.tenant_id,
        notification_id=n.id,
        account_id=n.account_id,
        channel=n.channel,
        channel_id=n.recipient.endpoint_id,
        target=n.recipient.target,
        status=status,
        next_attempt_at=None if inbox_now else n.deliver_at,
        created_at=now,
        attempts=1 if inbox_now else 0,
        delivered_at=now if inbox_now else None,
    )


def inbox_item(n: Notification, title: str, body: str, now: datetime) -> InboxItem:
    return InboxItem(
        id=n.id,
        tenant_id=n.tenant_id,
        account_id=n.account_id,
        user_id=n.recipient.user_id,
        title=title,
        body=body,
        category=n.category,
        priority=n.priority.value,
        created_at=now,
    )


async def deliver_to_inbox(uow: UnitOfWork, items: Sequence[tuple[InboxItem, str]], now: datetime) -> None:
    """(item, source event id): the inbox is delivered in the transaction that makes (or
    composes) its notifications, so each item has one attempt, logged as it succeeded."""
    await uow.inbox_items.add([item for item, _ in items])
    await uow.deliveries.log_attempts([AttemptRecord(item.id, 1, now, "succeeded") for item, _ in items])
    for item, source_event_id in items:
        uow.outbox.add(translate.delivered(item, source_event_id, 1, user_id=item.user_id))


async def persist(uow: UnitOfWork, planned: Sequence[Notification], now: datetime) -> int:
    """Insert notifications (one per key), their deliveries, and inbox items that need no
    composing; returns how many deliveries are due for the delivery worker."""
    created = await uow.notifications.claim(planned)
    fresh = [n for n in planned if n.id in created]
    deliveries = [d for n in fresh if (d := delivery_for(n, now)) is not None]
    await uow.deliveries.add(deliveries)
    inbox = [n for n in fresh if n.delivered_on_creation]
    await deliver_to_inbox(
        uow, [(inbox_item(n, n.title, n.body, now), n.source_event_id) for n in inbox], now
    )
    return sum(1 for d in deliveries if d.status is not DeliveryStatus.SUCCEEDED)


async def load_config(uow: UnitOfWork, tenant_ids: set[str]) -> dict[str, TenantConfig]:
    rules = await uow.rules.for_tenants(tenant_ids)
    endpoints = await uow.channels.for_tenants(tenant_ids)
    templates = await uow.templates.for_tenants(tenant_ids)
    settings = await uow.tenant_settings.for_tenants(tenant_ids)
    return {
        tenant: TenantConfig(
            rules=rules.get(tenant, []),
            endpoints=endpoints.get(tenant, []),
            templates=templates.get(tenant, {}),
            settings=settings[tenant],
        )
        for tenant in tenant_ids
    }
