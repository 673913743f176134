"""Notification rules and the notifications they produce. Pure Python."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Channel(StrEnum):
    INBOX = "inbox"
    WEBHOOK = "webhook"
    EMAIL = "email"


@dataclass(frozen=True)
class Template:
    title: str
    body: str


@dataclass(frozen=True)
class NotificationRule:
    id: str
    name: str
    event_types: tuple[str, ...]
    channels: tuple[Channel, ...]
    template: Template
    priority: str = "normal"
    enabled: bool = True

    def matches(self, event_type: str) -> bool:
        return self.enabled and any(
            event_type == pattern or (pattern.endswith("*") and event_type.startswith(pattern[:-1]))
            for pattern in self.event_types
        )


@dataclass(frozen=True)
class SourceEvent:
    id: str
    type: str
    tenant_id: str
    account_id: str
    data: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Notification:
    """One message: unique per (source event, rule, recipient, channel)."""

    id: str
    tenant_id: str
    account_id: str
    rule_id: str
    source_event_id: str
    channel: Channel
    recipient: str
    title: str
    body: str
