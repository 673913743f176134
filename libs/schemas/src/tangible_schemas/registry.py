"""Every v1 event and the topic it travels on (the topic is the type's prefix)."""

from __future__ import annotations

from dataclasses import dataclass

from tangible_schemas import credentials, entitlements, notifications, rewards, usage
from tangible_schemas.base import EventData


@dataclass(frozen=True)
class Topic:
    name: str
    partitions: int
    compacted: bool = False
    description: str = ""


USAGE = Topic("tangible.usage.v1", 12, description="Accepted usage events, keyed tenant/account.")
ENTITLEMENTS = Topic(
    "tangible.entitlements.v1", 6, description="License, seat, trial, grant, threshold and signal events."
)
REWARDS = Topic("tangible.rewards.v1", 6, description="Milestones, rewards and credit ledger events.")
NOTIFICATIONS = Topic("tangible.notifications.v1", 3, description="Delivery outcomes.")
CREDENTIALS = Topic(
    "tangible.credentials.v1",
    1,
    compacted=True,
    description="Credential revocations and portal-token invalidations.",
)

TOPICS: tuple[Topic, ...] = (USAGE, ENTITLEMENTS, REWARDS, NOTIFICATIONS, CREDENTIALS)

EVENT_CLASSES: tuple[type[EventData], ...] = (
    usage.UsageRecorded,
    entitlements.LicenseCreated,
    entitlements.LicenseRenewed,
    entitlements.LicensePlanChanged,
    entitlements.LicenseAddonChanged,
    entitlements.LicenseStatusChanged,
    entitlements.SeatAssigned,
    entitlements.SeatUnassigned,
    entitlements.TrialStarted,
    entitlements.TrialEndingSoon,
    entitlements.TrialEnded,
    entitlements.TrialConverted,
    entitlements.GrantApplied,
    entitlements.GrantExpired,
    entitlements.ThresholdCrossed,
    entitlements.ThresholdRecovered,
    entitlements.RenewalDue,
    entitlements.UpgradeSuggested,
    entitlements.RenewalAtRisk,
    entitlements.UsageAggregated,
    entitlements.CatalogChanged,
    rewards.MilestoneReached,
    rewards.RewardGranted,
    rewards.CreditsRedeemed,
    rewards.CreditsExpiringSoon,
    rewards.CreditsExpired,
    rewards.CreditsAdjusted,
    rewards.ItemRedeemed,
    notifications.NotificationDelivered,
    notifications.NotificationFailed,
    notifications.EndpointDisabled,
    credentials.CredentialRevoked,
    credentials.PortalTokensInvalidated,
)

EVENT_TYPES: dict[str, type[EventData]] = {cls.event_type: cls for cls in EVENT_CLASSES}
_TOPICS_BY_NAME = {topic.name: topic for topic in TOPICS}


def topic_for(event_type: str) -> Topic:
    """`tangible.<domain>.v1.<name>` travels on `tangible.<domain>.v1`."""
    return _TOPICS_BY_NAME[event_type.rsplit(".", 1)[0]]


def dead_letter_topic(consumer_group: str) -> Topic:
    """One dead-letter topic per consumer group, so a poison record names its consumer."""
    return Topic(f"tangible.dlq.{consumer_group}", 1, description=f"Dead letters of {consumer_group}.")
