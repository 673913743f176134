"""DTOs of the milestone rules admin API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, TypeAdapter

from tangible_rewards.entrypoints.schemas.amounts import PositiveAmount
from tangible_runtime.numbers import INTEGRAL

Window = Literal["lifetime", "day", "week", "month", "quarter", "year"]
RepeatPeriod = Literal["day", "week", "month", "quarter", "year"]
UsageType = Annotated[
    str, Field(min_length=1, max_length=256, description="A usage event type, or '*' for any.")
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Reward(Strict):
    """Every field a reward may carry; each kind below requires the ones it needs (the
    others are accepted and ignored, as they always were)."""

    credits: PositiveAmount | None = None
    credits_unit: str = Field(default="credits", pattern=r"^[a-z][a-z0-9_-]{0,31}$")
    credits_expire_days: Annotated[StrictInt, Field(ge=1, le=3650), INTEGRAL] | None = Field(default=None)
    credits_priority: Annotated[StrictInt, Field(ge=-1000, le=1000), INTEGRAL] = Field(
        default=0, description="Lower is spent first."
    )
    support_level: str | None = Field(default=None, min_length=1, max_length=64)
    feature_key: str | None = Field(default=None, min_length=1, max_length=128)
    duration_days: Annotated[StrictInt, Field(ge=1, le=3650), INTEGRAL] | None = Field(default=None)
    name: str | None = Field(default=None, max_length=256)
    description: str | None = Field(default=None, max_length=2000)


class CreditsReward(_Reward):
    kind: Literal["credits"]
    credits: PositiveAmount


class SupportLevelReward(_Reward):
    kind: Literal["support_level"]
    support_level: str = Field(min_length=1, max_length=64)
    duration_days: Annotated[StrictInt, Field(ge=1, le=3650), INTEGRAL] = Field()


class EarlyAccessReward(_Reward):
    kind: Literal["early_access"]
    feature_key: str = Field(min_length=1, max_length=128)
    duration_days: Annotated[StrictInt, Field(ge=1, le=3650), INTEGRAL] = Field()


class CustomReward(_Reward):
    kind: Literal["custom"]
    name: str = Field(max_length=256)


RewardIn = Annotated[
    CreditsReward | SupportLevelReward | EarlyAccessReward | CustomReward, Field(discriminator="kind")
]
"""A reward, by `kind`: credits need `credits`; support_level `support_level` and
`duration_days`; early_access `feature_key` and `duration_days`; custom its `name`."""
REWARD = TypeAdapter[RewardIn](RewardIn)


class UsageThresholdParams(Strict):
    usage_type: UsageType
    target: float = Field(gt=0, le=1e15)
    window: Window = Field(
        default="lifetime", description="Lifetime, or a calendar period in the account's zone."
    )
    unit_label: str | None = Field(
        default=None, max_length=64, description="Plain-language unit, e.g. reports."
    )


# The combinations `domain.model.validate` accepts, stated for clients (the domain keeps
# its InvalidRule messages): the documents describe exactly the rules the server takes.
_PER_PERIOD: dict[str, Any] = {"properties": {"repeat": {"const": "per_period"}}, "required": ["repeat"]}
_NO_REPEAT_PERIOD: dict[str, Any] = {"properties": {"repeat_period": {"type": "null"}}}
_PERIODS = ("day", "week", "month", "quarter", "year")


def _rule_combinations(*rules: dict[str, Any]) -> dict[str, Any]:
    return {"allOf": list(rules)}


_THRESHOLD_RULE = _rule_combinations(
    # a lifetime threshold is rewarded once; repeating needs a window
    {
        "if": _PER_PERIOD,
        "then": {
            "properties": {
                "params": {"required": ["window"], "properties": {"window": {"enum": list(_PERIODS)}}}
            }
        },
    },
    # it repeats per its window: repeat_period empty, or the window itself
    {
        "anyOf": [
            _NO_REPEAT_PERIOD,
            *(
                {
                    "required": ["repeat_period"],
                    "properties": {
                        "repeat_period": {"const": period},
                        "params": {"required": ["window"], "properties": {"window": {"const": period}}},
                    },
                }
                for period in _PERIODS
            ),
        ]
    },
)
_PERIOD_RULE = _rule_combinations(
    # streak and adoption rules name the period they repeat in
    {
        "if": _PER_PERIOD,
        "then": {"required": ["repeat_period"], "properties": {"repeat_period": {"enum": list(_PERIODS)}}},
    }
)
# anniversary and time to value: repeat_period absent or null, said as "not a string there" (the
# same set of documents): generators merge an `allOf` member's properties into the model's, and
# a `{"type": "null"}` one cannot merge with the declared `period | null`, so they drop the model
_OWN_PERIOD_RULE = _rule_combinations(
    {"not": {"required": ["repeat_period"], "properties": {"repeat_period": {"type": "string"}}}}
)
_STREAK: dict[str, Any] = {
    # a weekly streak needs weeks and at most 7 days a week; a consecutive-days one no weeks
    "if": {"properties": {"mode": {"const": "days_in_weeks"}}, "required": ["mode"]},
    "then": {
        "required": ["weeks"],
        "properties": {"weeks": {"not": {"type": "null"}}, "days": {"maximum": 7}},
    },
    "else": {"properties": {"weeks": {"type": "null"}}},
}


class StreakParams(Strict):
    model_config = ConfigDict(json_schema_extra=_STREAK)

    mode: Literal["consecutive_days", "days_in_weeks"]
    days: Annotated[StrictInt, Field(ge=1, le=366), INTEGRAL] = Field(
        description="Days in a row, or active days needed in each week."
    )
    weeks: Annotated[StrictInt, Field(ge=1, le=104), INTEGRAL] | None = Field(
        default=None, description="days_in_weeks: consecutive weeks."
    )
    usage_type: UsageType = "*"


class AdoptionParams(Strict):
    percent: float = Field(gt=0, le=100, description="Share of assigned seats active within the window.")
    window_days: Annotated[StrictInt, Field(ge=1, le=366), INTEGRAL] = Field()
    usage_type: UsageType = "*"
    min_seats: Annotated[StrictInt, Field(ge=1, le=1_000_000), INTEGRAL] = Field(default=1)


class AnniversaryParams(Strict):
    years: Annotated[StrictInt, Field(ge=1, le=100), INTEGRAL] = Field(
        description="The anniversary of continuous license to reward."
    )


class TimeToValueParams(Strict):
    usage_type: UsageType
    days: Annotated[StrictInt, Field(ge=1, le=366), INTEGRAL] = Field(
        description="Window from the license's first day."
    )
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
    model_config = ConfigDict(json_schema_extra=_THRESHOLD_RULE)

    kind: Literal["usage_threshold"]
    params: UsageThresholdParams


class StreakRule(_Rule):
    model_config = ConfigDict(json_schema_extra=_PERIOD_RULE)

    kind: Literal["streak"]
    params: StreakParams


class AdoptionRule(_Rule):
    model_config = ConfigDict(json_schema_extra=_PERIOD_RULE)

    kind: Literal["adoption"]
    params: AdoptionParams


class AnniversaryRule(_Rule):
    model_config = ConfigDict(json_schema_extra=_OWN_PERIOD_RULE)

    kind: Literal["anniversary"]
    params: AnniversaryParams


class TimeToValueRule(_Rule):
    model_config = ConfigDict(json_schema_extra=_OWN_PERIOD_RULE)

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
