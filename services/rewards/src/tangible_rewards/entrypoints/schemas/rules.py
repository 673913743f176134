"""DTOs of the milestone rules admin API."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator

Window = Literal["lifetime", "day", "week", "month", "quarter", "year"]
RepeatPeriod = Literal["day", "week", "month", "quarter", "year"]
UsageType = Annotated[
    str, Field(min_length=1, max_length=256, description="A usage event type, or '*' for any.")
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RewardIn(Strict):
    kind: Literal["credits", "support_level", "early_access", "custom"]
    credits: Decimal | None = Field(default=None, gt=0, le=Decimal("1e12"), decimal_places=2)
    credits_unit: str = Field(default="credits", pattern=r"^[a-z][a-z0-9_-]{0,31}$")
    credits_expire_days: StrictInt | None = Field(default=None, ge=1, le=3650)
    credits_priority: StrictInt = Field(default=0, ge=-1000, le=1000, description="Lower is spent first.")
    support_level: str | None = Field(default=None, min_length=1, max_length=64)
    feature_key: str | None = Field(default=None, min_length=1, max_length=128)
    duration_days: StrictInt | None = Field(default=None, ge=1, le=3650)
    name: str | None = Field(default=None, max_length=256)
    description: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _complete(self) -> RewardIn:
        required = {
            "credits": ("credits",),
            "support_level": ("support_level", "duration_days"),
            "early_access": ("feature_key", "duration_days"),
            "custom": ("name",),
        }[self.kind]
        missing = [name for name in required if getattr(self, name) is None]
        if missing:
            raise ValueError(f"a {self.kind} reward needs {', '.join(repr(m) for m in missing)}")
        return self


class UsageThresholdParams(Strict):
    usage_type: UsageType
    target: float = Field(gt=0, le=1e15)
    window: Window = Field(
        default="lifetime", description="Lifetime, or a calendar period in the account's zone."
    )
    unit_label: str | None = Field(
        default=None, max_length=64, description="Plain-language unit, e.g. reports."
    )


class StreakParams(Strict):
    mode: Literal["consecutive_days", "days_in_weeks"]
    days: StrictInt = Field(ge=1, le=366, description="Days in a row, or active days needed in each week.")
    weeks: StrictInt | None = Field(
        default=None, ge=1, le=104, description="days_in_weeks: consecutive weeks."
    )
    usage_type: UsageType = "*"


class AdoptionParams(Strict):
    percent: float = Field(gt=0, le=100, description="Share of assigned seats active within the window.")
    window_days: StrictInt = Field(ge=1, le=366)
    usage_type: UsageType = "*"
    min_seats: StrictInt = Field(default=1, ge=1, le=1_000_000)


class AnniversaryParams(Strict):
    years: StrictInt = Field(ge=1, le=100, description="The anniversary of continuous license to reward.")


class TimeToValueParams(Strict):
    usage_type: UsageType
    days: StrictInt = Field(ge=1, le=366, description="Window from the license's first day.")
    target: float = Field(default=1, gt=0, le=1e15)
    unit_label: str | None = Field(default=None, max_length=64)


class _Rule(Strict):
    name: str = Field(min_length=1, max_length=256)
    reward: RewardIn
    repeat: Literal["once", "per_period"] = "once"
    repeat_period: RepeatPeriod | None = Field(
        default=None, description="per_period streak and adoption rules: the period rewarded at most once."
    )


class ThresholdRule(_Rule):
    kind: Literal["usage_threshold"]
    params: UsageThresholdParams


class StreakRule(_Rule):
    kind: Literal["streak"]
    params: StreakParams


class AdoptionRule(_Rule):
    kind: Literal["adoption"]
    params: AdoptionParams


class AnniversaryRule(_Rule):
    kind: Literal["anniversary"]
    params: AnniversaryParams


class TimeToValueRule(_Rule):
    kind: Literal["time_to_value"]
    params: TimeToValueParams


MilestoneRuleUpdate = Annotated[
    ThresholdRule | StreakRule | AdoptionRule | AnniversaryRule | TimeToValueRule, Field(discriminator="kind")
]


class _Keyed(Strict):
    key: str = Field(min_length=1, max_length=128, pattern=r"^[a-z0-9][a-z0-9_.-]*$")


class ThresholdRuleCreate(_Keyed, ThresholdRule): ...


class StreakRuleCreate(_Keyed, StreakRule): ...


class AdoptionRuleCreate(_Keyed, AdoptionRule): ...


class AnniversaryRuleCreate(_Keyed, AnniversaryRule): ...


class TimeToValueRuleCreate(_Keyed, TimeToValueRule): ...


MilestoneRuleCreate = Annotated[
    ThresholdRuleCreate
    | StreakRuleCreate
    | AdoptionRuleCreate
    | AnniversaryRuleCreate
    | TimeToValueRuleCreate,
    Field(discriminator="kind"),
]


class MilestoneRuleRead(BaseModel):
    id: str = Field(description="This version's id.")
    key: str
    version: int
    name: str
    kind: str
    enabled: bool
    params: dict[str, Any]
    reward: RewardIn
    repeat: str
    repeat_period: str | None
    progress_series: str = Field(description="Versions sharing it share progress (same counting).")
    actor: str
    created_at: datetime | None
