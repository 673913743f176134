"""Disabling a webhook endpoint: stop its deliveries, announce it, tell the tenant."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from tangible_notifications.domain.defaults import ENDPOINT_DISABLED
from tangible_notifications.domain.model import Channel, Endpoint, NotificationRule, Priority, SourceEvent
from tangible_notifications.domain.planning import plan
from tangible_notifications.service_layer import translate
from tangible_notifications.service_layer.notifications import load_config, persist
from tangible_notifications.service_layer.unit_of_work import UnitOfWork

NOTICE_RULE = NotificationRule(
    id="system:endpoint-disabled",
    name="Endpoint disabled",
    event_types=(ENDPOINT_DISABLED,),
    channels=(Channel.EMAIL, Channel.WEBHOOK),
    priority=Priority.CRITICAL,
    category="operations",
)


async def disable_endpoint(uow: UnitOfWork, endpoint: Endpoint, reason: str, now: datetime) -> None:
    await uow.channels.update_by_id(
        endpoint.id, enabled=False, disabled_reason=reason, disabled_at=now, failing_since=None
    )
    stopped = await uow.deliveries.fail_pending_for_channel(endpoint.id, f"endpoint disabled: {reason}")
    await uow.notifications.set_status([d["notification_id"] for d in stopped], "failed")
    for d in stopped:
        uow.outbox.add(
            translate.failed(d, d["source_event_id"], d["attempts"], f"endpoint disabled: {reason}")
        )
    uow.outbox.add(translate.endpoint_disabled(endpoint.tenant_id, endpoint.id, reason, now))
    # the tenant hears of it on its other channels (email, other webhooks), once per disabling
    event = SourceEvent(
        id=f"endpoint-disabled:{endpoint.id}:{now.isoformat()}",
        type=ENDPOINT_DISABLED,
        tenant_id=endpoint.tenant_id,
        account_id="",
        data={"endpoint_id": endpoint.id, "name": endpoint.name, "url": endpoint.url, "reason": reason},
        time=now,
    )
    config = (await load_config(uow, {endpoint.tenant_id}))[endpoint.tenant_id]
    others = [e for e in config.endpoints if e.id != endpoint.id and not e.is_csm]
    await persist(uow, plan(event, replace(config, endpoints=others), [], now, rules=[NOTICE_RULE]), now)
