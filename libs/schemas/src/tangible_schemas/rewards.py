"""`tangible.rewards.v1`: milestones, rewards and the credit ledger."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import Field

from tangible_schemas.base import AccountEvent

RewardKind = Literal["credits", "support_level", "early_access", "custom"]


class MilestoneReached(AccountEvent):
    event_type = "tangible.rewards.v1.milestone_reached"
    summary = "An account met a milestone rule for a qualifying period."

    rule_id: str
    rule_version: int
    milestone_name: str
    period_key: str = Field(description="'lifetime' or the qualifying period, e.g. 2026-W14.")
    rule_key: str | None = Field(default=None, description="The rule's stable key (all versions).")
    rule_kind: str | None = Field(default=None, description="usage_threshold, streak, adoption, ...")
    value: float | None = Field(default=None, description="The value that met the target.")
    reached_at: datetime | None = Field(
        default=None, description="When the milestone was met, by event time (imported history: in the past)."
    )
    imported: bool = Field(default=False, description="Met by imported historical usage.")


class RewardGranted(AccountEvent):
    event_type = "tangible.rewards.v1.reward_granted"
    summary = "A reward was granted; non-credit rewards are applied by entitlements."

    reward_id: str
    rule_id: str
    kind: RewardKind
    credits: Decimal | None = None
    credits_expire_at: datetime | None = None
    feature_key: str | None = Field(default=None, description="early_access: the feature.")
    support_level: str | None = None
    ends_at: datetime | None = Field(default=None, description="End of a time-bound benefit.")
    name: str | None = None
    description: str | None = None
    rule_key: str | None = None
    rule_version: int | None = None
    period_key: str | None = Field(default=None, description="The period this reward is for.")
    credits_unit: str | None = Field(default=None, description="credits: the unit, e.g. credits.")
    granted_at: datetime | None = Field(
        default=None, description="When it was granted, by event time (imported history: in the past)."
    )
    imported: bool = Field(default=False, description="Granted for imported historical usage.")


class CreditsRedeemed(AccountEvent):
    event_type = "tangible.rewards.v1.credits_redeemed"
    summary = "Credits were spent."

    redemption_id: str
    amount: Decimal
    balance_after: Decimal
    unit: str = "credits"
    description: str | None = None
    item_key: str | None = Field(
        default=None, description="A catalogue redemption: the item bought (see item_redeemed)."
    )


class ItemRedeemed(AccountEvent):
    event_type = "tangible.rewards.v1.item_redeemed"
    summary = "An account bought a catalogue item with credits: the vendor fulfils it."

    redemption_id: str
    item_key: str
    item_name: str
    price: Decimal
    balance_after: Decimal
    unit: str = "credits"
    item_description: str | None = None
    redeemed_by: str | None = Field(
        default=None, description="The portal token's user who redeemed, if the token named one."
    )
    remaining_stock: int | None = Field(default=None, description="Left after this one; none if unlimited.")


class CreditsExpiringSoon(AccountEvent):
    event_type = "tangible.rewards.v1.credits_expiry_announced"
    summary = "Credits expire within the configured lead time."

    bucket_id: str
    amount: Decimal
    expires_at: datetime
    unit: str = "credits"
    reward_id: str | None = Field(default=None, description="The reward that granted the credits.")


class CreditsExpired(AccountEvent):
    event_type = "tangible.rewards.v1.credits_expired"
    summary = "Unspent credits expired and were booked as breakage."

    bucket_id: str
    amount: Decimal
    balance_after: Decimal
    unit: str = "credits"
    reward_id: str | None = None


class CreditsAdjusted(AccountEvent):
    event_type = "tangible.rewards.v1.credits_adjusted"
    summary = "An admin adjusted a balance or voided a grant."

    transaction_id: str
    amount: Decimal
    balance_after: Decimal
    actor: str
    reason: str
    unit: str = "credits"
    kind: Literal["adjustment", "void"] = "adjustment"
    reward_id: str | None = Field(default=None, description="void: the reward whose grant was voided.")
