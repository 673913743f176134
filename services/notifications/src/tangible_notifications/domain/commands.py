"""Commands the notifications service handles."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tangible_notifications.domain.model import Channel, SourceEvent, Template


@dataclass(frozen=True)
class CreateRule:
    tenant_id: str
    name: str
    event_types: tuple[str, ...]
    channels: tuple[Channel, ...]
    template: Template
    priority: str = "normal"


@dataclass(frozen=True)
class NotifyEvents:
    consumer: str
    events: Sequence[SourceEvent]
