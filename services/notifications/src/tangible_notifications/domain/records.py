"""What the store hands back and is handed: notifications and deliveries as stored, the
attempt log, inbox items, templates and secrets. Plain values, so that the service layer
and its fakes never see a database row."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tangible_notifications.domain.model import Template


@dataclass(frozen=True)
class StoredNotification:
    """A notification as stored, with its rendered text: what composing, sending and
    digests read back. `context` holds the event's facts and the trace it was made in."""

    id: str
    tenant_id: str
    account_id: str
    source_event_id: str
    event_type: str
    channel: str
    channel_id: str | None
    recipient: str
    user_id: str | None
    title: str
    body: str
    html: str | None
    category: str
    priority: str
    status: str
    created_at: datetime
    context: dict[str, Any] = field(default_factory=dict)
    template: Template | None = None
    digest_key: str | None = None


@dataclass(frozen=True)
class Composed:
    """A composed notification's text, and its status once composed."""

    id: str
    title: str
    body: str
    html: str | None
    status: str


@dataclass(frozen=True)
class AttemptRecord:
    """One attempt of a delivery, as the delivery log shows it."""

    delivery_id: str
    number: int
    attempted_at: datetime
    outcome: str
    status_code: int | None = None
    error: str | None = None
    duration_ms: int = 0


@dataclass(frozen=True)
class DeliveryRecord:
    """A delivery as stored: claimed by the worker, shown in the log (with its attempts),
    stopped when its endpoint is disabled, resent by an admin."""

    id: str
    tenant_id: str
    notification_id: str
    account_id: str
    channel: str
    channel_id: str | None
    target: str
    status: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None = None
    series_started_at: datetime | None = None
    last_error: str | None = None
    last_status_code: int | None = None
    delivered_at: datetime | None = None
    attempt_log: tuple[AttemptRecord, ...] = ()


@dataclass(frozen=True)
class StoppedDelivery:
    """A delivery failed because its endpoint was disabled, with its notification's source."""

    delivery: DeliveryRecord
    source_event_id: str


@dataclass(frozen=True)
class FinishedAttempt:
    """What one attempt leaves on its delivery; `attempt` fences out a stale sender."""

    id: str
    attempt: int
    status: str
    next_attempt_at: datetime | None
    last_error: str | None
    status_code: int | None
    delivered_at: datetime | None


@dataclass(frozen=True)
class InboxItem:
    """One item of the in-app inbox, keyed by its notification's id."""

    id: str
    tenant_id: str
    account_id: str
    user_id: str | None
    title: str
    body: str
    category: str
    priority: str
    created_at: datetime
    read_at: datetime | None = None

    @property
    def read(self) -> bool:
        return self.read_at is not None

    @property
    def notification_id(self) -> str:
        return self.id

    @property
    def channel(self) -> str:
        """An item is its notification's delivery to the inbox (events name it so)."""
        return "inbox"


@dataclass(frozen=True)
class StoredTemplate:
    """A tenant's template for an event type on a channel."""

    event_type: str
    channel: str
    title: str
    body: str
    html: str | None


@dataclass(frozen=True)
class StoredSecret:
    """A webhook signing secret, encrypted at rest."""

    id: str
    ciphertext: str
    created_at: datetime
    expires_at: datetime | None
