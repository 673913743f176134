"""Commands the rewards service handles."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from tangible_rewards.domain.adoption import SeatChange
from tangible_rewards.domain.catalogue import CatalogItem
from tangible_rewards.domain.evaluation import Usage
from tangible_rewards.domain.licenses import LicenseFact
from tangible_rewards.domain.model import Repeat, Reward, RuleKind, RuleParams
from tangible_rewards.domain.periods import Period


@dataclass(frozen=True)
class RuleDefinition:
    name: str
    kind: RuleKind
    params: RuleParams
    reward: Reward
    repeat: Repeat = Repeat.ONCE
    repeat_period: Period | None = None


@dataclass(frozen=True)
class CreateMilestoneRule:
    tenant_id: str
    key: str
    definition: RuleDefinition
    actor: str


@dataclass(frozen=True)
class ReviseMilestoneRule:
    tenant_id: str
    key: str
    definition: RuleDefinition
    actor: str


@dataclass(frozen=True)
class SetRuleEnabled:
    tenant_id: str
    key: str
    enabled: bool


@dataclass(frozen=True)
class SetTimeZone:
    tenant_id: str
    account_id: str
    time_zone: str


@dataclass(frozen=True)
class EvaluateUsage:
    consumer: str
    usages: Sequence[Usage]


@dataclass(frozen=True)
class SeatFact:
    tenant_id: str
    account_id: str
    change: SeatChange


@dataclass(frozen=True)
class ApplyEntitlementEvents:
    """License and seat events of one batch, in delivery order, with their event ids."""

    consumer: str
    facts: Sequence[tuple[str, LicenseFact | SeatFact]]


@dataclass(frozen=True)
class Redeem:
    tenant_id: str
    account_id: str
    amount: Decimal
    unit: str
    idempotency_key: str
    request_hash: str
    description: str | None
    actor: str


@dataclass(frozen=True)
class Adjust:
    tenant_id: str
    account_id: str
    amount: Decimal
    """Positive adds a bucket; negative burns like a redemption."""
    unit: str
    actor: str
    reason: str
    expires_at: datetime | None = None
    priority: int = 0


@dataclass(frozen=True)
class VoidGrant:
    tenant_id: str
    account_id: str
    reward_id: str
    actor: str
    reason: str


@dataclass(frozen=True)
class CreateCatalogItem:
    tenant_id: str
    item: CatalogItem


@dataclass(frozen=True)
class UpdateCatalogItem:
    tenant_id: str
    key: str
    changes: Mapping[str, Any]


@dataclass(frozen=True)
class RedeemItem:
    """One of a catalogue item, at the catalogue's price: the client never names the amount."""

    tenant_id: str
    account_id: str
    item_key: str
    idempotency_key: str
    request_hash: str
    actor: str
    user_id: str | None = None
