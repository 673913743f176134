"""Folding a batch of usage into state changes: counters, active days and member activity.

An event counts toward the period it occurred in (in the account's time zone), if it
arrives no later than the late window after that period closed. Lifetime counters never
close, so late events always count there.

Imported history (`imported` usage) is the exception: it is booked in the period it occurred
in however long ago that closed, and a threshold it crosses is dated by the event that
crossed it (`Achievement.reached_at`), so milestones and ledger entries carry their
historical dates. Streaks and time-to-value met by imported days are dated likewise (see
`service_layer/handlers/evaluators.py`); the fold keeps each imported day's earliest event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from tangible_rewards.domain.model import (
    ANY_USAGE,
    AdoptionParams,
    MilestoneRule,
    StreakParams,
    ThresholdParams,
    TimeToValueParams,
)
from tangible_rewards.domain.periods import LIFETIME, Period, closes_at, period_key


@dataclass(frozen=True)
class Usage:
    event_id: str
    tenant_id: str
    account_id: str
    usage_type: str
    occurred_at: datetime
    quantity: float
    user_id: str | None
    imported: bool = False


@dataclass(frozen=True)
class CounterKey:
    """A threshold rule's counter: one per account × series × window period."""

    tenant_id: str
    account_id: str
    series: str
    period_key: str


@dataclass(frozen=True)
class DayKey:
    """Quantity of one activity (a usage type, or '*' for any) on one local day."""

    tenant_id: str
    account_id: str
    activity_key: str
    day: date


@dataclass(frozen=True)
class MemberKey:
    """When a seat holder was last active (for adoption)."""

    tenant_id: str
    account_id: str
    activity_key: str
    user_id: str


@dataclass(frozen=True)
class Achievement:
    """A rule met for an account in a qualifying period; rewarded at most once per reward period."""

    tenant_id: str
    account_id: str
    rule: MilestoneRule
    qualifying: str
    value: float
    reached_at: datetime | None = None
    """When imported history met the rule (its event time); None: now, when evaluated."""

    @property
    def reward_period(self) -> str:
        return self.rule.reward_period(self.qualifying)


@dataclass(frozen=True)
class Threshold:
    """A threshold rule, unpacked once per batch rather than once per event."""

    rule: MilestoneRule
    target: float
    window: Period | None  # None: lifetime


@dataclass
class RuleIndex:
    """A tenant's enabled rules, indexed for the per-event fold."""

    thresholds: dict[str, list[Threshold]] = field(default_factory=dict)
    by_series: dict[str, Threshold] = field(default_factory=dict)
    any_thresholds: list[Threshold] = field(default_factory=list)
    """Thresholds over any usage ('*')."""
    day_keys: set[str] = field(default_factory=set)
    member_keys: set[str] = field(default_factory=set)
    rules: list[MilestoneRule] = field(default_factory=list)

    @classmethod
    def of(cls, rules: Iterable[MilestoneRule]) -> RuleIndex:
        index = cls()
        for rule in rules:
            if not rule.enabled:
                continue
            index.rules.append(rule)
            params = rule.params
            if isinstance(params, ThresholdParams):
                window = None if params.window == LIFETIME else Period(params.window)
                threshold = Threshold(rule, params.target, window)
                if params.usage_type == ANY_USAGE:
                    index.any_thresholds.append(threshold)
                else:
                    index.thresholds.setdefault(params.usage_type, []).append(threshold)
                index.by_series[rule.series] = threshold
            elif isinstance(params, StreakParams | TimeToValueParams):
                index.day_keys.add(params.usage_type)
            elif isinstance(params, AdoptionParams):
                index.member_keys.add(params.usage_type)
        return index


@dataclass
class UsageFold:
    counters: dict[CounterKey, float] = field(default_factory=dict)
    days: dict[DayKey, float] = field(default_factory=dict)
    members: dict[MemberKey, datetime] = field(default_factory=dict)
    too_late: int = 0
    imported: dict[CounterKey, list[tuple[datetime, float]]] = field(default_factory=dict)
    """Imported increments per counter, to find the event that crossed a target."""
    imported_days: dict[DayKey, datetime] = field(default_factory=dict)
    """Local days imported usage made active → its earliest event that day (dates streaks and
    time-to-value met by history)."""


@dataclass(frozen=True)
class Lateness:
    now: datetime
    window: timedelta

    def accepts(self, period_closes: datetime) -> bool:
        return self.now <= period_closes + self.window


