"""Domain facts → wire events (libs/schemas). Payloads carry ids and changed values."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, cast

from tangible_schemas.notifications import EndpointDisabled, NotificationDelivered, NotificationFailed

WireChannel = Literal["webhook", "email", "inbox"]


def delivered(delivery: Any, source_event_id: str, attempts: int) -> NotificationDelivered:
    return NotificationDelivered(
        tenant_id=delivery["tenant_id"],
        account_id=delivery["account_id"],
        notification_id=delivery["notification_id"],
        channel=cast(WireChannel, delivery["channel"]),
        source_event_id=source_event_id,
        attempts=attempts,
        user_id=delivery.get("user_id"),
    )


def failed(delivery: Any, source_event_id: str, attempts: int, error: str) -> NotificationFailed:
    return NotificationFailed(
        tenant_id=delivery["tenant_id"],
        account_id=delivery["account_id"],
        notification_id=delivery["notification_id"],
        channel=cast(WireChannel, delivery["channel"]),
        source_event_id=source_event_id,
        attempts=attempts,
        last_error=error[:500],
    )


def endpoint_disabled(tenant_id: str, endpoint_id: str, reason: str, at: datetime) -> EndpointDisabled:
    return EndpointDisabled(tenant_id=tenant_id, endpoint_id=endpoint_id, reason=reason, disabled_at=at)
