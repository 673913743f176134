"""Milestone rules (versioned), their kinds' parameters, and the rewards they grant. Pure Python."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from tangible_rewards.domain.errors import InvalidRule
from tangible_rewards.domain.periods import LIFETIME, Period, period_key

ANY_USAGE = "*"


class RuleKind(StrEnum):
    USAGE_THRESHOLD = "usage_threshold"
    STREAK = "streak"
    ADOPTION = "adoption"
    ANNIVERSARY = "anniversary"
    TIME_TO_VALUE = "time_to_value"


class RewardKind(StrEnum):
    CREDITS = "credits"
    SUPPORT_LEVEL = "support_level"
    EARLY_ACCESS = "early_access"
    CUSTOM = "custom"


class Repeat(StrEnum):
    ONCE = "once"
    PER_PERIOD = "per_period"


class StreakMode(StrEnum):
    CONSECUTIVE_DAYS = "consecutive_days"
    DAYS_IN_WEEKS = "days_in_weeks"


@dataclass(frozen=True)
class Reward:
    kind: RewardKind
    credits: Decimal | None = None
    credits_unit: str = "credits"
    credits_expire_days: int | None = None
    credits_priority: int = 0
    support_level: str | None = None
    feature_key: str | None = None
    duration_days: int | None = None
    name: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class ThresholdParams:
    """Cumulative quantity of one usage type, over the lifetime or per calendar window."""

    usage_type: str
    target: float
    window: str = LIFETIME
    unit_label: str | None = None

    def signature(self) -> tuple[Any, ...]:
        return (self.usage_type, self.window)


@dataclass(frozen=True)
class StreakParams:
    """`days` in a row, or ≥ `days` active days in each of `weeks` consecutive ISO weeks."""

    mode: StreakMode
    days: int
    weeks: int | None = None
    usage_type: str = ANY_USAGE

    def signature(self) -> tuple[Any, ...]:
        # weekly streaks store qualifying weeks, which depend on the days-per-week bar
        weekly_bar = self.days if self.mode is StreakMode.DAYS_IN_WEEKS else None
        return (self.mode, self.usage_type, weekly_bar)


@dataclass(frozen=True)
class AdoptionParams:
    """≥ `percent` % of assigned seats active within the last `window_days` days."""

    percent: float
    window_days: int
    usage_type: str = ANY_USAGE
    min_seats: int = 1

    def signature(self) -> tuple[Any, ...]:
        return (self.usage_type,)


@dataclass(frozen=True)
class AnniversaryParams:
    """The `years`-th anniversary of continuous license (and each after it, per period)."""

    years: int

    def signature(self) -> tuple[Any, ...]:
        return ()


@dataclass(frozen=True)
class TimeToValueParams:
    """≥ `target` of one usage type within `days` days of license start."""

    usage_type: str
    days: int
    target: float = 1
    unit_label: str | None = None

    def signature(self) -> tuple[Any, ...]:
        return (self.usage_type,)


RuleParams = ThresholdParams | StreakParams | AdoptionParams | AnniversaryParams | TimeToValueParams

_PARAMS: dict[RuleKind, type[RuleParams]] = {
    RuleKind.USAGE_THRESHOLD: ThresholdParams,
    RuleKind.STREAK: StreakParams,
    RuleKind.ADOPTION: AdoptionParams,
    RuleKind.ANNIVERSARY: AnniversaryParams,
    RuleKind.TIME_TO_VALUE: TimeToValueParams,
}


def params_from_dict(kind: RuleKind, data: dict[str, Any]) -> RuleParams:
    values = dict(data)
    if kind is RuleKind.STREAK:
        values["mode"] = StreakMode(values["mode"])
    params: RuleParams = _PARAMS[kind](**values)
    return params


def params_to_dict(params: RuleParams) -> dict[str, Any]:
    return {k: (v.value if isinstance(v, StrEnum) else v) for k, v in asdict(params).items()}


@dataclass(frozen=True)
class MilestoneRule:
    """One immutable version of a rule. `series` names the progress state it counts into:
    a new version keeps its predecessor's series unless what is counted changed."""

    id: str
    key: str
    version: int
    name: str
    kind: RuleKind
    params: RuleParams
    reward: Reward
    repeat: Repeat = Repeat.ONCE
    repeat_period: Period | None = None
    enabled: bool = True
    series: str = ""
    actor: str = "system"
    created_at: datetime | None = None

    def __post_init__(self) -> None:
        if not self.series:
            object.__setattr__(self, "series", self.id)
        validate(self)

    def counting_signature(self) -> tuple[Any, ...]:
        return (self.kind, self.params.signature())

    def definition(self) -> tuple[Any, ...]:
        """What a new version must differ in (enable/disable is not a new version)."""
        return (self.name, self.kind, self.params, self.reward, self.repeat, self.repeat_period)

    def reward_period(self, qualifying: str) -> str:
        """Once: at most one reward ever ('lifetime'); per period: one per qualifying period."""
        return LIFETIME if self.repeat is Repeat.ONCE else qualifying

    def qualifying_for(self, day: date, default: str) -> str:
        """Per period: the repeat period containing `day` (e.g. 2026-11); otherwise `default`."""
        if self.repeat is Repeat.PER_PERIOD and self.repeat_period is not None:
            return period_key(self.repeat_period, day)
        return default

    def next_version(self, new: MilestoneRule) -> MilestoneRule:
        same_counting = new.counting_signature() == self.counting_signature()
        return replace(
            new,
            key=self.key,
            version=self.version + 1,
            series=self.series if same_counting else new.id,
            enabled=self.enabled,
        )


