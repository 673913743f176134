"""Endpoint health: a failing streak cleared by a success, and disabling an endpoint that
keeps failing (or answers 410): stop its deliveries, announce it, tell the tenant."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from tangible_notifications.domain.defaults import ENDPOINT_DISABLED
from tangible_notifications.domain.model import Channel, Endpoint, NotificationRule, Priority, SourceEvent
from tangible_notifications.domain.planning import plan
from tangible_notifications.domain.retry import Outcome
from tangible_notifications.service_layer import translate
from tangible_notifications.service_layer.notifications import load_config, persist
from tangible_notifications.service_layer.ports import UnitOfWork

# why an endpoint was disabled automatically, a bounded metric label: 410, or failing too long
DisableReason = Literal["gone", "failing"]

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
    await uow.notifications.set_status([s.delivery.notification_id for s in stopped], "failed")
    for s in stopped:
        uow.outbox.add(
            translate.failed(
                s.delivery, s.source_event_id, s.delivery.attempts, f"endpoint disabled: {reason}"
            )
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


@dataclass(frozen=True)
class EndpointHealth:
    """An attempt's outcome on its endpoint; `watched`: its sender counts failures against
    the endpoint (a webhook receiver's, not an SMTP relay's)."""

    endpoint: Endpoint
    outcome: Outcome
    watched: bool


async def watch_endpoints(
    uow: UnitOfWork, attempts: Sequence[EndpointHealth], disable_after: timedelta, now: datetime
) -> list[DisableReason]:
    """A success clears the failing streak; 410 disables a watched endpoint at once, and
    so does failing without a success for `disable_after`. Returns why each endpoint it
    disabled was disabled (for the metric, counted once the transaction commits)."""
    disabled: list[DisableReason] = []
    healthy = {a.endpoint.id for a in attempts if a.outcome is Outcome.SUCCEEDED}
    for channel_id in healthy:
        await uow.channels.update_by_id(channel_id, failing_since=None)
    handled: set[str] = set()
    for a in attempts:
        endpoint = a.endpoint
        if not a.watched or not endpoint.enabled or endpoint.id in healthy or endpoint.id in handled:
            continue
        if a.outcome is Outcome.GONE:
            handled.add(endpoint.id)
            await disable_endpoint(uow, endpoint, "gone: the receiver answered 410", now)
            disabled.append("gone")
        elif a.outcome is Outcome.FAILED:
            handled.add(endpoint.id)
            since = await uow.channels.mark_failing(endpoint.id, now)
            if now - since >= disable_after:
                days = disable_after.total_seconds() / 86400
                await disable_endpoint(uow, endpoint, f"failing for {days:g} days", now)
                disabled.append("failing")
    return disabled
