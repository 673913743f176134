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

# the IANA zone of each UTC offset the population uses (licenses and rewards need a zone name)
ZONES = {-8: "America/Los_Angeles", -5: "America/New_York", 0: "UTC", 1: "Europe/Berlin", 9: "Asia/Tokyo"}
TREND_WEIGHTS = {Trend.GROWING: 0.3, Trend.STABLE: 0.5, Trend.DECLINING: 0.2}
WEEKLY_TREND = {Trend.GROWING: 0.12, Trend.STABLE: 0.0, Trend.DECLINING: -0.15}


@dataclass(frozen=True)
class User:
    id: str
    activity: float  # multiplier on the account's per-user rate: power users, occasional ones, 0 = idle seat


@dataclass
class Account:
    id: str
    plan: PlanProfile
    trend: Trend
    users: list[User] = field(default_factory=list)
    timezone_offset_hours: int = 0

    @property
    def timezone(self) -> str:
        return ZONES[self.timezone_offset_hours]

    @property
    def active_users(self) -> list[User]:
        return [u for u in self.users if u.activity > 0]

    def rate_per_day(self, weeks_elapsed: float) -> float:
        """Expected events per day, before daily and weekly rhythms."""
        growth = (1 + WEEKLY_TREND[self.trend]) ** weeks_elapsed
        return float(self.plan.reports_per_user_day * sum(u.activity for u in self.users) * growth)


def build_population(accounts: int, *, seed: int, prefix: str = "acct") -> list[Account]:
    rng = random.Random(seed)
    population: list[Account] = []
    for index in range(accounts):
        plan = rng.choices(PLANS, weights=[p.weight for p in PLANS])[0]
        trend = rng.choices(list(TREND_WEIGHTS), weights=list(TREND_WEIGHTS.values()))[0]
        seat_count = rng.randint(*plan.seats)
        # a share of every account's seats is never used (the rollout is incomplete): that is
        # what seat allocation reports and adoption milestones are about
        adoption = rng.uniform(0.5, 1.0)
        activity = [rng.lognormvariate(0, 0.8) if rng.random() < adoption else 0.0 for _ in range(seat_count)]
        if not any(activity):
            activity[0] = 1.0  # someone bought the license for a reason
        users = [User(f"{prefix}-{index:04d}-u{u:03d}", a) for u, a in enumerate(activity)]
        population.append(
            Account(
                f"{prefix}-{index:04d}",
                plan,
                trend,
                users,
                timezone_offset_hours=rng.choice(list(ZONES)),
            )
        )
    return population
