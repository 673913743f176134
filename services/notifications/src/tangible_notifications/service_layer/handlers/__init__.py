"""Handlers: each owns its transaction (`async with uow` … `await uow.commit()`)."""

from tangible_notifications.service_layer.handlers.channels import (
    create_channel,
    rotate_secret,
    set_channel_enabled,
)
from tangible_notifications.service_layer.handlers.compose import compose_pending
from tangible_notifications.service_layer.handlers.deliveries import resend_delivery
from tangible_notifications.service_layer.handlers.delivery import deliver_due
from tangible_notifications.service_layer.handlers.inbox import mark_inbox_item, put_preference
from tangible_notifications.service_layer.handlers.notify import notify_events
from tangible_notifications.service_layer.handlers.rules import (
    create_rule,
    delete_template,
    put_template,
    put_tenant_settings,
    update_rule,
)
from tangible_notifications.service_layer.handlers.scheduled import send_digests, send_quarterly_summaries

__all__ = [
    "compose_pending",
    "create_channel",
    "create_rule",
    "delete_template",
    "deliver_due",
    "mark_inbox_item",
    "notify_events",
    "put_preference",
    "put_template",
    "put_tenant_settings",
    "resend_delivery",
    "rotate_secret",
    "send_digests",
    "send_quarterly_summaries",
    "set_channel_enabled",
    "update_rule",
]
