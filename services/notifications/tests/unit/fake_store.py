"""The in-memory store the fake repositories share (what the database would hold)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tangible_notifications.domain.model import (
    Endpoint,
    NotificationRule,
    Preference,
    Template,
    TenantSettings,
)
from tangible_notifications.domain.records import (
    AttemptRecord,
    DeliveryRecord,
    InboxItem,
    StoredNotification,
    StoredSecret,
)
from tangible_notifications.domain.sharing import ShareLink
from tangible_notifications.service_layer.ports import AccountTerm
from tangible_schemas import EventData


@dataclass
class Store:
    """What the database would hold; `published` is what committed outboxes sent."""

    rules: dict[tuple[str, str], NotificationRule] = field(default_factory=dict)
    channels: dict[str, Endpoint] = field(default_factory=dict)
    secrets: dict[str, list[StoredSecret]] = field(default_factory=lambda: defaultdict(list))
    templates: dict[tuple[str, str, str], Template] = field(default_factory=dict)
    settings: dict[str, TenantSettings] = field(default_factory=dict)
    preferences: dict[tuple[str, str, str], Preference] = field(default_factory=dict)
    accounts: dict[tuple[str, str], AccountTerm] = field(default_factory=dict)
    notifications: dict[str, StoredNotification] = field(default_factory=dict)
    notification_keys: set[tuple[str, ...]] = field(default_factory=set)
    digest_due: dict[str, datetime | None] = field(default_factory=dict)
    deliveries: dict[str, DeliveryRecord] = field(default_factory=dict)
    attempts: dict[tuple[str, int], AttemptRecord] = field(default_factory=dict)
    inbox: dict[str, InboxItem] = field(default_factory=dict)
    consumed: set[tuple[str, str]] = field(default_factory=set)
    schedule_runs: set[tuple[str, str, str]] = field(default_factory=set)
    published: list[EventData] = field(default_factory=list)
    report_templates: dict[str, dict[str, Any]] = field(default_factory=dict)  # tenant → jsonb body
    share_links: dict[str, ShareLink] = field(default_factory=dict)


class Repository:
    def __init__(self, store: Store) -> None:
        self.s = store