def validate(rule: MilestoneRule) -> None:
    """Combinations the rule kinds accept; InvalidRule (422) otherwise."""
    params, per_period = rule.params, rule.repeat is Repeat.PER_PERIOD
    if not isinstance(params, _PARAMS[rule.kind]):
        raise InvalidRule(f"parameters do not match the rule kind '{rule.kind}'")
    if isinstance(params, ThresholdParams):
        if per_period and params.window == LIFETIME:
            raise InvalidRule("a lifetime threshold can only be rewarded once; set a window to repeat")
        if rule.repeat_period is not None and rule.repeat_period != params.window:
            raise InvalidRule("a threshold repeats per its window; leave repeat_period empty")
    elif isinstance(params, StreakParams | AdoptionParams):
        if per_period and rule.repeat_period is None:
            raise InvalidRule(f"a repeating {rule.kind} rule needs a repeat_period")
        if isinstance(params, StreakParams):
            if params.mode is StreakMode.DAYS_IN_WEEKS and (params.weeks is None or params.days > 7):
                raise InvalidRule("a weekly streak needs 'weeks' and at most 7 'days' per week")
            if params.mode is StreakMode.CONSECUTIVE_DAYS and params.weeks is not None:
                raise InvalidRule("a consecutive-days streak takes no 'weeks'")
    elif rule.repeat_period is not None:
        raise InvalidRule(f"a {rule.kind} rule repeats per its own period; leave repeat_period empty")
    if rule.reward.kind is RewardKind.CREDITS and not rule.reward.credits:
        raise InvalidRule("a credits reward needs an amount")


def unit_label(rule: MilestoneRule) -> str:
    """The plain-language unit of a rule's progress ("reports", "days", "active seats")."""
    params = rule.params
    if isinstance(params, ThresholdParams | TimeToValueParams):
        return params.unit_label or (params.usage_type if params.usage_type != ANY_USAGE else "events")
    if isinstance(params, StreakParams):
        return "days" if params.mode is StreakMode.CONSECUTIVE_DAYS else "weeks"
    if isinstance(params, AdoptionParams):
        return "active seats"
    return "days"
