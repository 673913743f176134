"""DTOs of the account-scoped API: progress, balance, ledger, rewards, redemptions, adjustments."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, Field, StrictInt

from tangible_rewards.entrypoints.schemas.amounts import NonZeroAmount, PositiveAmount
from tangible_rewards.entrypoints.schemas.rules import RewardIn, Strict
from tangible_runtime.numbers import INTEGRAL

Unit = Field(default="credits", pattern=r"^[a-z][a-z0-9_-]{0,31}$")


class ProgressRead(BaseModel):
    rule_key: str
    name: str
    kind: str
    version: int
    current: float
    target: float
    percent: float
    remaining: float
    reached: bool
    status: str = Field(description="in_progress, reached or missed")
    unit: str
    period_key: str | None
    reward: RewardIn
    summary: str = Field(examples=["80 % to Champion: 2,000 more reports"])


class ProgressList(BaseModel):
    account_id: str
    milestones: list[ProgressRead]


class BucketRead(BaseModel):
    amount: Decimal
    expires_at: datetime | None


class BalanceRead(BaseModel):
    account_id: str
    unit: str
    total: Decimal = Field(description="Spendable now, e.g. '123.00'.")
    buckets: list[BucketRead] = Field(description="Spendable credit grouped by expiry, soonest first.")


class LedgerEntryRead(BaseModel):
    entry_id: int
    transaction_id: str
    kind: str = Field(description="grant, redemption, expiry, adjustment or void")
    amount: Decimal = Field(description="Signed change to the account's balance.")
    bucket_id: str
    expires_at: datetime | None
    provenance: dict[str, Any]
    created_at: datetime


class RewardRead(BaseModel):
    reward_id: str
    rule_key: str
    rule_version: int
    name: str
    kind: str
    credits: Decimal | None
    credits_unit: str | None
    period_key: str
    status: str = Field(description="granted or voided")
    granted_at: datetime
    details: dict[str, Any]


class RedemptionCreate(Strict):
    amount: PositiveAmount
    unit: str = Unit
    description: str | None = Field(default=None, max_length=500)


class BurnRead(BaseModel):
    bucket_id: str
    amount: Decimal
    expires_at: datetime | None


class RedemptionRead(BaseModel):
    redemption_id: str
    transaction_id: str
    account_id: str
    amount: Decimal
    unit: str
    balance_after: Decimal
    burned: list[BurnRead]
    description: str | None
    created_at: datetime


class AdjustmentCreate(Strict):
    amount: NonZeroAmount = Field(description="Signed.")
    unit: str = Unit
    reason: str = Field(min_length=1, max_length=500)
    expires_at: AwareDatetime | None = Field(
        default=None, description="Positive adjustments: when they expire."
    )
    priority: Annotated[StrictInt, Field(ge=-1000, le=1000), INTEGRAL] = Field(default=0)


class VoidCreate(Strict):
    reason: str = Field(min_length=1, max_length=500)


class LedgerChangeRead(BaseModel):
    transaction_id: str
    account_id: str
    unit: str
    amount: Decimal
    balance_after: Decimal
    created_at: datetime


class AccountSettings(Strict):
    time_zone: str = Field(min_length=1, max_length=64, examples=["Europe/Berlin"])
