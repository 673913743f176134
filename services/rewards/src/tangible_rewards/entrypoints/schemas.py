"""Request and response DTOs of the rewards API."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RewardIn(Strict):
    kind: Literal["credits", "support_level", "early_access", "custom"]
    credits: Decimal | None = Field(default=None, gt=0, le=Decimal("1e12"))
    credits_expire_days: int | None = Field(default=None, ge=1, le=3650)
    support_level: str | None = Field(default=None, max_length=64)
    feature_key: str | None = Field(default=None, max_length=128)
    duration_days: int | None = Field(default=None, ge=1, le=3650)
    name: str | None = Field(default=None, max_length=256)
    description: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _complete(self) -> RewardIn:
        required = {
            "credits": "credits",
            "support_level": "support_level",
            "early_access": "feature_key",
            "custom": "name",
        }[self.kind]
        if getattr(self, required) is None:
            raise ValueError(f"a {self.kind} reward needs '{required}'")
        return self


class UsageThresholdParams(Strict):
    usage_type: str = Field(min_length=1, max_length=256, description="The usage event type that counts.")
    target: float = Field(gt=0, le=1e15)


class MilestoneRuleCreate(Strict):
    key: str = Field(min_length=1, max_length=128, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    name: str = Field(min_length=1, max_length=256)
    kind: Literal["usage_threshold"]
    params: UsageThresholdParams
    reward: RewardIn


class MilestoneRuleRead(BaseModel):
    id: str
    key: str
    version: int
    name: str
    kind: str
    enabled: bool
    params: dict[str, object]
    reward: RewardIn


class ProgressRead(BaseModel):
    rule_key: str
    name: str
    current: float
    target: float
    percent: float
    remaining: float
    reached: bool
    reward: RewardIn
    summary: str


class ProgressList(BaseModel):
    account_id: str
    milestones: list[ProgressRead]
