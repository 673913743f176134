"""Progress toward a milestone, in numbers and in one plain-language sentence."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from tangible_rewards.domain.model import MilestoneRule, unit_label


class Status(StrEnum):
    IN_PROGRESS = "in_progress"
    REACHED = "reached"
    MISSED = "missed"


@dataclass(frozen=True)
class Progress:
    rule: MilestoneRule
    current: float
    target: float
    rewarded: bool = False
    """A reward for the current reward period exists."""
    missed: bool = False
    """The window to reach it has closed (time-to-value)."""
    period_key: str | None = None
    unit: str | None = None

    @property
    def reached(self) -> bool:
        return self.rewarded or self.current >= self.target

    @property
    def status(self) -> Status:
        if self.reached:
            return Status.REACHED
        return Status.MISSED if self.missed else Status.IN_PROGRESS

    @property
    def percent(self) -> float:
        if self.reached or self.target <= 0:
            return 100.0
        return min(100.0, 100.0 * self.current / self.target)

    @property
    def remaining(self) -> float:
        return 0.0 if self.reached else max(self.target - self.current, 0.0)

    @property
    def label(self) -> str:
        return self.unit or unit_label(self.rule)

    @property
    def summary(self) -> str:
        """e.g. "80 % to Champion: 2,000 more reports"."""
        name = self.rule.name
        if self.status is Status.REACHED:
            return f"100 % to {name}: reached"
        if self.status is Status.MISSED:
            return f"{name}: the time to reach it has passed"
        # floor, so that "100 %" is only ever said of a milestone actually reached
        return f"{math.floor(self.percent)} % to {name}: {number(self.remaining)} more {self.label}"


def number(value: float) -> str:
    """2000 → "2,000"; 2.5 → "2.5"."""
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")
