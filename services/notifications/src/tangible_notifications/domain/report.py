"""The impact report of one account and one period: what it used against the period
before and the same period a year earlier, what that was worth (the catalog's benefit
mapping), seats, milestones, rewards and expiring credit, the peer percentile where the
cohort is large enough, and the licensed features it did not use.

Pure data: the service layer assembles it from the other services' answers, the adapters
render it (JSON, HTML, PDF, CSV)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from tangible_notifications.domain.periods import Period

SECTIONS = ("summary", "usage", "value", "seats", "milestones", "rewards", "credits", "peers", "unused")


def change_percent(current: float, before: float | None) -> float | None:
    """+23.0 for 123 after 100; None where there is nothing to compare with."""
    if before is None or before == 0:
        return None
    return round((current - before) / before * 100, 1)


@dataclass(frozen=True)
class FeatureLine:
    key: str
    name: str
    outcome: str
    total: float
    previous: float | None
    year_earlier: float | None
    series: tuple[tuple[date, float], ...] = ()
    metric: str | None = None  # "hours saved"
    value: float | None = None  # impact this period, in `metric`
    value_previous: float | None = None
    percentile: float | None = None  # share of the plan's accounts using it less (k-anonymous)
    plan_key: str | None = None
    plan_name: str | None = None  # "Growth", from entitlements' cohort; None from an older one

    @property
    def change(self) -> float | None:
        return change_percent(self.total, self.previous)

    @property
    def change_year(self) -> float | None:
        return change_percent(self.total, self.year_earlier)


@dataclass(frozen=True)
class ValueLine:
    metric: str
    value: float
    previous: float | None

    @property
    def change(self) -> float | None:
        return change_percent(self.value, self.previous)


@dataclass(frozen=True)
class Seats:
    purchased: int
    assigned: int
    active: int


@dataclass(frozen=True)
class Milestone:
    name: str
    summary: str
    percent: float
    reached: bool


@dataclass(frozen=True)
class RewardEarned:
    name: str
    credits: Decimal | None
    granted_at: datetime


@dataclass(frozen=True)
class Expiring:
    amount: Decimal
    expires_at: datetime


@dataclass(frozen=True)
class Peer:
    feature: str
    plan_key: str
    percentile: float
    plan_name: str | None = None

    @property
    def plan(self) -> str:
        """How a reader knows the plan: its name ("Growth"), else its key."""
        return self.plan_name or self.plan_key


@dataclass(frozen=True)
class ImpactReport:
    account_id: str
    period: Period
    generated_at: datetime
    features: tuple[FeatureLine, ...] = ()
    value: tuple[ValueLine, ...] = ()
    value_history: tuple[tuple[date, float], ...] = ()  # month → every metric's value summed
    seats: Seats | None = None
    milestones: tuple[Milestone, ...] = ()
    rewards: tuple[RewardEarned, ...] = ()
    credits_granted: Decimal = Decimal(0)  # credit granted in the period (ledger)
    balance: Decimal | None = None
    expiring: tuple[Expiring, ...] = ()
    unused: tuple[str, ...] = ()
    missing: tuple[str, ...] = field(default=())  # sources that did not answer

    @property
    def peer(self) -> Peer | None:
        """The strongest percentile (k ≥ the cohort minimum: entitlements withholds the others)."""
        # a feature the account did not use says nothing flattering (and ranks at a tie)
        ranked = [f for f in self.features if f.percentile is not None and f.plan_key and f.total > 0]
        if not ranked:
            return None
        best = max(ranked, key=lambda f: f.percentile or 0.0)
        return Peer(best.name, best.plan_key or "", best.percentile or 0.0, best.plan_name)

    @property
    def milestones_reached(self) -> tuple[Milestone, ...]:
        return tuple(m for m in self.milestones if m.reached)
