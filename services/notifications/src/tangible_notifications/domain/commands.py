"""Commands the notifications service handles."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from tangible_notifications.domain.model import (
    Channel,
    Preference,
    Priority,
    RuleFilters,
    SourceEvent,
    Template,
    TenantSettings,
)


@dataclass(frozen=True)
class CreateRule:
    tenant_id: str
    name: str
    event_types: tuple[str, ...]
    channels: tuple[Channel, ...]
    template: Template | None = None
    priority: Priority = Priority.NORMAL
    category: str | None = None
    filters: RuleFilters = RuleFilters()


@dataclass(frozen=True)
class UpdateRule:
    tenant_id: str
    rule_id: str
    rule: CreateRule
    enabled: bool = True


@dataclass(frozen=True)
class CreateChannel:
    tenant_id: str
    kind: Channel
    name: str
    purpose: str = "standard"
    url: str | None = None
    sender: str | None = None
    recipients: tuple[str, ...] = ()
    to_account_contacts: bool = False
    secret: str | None = None  # a webhook secret the tenant brings; else one is generated


@dataclass(frozen=True)
class SetChannelEnabled:
    tenant_id: str
    channel_id: str
    enabled: bool


@dataclass(frozen=True)
class RotateSecret:
    tenant_id: str
    channel_id: str
    overlap: timedelta


@dataclass(frozen=True)
class PutTemplate:
    tenant_id: str
    event_type: str
    channel: str
    template: Template


@dataclass(frozen=True)
class PutPreference:
    tenant_id: str
    preference: Preference


@dataclass(frozen=True)
class PutTenantSettings:
    tenant_id: str
    settings: TenantSettings


@dataclass(frozen=True)
class MarkInboxItem:
    tenant_id: str
    account_id: str
    item_id: str
    read: bool
    # whose items the reader may mark, as an inbox read's audience: a user (theirs and the
    # account-wide ones), ACCOUNT_WIDE (those only), or None (any of the account's)
    user_id: str | None = None


@dataclass(frozen=True)
class ResendDelivery:
    tenant_id: str
    delivery_id: str


@dataclass(frozen=True)
class NotifyEvents:
    consumer: str
    events: Sequence[SourceEvent]
    past_signal_horizon: timedelta | None = None
    """Signals about what happened longer ago than this notify nobody (see `domain.past`)."""
