"""Rules, channels, preferences and the notifications they produce. Pure Python."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from enum import StrEnum
from typing import Any


class Channel(StrEnum):
    """What a rule delivers through; `csm` is the tenant's customer-success channel."""

    INBOX = "inbox"
    WEBHOOK = "webhook"
    EMAIL = "email"
    CSM = "csm"


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    CRITICAL = "critical"


class Status(StrEnum):
    """A notification's life: composed now or later, held for a digest, or suppressed."""

    COMPOSING = "composing"
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    HELD = "held"
    DIGESTED = "digested"
    SUPPRESSED = "suppressed"


@dataclass(frozen=True)
class Template:
    title: str
    body: str
    html: str | None = None


@dataclass(frozen=True)
class RuleFilters:
    """Optional narrowing of a rule: one feature, a minimum threshold."""

    feature_key: str | None = None
    min_threshold_percent: int | None = None

    def accept(self, data: dict[str, Any]) -> bool:
        """A filter narrows only events that carry its field (a seat event has no feature)."""
        feature = data.get("feature_key")
        if self.feature_key is not None and feature is not None and feature != self.feature_key:
            return False
        percent = data.get("threshold_percent")
        if self.min_threshold_percent is not None and isinstance(percent, int | float):
            return percent >= self.min_threshold_percent
        return True


def type_matches(event_type: str, pattern: str) -> bool:
    """A rule's event type pattern: the exact type, or a prefix ending in `*`."""
    return event_type == pattern or (pattern.endswith("*") and event_type.startswith(pattern[:-1]))


@dataclass(frozen=True)
class NotificationRule:
    id: str
    name: str
    event_types: tuple[str, ...]
    channels: tuple[Channel, ...]
    template: Template | None = None
    priority: Priority = Priority.NORMAL
    category: str | None = None  # None: from the event type (usage, renewal, signals …)
    filters: RuleFilters = field(default_factory=RuleFilters)
    enabled: bool = True

    def matches(self, event_type: str, data: dict[str, Any] | None = None) -> bool:
        typed = any(type_matches(event_type, pattern) for pattern in self.event_types)
        return self.enabled and typed and self.filters.accept(data or {})


@dataclass(frozen=True)
class Endpoint:
    """A tenant's webhook endpoint or email channel (the inbox needs no configuration)."""

    id: str
    tenant_id: str
    kind: Channel
    name: str
    purpose: str = "standard"
    url: str | None = None
    sender: str | None = None
    recipients: tuple[str, ...] = ()
    to_account_contacts: bool = False
    enabled: bool = True
    disabled_reason: str | None = None
    failing_since: datetime | None = None

    @property
    def is_csm(self) -> bool:
        return self.purpose == "csm"


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time


@dataclass(frozen=True)
class Preference:
    """One account's (user_id None) or user's settings; a user's override the account's."""

    account_id: str
    user_id: str | None = None
    email: str | None = None
    timezone: str = "UTC"
    quiet_hours: QuietHours | None = None
    channels: dict[str, dict[str, str]] = field(default_factory=dict)  # channel → category → mode
    locale: str | None = None  # reports and report-based messages; None: the tenant's default

    def mode(self, channel: Channel, category: str) -> str | None:
        per_category = self.channels.get(channel.value, {})
        return per_category.get(category) or per_category.get("*")


@dataclass(frozen=True)
class TenantSettings:
    inbox_enabled: bool = True
    quarterly_summary: bool = False
    quarterly_channels: tuple[Channel, ...] = (Channel.INBOX,)
    digest_hour: int = 8


@dataclass(frozen=True)
class SourceEvent:
    id: str
    type: str
    tenant_id: str
    account_id: str
    data: dict[str, Any] = field(default_factory=dict)
    time: datetime | None = None

    @property
    def user_id(self) -> str | None:
        user = self.data.get("user_id")
        return user if isinstance(user, str) else None


@dataclass(frozen=True)
class Recipient:
    """Who one notification goes to on one channel: `key` is unique per channel."""

    key: str
    channel: Channel
    target: str
    endpoint_id: str | None = None
    user_id: str | None = None


@dataclass(frozen=True)
class Notification:
    """One message: unique per (source event, rule, recipient, channel)."""

    id: str
    tenant_id: str
    account_id: str
    rule_id: str
    source_event_id: str
    event_type: str
    channel: Channel
    recipient: Recipient
    title: str
    body: str
    html: str | None
    category: str
    priority: Priority
    status: Status
    created_at: datetime
    deliver_at: datetime | None = None
    digest_key: str | None = None
    digest_due_at: datetime | None = None
    context: dict[str, Any] | None = None
    template: Template | None = None

    @property
    def critical(self) -> bool:
        return self.priority is Priority.CRITICAL

    @property
    def delivered_on_creation(self) -> bool:
        """An inbox notification due now needs no sending: the transaction that makes it
        puts it in the inbox."""
        return self.channel is Channel.INBOX and self.status is Status.PENDING

    @property
    def stored_status(self) -> Status:
        """The status it is inserted with: delivered at once, when it is."""
        return Status.DELIVERED if self.delivered_on_creation else self.status


class DeliveryStatus(StrEnum):
    SCHEDULED = "scheduled"  # waiting for its notification to be composed
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True)
class Delivery:
    """One notification's journey to its target; every attempt is logged against it."""

    id: str
    tenant_id: str
    notification_id: str
    account_id: str
    channel: Channel
    channel_id: str | None
    target: str
    status: DeliveryStatus
    next_attempt_at: datetime | None
    created_at: datetime
    attempts: int = 0
    delivered_at: datetime | None = None
