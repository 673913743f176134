"""`tangible.notifications.v1`: what happened to the messages Tangible sent."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from tangible_schemas.base import AccountEvent, EventData

Channel = Literal["webhook", "email", "inbox"]


class NotificationDelivered(AccountEvent):
    event_type = "tangible.notifications.v1.notification_delivered"
    summary = "A notification reached its channel (webhook acknowledged, email accepted, inbox)."

    notification_id: str
    channel: Channel
    source_event_id: str
    attempts: int
    user_id: str | None = None  # the recipient, when one person of the account (an inbox item for them)


class NotificationFailed(AccountEvent):
    event_type = "tangible.notifications.v1.notification_failed"
    summary = "A notification gave up after its retry schedule."

    notification_id: str
    channel: Channel
    source_event_id: str
    attempts: int
    last_error: str


class EndpointDisabled(EventData):
    event_type = "tangible.notifications.v1.endpoint_disabled"
    summary = "A webhook endpoint was disabled (410 Gone or sustained failure)."

    endpoint_id: str
    reason: str
    disabled_at: datetime

    @property
    def subject(self) -> str:
        return self.endpoint_id
