"""Milestone rules and their rewards. Pure Python."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any


class RuleKind(StrEnum):
    USAGE_THRESHOLD = "usage_threshold"


class RewardKind(StrEnum):
    CREDITS = "credits"
    SUPPORT_LEVEL = "support_level"
    EARLY_ACCESS = "early_access"
    CUSTOM = "custom"


@dataclass(frozen=True)
class Reward:
    kind: RewardKind
    credits: Decimal | None = None
    credits_expire_days: int | None = None
    support_level: str | None = None
    feature_key: str | None = None
    duration_days: int | None = None
    name: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class MilestoneRule:
    id: str
    key: str
    version: int
    name: str
    kind: RuleKind
    reward: Reward
    enabled: bool = True
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def usage_type(self) -> str:
        return str(self.params["usage_type"])

    @property
    def target(self) -> float:
        return float(self.params["target"])


@dataclass(frozen=True)
class Progress:
    rule: MilestoneRule
    current: float

    @property
    def percent(self) -> float:
        return min(100.0, 100.0 * self.current / self.rule.target) if self.rule.target > 0 else 100.0

    @property
    def remaining(self) -> float:
        return max(self.rule.target - self.current, 0.0)

    @property
    def reached(self) -> bool:
        return self.current >= self.rule.target
