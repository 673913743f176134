"""Every consumer group, once: who reads which topic for which events. The AsyncAPI
document's receive operations and dead-letter channels are built from this list, and a test
fails when a service defines a group that is not here."""

from __future__ import annotations

from dataclasses import dataclass

from tangible_schemas import entitlements, rewards, usage
from tangible_schemas.base import EventData
from tangible_schemas.registry import ENTITLEMENTS, REWARDS, USAGE, Topic


@dataclass(frozen=True)
class ConsumerGroup:
    name: str  # the Kafka group id (after KAFKA_TOPIC_PREFIX) and the dead-letter topic's suffix
    service: str
    topics: tuple[Topic, ...]
    # None: every event on its topics (the handler skips what it has no use for)
    events: tuple[type[EventData], ...] | None
    purpose: str


CONSUMER_GROUPS: tuple[ConsumerGroup, ...] = (
    ConsumerGroup(
        "entitlements-usage",
        "entitlements",
        (USAGE,),
        (usage.UsageRecorded,),
        "Meters usage against plan limits; emits threshold, signal and aggregate events.",
    ),
    ConsumerGroup(
        "entitlements-rewards",
        "entitlements",
        (REWARDS,),
        (rewards.RewardGranted,),
        "Applies granted rewards that change entitlements (grants, support levels).",
    ),
    ConsumerGroup(
        "rewards-usage",
        "rewards",
        (USAGE,),
        (usage.UsageRecorded,),
        "Evaluates milestone rules on usage.",
    ),
    ConsumerGroup(
        "rewards-entitlements",
        "rewards",
        (ENTITLEMENTS,),
        (
            entitlements.LicenseCreated,
            entitlements.LicenseRenewed,
            entitlements.LicenseStatusChanged,
            entitlements.SeatAssigned,
            entitlements.SeatUnassigned,
        ),
        "Keeps the license facts anniversary and adoption rules read.",
    ),
    ConsumerGroup(
        "notifications-events",
        "notifications",
        (ENTITLEMENTS, REWARDS),
        None,
        "Turns account events into notifications per the tenant's rules.",
    ),
)
