"""Domain facts → wire events (libs/schemas). Payloads carry ids and changed values."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Protocol, cast

from tangible_schemas.notifications import EndpointDisabled, NotificationDelivered, NotificationFailed

WireChannel = Literal["webhook", "email", "inbox"]


class Routed(Protocol):
    """A delivery as the events name it: whose, of which notification, on which channel."""

    @property
    def tenant_id(self) -> str: ...
    @property
    def account_id(self) -> str: ...
    @property
    def notification_id(self) -> str: ...
    @property
    def channel(self) -> str: ...


def delivered(
    delivery: Routed, source_event_id: str, attempts: int, *, user_id: str | None = None
) -> NotificationDelivered:
    """`user_id`: the recipient, when one person (an inbox item for them: their live stream
    shows it, the account's does not)."""
    return NotificationDelivered(
        tenant_id=delivery.tenant_id,
        account_id=delivery.account_id,
        notification_id=delivery.notification_id,
        channel=cast(WireChannel, delivery.channel),
        source_event_id=source_event_id,
        attempts=attempts,
        user_id=user_id,
    )


def failed(delivery: Routed, source_event_id: str, attempts: int, error: str) -> NotificationFailed:
    return NotificationFailed(
        tenant_id=delivery.tenant_id,
        account_id=delivery.account_id,
        notification_id=delivery.notification_id,
        channel=cast(WireChannel, delivery.channel),
        source_event_id=source_event_id,
        attempts=attempts,
        last_error=error[:500],
    )


def endpoint_disabled(tenant_id: str, endpoint_id: str, reason: str, at: datetime) -> EndpointDisabled:
    return EndpointDisabled(tenant_id=tenant_id, endpoint_id=endpoint_id, reason=reason, disabled_at=at)
