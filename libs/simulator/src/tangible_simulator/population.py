"""Who uses the product: accounts on plans, seat users with their own habits, trends."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from enum import StrEnum


class Trend(StrEnum):
    GROWING = "growing"
    STABLE = "stable"
    DECLINING = "declining"


@dataclass(frozen=True)
class PlanProfile:
    key: str
    weight: float  # share of accounts on this plan
    seats: tuple[int, int]  # min, max seat users
    reports_per_user_day: float


PLANS: tuple[PlanProfile, ...] = (
    PlanProfile("starter", 0.5, (2, 8), 3.0),
    PlanProfile("growth", 0.35, (8, 40), 5.0),
    PlanProfile("enterprise", 0.15, (40, 150), 8.0),
)

TREND_WEIGHTS = {Trend.GROWING: 0.3, Trend.STABLE: 0.5, Trend.DECLINING: 0.2}
WEEKLY_TREND = {Trend.GROWING: 0.12, Trend.STABLE: 0.0, Trend.DECLINING: -0.15}


@dataclass(frozen=True)
class User:
    id: str
    activity: float  # multiplier on the account's per-user rate: power users and occasional ones


@dataclass
class Account:
    id: str
    plan: PlanProfile
    trend: Trend
    users: list[User] = field(default_factory=list)
    timezone_offset_hours: int = 0

    def rate_per_day(self, weeks_elapsed: float) -> float:
        """Expected report.generated events per day, before daily and weekly rhythms."""
        growth = (1 + WEEKLY_TREND[self.trend]) ** weeks_elapsed
        return float(self.plan.reports_per_user_day * sum(u.activity for u in self.users) * growth)


def build_population(accounts: int, *, seed: int, prefix: str = "acct") -> list[Account]:
    rng = random.Random(seed)
    population: list[Account] = []
    for index in range(accounts):
        plan = rng.choices(PLANS, weights=[p.weight for p in PLANS])[0]
        trend = rng.choices(list(TREND_WEIGHTS), weights=list(TREND_WEIGHTS.values()))[0]
        seat_count = rng.randint(*plan.seats)
        users = [
            User(f"{prefix}-{index:04d}-u{u:03d}", rng.lognormvariate(0, 0.8)) for u in range(seat_count)
        ]
        population.append(
            Account(
                f"{prefix}-{index:04d}",
                plan,
                trend,
                users,
                timezone_offset_hours=rng.choice([-8, -5, 0, 1, 9]),
            )
        )
    return population
