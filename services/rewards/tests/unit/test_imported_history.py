"""Imported history: booked however old its period, milestones dated by the crossing event."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from tangible_rewards.domain.evaluation import (
    CounterKey,
    Lateness,
    RuleIndex,
    Usage,
    UsageFold,
    fold_usage,
    threshold_achievements,
)
from tangible_rewards.domain.model import MilestoneRule, Repeat, Reward, RewardKind, RuleKind, ThresholdParams

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
MONTHLY = MilestoneRule(
    "r-monthly",
    "monthly",
    1,
    "Monthly",
    RuleKind.USAGE_THRESHOLD,
    ThresholdParams("report.generated", 3, window="month"),
    Reward(RewardKind.CREDITS, Decimal(10)),
    repeat=Repeat.PER_PERIOD,
)
LIFETIME = MilestoneRule(
    "r-life",
    "life",
    1,
    "Life",
    RuleKind.USAGE_THRESHOLD,
    ThresholdParams("report.generated", 3),
    Reward(RewardKind.CREDITS, Decimal(10)),
)


def usage(at: datetime, *, imported: bool, quantity: float = 1) -> Usage:
    return Usage(str(uuid.uuid4()), "t1", "a1", "report.generated", at, quantity, None, imported)


def fold(usages: list[Usage], rules: list[MilestoneRule]) -> UsageFold:
    index = {"t1": RuleIndex.of(rules)}
    return fold_usage(usages, index, lambda t, a: ZoneInfo("UTC"), Lateness(NOW, timedelta(hours=48)))


def test_imported_usage_counts_in_a_period_closed_long_ago_live_usage_does_not() -> None:
    march = datetime(2026, 3, 10, tzinfo=UTC)
    result = fold([usage(march, imported=True), usage(march, imported=False)], [MONTHLY])
    assert result.counters == {CounterKey("t1", "a1", MONTHLY.series, "2026-03"): 1.0}
    assert result.too_late == 1


def test_a_threshold_met_by_imported_usage_is_dated_by_the_event_that_met_it() -> None:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    # sent out of order: the third event in time is the one that meets the target of 3
    events = [usage(start + timedelta(days=d), imported=True) for d in (4, 0, 2, 9)]
    result = fold(events, [LIFETIME])
    key = CounterKey("t1", "a1", LIFETIME.series, "lifetime")
    [achievement] = threshold_achievements({key: 4.0}, {"t1": RuleIndex.of([LIFETIME])}, result)
    assert achievement.reached_at == start + timedelta(days=4)


def test_a_target_already_met_before_the_batch_is_not_redated() -> None:
    result = fold([usage(datetime(2026, 3, 1, tzinfo=UTC), imported=True)], [LIFETIME])
    key = CounterKey("t1", "a1", LIFETIME.series, "lifetime")
    [achievement] = threshold_achievements({key: 7.0}, {"t1": RuleIndex.of([LIFETIME])}, result)
    assert achievement.reached_at is None


def test_live_usage_leaves_achievements_undated() -> None:
    result = fold([usage(NOW, imported=False, quantity=3)], [LIFETIME])
    key = CounterKey("t1", "a1", LIFETIME.series, "lifetime")
    [achievement] = threshold_achievements({key: 3.0}, {"t1": RuleIndex.of([LIFETIME])}, result)
    assert achievement.reached_at is None
