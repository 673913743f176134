"""Parking: usage of an account that has no license yet is kept, bounded, until it has one.

Onboarding usually sends usage before the CRM sync creates the license; refusing it would
lose the first days of every account. What is kept is bounded twice, so that a wrong
account id cannot grow a tenant's table without end: by age (event time within `window` of
now) and by count per tenant (`max_events`). Past either bound, or aged past the window
while parked, the event is dead-lettered with a reason that says which.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from tangible_entitlements.domain.metering import Usage

WINDOW_EXCEEDED = "parking_window_exceeded"
FULL = "parking_full"
EXPIRED = "parked_expired"


@dataclass(frozen=True)
class ParkingPolicy:
    window: timedelta = timedelta(days=30)
    max_events: int = 100_000  # ENTITLEMENTS_PARKING_MAX_EVENTS (config.py) has the same default


@dataclass(frozen=True)
class ParkedUsage:
    """A parked event and the record it came as (dead-lettered as is if it expires)."""

    usage: Usage
    consumer: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]
    parked_at: datetime


@dataclass(frozen=True)
class Parking:
    park: list[Usage]
    refused: list[tuple[Usage, str]]


def decide(
    early: Iterable[Usage], parked: Mapping[str, int], policy: ParkingPolicy, now: datetime
) -> Parking:
    """Which early events to park, given how many each tenant has parked; the rest with why."""
    counts = dict(parked)
    park: list[Usage] = []
    refused: list[tuple[Usage, str]] = []
    for usage in sorted(early, key=lambda u: (u.occurred_at, u.event_id)):
        if usage.occurred_at < now - policy.window:
            refused.append((usage, WINDOW_EXCEEDED))
        elif counts.get(usage.tenant_id, 0) >= policy.max_events:
            refused.append((usage, FULL))
        else:
            counts[usage.tenant_id] = counts.get(usage.tenant_id, 0) + 1
            park.append(usage)
    return Parking(park, refused)
