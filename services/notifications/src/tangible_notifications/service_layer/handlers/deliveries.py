"""Resending a delivery from the log."""

from __future__ import annotations

from tangible_notifications.domain import commands
from tangible_notifications.domain.errors import ChannelDisabled, DeliveryNotFound
from tangible_notifications.service_layer.ports import UnitOfWork
from tangible_runtime.domain import Clock


async def resend_delivery(command: commands.ResendDelivery, *, uow: UnitOfWork, clock: Clock) -> None:
    """Send again (same webhook-id, so receivers can tell), with a fresh retry window."""
    async with uow:
        delivery = await uow.deliveries.get(command.tenant_id, command.delivery_id, for_update=True)
        if delivery is None or delivery.channel == "inbox":
            raise DeliveryNotFound(f"delivery '{command.delivery_id}' does not exist or cannot be resent")
        if delivery.channel_id:
            endpoint = await uow.channels.get(command.tenant_id, delivery.channel_id)
            if endpoint is None or not endpoint.enabled:
                raise ChannelDisabled("the delivery's channel is disabled: enable it before resending")
        await uow.deliveries.resend(command.delivery_id, clock.now())
        await uow.notifications.set_status([delivery.notification_id], "pending")
        await uow.commit()