ZoneOf = Callable[[str, str], ZoneInfo]


def fold_usage(
    usages: Sequence[Usage], indexes: Mapping[str, RuleIndex], zone_of: ZoneOf, lateness: Lateness
) -> UsageFold:
    """One pass over the batch: every increment keyed, summed, late events dropped."""
    fold = UsageFold()
    on_time = _Calendar(lateness)
    history = _Calendar(None)  # imported usage: every period stays open to it
    for usage in usages:
        index = indexes.get(usage.tenant_id)
        if index is None:
            continue
        calendar = history if usage.imported else on_time
        tz = zone_of(usage.tenant_id, usage.account_id)
        day = usage.occurred_at.astimezone(tz).date()
        late = _count_thresholds(fold, usage, index, calendar, tz, day)
        matching = (usage.usage_type, ANY_USAGE)
        day_keys = [k for k in matching if k in index.day_keys]
        if day_keys:
            if calendar.period(Period.DAY, day, tz) is not None:
                for key in day_keys:
                    day_key = DayKey(usage.tenant_id, usage.account_id, key, day)
                    fold.days[day_key] = fold.days.get(day_key, 0.0) + usage.quantity
                    if usage.imported:
                        first = fold.imported_days.get(day_key)
                        if first is None or usage.occurred_at < first:
                            fold.imported_days[day_key] = usage.occurred_at
            else:
                late = True
        if usage.user_id:
            for key in (k for k in matching if k in index.member_keys):
                member = MemberKey(usage.tenant_id, usage.account_id, key, usage.user_id)
                seen = fold.members.get(member)
                fold.members[member] = usage.occurred_at if seen is None else max(seen, usage.occurred_at)
        fold.too_late += late
    return fold


class _Calendar:
    """Period keys and lateness per (period, local day, zone), computed once per batch."""

    def __init__(self, lateness: Lateness | None) -> None:
        self._lateness = lateness
        self._known: dict[tuple[Period, date, ZoneInfo], str | None] = {}

    def period(self, period: Period, day: date, tz: ZoneInfo) -> str | None:
        """The period's key, or None when it closed longer than the late window ago."""
        key = (period, day, tz)
        if key not in self._known:
            on_time = self._lateness is None or self._lateness.accepts(closes_at(period, day, tz))
            self._known[key] = period_key(period, day) if on_time else None
        return self._known[key]


def _count_thresholds(
    fold: UsageFold, usage: Usage, index: RuleIndex, calendar: _Calendar, tz: ZoneInfo, day: date
) -> bool:
    late = False
    matching = index.thresholds.get(usage.usage_type, ())
    if index.any_thresholds:
        matching = [*matching, *index.any_thresholds]
    for threshold in matching:
        period = LIFETIME if threshold.window is None else calendar.period(threshold.window, day, tz)
        if period is None:
            late = True
            continue
        key = CounterKey(usage.tenant_id, usage.account_id, threshold.rule.series, period)
        fold.counters[key] = fold.counters.get(key, 0.0) + usage.quantity
        if usage.imported:
            fold.imported.setdefault(key, []).append((usage.occurred_at, usage.quantity))
    return late


def threshold_achievements(
    values: Mapping[CounterKey, float], indexes: Mapping[str, RuleIndex], fold: UsageFold | None = None
) -> list[Achievement]:
    """Counters at or over their target after the batch (imported crossings dated, see `crossed_at`)."""
    achieved: list[Achievement] = []
    for key, value in values.items():
        index = indexes.get(key.tenant_id)
        threshold = index.by_series.get(key.series) if index else None
        if threshold is not None and value >= threshold.target:
            reached_at = crossed_at(fold, key, value, threshold.target) if fold and fold.imported else None
            achieved.append(
                Achievement(key.tenant_id, key.account_id, threshold.rule, key.period_key, value, reached_at)
            )
    return achieved


def crossed_at(fold: UsageFold, key: CounterKey, value: float, target: float) -> datetime | None:
    """The time of the imported event that took the counter to its target in this batch.

    The counter stood at `value` minus the batch's increments before it; replaying the
    batch's imported increments in event-time order finds the one that met the target.
    None when the target was met before this batch, or by live usage."""
    increments = fold.imported.get(key)
    if not increments:
        return None
    before = value - fold.counters.get(key, 0.0)
    if before >= target:
        return None
    running = before
    for occurred_at, quantity in sorted(increments, key=lambda item: item[0]):
        running += quantity
        if running >= target:
            return occurred_at
    return None
